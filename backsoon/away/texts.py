"""How away texts are filled in, shared by the automatic reply, the badge and the preview."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from django.utils import formats, translation

from backsoon.accounts.models import Member


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
