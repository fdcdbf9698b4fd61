"""@mentions in post and comment text: finding them, and rendering text as safe HTML.

Pure functions (no database). A mention is ``@`` followed by 3..30 characters of
``[a-z0-9_.-]`` (case-insensitive), at the start of the text or after white space
or an opening bracket or quote, so ``bob@example.com`` and
``https://example.com/@bob`` are not mentions. A trailing ``.`` or ``-`` is
punctuation unless the longer name is a member (``@ann.`` mentions ``ann``).
Names that do not resolve to a member stay plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from django.utils.html import format_html, urlize
from django.utils.safestring import SafeString, mark_safe

MENTION_RE = re.compile(r"(?<![^\s(\[{\"'])@([A-Za-z0-9_.-]{3,30})(?![A-Za-z0-9_.-])")
# At most this many distinct names are looked up per text (bounds queries and
# notifications; further names stay text).
MAX_MENTIONS = 50


@dataclass(frozen=True)
class MentionMatch:
    start: int  # index of the "@"
    end: int  # exclusive, after the full name
    name: str  # as written, lower-cased

    def candidates(self) -> tuple[str, ...]:
        """Names this match may refer to, longest first."""
        stripped = self.name.rstrip(".-")
        if stripped != self.name and len(stripped) >= 3:
            return (self.name, stripped)
        return (self.name,)


def find_mentions(text: str) -> Iterator[MentionMatch]:
    for m in MENTION_RE.finditer(text):
        yield MentionMatch(start=m.start(), end=m.end(), name=m.group(1).lower())


def mention_candidates(text: str) -> list[str]:
    """Every name that ``text`` may mention, lower-cased, first-seen order, bounded.

    Returns:
        At most ``2 * MAX_MENTIONS`` names (each match may add a trimmed variant).
    """
    names: dict[str, None] = {}
    matches = 0
    for match in find_mentions(text):
        if match.name in names:
            continue
        matches += 1
        if matches > MAX_MENTIONS:
            break
        for name in match.candidates():
            names.setdefault(name, None)
    return list(names)


def resolve(match: MentionMatch, known: Collection[str]) -> str | None:
    """The member name ``match`` refers to, given the set of ``known`` usernames."""
    for name in match.candidates():
        if name in known:
            return name
    return None


def mentioned_names(text: str, known: Collection[str]) -> list[str]:
    """The usernames in ``known`` that ``text`` mentions, first-seen order, no repeats."""
    found: dict[str, None] = {}
    for match in find_mentions(text):
        name = resolve(match, known)
        if name is not None:
            found.setdefault(name, None)
    return list(found)


def render_text(text: str, known: Collection[str], profile_url: Callable[[str], str]) -> SafeString:
    """Member text as safe HTML: escaped, links made clickable, mentions linked.

    Args:
        text: the text as the member wrote it (never trusted).
        known: lower-cased usernames that resolve to members; other ``@names`` stay text.
        profile_url: the URL of a member's profile, by username.

    Returns:
        HTML in which every piece of member text is escaped; URLs become links with
        ``rel="nofollow"``. Line breaks are kept as characters (the page shows them
        with ``white-space: pre-line``).
    """
    parts: list[str] = []
    pos = 0
    for match in find_mentions(text):
        name = resolve(match, known)
        if name is None:
            continue
        parts.append(_text(text[pos : match.start]))
        parts.append(
            format_html(
                '<a class="mention" href="{}">@{}</a>',
                profile_url(name),
                text[match.start + 1 : match.start + 1 + len(name)],
            )
        )
        pos = match.start + 1 + len(name)
    parts.append(_text(text[pos:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above


def _text(segment: str) -> str:
    if not segment:
        return ""
    return str(urlize(segment, nofollow=True, autoescape=True))
