"""Reads of members that need care: lookups by username, search."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.db.models import QuerySet
from django.utils.translation import gettext

from backsoon.db.rows import Rows, datetime_param, run, table
from backsoon.errors import NotFound

from . import storage
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


class MemberSearch:
    """The ranked members one search finds for one viewer (``storage`` ranks them).

    Sliced like a queryset (``search[20:40]`` is one statement) and counted once
    (``count()``), so Django's ``Paginator`` and the API's pages use it alike. An
    empty query lists every active member; a query of only punctuation finds nobody.
    On PostgreSQL a query that finds nobody looks for names alike (typos) instead.
    """

    def __init__(self, *, viewer: Member, q: str) -> None:
        self.viewer_id = viewer.pk
        self.text = storage.SearchText.parse(q)
        self.fuzzy = False
        self._count: int | None = None

    def count(self) -> int:
        """How many members match. One statement (two when PostgreSQL looks for typos)."""
        if self._count is None:
            count = storage.search_count(viewer_id=self.viewer_id, text=self.text)
            if count == 0 and storage.fuzzy_available(self.text):
                self.fuzzy = True
                count = storage.search_count(viewer_id=self.viewer_id, text=self.text, fuzzy=True)
            self._count = count
        return self._count

    def __len__(self) -> int:
        return self.count()

    def hits(self, *, offset: int, limit: int) -> list[storage.Hit]:
        """The ranked matches from ``offset`` (inclusive), at most ``limit``."""
        if limit <= 0:
            return []
        self.count()  # decides whether this search looks for names alike
        return storage.search_page(
            viewer_id=self.viewer_id, text=self.text, offset=offset, limit=limit, fuzzy=self.fuzzy
        )

    def __getitem__(self, index: slice) -> list[storage.Hit]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("A search is read in slices.")
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + 100
        return self.hits(offset=start, limit=stop - start)


def members_search(*, viewer: Member, q: str) -> MemberSearch:
    """Active members matching ``q`` for ``viewer``, ranked as people look for people:
    exact name, then whole first or last name, then name prefix, then the rest; among
    equals connections, then members with shared connections (``storage``).

    Whoever blocked the viewer is left out.
    """
    return MemberSearch(viewer=viewer, q=q)


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
