"""Every write to conversations and messages. ``message_send`` is the hot path."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.accounts.queries import member_by_username
from backsoon.accounts.validators import name_problem
from backsoon.db.rows import convert_value, datetime_param, greatest, placeholders, run, table
from backsoon.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from backsoon.live import publish_on_commit
from backsoon.network import queries as network
from backsoon.notifications.actions import notifications_add_many, notifications_mark_subject_read
from backsoon.notifications.models import Notification

from . import queries
from .models import Conversation, Introduction, Message, Participant

log = logging.getLogger(__name__)

BODY_MAX = 8000
SUBJECT_MAX = 200
GROUP_MAX_OTHERS = 50
GROUP_MIN_OTHERS = 2
# Members you are not connected to whom you may put in a conversation, a day: each
# one counts, in a new 1:1 conversation, a new group or added to a group.
STRANGER_INTRODUCTIONS_PER_DAY = 50
MESSAGES_PER_MINUTE = 30


def _clean_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise Invalid(gettext("A message needs some text."), code="empty_message")
    if len(body) > BODY_MAX:
        raise Invalid(
            gettext("A message is at most %(max)s characters.") % {"max": BODY_MAX},
            code="message_too_long",
        )
    return body


def conversation_start(
    *, creator: Member, usernames: Sequence[str], subject: str = "", at: datetime | None = None
) -> tuple[Conversation, bool]:
    """Start a conversation, or find the existing 1:1 one.

    Returns:
        The conversation and whether it was created (False: the existing 1:1).

    Raises:
        Invalid: no one else, too many, or yourself only; subject too long, or with
            control characters or text direction controls.
        NotFound: an unknown username.
        Forbidden: a block between you and a participant.
        RateLimited: more than 50 members a day who are not your connections
            (``STRANGER_INTRODUCTIONS_PER_DAY``, each one counts).
    """
    subject = (subject or "").strip()
    if len(subject) > SUBJECT_MAX:
        raise Invalid(
            gettext("The subject is at most %(max)s characters.") % {"max": SUBJECT_MAX},
            code="subject_too_long",
        )
    if problem := name_problem(subject, field=gettext("Subject")):
        raise Invalid(problem, code="invalid_subject")
    others: dict[int, Member] = {}
    for username in usernames:
        member = member_by_username(username)
        if member.pk != creator.pk:
            others[member.pk] = member
    if not others:
        raise Invalid(gettext("Name at least one other member."), code="no_participants")
    if len(others) > GROUP_MAX_OTHERS:
        raise Invalid(
            gettext("A group has at most %(max)s other members.") % {"max": GROUP_MAX_OTHERS},
            code="too_many_participants",
        )
    if network.blocked_ids_between(creator.pk, others):
        raise Forbidden(gettext("You can not message one of these members."), code="blocked")
    is_direct = len(others) == 1
    key = queries.direct_key(creator.pk, next(iter(others))) if is_direct else None
    if key is not None:
        existing = Conversation.objects.filter(direct_key=key).first()
        if existing is not None:
            _rejoin(existing, creator)
            return existing, False
    strangers = set(others) - network.connected_ids(creator.pk, others)
    now = at or timezone.now()
    if strangers and not creator.is_bot:
        _check_stranger_rate(creator, len(strangers), now)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT if is_direct else Conversation.Kind.GROUP,
                subject="" if is_direct else subject,
                direct_key=key,
                created_by=creator,
                created_at=now,
                last_message_at=now,
                with_stranger=bool(strangers),
            )
            Participant.objects.bulk_create(
                [
                    Participant(
                        conversation=conversation, member_id=mid, joined_at=now, last_message_at=now
                    )
                    for mid in [creator.pk, *others]
                ]
            )
            _introductions_record(creator, strangers, conversation, now)
    except IntegrityError:
        # Both members started the same 1:1 conversation at once: use the winner's.
        existing = Conversation.objects.get(direct_key=key)
        return existing, False
    return conversation, True


def stranger_retry_after(
    recent: Sequence[datetime], *, adding: int, limit: int, now: datetime
) -> int | None:
    """Whether ``adding`` more strangers fit in the daily budget, and if not, when.

    Args:
        recent: when each introduction of the last 24 hours was made, newest first
            (at least the ``limit`` newest).
        adding: strangers the member is about to put in front of.

    Returns:
        None when they fit; otherwise the whole seconds until enough of ``recent``
        leave the 24-hour window for them to fit (at least 1).
    """
    room = limit - adding
    if len(recent) <= room:
        return None
    if room < 0 or not recent:
        # More at once than a whole day's budget: never; the window emptying is the best.
        room = 0
        if not recent:
            return 24 * 3600
    frees_at = recent[room] + timedelta(days=1)
    return max(1, int((frees_at - now).total_seconds()) + 1)


def _check_stranger_rate(member: Member, adding: int, now: datetime) -> None:
    """At most ``STRANGER_INTRODUCTIONS_PER_DAY`` members a day put in front of
    ``member``'s non-connections, whichever way (1:1, new group, added to a group)."""
    recent = list(
        Introduction.objects.filter(by=member, at__gt=now - timedelta(days=1))
        .order_by("-at")
        .values_list("at", flat=True)[:STRANGER_INTRODUCTIONS_PER_DAY]
    )
    retry_after = stranger_retry_after(
        recent, adding=adding, limit=STRANGER_INTRODUCTIONS_PER_DAY, now=now
    )
    if retry_after is not None:
        raise RateLimited(
            gettext(
                "You can reach at most %(max)s members a day "
                "who are not your connections, in new conversations and groups."
            )
            % {"max": STRANGER_INTRODUCTIONS_PER_DAY},
            retry_after=retry_after,
            code="conversation_rate_limited",
        )


def _introductions_record(
    by: Member, strangers: set[int], conversation: Conversation, now: datetime
) -> None:
    if strangers and not by.is_bot:
        Introduction.objects.bulk_create(
            [
                Introduction(by=by, member_id=mid, conversation=conversation, at=now)
                for mid in sorted(strangers)
            ]
        )


@cache
def _message_rate_sql() -> str:
    return (
        f"SELECT sent_at FROM {table(Message)} WHERE sender_id = %s AND sent_at > %s "  # noqa: S608
        f"AND kind = %s ORDER BY sent_at DESC LIMIT 1 OFFSET {MESSAGES_PER_MINUTE - 1}"
    )


def _check_message_rate(sender: Member, now: datetime) -> None:
    """At most 30 messages a minute per member, counted from the stored messages
    (an index range scan), so every server process sees the same count: the 30th
    newest message of the last minute, if there is one, says when a slot frees."""
    since = datetime_param(now - timedelta(minutes=1))
    row = run(_message_rate_sql(), [sender.pk, since, Message.Kind.NORMAL]).fetchone()
    if row is not None:
        oldest = convert_value(Message, "sent_at", row[0])
        retry = int((oldest + timedelta(minutes=1) - now).total_seconds()) + 1
        raise RateLimited(
            gettext("You can send at most %(max)s messages a minute.")
            % {"max": MESSAGES_PER_MINUTE},
            retry_after=retry,
            code="message_rate_limited",
        )


def _rejoin(conversation: Conversation, member: Member) -> None:
    Participant.objects.filter(conversation=conversation, member=member).update(left_at=None)


def conversation_add_participants(
    *, member: Member, conversation_id: int, usernames: Sequence[str]
) -> Conversation:
    """Add members to a group conversation you are in.

    Raises:
        NotFound, Invalid (1:1 conversation, or the group would exceed 51), Forbidden (block).
        RateLimited: the members added who are not your connections would take you past
            ``STRANGER_INTRODUCTIONS_PER_DAY`` (each one counts); nobody is added then.
    """
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        if conversation.kind != Conversation.Kind.GROUP:
            raise Invalid(gettext("Start a group to add more members."), code="not_a_group")
        new = {m.pk: m for m in (member_by_username(u) for u in usernames)}
        if network.blocked_ids_between(member.pk, new):
            raise Forbidden(gettext("You can not add one of these members."), code="blocked")
        current = {p.member_id: p for p in Participant.objects.filter(conversation=conversation)}
        active = {mid for mid, p in current.items() if p.left_at is None}
        if len(active | set(new)) > GROUP_MAX_OTHERS + 1:
            raise Invalid(
                gettext("A group has at most %(max)s members.") % {"max": GROUP_MAX_OTHERS + 1},
                code="too_many_participants",
            )
        now = timezone.now()
        # Everyone added who is not already in it and not a connection of the member
        # adding them counts against that member's daily stranger limit (finding 4).
        arriving = set(new) - active
        strangers = arriving - network.connected_ids(member.pk, arriving)
        if strangers and not member.is_bot:
            _check_stranger_rate(member, len(strangers), now)
        _introductions_record(member, strangers, conversation, now)
        for mid in new:
            if mid in current:
                Participant.objects.filter(pk=current[mid].pk).update(left_at=None)
            else:
                Participant.objects.create(
                    conversation=conversation,
                    member_id=mid,
                    joined_at=now,
                    last_message_at=conversation.last_message_at,
                    last_read_message_id=conversation.last_message_id or 0,
                )
    return conversation


def conversation_leave(*, member: Member, conversation_id: int) -> None:
    """Leave a group conversation; it disappears from your list (history stays for others)."""
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        if conversation.kind != Conversation.Kind.GROUP:
            raise Invalid(gettext("You can only leave group conversations."), code="not_a_group")
        Participant.objects.filter(conversation=conversation, member=member).update(
            left_at=timezone.now(), unread_count=0
        )


def conversation_mark_read(*, member: Member, conversation_id: int) -> None:
    """Mark everything in the conversation read for ``member`` (and its notification)."""
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        Participant.objects.filter(conversation=conversation, member=member).update(
            unread_count=0, last_read_message_id=conversation.last_message_id or 0
        )
        notifications_mark_subject_read(
            member_id=member.pk,
            type=Notification.Type.MESSAGE,
            subject_type="conversation",
            subject_id=conversation.pk,
        )
    publish_on_commit([member.pk], {"type": "read", "conversation": conversation.pk})


def message_send(
    *,
    sender: Member,
    conversation_id: int,
    body: str,
    kind: str = Message.Kind.NORMAL,
    client_key: str | None = None,
    at: datetime | None = None,
) -> Message:
    """Send a message, and in the same transaction any automatic reply it triggers.

    The reads (who takes part, blocks, who is away, whether this sender was
    answered) happen before the write transaction, so the transaction holds the
    database's write lock only for the writes: the message, the conversation's
    last message, every participant's unread count, one grouped notification per
    recipient and, for an away recipient (AWAY-SPEC R5), the automatic reply in
    a savepoint that can never fail the delivery. Exactly-once for the reply is
    decided inside the transaction by a unique constraint (R6), not by the reads.
    Live updates go out on commit.

    Args:
        client_key: optional idempotency key; a retry with the same key returns
            the message stored the first time.
        at: when it was sent (imports and the demo replay history); default now.

    Raises:
        Invalid: empty or too long.
        NotFound: not a participant.
        Forbidden: a block between the two members of a 1:1 conversation.
    """
    from backsoon.away.actions import absence_remind_if_away, auto_reply_plan, auto_reply_send
    from backsoon.away.queries import absences_for_send

    body = _clean_body(body)
    if client_key is not None:
        if not 1 <= len(client_key) <= 64:
            raise Invalid(gettext("client_key has 1 to 64 characters."), code="bad_client_key")
        existing = Message.objects.filter(sender=sender, client_key=client_key).first()
        if existing is not None:
            return existing
    now = at or timezone.now()
    if not sender.is_bot:
        _check_message_rate(sender, now)
    context = queries.send_context(sender, conversation_id)
    conversation = context.conversation
    members = [p.member for p in context.participants]
    others = [m for m in members if m.pk != sender.pk]
    is_direct = conversation.kind == Conversation.Kind.DIRECT
    if is_direct and context.blocked:
        raise Forbidden(gettext("You can not message this member."), code="blocked")
    away = absences_for_send(members, sender.pk, now)
    plan = None
    if is_direct and len(others) == 1 and others[0].pk in away:
        plan = auto_reply_plan(
            sender=sender, recipient=others[0], away=away[others[0].pk], kind=kind, at=now
        )
    recipient_ids = [m.pk for m in others]
    try:
        with transaction.atomic():
            message = message_row_insert(
                conversation=conversation,
                sender=sender,
                body=body,
                kind=kind,
                sent_at=now,
                recipient_ids=recipient_ids,
                client_key=client_key,
            )
            notifications_add_many(
                recipient_ids=recipient_ids,
                away_ids=set(away),
                type=Notification.Type.MESSAGE,
                actor_id=sender.pk,
                subject_type="conversation",
                subject_id=conversation.pk,
                group_key=f"conversation:{conversation.pk}",
            )
            reply = None
            if plan is not None:
                reply = auto_reply_send(plan=plan, message=message, conversation=conversation)
            # One move of the counters for the message and its reply: the sender has
            # read their message, the reply is unread for them, and it marks nothing
            # read for the away member (R5).
            conversation_counters_move(
                conversation=conversation,
                last=reply or message,
                unread_ids=[*recipient_ids, sender.pk] if reply else recipient_ids,
                read=(sender.pk, message.pk),
            )
            if sender.pk in away and kind == Message.Kind.NORMAL:
                absence_remind_if_away(absence_id=away[sender.pk].absence_id, member_id=sender.pk)
    except IntegrityError:
        # Only a concurrent retry with the same client key can collide here.
        if client_key is None:
            raise
        return Message.objects.get(sender=sender, client_key=client_key)
    return message


@cache
def _conversation_moved_sql() -> str:
    # Concurrent sends to one conversation take their ids (a sequence) before the row
    # lock and commit in either order: keep the newest message, and never move a time
    # backwards (tests/reliability/test_cross_process.py).
    return (
        f"UPDATE {table(Conversation)} SET last_message_id = CASE "  # noqa: S608
        "WHEN last_message_id IS NULL OR last_message_id < %s THEN %s ELSE last_message_id END, "
        f"last_message_at = {greatest()}(last_message_at, %s) WHERE id = %s"
    )


@cache
def _participants_moved_sql(recipients: int, with_read: bool) -> str:
    read = (
        f", last_read_message_id = CASE WHEN member_id = %s THEN "
        f"{greatest()}(last_read_message_id, %s) ELSE last_read_message_id END"
        if with_read
        else ""
    )
    unread = (
        f"CASE WHEN member_id IN ({placeholders(recipients)}) THEN 1 ELSE 0 END"
        if recipients
        else "0"
    )
    return (
        f"UPDATE {table(Participant)} SET "  # noqa: S608
        f"last_message_at = {greatest()}(last_message_at, %s), "
        f"unread_count = unread_count + {unread}{read} "
        "WHERE conversation_id = %s AND left_at IS NULL"
    )


@cache
def _message_insert_sql() -> str:
    return (
        f"INSERT INTO {table(Message)} (conversation_id, sender_id, body, kind, sent_at, "  # noqa: S608
        "client_key) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
    )


def message_row_insert(
    *,
    conversation: Conversation,
    sender: Member,
    body: str,
    kind: str,
    sent_at: datetime,
    recipient_ids: Sequence[int],
    client_key: str | None = None,
) -> Message:
    """Store a message (one hand-written statement, ``backsoon.db.rows``) and announce
    it on commit; the caller moves the counters (``conversation_counters_move``)."""
    message_id = run(
        _message_insert_sql(),
        [conversation.pk, sender.pk, body, kind, datetime_param(sent_at), client_key],
    ).fetchone()[0]
    message = Message(
        id=message_id,
        conversation=conversation,
        sender=sender,
        body=body,
        kind=kind,
        sent_at=sent_at,
        client_key=client_key,
    )
    message._state.adding = False
    message._state.db = connection.alias
    publish_on_commit(
        [*recipient_ids, sender.pk],
        {"type": "message", "conversation": conversation.pk, "message": message.pk},
    )
    return message


def conversation_counters_move(
    *,
    conversation: Conversation,
    last: Message,
    unread_ids: Sequence[int],
    read: tuple[int, int] | None,
) -> None:
    """After new messages (``last`` the newest): the conversation's last message, and
    every active participant's last activity, unread count (one more for each of
    ``unread_ids``) and, for ``read`` = (member id, message id), that member's read
    position. Two hand-written statements; call inside the sending transaction."""
    at = datetime_param(last.sent_at)
    run(_conversation_moved_sql(), [last.pk, last.pk, at, conversation.pk])
    params: list[Any] = [at, *unread_ids]
    if read is not None:
        params += list(read)
    run(_participants_moved_sql(len(unread_ids), read is not None), [*params, conversation.pk])
    conversation.last_message = last
    conversation.last_message_at = last.sent_at


def bulk_announce(*, bot: Member, usernames: Sequence[str] | None, body: str) -> int:
    """Send ``body`` from a bot to many members, each in their own 1:1 conversation with it.

    Args:
        usernames: the recipients; None means every active member who is not a bot.

    Returns:
        How many members got it.

    Raises:
        Forbidden: the sender is not a bot account.
    """
    if not bot.is_bot:
        raise Forbidden(gettext("Only bot accounts send bulk announcements."), code="not_a_bot")
    body = _clean_body(body)
    recipients = Member.objects.filter(is_active=True, is_bot=False).exclude(pk=bot.pk)
    if usernames is not None:
        recipients = recipients.filter(username__in=[u.lower() for u in usernames])
    sent = 0
    for member in recipients.iterator():
        try:
            conversation, _ = conversation_start(creator=bot, usernames=[member.username])
            message_send(
                sender=bot, conversation_id=conversation.pk, body=body, kind=Message.Kind.BULK
            )
        except (Forbidden, NotFound, Conflict):
            continue
        sent += 1
    return sent
