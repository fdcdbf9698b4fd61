"""Reads about the network: connections, mutuals, blocks, invitations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.errors import NotFound

from .models import Block, Connection, Follow, Invitation


def are_connected(a_id: int, b_id: int) -> bool:
    return Connection.objects.filter(member_id=a_id, other_id=b_id).exists()


def connected_ids(member_id: int, among: Iterable[int]) -> set[int]:
    """Which of the ids in ``among`` are connections of ``member_id`` (one query)."""
    among = list(among)
    if not among:
        return set()
    return set(
        Connection.objects.filter(member_id=member_id, other_id__in=among).values_list(
            "other_id", flat=True
        )
    )


def is_following(follower_id: int, followee_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()


def block_between(a_id: int, b_id: int) -> bool:
    """True when either member blocked the other."""
    return Block.objects.filter(
        Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)
    ).exists()


def blocked_ids_between(member_id: int, among: Iterable[int]) -> set[int]:
    """Which of ``among`` blocked ``member_id`` or were blocked by them (one query)."""
    among = list(among)
    if not among:
        return set()
    rows = Block.objects.filter(
        Q(blocker_id=member_id, blocked_id__in=among)
        | Q(blocked_id=member_id, blocker_id__in=among)
    ).values_list("blocker_id", "blocked_id")
    return {b if a == member_id else a for a, b in rows}


def ids_who_blocked(member_id: int) -> QuerySet[Block]:
    return Block.objects.filter(blocked_id=member_id)


def mutual_connections(a_id: int, b_id: int) -> QuerySet[Member]:
    """Members connected to both ``a_id`` and ``b_id``."""
    return Member.objects.filter(connection_rows__other_id=a_id, is_active=True).filter(
        connection_rows__other_id=b_id
    )


def mutual_connection_count(a_id: int, b_id: int) -> int:
    return (
        Connection.objects.filter(member_id=a_id)
        .filter(other_id__in=Connection.objects.filter(member_id=b_id).values("other_id"))
        .count()
    )


def mutual_counts(member_id: int, others: Iterable[int]) -> dict[int, int]:
    """Mutual connection counts between ``member_id`` and each of ``others`` (one query)."""
    others = list(others)
    if not others:
        return {}
    mine = Connection.objects.filter(member_id=member_id).values("other_id")
    rows = (
        Connection.objects.filter(member_id__in=others, other_id__in=mine)
        .values("member_id")
        .annotate(n=Count("id"))
    )
    counts = {row["member_id"]: row["n"] for row in rows}
    return {other: counts.get(other, 0) for other in others}


def connections_of(member: Member, *, q: str = "") -> QuerySet[Member]:
    qs = Member.objects.filter(connection_rows__other=member, is_active=True)
    if q.strip():
        q = q.strip()
        qs = qs.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(headline__icontains=q)
        )
    return qs


def people_you_may_know(member: Member, *, limit: int = 10) -> list[tuple[Member, int]]:
    """Members with the most connections in common who are not connected yet."""
    mine = Connection.objects.filter(member=member).values("other_id")
    excluded = Q(pk=member.pk) | Q(pk__in=mine)
    blocked = Block.objects.filter(Q(blocker=member) | Q(blocked=member))
    candidates = (
        Member.objects.filter(connection_rows__other_id__in=mine, is_active=True, is_bot=False)
        .exclude(excluded)
        .exclude(pk__in=blocked.values("blocker_id"))
        .exclude(pk__in=blocked.values("blocked_id"))
        .exclude(
            pk__in=Invitation.objects.filter(
                from_member=member, status=Invitation.Status.PENDING
            ).values("to_member_id")
        )
        .exclude(
            pk__in=Invitation.objects.filter(
                to_member=member, status=Invitation.Status.PENDING
            ).values("from_member_id")
        )
        .annotate(mutual=Count("connection_rows"))
        .order_by("-mutual", "username")[:limit]
    )
    return [(m, m.mutual) for m in candidates]


def invitation_for_member(member: Member, invitation_id: int) -> Invitation:
    """An invitation that ``member`` sent or received.

    Raises:
        NotFound: no such invitation, or it is someone else's.
    """
    invitation = (
        Invitation.objects.select_related("from_member", "to_member")
        .filter(pk=invitation_id)
        .filter(Q(from_member=member) | Q(to_member=member))
        .first()
    )
    if invitation is None:
        raise NotFound(gettext("No such invitation."), code="invitation_not_found")
    return invitation


def invitations_for(member: Member, *, box: str, status: str | None) -> QuerySet[Invitation]:
    qs = Invitation.objects.select_related("from_member", "to_member")
    qs = qs.filter(to_member=member) if box == "received" else qs.filter(from_member=member)
    if status:
        qs = qs.filter(status=status)
    return qs


def invitations_filtered(
    invitations: QuerySet[Invitation],
    *,
    member_id: int,
    box: str,
    label: str | None = None,
    min_mutual: int | None = None,
    max_mutual: int | None = None,
    has_note: bool | None = None,
    before: datetime | None = None,
) -> QuerySet[Invitation]:
    """``invitations`` (of ``member_id``'s ``box``) narrowed by TRIAGE C2's filters.

    Args:
        label: a label code (``triage.rules.CODES``) the invitation carries; labels
            are their recipient's, so only meaningful for ``box="received"``.
        min_mutual, max_mutual: connections in common with the other member, both
            inclusive; counted in the same statement (a correlated subquery).
        has_note: with a personal note (True) or without (False).
        before: sent before this moment (exclusive).
    """
    if before is not None:
        invitations = invitations.filter(created_at__lt=before)
    if label is not None:
        invitations = invitations.filter(label_codes__contains=f",{label},")
    if has_note is not None:
        invitations = invitations.exclude(note="") if has_note else invitations.filter(note="")
    if min_mutual is not None or max_mutual is not None:
        other = "from_member_id" if box == "received" else "to_member_id"
        mine = Connection.objects.filter(member_id=member_id).values("other_id")
        common = (
            Connection.objects.filter(member_id=OuterRef(other), other_id__in=mine)
            .order_by()
            .values("member_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        invitations = invitations.annotate(
            mutual=Coalesce(Subquery(common, output_field=IntegerField()), Value(0))
        )
        if min_mutual is not None:
            invitations = invitations.filter(mutual__gte=min_mutual)
        if max_mutual is not None:
            invitations = invitations.filter(mutual__lte=max_mutual)
    return invitations


def received_label_counts(member_id: int, codes: Iterable[str]) -> dict[str, int]:
    """Pending invitations ``member_id`` received, in all (``"all"``) and carrying each
    label of ``codes`` (one query)."""
    pending = Invitation.objects.filter(to_member_id=member_id, status=Invitation.Status.PENDING)
    counts = {code: Count("id", filter=Q(label_codes__contains=f",{code},")) for code in codes}
    return pending.aggregate(all=Count("id"), **counts)


def pending_between(a_id: int, b_id: int) -> Invitation | None:
    low, high = sorted((a_id, b_id))
    return Invitation.objects.filter(
        pair_low=low, pair_high=high, status=Invitation.Status.PENDING
    ).first()
