"""Pure validation rules for member fields (no database)."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from django.utils.translation import gettext

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,30}$")
LANGUAGES = ("en", "nl")
# Characters refused in names (display names, headlines, group subjects): control
# characters (C0, DEL, C1: terminal escapes such as ESC "[31m" or CSI reach logs and
# admin consoles), line and paragraph separators, and the bidirectional controls that
# make a name show reversed or swallow the text after it (U+202E "RIGHT-TO-LEFT
# OVERRIDE" and its kin, issue 14 finding 6). Joiners (U+200C, U+200D) stay allowed:
# emoji sequences and Persian or Indic names need them.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
UNSAFE_NAME_RE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


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


def name_problem(value: str, *, field: str) -> str | None:
    """Return why ``value`` may not be a name or headline, or None.

    Args:
        field: the field's label as the member knows it (translated), for the message.
    """
    found = UNSAFE_NAME_RE.search(value)
    if found is None:
        return None
    return gettext(
        "%(field)s may not contain control characters or characters that change the "
        "direction of text (found U+%(code)s)."
    ) % {"field": field, "code": f"{ord(found.group()):04X}"}


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_valid_timezone(value: str) -> bool:
    """True when ``value`` is an IANA time zone name known to zoneinfo."""
    return value in available_timezones()
