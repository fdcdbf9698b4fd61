"""Reads of members that need care: lookups by username, search."""

from __future__ import annotations

from functools import cache

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from backsoon.db.rows import Rows, run, table
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
def _member_for_token_sql() -> str:
    return (
        f"SELECT {_MEMBER.columns('m')} FROM {table(ApiToken)} t "  # noqa: S608
        f"JOIN {table(Member)} m ON m.id = t.member_id "
        "WHERE t.digest = %s AND t.revoked_at IS NULL AND m.is_active = %s"
    )


def member_for_token(digest: str) -> Member | None:
    """The active member owning the unrevoked token with this digest, or None.

    Every API request asks this, so it is one hand-written statement (``backsoon.db.rows``).
    """
    row = run(_member_for_token_sql(), [digest, True]).fetchone()
    return _MEMBER.load(row) if row is not None else None
