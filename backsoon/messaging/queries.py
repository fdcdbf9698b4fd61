"""Reads of conversations and messages, through permission-checked accessors."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Lower
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.errors import NotFound
from backsoon.network.models import Block

from .models import Conversation, Message, Participant, SavedReply


def conversation_for_member(member: Member, conversation_id: int) -> Conversation:
    """A conversation ``member`` takes part in (and has not left).

    Annotated with ``last_hidden``: whether its last message is one ``member`` may not
    read (see ``hide_blocked_last_messages``).

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
        .annotate(last_hidden=_last_sender_blocked(member.pk))
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


FOLDERS = tuple(Participant.Folder.values)


def inbox(
    member: Member,
    *,
    folder: str = Participant.Folder.INBOX,
    label: str | None = None,
    similar: int | None = None,
) -> QuerySet[Participant]:
    """The member's conversations in ``folder`` (TRIAGE S1, C1) as their Participant
    rows, to be ordered by the caller; with ``label``, only those labelled so; with
    ``similar``, only those of that cluster of similar texts (L6).

    Each row brings its conversation, last message and sender, and the active
    participants with their members, in a fixed number of queries; ``last_hidden``
    says whether that last message is one ``member`` may not read, or the member's
    own automatic reply (the list shows what the others wrote last).
    """
    rows = Participant.objects.filter(member=member, left_at__isnull=True, folder=folder)
    if label is not None:
        rows = rows.filter(label_codes__contains=f",{label},")
    if similar is not None:
        rows = rows.filter(similar_key=similar)
    return (
        rows.select_related("conversation__last_message__sender")
        .annotate(
            last_hidden=_last_sender_blocked(member.pk, "conversation__last_message__sender_id")
            | Q(
                conversation__last_message__sender_id=member.pk,
                conversation__last_message__kind=Message.Kind.AUTO_REPLY,
            )
        )
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
    """Unread messages in the member's inbox; requests, archived and muted
    conversations raise none (TRIAGE S2, C1)."""
    total = Participant.objects.filter(
        member=member, left_at__isnull=True, folder=Participant.Folder.INBOX, muted=False
    ).aggregate(n=Sum("unread_count"))["n"]
    return int(total or 0)


def requests_count(member: Member) -> int:
    """The member's pending message requests (TRIAGE S2: one number)."""
    return Participant.objects.filter(
        member=member, left_at__isnull=True, folder=Participant.Folder.REQUESTS
    ).count()


def similar_counts(member: Member, keys: Iterable[int | None], folder: str) -> dict[int, int]:
    """For each cluster key, how many of the member's conversations in ``folder``
    belong to it (TRIAGE L6); one query."""
    wanted = {k for k in keys if k is not None}
    if not wanted:
        return {}
    rows = (
        Participant.objects.filter(
            member=member, left_at__isnull=True, folder=folder, similar_key__in=wanted
        )
        .values("similar_key")
        .annotate(n=Count("id"))
    )
    return {row["similar_key"]: row["n"] for row in rows}


def participation(member: Member, conversation: Conversation) -> Participant:
    """The member's row in a conversation they take part in."""
    return Participant.objects.get(conversation=conversation, member=member, left_at__isnull=True)


def messages_of(conversation: Conversation, *, viewer: Member) -> QuerySet[Message]:
    """The messages of a conversation that ``viewer`` may read, with their senders.

    Messages of a member with whom ``viewer`` has a block (either way) are left out:
    in a group someone else started, blocking still hides them (issue 14, finding 6).
    """
    return _readable_by(
        Message.objects.filter(conversation=conversation), viewer.pk
    ).select_related("sender")


def _readable_by(messages: QuerySet[Message], member_id: int) -> QuerySet[Message]:
    """``messages`` without those of members ``member_id`` blocked or was blocked by."""
    return messages.exclude(
        sender_id__in=Block.objects.filter(blocker_id=member_id).values("blocked_id")
    ).exclude(sender_id__in=Block.objects.filter(blocked_id=member_id).values("blocker_id"))


def _last_sender_blocked(member_id: int, path: str = "last_message__sender_id") -> Exists:
    """Whether a block separates ``member_id`` from the sender of the last message of
    the conversation in the outer query (annotated as ``last_hidden``)."""
    sender = OuterRef(path)
    return Exists(
        Block.objects.filter(
            Q(blocker_id=member_id, blocked_id=sender) | Q(blocked_id=member_id, blocker_id=sender)
        )
    )


def hide_blocked_last_messages(viewer: Member, rows: Iterable[Conversation | Participant]) -> None:
    """Replace, in memory, each conversation's last message that ``viewer`` may not read,
    or that is their own automatic reply, by the last one they may read that is not
    (a list shows what the others wrote last, TRIAGE C1).

    Args:
        rows: conversations from ``conversation_for_member`` or participations from
            ``inbox``, which carry ``last_hidden``. One query, and only when one of
            them has a hidden last message.
    """
    hidden = {}
    for row in rows:
        if getattr(row, "last_hidden", False):
            conversation = row.conversation if isinstance(row, Participant) else row
            hidden[conversation.pk] = conversation
    if not hidden:
        return
    newest_readable = Subquery(
        _readable_by(Message.objects.filter(conversation_id=OuterRef("pk")), viewer.pk)
        .exclude(sender_id=viewer.pk, kind=Message.Kind.AUTO_REPLY)
        .order_by("-id")
        .values("id")[:1]
    )
    ids = Conversation.objects.filter(pk__in=list(hidden)).annotate(shown=newest_readable)
    visible = {
        m.conversation_id: m
        for m in Message.objects.filter(pk__in=ids.values("shown")).select_related("sender")
    }
    for pk, conversation in hidden.items():
        # For showing only, never saved (actions write with update_fields, from fresh rows).
        conversation.last_message = visible.get(pk)


def direct_key(a_id: int, b_id: int) -> str:
    low, high = sorted((a_id, b_id))
    return f"{low}:{high}"


# -- saved replies (TRIAGE C3) -----------------------------------------------------------


def saved_replies_of(member: Member) -> QuerySet[SavedReply]:
    """The member's saved replies, by name (case-insensitive)."""
    return SavedReply.objects.filter(member=member).order_by(Lower("name"), "id")


def saved_reply_for_member(member: Member, saved_reply_id: int) -> SavedReply:
    """One of the member's saved replies.

    Raises:
        NotFound: no such saved reply, or another member's: never told apart.
    """
    found = SavedReply.objects.filter(pk=saved_reply_id, member=member).first()
    if found is None:
        raise NotFound(gettext("No such saved reply."), code="template_not_found")
    return found


def addressees(member: Member, conversation_ids: Iterable[int]) -> dict[int, Member]:
    """Who ``{first_name}`` names in a reply of ``member`` in each conversation (C3).

    In a 1:1 conversation, the other member. In a group, the member being answered:
    the last other member who wrote in it (automatic replies aside), else the first
    other member who joined. A conversation without another active member is left
    out. Two queries, whatever the number of conversations.
    """
    ids = list(conversation_ids)
    others: dict[int, list[Member]] = {}
    for p in (
        Participant.objects.filter(conversation_id__in=ids, left_at__isnull=True)
        .exclude(member=member)
        .select_related("member")
        .order_by("joined_at", "id")
    ):
        others.setdefault(p.conversation_id, []).append(p.member)
    groups = [cid for cid, members in others.items() if len(members) > 1]
    last_writer = (
        dict(
            Conversation.objects.filter(pk__in=groups)
            .annotate(
                writer=Subquery(
                    Message.objects.filter(conversation=OuterRef("pk"))
                    .exclude(sender=member)
                    .exclude(kind=Message.Kind.AUTO_REPLY)
                    .order_by("-id")
                    .values("sender_id")[:1]
                )
            )
            .values_list("pk", "writer")
        )
        if groups
        else {}
    )
    chosen: dict[int, Member] = {}
    for cid, members in others.items():
        writer = last_writer.get(cid)
        chosen[cid] = next((m for m in members if m.pk == writer), members[0])
    return chosen
