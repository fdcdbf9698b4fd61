"""Messaging's hand-written statements: the send path's read and its write.

Sending is the hottest path, so its statements are SQL strings built once per
database vendor instead of ORM queries (``bench/README.md`` tells why), and kept
here, in one place:

- :func:`send_context`: one SELECT for everything ``message_send`` reads of
  messaging before it writes: the conversation, its active participants with their
  members, whether a block stands between the sender and one of them, the sender's
  rate (30 messages a minute) and an earlier message of the sender with the same
  ``client_key`` in this conversation;
- :func:`message_deliver`: the write of one message: the row (columns from
  ``Message._meta``, ``backsoon.db.rows.Insert``), the grouped notification of its
  recipients (text from ``backsoon.notifications.storage``), the conversation's
  last message and every active participant's counters. On PostgreSQL that is one
  statement (data-modifying ``WITH``), atomic on its own; on SQLite, which has no
  such statements, four, which the caller runs in a transaction.

Every statement goes through Django's cursor (``backsoon.db.rows.run``).
``tests/messaging/test_send_statements.py`` pins how many a send takes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from django.db import connection

from backsoon.accounts.models import Member
from backsoon.db.rows import Insert, Rows, convert_value, greatest, placeholders, run, table
from backsoon.network.models import Block
from backsoon.notifications.storage import grouped_upsert
from backsoon.triage.models import Contact

from .models import Conversation, Message, Participant

MESSAGE_INSERT = Insert(Message)
_PARTICIPANT, _MEMBER, _CONVERSATION = Rows(Participant), Rows(Member), Rows(Conversation)
_MEMBER_ID = _PARTICIPANT.names.index("member_id")
_MEMBER_FIELD = Participant._meta.get_field("member")
_CONVERSATION_FIELD = Participant._meta.get_field("conversation")


@dataclass
class SendContext:
    """What ``message_send`` reads about a conversation before it writes."""

    conversation: Conversation
    # Active ones, with their members; in a group, without those a block separates
    # from the sender: they do not get the message (no unread count, notification or
    # live event) and do not see it listed (``messages_of``). Issue 14, finding 6.
    participants: list[Participant]
    blocked: bool  # a block between the sender and another participant
    # Per participant's member id: why they know the sender (TRIAGE S1, L1), or None.
    knows_sender: dict[int, str | None]
    # The members the sender knows already (wrote to, connected, accepted).
    sender_knows: frozenset[int]
    # When the rate was asked: the oldest of the sender's last ``rate_limit`` messages
    # since ``rate_since``, or None while fewer were sent.
    rate_oldest: datetime | None
    existing_id: int | None  # the sender's message with the same client_key here


@cache
def _send_context_sql(with_rate: bool, with_key: bool, rate_limit: int) -> str:
    message = table(Message)
    rate = (
        f"(SELECT x.sent_at FROM {message} x WHERE x.sender_id = %s AND x.sent_at > %s "  # noqa: S608
        f"AND x.kind = %s ORDER BY x.sent_at DESC LIMIT 1 OFFSET {rate_limit - 1})"
        if with_rate
        else "NULL"
    )
    key = (
        f"(SELECT k.id FROM {message} k WHERE k.sender_id = %s AND k.conversation_id = %s "  # noqa: S608
        "AND k.client_key = %s)"
        if with_key
        else "NULL"
    )
    return (
        f"SELECT {_PARTICIPANT.columns('p')}, {_MEMBER.columns('m')}, "  # noqa: S608
        f"{_CONVERSATION.columns('c')}, "
        f"(SELECT k.why FROM {table(Contact)} k WHERE k.member_id = p.member_id "
        "AND k.other_id = %s), "
        f"EXISTS(SELECT 1 FROM {table(Contact)} s WHERE s.member_id = %s "
        "AND s.other_id = p.member_id), "
        f"EXISTS(SELECT 1 FROM {table(Block)} b "
        "WHERE (b.blocker_id = %s AND b.blocked_id = p.member_id) "
        "OR (b.blocked_id = %s AND b.blocker_id = p.member_id)), "
        f"{rate}, {key} "
        f"FROM {table(Participant)} p JOIN {table(Member)} m ON m.id = p.member_id "
        f"JOIN {table(Conversation)} c ON c.id = p.conversation_id "
        "WHERE p.conversation_id = %s AND p.left_at IS NULL ORDER BY p.id"
    )


def send_context(
    *,
    sender_id: int,
    conversation_id: int,
    client_key: str | None,
    rate_since: datetime | None,
    rate_kind: str = Message.Kind.NORMAL,
    rate_limit: int = 30,
) -> SendContext | None:
    """Everything ``message_send`` reads of messaging, in one statement.

    Args:
        client_key: look for the sender's message with this key in the conversation.
        rate_since: count the sender's ``rate_kind`` messages after this moment;
            None skips the count (bots).

    Returns:
        The context, or None when ``sender_id`` is not an active participant of the
        conversation (or there is no such conversation).
    """
    params: list[Any] = [sender_id, sender_id, sender_id, sender_id]
    if rate_since is not None:
        params += [sender_id, connection.ops.adapt_datetimefield_value(rate_since), rate_kind]
    if client_key is not None:
        params += [sender_id, conversation_id, client_key]
    params.append(conversation_id)
    sql = _send_context_sql(rate_since is not None, client_key is not None, rate_limit)
    rows = run(sql, params).fetchall()
    if not any(row[_MEMBER_ID] == sender_id for row in rows):
        return None
    conversation = _CONVERSATION.load(rows[0], _PARTICIPANT.width + _MEMBER.width)
    is_group = conversation.kind == Conversation.Kind.GROUP
    participants = []
    for row in rows:
        if is_group and row[-3]:
            continue
        participant = _PARTICIPANT.load(row)
        _MEMBER_FIELD.set_cached_value(participant, _MEMBER.load(row, _PARTICIPANT.width))
        _CONVERSATION_FIELD.set_cached_value(participant, conversation)
        participants.append(participant)
    rate_oldest, existing_id = rows[0][-2:]
    return SendContext(
        conversation=conversation,
        participants=participants,
        blocked=any(row[-3] for row in rows),
        knows_sender={row[_MEMBER_ID]: row[-5] for row in rows},
        sender_knows=frozenset(row[_MEMBER_ID] for row in rows if row[-4]),
        rate_oldest=(
            convert_value(Message, "sent_at", rate_oldest) if rate_oldest is not None else None
        ),
        existing_id=existing_id,
    )


@dataclass(frozen=True)
class Notify:
    """The grouped notification a delivered message gives its recipients."""

    away_ids: frozenset[int]
    type: str
    subject_type: str
    group_key: str


def _counters_sql(message_id: str, unread: int, with_read: bool) -> tuple[str, str]:
    """The two counter updates after a new message whose id is the SQL ``message_id``
    (a placeholder, or a sub-select of the PostgreSQL statement).

    Concurrent sends to one conversation take their ids (a sequence) before the row
    lock and may commit in either order: keep the newest message, and never move a
    time or a read position backwards (tests/reliability/test_commit_order.py).

    Where it sits (TRIAGE C1, S3): for everyone but the sender, an archived
    conversation that is neither muted nor declined returns to the inbox; the
    sender's own request moves to the inbox when they write in it (``with_read``: an
    ordinary message; an automatic reply accepts nothing, S4). The first placeholder
    after the read position's is the sender's id.
    """
    conversation = (
        f"UPDATE {table(Conversation)} SET last_message_id = CASE "  # noqa: S608
        f"WHEN last_message_id IS NULL OR last_message_id < {message_id} THEN {message_id} "
        "ELSE last_message_id END, "
        f"last_message_at = {greatest()}(last_message_at, %s) WHERE id = %s"
    )
    read = (
        f", last_read_message_id = CASE WHEN member_id = %s THEN "
        f"{greatest()}(last_read_message_id, {message_id}) ELSE last_read_message_id END"
        if with_read
        else ""
    )
    counted = (
        f"CASE WHEN member_id IN ({placeholders(unread)}) THEN 1 ELSE 0 END" if unread else "0"
    )
    inbox, requests, archived = (
        Participant.Folder.INBOX.value,
        Participant.Folder.REQUESTS.value,
        Participant.Folder.ARCHIVED.value,
    )
    own = (
        f"CASE WHEN folder = '{requests}' THEN '{inbox}' ELSE folder END" if with_read else "folder"
    )
    folder = (
        f", folder = CASE WHEN member_id = %s THEN {own} "
        f"WHEN folder = '{archived}' AND NOT muted AND NOT declined THEN '{inbox}' "
        "ELSE folder END"
    )
    participants = (
        f"UPDATE {table(Participant)} SET "  # noqa: S608
        f"last_message_at = {greatest()}(last_message_at, %s), "
        f"unread_count = unread_count + {counted}{read}{folder} "
        "WHERE conversation_id = %s AND left_at IS NULL"
    )
    return conversation, participants


@cache
def _counters_sql_cached(unread: int, with_read: bool) -> tuple[str, str]:
    return _counters_sql("%s", unread, with_read)


def counters_move(
    *,
    conversation_id: int,
    message_id: int,
    sent_at: datetime,
    unread_ids: Sequence[int],
    reader_id: int | None,
    sender_id: int | None = None,
) -> None:
    """After a new message: the conversation's last message, and every active
    participant's last activity, unread count (one more for each of ``unread_ids``),
    folder (see ``_counters_sql``) and, for ``reader_id``, the read position. Two
    statements; part of :func:`message_deliver`, alone only where a delivery's order
    is in question.

    Args:
        sender_id: the message's sender; default ``reader_id``.
    """
    at = connection.ops.adapt_datetimefield_value(sent_at)
    conversation_sql, participants_sql = _counters_sql_cached(
        len(unread_ids), reader_id is not None
    )
    run(conversation_sql, [message_id, message_id, at, conversation_id])
    read = [reader_id, message_id] if reader_id is not None else []
    sender = sender_id if sender_id is not None else reader_id
    run(participants_sql, [at, *unread_ids, *read, sender, conversation_id])


@cache
def _deliver_sql_postgresql(insert_sql: str, unread: int, with_read: bool, notify_sql: str) -> str:
    conversation_sql, participants_sql = _counters_sql("(SELECT id FROM m)", unread, with_read)
    notify = f", n AS ({notify_sql})" if notify_sql else ""
    return (
        f"WITH m AS ({insert_sql} RETURNING id), "  # noqa: S608
        f"c AS ({conversation_sql}), p AS ({participants_sql}){notify} SELECT id FROM m"
    )


def message_deliver(
    message: Message,
    *,
    unread_ids: Sequence[int],
    read: bool,
    notify: Notify | None,
    notify_ids: Sequence[int] | None = None,
) -> Message:
    """Store ``message`` (unsaved, with its conversation and sender set) and move the
    counters: one more unread for each of ``unread_ids``, the sender's read position
    to it when ``read``; with ``notify``, the grouped notification of ``notify_ids``
    (default ``unread_ids``; a screened or muted recipient gets none, TRIAGE S2).

    One statement on PostgreSQL (atomic alone); on SQLite four, to run inside a
    transaction. Sets the message's id and returns it.
    """
    at = message.sent_at
    db_at = connection.ops.adapt_datetimefield_value(at)
    conversation_id = message.conversation_id
    notify_sql, notify_params = "", cast(list[Any], [])
    notify_ids = unread_ids if notify_ids is None else notify_ids
    if notify is not None and notify_ids:
        notify_sql, notify_params = grouped_upsert(
            recipient_ids=notify_ids,
            away_ids=notify.away_ids,
            type=notify.type,
            actor_id=message.sender_id,
            subject_type=notify.subject_type,
            subject_id=conversation_id,
            group_key=notify.group_key,
            at=at,
        )
    values = MESSAGE_INSERT.params(message)
    read_params = [message.sender_id] if read else []
    if connection.vendor == "postgresql":
        sql = _deliver_sql_postgresql(MESSAGE_INSERT.sql(), len(unread_ids), read, notify_sql)
        params = [
            *values,
            *[db_at, conversation_id],
            *[db_at, *unread_ids, *read_params, message.sender_id, conversation_id],
            *notify_params,
        ]
        message.id = run(sql, params).fetchone()[0]
    else:
        message.id = run(f"{MESSAGE_INSERT.sql()} RETURNING id", values).fetchone()[0]
        if notify_sql:
            run(notify_sql, notify_params)
        counters_move(
            conversation_id=conversation_id,
            message_id=message.id,
            sent_at=at,
            unread_ids=unread_ids,
            reader_id=message.sender_id if read else None,
            sender_id=message.sender_id,
        )
    message._state.adding = False
    message._state.db = connection.alias
    return message


def delivers_in_one_statement() -> bool:
    """Whether :func:`message_deliver` is one statement (atomic without a transaction)."""
    return connection.vendor == "postgresql"


def participants_label(changes: Sequence[tuple[int, list[dict[str, Any]], int | None]]) -> None:
    """Set the labels (``backsoon.triage.rules``) and similar-texts cluster of
    participant rows: ``(participant id, labels, cluster)`` each; one UPDATE per
    distinct pair of labels and cluster (a sender's mass copies share one). Rare on the
    send path: a known sender's conversation already labelled ``known`` writes nothing."""
    groups: dict[tuple[str, int | None], tuple[list[dict[str, Any]], list[int]]] = {}
    for pk, labels, cluster in changes:
        key = (json.dumps(labels, sort_keys=True), cluster)
        groups.setdefault(key, (labels, []))[1].append(pk)
    for (_, cluster), (labels, ids) in groups.items():
        Participant.objects.filter(pk__in=ids).update(
            labels=labels, label_codes=label_codes(labels), similar_key=cluster
        )


def label_codes(labels: Sequence[dict[str, Any]]) -> str:
    """The labels' codes as stored for filtering: ",mass," ("" for none)."""
    codes = [str(label["code"]) for label in labels]
    return f",{','.join(codes)}," if codes else ""


def participants_of(refs: Sequence[tuple[int, int]]) -> list[Participant]:
    """The participant rows of ``(conversation id, member id)`` pairs."""
    wanted = set(refs)
    if not wanted:
        return []
    rows = Participant.objects.filter(conversation_id__in={c for c, _ in wanted}).filter(
        member_id__in={m for _, m in wanted}
    )
    return [p for p in rows if (p.conversation_id, p.member_id) in wanted]
