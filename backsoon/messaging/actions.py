"""Every write to conversations and messages. ``message_send`` is the hot path."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.accounts.queries import member_by_username
from backsoon.accounts.validators import name_problem
from backsoon.away import queries as away_queries
from backsoon.away.actions import absence_remind_if_away, auto_reply_claim
from backsoon.away.rules import ReplyPlan
from backsoon.db.chunks import each_in_chunks, update_in_chunks
from backsoon.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from backsoon.live import publish_on_commit
from backsoon.network import queries as network
from backsoon.network.actions import block_create
from backsoon.notifications.actions import (
    notifications_mark_subject_read,
    notifications_published,
)
from backsoon.notifications.models import Notification
from backsoon.placeholders import fill_placeholders
from backsoon.triage import queries as triage_queries
from backsoon.triage import rules as triage_rules
from backsoon.triage.actions import (
    contacts_add,
    copies_refs,
    print_record,
    report_create,
)
from backsoon.triage.models import Contact, Print

from . import queries, storage
from .models import Conversation, Introduction, Message, Participant, SavedReply

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
    screened = _screened_ids(creator, others.values())
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
                        conversation=conversation,
                        member_id=mid,
                        joined_at=now,
                        last_message_at=now,
                        folder=Participant.Folder.REQUESTS
                        if mid in screened
                        else Participant.Folder.INBOX,
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


def _screened_ids(by: Member, members: Iterable[Member]) -> set[int]:
    """The members for whom a conversation ``by`` starts with them, or adds them to, is
    a request (TRIAGE S1): their policy is ``screen`` and they do not know ``by``.
    Bots' conversations (announcements) are never screened."""
    if by.is_bot:
        return set()
    screening = {m.pk for m in members if m.inbox_policy == Member.InboxPolicy.SCREEN}
    if not screening:
        return set()
    return screening - set(triage_queries.knowers_of(by.pk, screening))


def stranger_retry_after(
    recent: Sequence[datetime],
    *,
    adding: int,
    limit: int,
    now: datetime,
    window: timedelta = timedelta(days=1),
) -> int | None:
    """Whether ``adding`` more strangers fit in the daily budget, and if not, when.

    Args:
        recent: when each introduction of the last ``window`` was made, newest first
            (at least the ``limit`` newest).
        adding: strangers the member is about to put in front of.
        window: how long an introduction counts (a day; the bulk reply's messages
            count an hour).

    Returns:
        None when they fit; otherwise the whole seconds until enough of ``recent``
        leave the window for them to fit (at least 1).
    """
    room = limit - adding
    if len(recent) <= room:
        return None
    if room < 0 or not recent:
        # More at once than a whole day's budget: never; the window emptying is the best.
        room = 0
        if not recent:
            return int(window.total_seconds())
    frees_at = recent[room] + window
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
        screened = _screened_ids(member, [new[mid] for mid in arriving])
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
                    folder=Participant.Folder.REQUESTS
                    if mid in screened
                    else Participant.Folder.INBOX,
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
    in_bulk: bool = False,
) -> Message:
    """Send a message, and in the same transaction any automatic reply it triggers.

    In a straight line: read what messaging needs (``storage.send_context``: the
    conversation, participants, blocks, the sender's rate and an earlier message with
    this ``client_key``, one statement) and who is away (``away.queries``, one
    statement); ask away for its decision, a plain ``ReplyPlan`` (AWAY-SPEC R1-R9);
    then write: the message, its recipients' grouped notification and the counters
    (``storage.message_deliver``), and for a planned reply, in a savepoint that can
    never fail the delivery (R5), away's claim (R6, a unique constraint) and the
    reply, written here like any message. The write transaction holds the database
    only for the writes. Live updates go out on commit.

    On PostgreSQL a message without a reply or reminder is one statement, which needs
    no transaction of its own.

    Args:
        client_key: optional idempotency key; a retry with the same key in the same
            conversation returns the message stored the first time.
        at: when it was sent (imports and the demo replay history); default now.
        in_bulk: one of the messages of a bulk reply (``conversations_bulk``, TRIAGE
            C3), which has its own budget (``BULK_REPLY_MESSAGES_PER_HOUR``): the
            per-minute limit is not asked, but the message counts in it for the
            sends after it.

    Raises:
        Invalid: empty or too long.
        NotFound: not a participant.
        Forbidden: a block between the two members of a 1:1 conversation.
        RateLimited: more than 30 messages a minute (the messages of a bulk reply
            included).
    """
    body = _clean_body(body)
    if client_key is not None and not 1 <= len(client_key) <= 64:
        raise Invalid(gettext("client_key has 1 to 64 characters."), code="bad_client_key")
    now = at or timezone.now()
    context = storage.send_context(
        sender_id=sender.pk,
        conversation_id=conversation_id,
        client_key=client_key,
        rate_since=None if sender.is_bot or in_bulk else now - timedelta(minutes=1),
        rate_limit=MESSAGES_PER_MINUTE,
    )
    if context is None:
        raise NotFound(gettext("No such conversation."), code="conversation_not_found")
    if context.existing_id is not None:
        return Message.objects.get(pk=context.existing_id)
    if context.rate_oldest is not None:
        raise RateLimited(
            gettext("You can send at most %(max)s messages a minute.")
            % {"max": MESSAGES_PER_MINUTE},
            retry_after=int((context.rate_oldest + timedelta(minutes=1) - now).total_seconds()) + 1,
            code="message_rate_limited",
        )
    conversation = context.conversation
    members = [p.member for p in context.participants]
    others = [m for m in members if m.pk != sender.pk]
    is_direct = conversation.kind == Conversation.Kind.DIRECT
    if is_direct and context.blocked:
        raise Forbidden(gettext("You can not message this member."), code="blocked")
    away = away_queries.absences_for_send(members, sender.pk, now)
    plan = None
    if is_direct and len(others) == 1 and others[0].pk in away:
        plan = away_queries.auto_reply_plan(
            away=away[others[0].pk], sender=sender, recipient=others[0], kind=kind, at=now
        )
    remind = sender.pk in away and kind == Message.Kind.NORMAL
    recipient_ids = [m.pk for m in others]
    recipients = [p for p in context.participants if p.member_id != sender.pk]
    # TRIAGE S2, C1: a request, a declined or a muted conversation raises no
    # notification and no live alert; an archived one returns to the inbox (storage).
    alert_ids = [p.member_id for p in recipients if _alerts(p)]
    introduced = (
        []
        if sender.is_bot or kind != Message.Kind.NORMAL
        else [mid for mid in recipient_ids if mid not in context.sender_knows]
    )
    mine = next(p for p in context.participants if p.member_id == sender.pk)
    # Writing in your own request accepts it (TRIAGE S3): known from now on.
    accepting = kind == Message.Kind.NORMAL and mine.folder == Participant.Folder.REQUESTS
    labelling = accepting or (
        not sender.is_bot
        and kind != Message.Kind.AUTO_REPLY
        and any(_labels_may_change(p, context.knows_sender.get(p.member_id)) for p in recipients)
    )
    message = Message(
        conversation=conversation,
        sender=sender,
        body=body,
        kind=kind,
        sent_at=now,
        client_key=client_key,
    )
    notify = storage.Notify(
        away_ids=frozenset(away),
        type=Notification.Type.MESSAGE,
        subject_type="conversation",
        group_key=f"conversation:{conversation.pk}",
    )
    # One statement needs no transaction of its own (PostgreSQL, nothing else to
    # write); inside a caller's transaction, a savepoint keeps a client_key collision
    # from breaking it.
    alone = (
        storage.delivers_in_one_statement()
        and plan is None
        and not remind
        and not introduced
        and not labelling
        and (client_key is None or not connection.in_atomic_block)
    )
    try:
        with nullcontext() if alone else transaction.atomic():
            storage.message_deliver(
                message,
                unread_ids=recipient_ids,
                read=True,
                notify=notify,
                notify_ids=alert_ids,
            )
            _announce(message, alert_ids)
            notifications_published(
                recipient_ids=alert_ids, away_ids=set(away), type=Notification.Type.MESSAGE
            )
            if introduced:
                contacts_add(
                    member_id=sender.pk, other_ids=introduced, why=Contact.Why.WROTE, at=now
                )
            if labelling:
                _label(
                    message,
                    recipients,
                    context.knows_sender,
                    accepting=mine if accepting else None,
                )
            if plan is not None:
                _auto_reply_send(plan, message, others[0])
            if remind:
                absence_remind_if_away(absence_id=away[sender.pk].absence_id, member_id=sender.pk)
    except IntegrityError:
        # Only a concurrent retry with the same client key can collide here.
        if client_key is None:
            raise
        return Message.objects.get(
            sender=sender, conversation_id=conversation.pk, client_key=client_key
        )
    return message


def _alerts(participant: Participant) -> bool:
    """Whether a new message alerts its recipient (TRIAGE S2, S3, C1)."""
    return (
        participant.folder != Participant.Folder.REQUESTS
        and not participant.declined
        and not participant.muted
    )


def _labels_may_change(participant: Participant, known_why: str | None) -> bool:
    """Whether a message gives its recipient's conversation new labels.

    False when a message from someone the recipient knows finds it labelled ``known``
    already: the common case writes nothing more (TRIAGE L7). A stranger's message
    labels a conversation that has no labels yet: the opening message says why it is
    in front of the member (as a request is judged by its first message); follow-ups
    keep those labels, and the first messages of other conversations still count
    towards ``mass`` (L2)."""
    if known_why is None:
        return not participant.labels
    return participant.labels != triage_rules.message_labels(known_why=known_why, copies=0)


def _label(
    message: Message,
    recipients: Sequence[Participant],
    knows_sender: dict[int, str | None],
    *,
    accepting: Participant | None = None,
) -> None:
    """Label the conversation for each recipient (TRIAGE L1, L2, L5, L6), inside the
    send's transaction: known senders are ``known``; a stranger's text is printed
    (``triage.print_record``: an index look-up of its LSH bands) and is ``mass`` once
    the sender reached 10 members with similar texts in a week, else ``first_contact``.
    Earlier copies are labelled ``mass`` too once the sender gets there (the count is
    exact under concurrent sends: ``print_record`` serialises a sender's prints). ``accepting``:
    the sender's own request, which writing in accepts (S3), becomes ``known``."""
    changes: list[tuple[int, list[triage_rules.Label], int | None]] = []
    if accepting is not None:
        known = triage_rules.message_labels(known_why=Contact.Why.WROTE, copies=0)
        changes.append((accepting.pk, known, None))
    if message.sender.is_bot or message.kind == Message.Kind.AUTO_REPLY:
        recipients = []
    for participant in recipients:
        why = knows_sender.get(participant.member_id)
        if not _labels_may_change(participant, why):
            continue
        cluster: int | None = None
        if why is None:
            member = participant.member
            printed = print_record(
                kind=Print.Kind.MESSAGE,
                sender_id=message.sender_id,
                member_id=member.pk,
                ref_id=message.conversation_id,
                text=message.body,
                names=[member.display_name, member.username],
                at=message.sent_at,
            )
            cluster = printed.cluster
            labels = triage_rules.message_labels(known_why=None, copies=printed.copies)
            if printed.copies >= triage_rules.MASS_MEMBERS:
                _mass_relabel(message.sender_id, cluster, message.sent_at, printed.copies)
        else:
            labels = triage_rules.message_labels(known_why=why, copies=0)
        if labels != participant.labels or cluster != participant.similar_key:
            changes.append((participant.pk, labels, cluster))
    storage.participants_label(changes)


def _mass_relabel(sender_id: int, cluster: int, at: datetime, copies: int) -> None:
    """Once a sender reached 10 members with similar texts (L2), every copy of the
    week is labelled ``mass`` with the count (known stays known, L1); in the send's
    transaction, under the sender's print lock (``triage.print_record``)."""
    refs = copies_refs(Print.Kind.MESSAGE, sender_id, cluster, at)
    rows = storage.participants_of(refs)
    storage.participants_label(
        [
            (p.pk, triage_rules.with_mass(p.labels, copies), p.similar_key)
            for p in rows
            if triage_rules.with_mass(p.labels, copies) != p.labels
        ]
    )


def _announce(message: Message, recipient_ids: Sequence[int]) -> None:
    publish_on_commit(
        [*recipient_ids, message.sender_id],
        {"type": "message", "conversation": message.conversation_id, "message": message.pk},
    )


def _auto_reply_send(plan: ReplyPlan, message: Message, away_member: Member) -> Message | None:
    """Write a planned automatic reply inside ``message_send``'s transaction, in a
    savepoint (R5): away's claim first (R6), then the reply, an ordinary message of
    the away member that is unread for the sender and marks nothing read for the away
    member. Whatever goes wrong rolls back only the reply, never the message that
    triggered it. Returns the reply, or None (claimed by another transaction first,
    or failed)."""
    try:
        with transaction.atomic():
            if not auto_reply_claim(plan):
                return None
            reply = Message(
                conversation=message.conversation,
                sender=away_member,
                body=plan.text,
                kind=Message.Kind.AUTO_REPLY,
                sent_at=plan.at,
            )
            storage.message_deliver(reply, unread_ids=[plan.sender_id], read=False, notify=None)
            _announce(reply, [plan.sender_id])
            return reply
    except Exception:  # R5: a reply problem must never fail the delivery
        log.exception("automatic reply failed for message %s", message.pk)
        return None


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


# -- where a conversation sits for a member (TRIAGE S3, C1) ------------------------------

Folder = Participant.Folder
BULK_IDS_MAX = 500


def _requester_ids(conversation: Conversation, member: Member) -> list[int]:
    """Who a request came from: the other member of a 1:1 conversation, or who
    started the group (or, failing that, its other members who wrote in it)."""
    others = list(
        Participant.objects.filter(conversation=conversation, left_at__isnull=True)
        .exclude(member=member)
        .values_list("member_id", flat=True)
    )
    if conversation.kind == Conversation.Kind.DIRECT:
        return others
    if conversation.created_by_id and conversation.created_by_id != member.pk:
        return [conversation.created_by_id]
    return list(
        Message.objects.filter(conversation=conversation, sender_id__in=others)
        .values_list("sender_id", flat=True)
        .distinct()
    )


def _request_for(member: Member, conversation_id: int) -> tuple[Conversation, Participant]:
    conversation = queries.conversation_for_member(member, conversation_id)
    mine = queries.participation(member, conversation)
    if mine.folder != Folder.REQUESTS:
        raise Conflict(gettext("This conversation is not a request."), code="not_a_request")
    return conversation, mine


def _announce_folders(member: Member) -> None:
    """Tell the member's open pages that folders changed (their counts and lists)."""
    publish_on_commit([member.pk], {"type": "folder", "conversation": None})


def _folder_changed(member: Member, conversation: Conversation) -> None:
    publish_on_commit([member.pk], {"type": "folder", "conversation": conversation.pk})


def conversation_accept(*, member: Member, conversation_id: int) -> Conversation:
    """Accept a message request (TRIAGE S3): it moves to the inbox and its sender is
    known for good (S1, L1). The sender is told nothing (S2).

    Raises:
        NotFound: not a participant. Conflict: not a request.
    """
    with transaction.atomic():
        conversation, mine = _request_for(member, conversation_id)
        now = timezone.now()
        requesters = _requester_ids(conversation, member)
        contacts_add(member_id=member.pk, other_ids=requesters, why=Contact.Why.ACCEPTED, at=now)
        labels = triage_rules.message_labels(known_why=Contact.Why.ACCEPTED, copies=0)
        Participant.objects.filter(pk=mine.pk).update(
            folder=Folder.INBOX,
            declined=False,
            labels=labels,
            label_codes=storage.label_codes(labels),
        )
        _folder_changed(member, conversation)
    return conversation


def conversation_decline(*, member: Member, conversation_id: int) -> Conversation:
    """Decline a message request (TRIAGE S3): archived for the member, and later
    messages in it stay archived and silent. Nobody is told (S2).

    Raises:
        NotFound: not a participant. Conflict: not a request.
    """
    with transaction.atomic():
        conversation, mine = _request_for(member, conversation_id)
        Participant.objects.filter(pk=mine.pk).update(folder=Folder.ARCHIVED, declined=True)
        _folder_changed(member, conversation)
    return conversation


def conversation_report(*, member: Member, conversation_id: int) -> Conversation:
    """Report a message request (TRIAGE S3): declined, its sender blocked, and a report
    in the moderators' queue (the Django admin) with the first lines they wrote.

    Raises:
        NotFound: not a participant. Conflict: not a request.
    """
    with transaction.atomic():
        conversation, mine = _request_for(member, conversation_id)
        Participant.objects.filter(pk=mine.pk).update(folder=Folder.ARCHIVED, declined=True)
        for requester in Member.objects.filter(pk__in=_requester_ids(conversation, member)):
            first = (
                Message.objects.filter(conversation=conversation, sender=requester)
                .order_by("id")
                .values_list("body", flat=True)
                .first()
            )
            report_create(
                reporter_id=member.pk,
                reported_id=requester.pk,
                conversation_id=conversation.pk,
                excerpt=first or "",
            )
            block_create(member=member, username=requester.username)
        _folder_changed(member, conversation)
    return conversation


def conversation_archive(*, member: Member, conversation_id: int) -> Conversation:
    """Archive a conversation (TRIAGE C1); it returns to the inbox when someone else
    writes in it, unless muted. Archiving a request declines it (S3)."""
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        mine = queries.participation(member, conversation)
        declined = mine.declined or mine.folder == Folder.REQUESTS
        Participant.objects.filter(pk=mine.pk).update(folder=Folder.ARCHIVED, declined=declined)
        _folder_changed(member, conversation)
    return conversation


def conversation_unarchive(*, member: Member, conversation_id: int) -> Conversation:
    """Move an archived conversation back: a declined request to Requests, anything
    else to the inbox (TRIAGE C1)."""
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        mine = queries.participation(member, conversation)
        if mine.folder == Folder.ARCHIVED:
            Participant.objects.filter(pk=mine.pk).update(
                folder=Folder.REQUESTS if mine.declined else Folder.INBOX, declined=False
            )
        _folder_changed(member, conversation)
    return conversation


def conversation_mark_unread(*, member: Member, conversation_id: int) -> Conversation:
    """Mark a conversation unread (TRIAGE C1): it counts one unread until opened."""
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        Participant.objects.filter(conversation=conversation, member=member, unread_count=0).update(
            unread_count=1
        )
        _folder_changed(member, conversation)
    return conversation


def conversation_mute(*, member: Member, conversation_id: int, muted: bool) -> Conversation:
    """Mute or unmute a conversation (TRIAGE C1): muted, it raises no notification,
    live alert or unread badge, and stays archived when archived."""
    with transaction.atomic():
        conversation = queries.conversation_for_member(member, conversation_id)
        Participant.objects.filter(conversation=conversation, member=member).update(muted=muted)
        _folder_changed(member, conversation)
    return conversation


BULK_ACTIONS = ("archive", "unarchive", "read", "accept", "decline", "mute", "unmute", "reply")
# A bulk reply (TRIAGE C3) answers at most this many conversations in one action ...
BULK_REPLY_MAX = 200
# ... and may only send while the member's messages of the last hour, bulk or not,
# stay within this (three full bulk replies an hour).
BULK_REPLY_MESSAGES_PER_HOUR = 600


def conversations_bulk(
    *,
    member: Member,
    action: str,
    ids: Sequence[int] | None = None,
    folder: str | None = None,
    label: str | None = None,
    before: datetime | None = None,
    similar: int | None = None,
    template: int | None = None,
    body: str | None = None,
) -> int:
    """One action on many conversations (TRIAGE C1, C2): those of ``ids``, or every one
    that matches the filter (``folder``, ``label``, last activity ``before``, cluster of
    ``similar`` texts), not only a page. Idempotent: a conversation already in the
    state asked for is not counted again.

    A filter never archives or declines a conversation labelled ``known`` (L1): only
    naming it by id does.

    ``reply`` (C3) answers each conversation with the saved reply ``template`` or with
    ``body`` (exactly one of them): an ordinary message through ``message_send``, so
    automatic replies, screening and labels apply as to any message, with
    ``{first_name}`` filled for each (``queries.addressees``: the other member of a
    1:1 conversation; in a group, the member being answered). At most
    ``BULK_REPLY_MAX`` (200) conversations, by ids or matching the filter; a filter
    never answers a conversation the member declined. Its messages do not stop at
    the per-minute limit of single sends, but the action is refused when they would
    take the member past ``BULK_REPLY_MESSAGES_PER_HOUR`` messages in an hour, and
    they count towards the per-minute limit of the sends after it. A conversation
    that can not be answered (a block, nobody else left in it) is skipped.

    Returns:
        How many conversations changed; for ``reply``, how many replies were sent.

    Raises:
        Invalid: unknown action, both or neither of ``ids`` and a filter, too many ids
            (``too_many`` over 200 for ``reply``), for ``reply`` both or neither of
            ``template`` and ``body``, and ``template`` or ``body`` for any other action.
        NotFound: ``template`` is not one of the member's saved replies.
        RateLimited: the hourly budget of a bulk reply.
    """
    if action not in BULK_ACTIONS:
        raise Invalid(
            gettext("Unknown action: %(action)s.") % {"action": action}, code="invalid_action"
        )
    by_filter = any(v is not None for v in (folder, label, before, similar))
    if (ids is None) == (not by_filter):
        raise Invalid(gettext("Give either ids or a filter, not both."), code="ids_or_filter")
    replying = action == "reply"
    if not replying and (template is not None or body is not None):
        raise Invalid(
            gettext("A saved reply or a text goes only with the reply action."),
            code="template_or_body",
        )
    rows = Participant.objects.filter(member=member, left_at__isnull=True)
    if ids is not None:
        if replying and len(ids) > BULK_REPLY_MAX:
            raise _too_many_replies()
        if len(ids) > BULK_IDS_MAX:
            raise Invalid(
                gettext("At most %(max)s conversations at once.") % {"max": BULK_IDS_MAX},
                code="too_many_ids",
            )
        rows = rows.filter(conversation_id__in=list(ids))
    else:
        if folder is not None:
            rows = rows.filter(folder=folder)
        if label is not None:
            rows = rows.filter(label_codes__contains=f",{label},")
        if before is not None:
            rows = rows.filter(last_message_at__lt=before)
        if similar is not None:
            rows = rows.filter(similar_key=similar)
        if action in ("archive", "decline"):
            rows = rows.exclude(label_codes__contains=f",{triage_rules.KNOWN},")
        if replying:
            rows = rows.exclude(declined=True)
    if replying:
        return _bulk_reply(member, rows, template=template, body=body)
    changed = _bulk_apply(member, action, rows)
    if changed:
        _announce_folders(member)
    return changed


def _bulk_apply(member: Member, action: str, rows: Any) -> int:
    """Apply a bulk action in chunks (``backsoon.db.chunks``): each UPDATE repeats the
    state it changes from, so only rows that change are counted (idempotent)."""
    if action == "archive":
        requests = update_in_chunks(
            rows.filter(folder=Folder.REQUESTS), folder=Folder.ARCHIVED, declined=True
        )
        return requests + update_in_chunks(rows.filter(folder=Folder.INBOX), folder=Folder.ARCHIVED)
    if action == "unarchive":
        archived = rows.filter(folder=Folder.ARCHIVED)
        back = update_in_chunks(
            archived.filter(declined=True), folder=Folder.REQUESTS, declined=False
        )
        return back + update_in_chunks(archived.filter(declined=False), folder=Folder.INBOX)
    if action == "decline":
        return update_in_chunks(
            rows.filter(folder=Folder.REQUESTS), folder=Folder.ARCHIVED, declined=True
        )
    if action in ("mute", "unmute"):
        muted = action == "mute"
        return update_in_chunks(rows.exclude(muted=muted), muted=muted)
    if action == "read":

        def read(ids: list[int]) -> int:
            for conversation_id in Participant.objects.filter(pk__in=ids).values_list(
                "conversation_id", flat=True
            ):
                conversation_mark_read(member=member, conversation_id=conversation_id)
            return len(ids)

        return each_in_chunks(rows.filter(unread_count__gt=0), read)

    def accept(ids: list[int]) -> int:
        for conversation_id in Participant.objects.filter(pk__in=ids).values_list(
            "conversation_id", flat=True
        ):
            conversation_accept(member=member, conversation_id=conversation_id)
        return len(ids)

    return each_in_chunks(rows.filter(folder=Folder.REQUESTS), accept)


# -- saved replies (TRIAGE C3) -----------------------------------------------------------

SAVED_REPLY_NAME_MAX = 100
SAVED_REPLIES_MAX = 100


def _saved_reply_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("A saved reply needs a name."), code="template_name_empty")
    if len(name) > SAVED_REPLY_NAME_MAX:
        raise Invalid(
            gettext("A saved reply's name is at most %(max)s characters.")
            % {"max": SAVED_REPLY_NAME_MAX},
            code="template_name_too_long",
        )
    if problem := name_problem(name, field=gettext("Name")):
        raise Invalid(problem, code="invalid_template_name")
    return name


def _name_taken() -> Conflict:
    return Conflict(
        gettext("You already have a saved reply with this name."), code="template_name_taken"
    )


def saved_reply_create(*, member: Member, name: str, body: str) -> SavedReply:
    """Save a named reply text (TRIAGE C3); ``{first_name}`` is filled when it is sent.

    Args:
        name: 1 to 100 characters (trimmed), no control or text direction characters,
            unique among the member's saved replies whatever the case.
        body: 1 to 8000 characters, kept as written.

    Raises:
        Invalid: a name or body out of bounds.
        Conflict: the name is taken, or the member has 100 saved replies already.
    """
    name = _saved_reply_name(name)
    body = _clean_body(body)
    with transaction.atomic():
        # The member's row is the lock that keeps two creations from both taking the
        # hundredth place.
        Member.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()
        if SavedReply.objects.filter(member=member).count() >= SAVED_REPLIES_MAX:
            raise Conflict(
                gettext("You can keep at most %(max)s saved replies.") % {"max": SAVED_REPLIES_MAX},
                code="too_many_templates",
            )
        try:
            with transaction.atomic():
                return SavedReply.objects.create(member=member, name=name, body=body)
        except IntegrityError:
            raise _name_taken() from None


def saved_reply_update(
    *, member: Member, saved_reply_id: int, name: str | None = None, body: str | None = None
) -> SavedReply:
    """Rename a saved reply or change its text (None: leave as it is); rules as
    ``saved_reply_create``.

    Raises:
        NotFound: not one of the member's. Invalid, Conflict: as ``saved_reply_create``.
    """
    reply = queries.saved_reply_for_member(member, saved_reply_id)
    fields = ["updated_at"]
    if name is not None:
        reply.name = _saved_reply_name(name)
        fields.append("name")
    if body is not None:
        reply.body = _clean_body(body)
        fields.append("body")
    reply.updated_at = timezone.now()
    try:
        with transaction.atomic():
            reply.save(update_fields=fields)
    except IntegrityError:
        raise _name_taken() from None
    return reply


def saved_reply_delete(*, member: Member, saved_reply_id: int) -> None:
    """Delete one of the member's saved replies.

    Raises:
        NotFound: not one of the member's.
    """
    deleted, _ = SavedReply.objects.filter(pk=saved_reply_id, member=member).delete()
    if not deleted:
        raise NotFound(gettext("No such saved reply."), code="template_not_found")


def saved_reply_text(body: str, *, first_name: str) -> str:
    """A saved reply as sent to someone: ``{first_name}`` filled (AWAY-SPEC R7), any
    other brace text as written."""
    return fill_placeholders(body, {"first_name": first_name})


def _too_many_replies() -> Invalid:
    return Invalid(
        gettext("A reply goes to at most %(max)s conversations at once.") % {"max": BULK_REPLY_MAX},
        code="too_many",
    )


def _bulk_reply(member: Member, rows: Any, *, template: int | None, body: str | None) -> int:
    """Answer the conversations of ``rows`` (the member's participations), one
    ``message_send`` each, in its own transaction (TRIAGE C3). Returns how many were
    sent."""
    if (template is None) == (body is None):
        raise Invalid(
            gettext("Choose a saved reply or write a text, not both."), code="template_or_body"
        )
    text = (
        queries.saved_reply_for_member(member, template).body
        if template is not None
        else _clean_body(body or "")
    )
    conversation_ids = list(
        rows.order_by("-last_message_at", "-conversation_id").values_list(
            "conversation_id", flat=True
        )[: BULK_REPLY_MAX + 1]
    )
    if len(conversation_ids) > BULK_REPLY_MAX:
        raise _too_many_replies()
    if not conversation_ids:
        return 0
    now = timezone.now()
    recent = list(
        Message.objects.filter(
            sender=member, kind=Message.Kind.NORMAL, sent_at__gt=now - timedelta(hours=1)
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)[:BULK_REPLY_MESSAGES_PER_HOUR]
    )
    retry_after = stranger_retry_after(
        recent,
        adding=len(conversation_ids),
        limit=BULK_REPLY_MESSAGES_PER_HOUR,
        now=now,
        window=timedelta(hours=1),
    )
    if retry_after is not None:
        raise RateLimited(
            gettext("Bulk replies may send at most %(max)s messages an hour.")
            % {"max": BULK_REPLY_MESSAGES_PER_HOUR},
            retry_after=retry_after,
            code="bulk_reply_rate_limited",
        )
    addressees = queries.addressees(member, conversation_ids)
    sent = 0
    for conversation_id in conversation_ids:
        to = addressees.get(conversation_id)
        if to is None:
            continue  # nobody else is left in it
        try:
            message_send(
                sender=member,
                conversation_id=conversation_id,
                body=saved_reply_text(text, first_name=to.first_name),
                in_bulk=True,
            )
        except (Forbidden, NotFound, Invalid):
            continue  # blocked, left meanwhile, or too long once filled: skipped
        sent += 1
    return sent
