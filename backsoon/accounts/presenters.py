"""Shape members for the API, with what the viewer may see of each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import Member


def away_badges(viewer: Member | None, members: Iterable[Member]) -> dict[int, dict[str, Any]]:
    """Away badges of the given members as ``viewer`` may see them, keyed by member id.

    One query for any number of members (no N+1). Members who are not away now
    are absent from the result.
    """
    from backsoon.away.queries import badges_for

    return badges_for(viewer=viewer, members=list(members))


def member_cards(viewer: Member | None, members: Iterable[Member]) -> list[dict[str, Any]]:
    """The Member payload for each member, in order, with away badges fetched in one go."""
    members = list(members)
    badges = away_badges(viewer, members)
    return [
        {
            "username": m.username,
            "display_name": m.display_name,
            "headline": m.headline,
            "connections_count": m.connections_count,
            "followers_count": m.followers_count,
            "away": badges.get(m.pk),
        }
        for m in members
    ]


def member_card(viewer: Member | None, member: Member) -> dict[str, Any]:
    return member_cards(viewer, [member])[0]


def me_card(member: Member) -> dict[str, Any]:
    card = member_card(member, member)
    card.update(
        email=member.email,
        language=member.language,
        timezone=member.timezone,
        inbox_policy=member.inbox_policy,
        work_days=[int(day) for day in member.work_days],
    )
    return card
