"""Reads of conversations and messages, through permission-checked accessors."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet, Sum
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.errors import NotFound

from .models import Conversation, Message, Participant


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
