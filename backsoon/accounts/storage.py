"""Member search: each database's own text search behind one interface (issue 18).

- SQLite: the FTS5 table ``accounts_member_fts`` (external content over
  ``accounts_member``, kept in step by triggers, migration 0004): every word of the
  query is a quoted prefix term, so FTS5 operators and quotes typed by a member are
  plain text.
- PostgreSQL: ``to_tsvector('simple', ...) @@ to_tsquery('simple', ...)`` with one
  ``'word':*`` prefix term per word (GIN index, migration 0004); when that finds
  nobody, names that look alike (``pg_trgm`` similarity on the display name, its own
  GIN index) stand in, so a typo still finds the person.

Both match a member when every word of the query starts a word of their display
name, username or headline. One statement ranks the matches (:func:`rank_sql`):

1. how the query matches the name (:class:`Match`): the whole display name or the
   username; a whole first or last name ("Pieter", "de Vries"); the start of the
   first name, of a later name or of the username; anything else (the headline);
2. then, among equals, the viewer themselves and their connections, then members
   they share connections with (more shared first), then the rest;
3. then more followers first, then the name, then the id (a total order for paging).

Every statement goes through Django's cursor (``backsoon.db.rows.run``);
``tests/accounts/test_search.py`` pins how many a search takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import cache

from django.db import connection

from backsoon.db.rows import Rows, run, table

from .models import Member

# Letters and digits of any script; everything else (quotes, ``*``, ``-``, ``:``,
# ``^``, parentheses, ``_``) separates words and never reaches the text search.
_WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
MAX_WORD_LENGTH = 40
# pg_trgm's similarity at which a name counts as a likely typo of the query.
FUZZY_THRESHOLD = 0.3
FUZZY_MIN_LENGTH = 3

_MEMBER = Rows(Member)


class Match(IntEnum):
    """How a member's name matches the query, best first."""

    EXACT = 0  # the whole display name, or the username
    NAME = 1  # a whole first name or last name ("Pieter", "de Vries", "Vries")
    PREFIX = 2  # the start of the first name, of a later name or of the username
    OTHER = 3  # elsewhere: a later word of the query, the headline


class Relation(IntEnum):
    """How the viewer knows a member, closest first."""

    CONNECTED = 0  # a connection, or the viewer themselves
    MUTUAL = 1  # shares at least one connection with the viewer
    NONE = 2


@dataclass(frozen=True)
class SearchText:
    """A search as typed, made safe for every backend.

    ``words`` are lower-cased letters-and-digits runs (at most ``MAX_WORDS``);
    ``phrase`` is the whole query lower-cased with runs of spaces made one, for
    comparing with names.
    """

    phrase: str
    words: tuple[str, ...]

    @classmethod
    def parse(cls, q: str) -> SearchText:
        phrase = " ".join(q.lower().split())
        words = tuple(w[:MAX_WORD_LENGTH] for w in _WORD.findall(phrase))[:MAX_WORDS]
        return cls(phrase=phrase, words=words)

    @property
    def empty(self) -> bool:
        """Nothing typed at all: the search lists every member."""
        return not self.phrase


@dataclass(frozen=True)
class Hit:
    member: Member
    match: Match
    relation: Relation
    mutual: int  # connections the viewer and the member share


def fts5_query(words: tuple[str, ...]) -> str:
    """The FTS5 MATCH expression: every word a quoted prefix term (all must match)."""
    return " ".join(f'"{w}"*' for w in words)


def tsquery(words: tuple[str, ...]) -> str:
    """The ``to_tsquery`` text: every word a quoted prefix term, joined by AND."""
    return " & ".join(f"'{w}':*" for w in words)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_TSVECTOR = (
    "to_tsvector('simple'::regconfig, m.display_name || ' ' || "
    "translate(m.username, '._-', '   ') || ' ' || m.headline)"
)


def _match_sql(text: SearchText, *, fuzzy: bool) -> tuple[str, list[object]]:
    """The condition on ``m`` (the member table) for matching ``text``, and its params."""
    if text.empty:
        return "1 = 1", []
    if fuzzy:
        # ``%%``: the ``%`` operator of pg_trgm, escaped for the driver's placeholders.
        return "lower(m.display_name) %% %s", [text.phrase]
    if not text.words:
        return "1 = 0", []
    if connection.vendor == "sqlite":
        return (
            "m.id IN (SELECT rowid FROM accounts_member_fts WHERE accounts_member_fts MATCH %s)",
            [fts5_query(text.words)],
        )
    return f"{_TSVECTOR} @@ to_tsquery('simple'::regconfig, %s)", [tsquery(text.words)]


def _where(*, viewer_id: int, text: SearchText, fuzzy: bool) -> tuple[str, list[object]]:
    from backsoon.network.models import Block

    match, params = _match_sql(text, fuzzy=fuzzy)
    return (
        f"m.is_active = %s AND {match} "  # noqa: S608
        # Whoever blocked the viewer disappears from the viewer's search.
        f"AND m.id NOT IN (SELECT blocker_id FROM {table(Block)} WHERE blocked_id = %s)",
        [True, *params, viewer_id],
    )


def fuzzy_available(text: SearchText) -> bool:
    """Whether a search that found nobody can look for names alike (PostgreSQL)."""
    return connection.vendor == "postgresql" and len(text.phrase) >= FUZZY_MIN_LENGTH


def search_count(*, viewer_id: int, text: SearchText, fuzzy: bool = False) -> int:
    """How many active members match ``text`` for ``viewer_id``. One statement."""
    where, params = _where(viewer_id=viewer_id, text=text, fuzzy=fuzzy)
    sql = f"SELECT COUNT(*) FROM {table(Member)} m WHERE {where}"  # noqa: S608
    return int(run(sql, params).fetchone()[0])


@cache
def _ranked_sql(vendor: str, match_where: str, fuzzy: bool) -> str:
    from backsoon.network.models import Connection

    conn = table(Connection)
    similar = "similarity(lower(m.display_name), %s) DESC, " if fuzzy else ""
    return (
        # The viewer's connections' connections, each with how many the two share.
        f"WITH fof AS (SELECT b.other_id AS id, COUNT(*) AS n FROM {conn} a "  # noqa: S608
        f"JOIN {conn} b ON b.member_id = a.other_id WHERE a.member_id = %s "
        "GROUP BY b.other_id) "
        f"SELECT {_MEMBER.columns('m')}, "
        "CASE WHEN lower(m.display_name) = %s OR m.username = %s THEN 0 "
        "WHEN lower(m.display_name) LIKE %s ESCAPE '\\' "
        "OR lower(m.display_name) LIKE %s ESCAPE '\\' THEN 1 "
        "WHEN lower(m.display_name) LIKE %s ESCAPE '\\' "
        "OR lower(m.display_name) LIKE %s ESCAPE '\\' "
        "OR m.username LIKE %s ESCAPE '\\' THEN 2 ELSE 3 END AS tier, "
        "CASE WHEN m.id = %s OR c.id IS NOT NULL THEN 0 "
        "WHEN fof.n IS NOT NULL THEN 1 ELSE 2 END AS rel, "
        "COALESCE(fof.n, 0) AS mutual "
        f"FROM {table(Member)} m "
        f"LEFT JOIN {conn} c ON c.member_id = %s AND c.other_id = m.id "
        "LEFT JOIN fof ON fof.id = m.id "
        f"WHERE {match_where} "
        f"ORDER BY tier, {similar}rel, mutual DESC, m.followers_count DESC, "
        "lower(m.display_name), m.id "
        "LIMIT %s OFFSET %s"
    )


def search_page(
    *, viewer_id: int, text: SearchText, offset: int, limit: int, fuzzy: bool = False
) -> list[Hit]:
    """Members matching ``text`` for ``viewer_id``, ranked (see the module), from
    ``offset`` (inclusive), at most ``limit`` of them. One statement.
    """
    where, where_params = _where(viewer_id=viewer_id, text=text, fuzzy=fuzzy)
    phrase = _like(text.phrase)
    rank_params: list[object] = [
        viewer_id,
        text.phrase,
        text.phrase,
        f"{phrase} %",  # the first name
        f"% {phrase}",  # the last name(s)
        f"{phrase}%",
        f"% {phrase}%",
        f"{phrase}%",
        viewer_id,
        viewer_id,
    ]
    tail: list[object] = [text.phrase] if fuzzy else []
    sql = _ranked_sql(connection.vendor, where, fuzzy)
    rows = run(sql, [*rank_params, *where_params, *tail, limit, offset]).fetchall()
    width = _MEMBER.width
    return [
        Hit(
            member=_MEMBER.load(row),
            match=Match(int(row[width])),
            relation=Relation(int(row[width + 1])),
            mutual=int(row[width + 2]),
        )
        for row in rows
    ]
