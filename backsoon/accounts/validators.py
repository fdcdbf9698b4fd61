"""Pure validation rules for member fields (no database)."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from django.utils.translation import gettext

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,30}$")
LANGUAGES = ("en", "nl")


def normalize_username(value: str) -> str:
    """Usernames are case-insensitive: they are stored and compared lower-cased."""
    return value.strip().lower()


def username_problem(value: str) -> str | None:
    """Return why ``value`` (already normalized) is not a valid username, or None."""
    if not 3 <= len(value) <= 30:
        return gettext("A username has 3 to 30 characters.")
    if not USERNAME_RE.match(value):
        return gettext("A username may contain only a-z, 0-9, '_', '.' and '-'.")
    return None


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_valid_timezone(value: str) -> bool:
    """True when ``value`` is an IANA time zone name known to zoneinfo."""
    return value in available_timezones()
