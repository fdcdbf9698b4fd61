"""Reads of conversations and messages, through permission-checked accessors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db.models import Prefetch, QuerySet, Sum
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.db.rows import Rows, run, table
from backsoon.errors import NotFound
from backsoon.network.models import Block

from .models import Conversation, Message, Participant

_MEMBER_FIELD = Participant._meta.get_field("member")
_CONVERSATION_FIELD = Participant._meta.get_field("conversation")


def conversation_for_member(member: Member, conversation_id: int) -> Conversation:
    """A conversation ``member`` takes part in (and has not left).

    Raises:
        NotFound: no such conversation, or the member is not a participant:
            the two are never told apart.
    """
    conversation = (
        Conversation.objects.filter(
            pk=conversation_id,
            participants__member=member,
            participants__left_at__isnull=True,
        )
        .select_related("last_message__sender")
        .first()
    )
    if conversation is None:
        raise NotFound(gettext("No such conversation."), code="conversation_not_found")
    return conversation


@dataclass
class SendContext:
    """What ``message_send`` reads about a conversation before it writes."""

    conversation: Conversation
    participants: list[Participant]  # active ones, with their members
    blocked: bool  # a block between the sender and another participant


_PARTICIPANT, _MEMBER, _CONVERSATION = Rows(Participant), Rows(Member), Rows(Conversation)
_MEMBER_ID = _PARTICIPANT.names.index("member_id")


@cache
def _send_context_sql() -> str:
    return (
        f"SELECT {_PARTICIPANT.columns('p')}, {_MEMBER.columns('m')}, "  # noqa: S608
        f"{_CONVERSATION.columns('c')}, EXISTS(SELECT 1 FROM {table(Block)} b "
        "WHERE (b.blocker_id = %s AND b.blocked_id = p.member_id) "
        "OR (b.blocked_id = %s AND b.blocker_id = p.member_id)) "
        f"FROM {table(Participant)} p JOIN {table(Member)} m ON m.id = p.member_id "
        f"JOIN {table(Conversation)} c ON c.id = p.conversation_id "
        "WHERE p.conversation_id = %s AND p.left_at IS NULL ORDER BY p.id"
    )


def send_context(member: Member, conversation_id: int) -> SendContext:
    """The conversation ``member`` writes to, its active participants (with their
    members) and whether a block stands between ``member`` and any of them: one
    hand-written statement, as this is the send path (``backsoon.db.rows``).

    Raises:
        NotFound: no such conversation, or ``member`` is not an active participant.
    """
    rows = run(_send_context_sql(), [member.pk, member.pk, conversation_id]).fetchall()
    if not any(row[_MEMBER_ID] == member.pk for row in rows):
        raise NotFound(gettext("No such conversation."), code="conversation_not_found")
    conversation = _CONVERSATION.load(rows[0], _PARTICIPANT.width + _MEMBER.width)
    participants = []
    for row in rows:
        participant = _PARTICIPANT.load(row)
        _MEMBER_FIELD.set_cached_value(participant, _MEMBER.load(row, _PARTICIPANT.width))
        _CONVERSATION_FIELD.set_cached_value(participant, conversation)
        participants.append(participant)
    return SendContext(
        conversation=conversation, participants=participants, blocked=any(row[-1] for row in rows)
    )


def active_participants(conversation: Conversation) -> list[Participant]:
    return list(
        Participant.objects.filter(conversation=conversation, left_at__isnull=True)
        .select_related("member")
        .order_by("joined_at", "id")
    )


def inbox(member: Member) -> QuerySet[Participant]:
    """The member's conversations as their Participant rows, to be ordered by the caller.

    Each row brings its conversation, last message and sender, and the active
    participants with their members, in a fixed number of queries.
    """
    return (
        Participant.objects.filter(member=member, left_at__isnull=True)
        .select_related("conversation__last_message__sender")
        .prefetch_related(
            Prefetch(
                "conversation__participants",
                queryset=Participant.objects.filter(left_at__isnull=True)
                .select_related("member")
                .order_by("joined_at", "id"),
                to_attr="active_participants",
            )
        )
    )


def unread_total(member: Member) -> int:
    total = Participant.objects.filter(member=member, left_at__isnull=True).aggregate(
        n=Sum("unread_count")
    )["n"]
    return int(total or 0)


def messages_of(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).select_related("sender")


def direct_key(a_id: int, b_id: int) -> str:
    low, high = sorted((a_id, b_id))
    return f"{low}:{high}"
