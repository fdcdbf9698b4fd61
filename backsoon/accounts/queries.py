"""Reads of members that need care: lookups by username, search."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from backsoon.db.rows import Rows, datetime_param, run, table
from backsoon.errors import NotFound

from .models import ApiToken, Member
from .validators import normalize_username


def member_by_username(username: str) -> Member:
    """The active member with this username (case-insensitive).

    Raises:
        NotFound: no such active member.
    """
    try:
        return Member.objects.get(username=normalize_username(username), is_active=True)
    except Member.DoesNotExist:
        raise NotFound(gettext("No member with that username."), code="member_not_found") from None


def members_search(*, viewer: Member | None, q: str) -> QuerySet[Member]:
    """Active members whose username, display name or headline contains ``q``.

    An empty query lists every active member. Order is left to the caller.
    """
    qs = Member.objects.filter(is_active=True)
    if viewer is not None:
        # Whoever blocked the viewer disappears from the viewer's search.
        from backsoon.network.models import Block

        qs = qs.exclude(pk__in=Block.objects.filter(blocked=viewer).values("blocker_id"))
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(headline__icontains=q)
        )
    return qs


_MEMBER = Rows(Member)


@cache
def _token_owner_sql() -> str:
    return (
        f"SELECT {_MEMBER.columns('m')}, t.id, "  # noqa: S608
        "(t.last_used_at IS NULL OR t.last_used_at < %s) "
        f"FROM {table(ApiToken)} t "
        f"JOIN {table(Member)} m ON m.id = t.member_id "
        "WHERE t.digest = %s AND t.revoked_at IS NULL AND t.expires_at > %s "
        "AND m.is_active = %s"
    )


class TokenOwner(NamedTuple):
    member: Member
    token_id: int
    # The stored last use is older than ``touch_before`` (or there is none): write it.
    needs_touch: bool


def token_owner(digest: str, *, now: datetime, touch_before: datetime) -> TokenOwner | None:
    """The active member owning the working token with this digest, or None.

    A token works while it is not revoked and not expired (``expires_at`` after
    ``now``). Every API request asks this, so it is one hand-written statement
    (``backsoon.db.rows``), which also says whether the token's last use needs writing.
    """
    row = run(
        _token_owner_sql(),
        [datetime_param(touch_before), digest, datetime_param(now), True],
    ).fetchone()
    if row is None:
        return None
    width = _MEMBER.width
    return TokenOwner(_MEMBER.load(row), int(row[width]), bool(row[width + 1]))


def tokens_working(member: Member, *, now: datetime) -> QuerySet[ApiToken]:
    """``member``'s tokens that are neither revoked nor expired, newest first."""
    return ApiToken.objects.filter(
        member=member, revoked_at__isnull=True, expires_at__gt=now
    ).order_by("-created_at", "-id")
