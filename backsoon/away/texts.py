"""How away texts are filled in, shared by the automatic reply, the badge and the preview."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from django.utils import formats, translation

from backsoon.accounts.models import Member

from .rules import BackOn, back_on


@lru_cache(maxsize=4096)
def format_day(day: date, language: str) -> str:
    """A date written out in a language: "Friday 2 January 2026", "vrijdag 2 januari 2026".

    Remembered: every automatic reply of an absence writes the same day."""
    with translation.override(language):
        return formats.date_format(day, "l j F Y")


def backup_label(backup: Member | None) -> str:
    """``{backup}`` as replies and badges show it: "Display Name (@username)", or ""."""
    if backup is None:
        return ""
    return f"{backup.display_name} (@{backup.username})"


@lru_cache(maxsize=4096)
def format_back_on(back: BackOn, language: str) -> str:
    """A6: the return day written one way per language, the time only when there is one:
    "Monday 14 December 2026", "maandag 14 december 2026, 14:00". Sentences around it
    say "back on ..." ("terug op ...")."""
    text = format_day(back.day, language)
    if back.at is not None:
        with translation.override(language):
            text = f"{text}, {formats.time_format(back.at, 'H:i')}"
    return text


def member_back_on(end: datetime, member: Member) -> BackOn:
    """A6 for one member: :func:`rules.back_on` with their zone and working days."""
    return back_on(end, member.timezone, member.work_days)
