"""Factories for test setup. Members are made through the real action."""

from __future__ import annotations

import itertools

from backsoon.accounts.actions import member_create
from backsoon.accounts.models import Member

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_member(
    username: str | None = None,
    *,
    display_name: str | None = None,
    headline: str = "",
    language: str = "en",
    timezone_name: str = "Europe/Amsterdam",
    is_bot: bool = False,
    password: str = PASSWORD,
) -> Member:
    n = next(_seq)
    username = username or f"member{n}"
    return member_create(
        username=username,
        email=f"{username}@example.com",
        password=password,
        display_name=display_name or f"Member {n} {username.title()}",
        headline=headline,
        language=language,
        timezone_name=timezone_name,
        is_bot=is_bot,
    )


def connect(a: Member, b: Member) -> None:
    """Make two members connected (through the real action)."""
    from backsoon.network.actions import connection_create

    connection_create(a_id=a.pk, b_id=b.pk)


def make_absence(member: Member, *, hours_from_now: float = -1, hours: float = 48, **fields):
    """An absence starting ``hours_from_now`` (negative: already started) lasting ``hours``."""
    from datetime import timedelta

    from django.utils import timezone

    from backsoon.away.models import Absence

    start = timezone.now() + timedelta(hours=hours_from_now)
    fields.setdefault("message", "I am away until {return_date}. Ask {backup}.")
    return Absence.objects.create(
        member=member, starts_at=start, ends_at=start + timedelta(hours=hours), **fields
    )
