"""Away's hand-written statements on the send path: who is away among a message's
recipients (with what decides an automatic reply), and the claim of a reply (R6).

Columns come from the models' metadata (``backsoon.db.rows``); every statement goes
through Django's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from backsoon.accounts.models import Member
from backsoon.db.rows import Insert, Rows, placeholders, run, table
from backsoon.network.models import Connection

from .models import Absence, AutoReplyRecord

ABSENCE, MEMBER = Rows(Absence), Rows(Member)
RECORD_INSERT = Insert(AutoReplyRecord)


@cache
def _absences_for_send_sql(count: int) -> str:
    return (
        f"SELECT r.id, r.last_sent_at, c.id IS NOT NULL, {ABSENCE.columns('a')}, "  # noqa: S608
        f"{MEMBER.columns('b')} FROM {table(Absence)} a "
        f"LEFT JOIN {table(AutoReplyRecord)} r ON r.absence_id = a.id AND r.sender_id = %s "
        "AND r.message_version = a.message_version "
        f"LEFT JOIN {table(Connection)} c ON c.member_id = a.member_id AND c.other_id = %s "
        f"LEFT JOIN {table(Member)} b ON b.id = a.backup_id "
        f"WHERE a.member_id IN ({placeholders(count)}) AND a.starts_at <= %s AND a.ends_at > %s "
        "AND (a.ended_at IS NULL OR a.ended_at > %s) ORDER BY a.starts_at, a.id"
    )


def absences_for_send_rows(
    member_ids: Sequence[int], sender_id: int, at: datetime
) -> list[tuple[Any, ...]]:
    """For each of ``member_ids`` away at ``at``: ``(record id, record last_sent_at,
    connected, *absence columns, *backup columns)``, the record being ``sender_id``'s
    reply record for the absence's current text. One statement."""
    moment = connection.ops.adapt_datetimefield_value(at)
    sql = _absences_for_send_sql(len(member_ids))
    return list(run(sql, [sender_id, sender_id, *member_ids, moment, moment, moment]).fetchall())


@cache
def _claim_first_sql() -> str:
    return f"{RECORD_INSERT.sql()} ON CONFLICT (absence_id, sender_id, message_version) DO NOTHING"


@cache
def _claim_again_sql() -> str:
    return (
        f"UPDATE {table(AutoReplyRecord)} SET last_sent_at = %s, replies = replies + 1 "  # noqa: S608
        "WHERE id = %s AND last_sent_at = %s"
    )


def reply_claim(
    *,
    absence_id: int,
    sender_id: int,
    message_version: int,
    record_id: int | None,
    last_sent_at: datetime | None,
    at: datetime,
) -> bool:
    """Take the right to send a reply (R6): True for exactly one transaction.

    The first reply for this text inserts the record (the unique constraint lets one
    insert in); a repeat (R3) moves ``last_sent_at`` from the value read to ``at`` with
    a compare-and-set update. One statement.
    """
    if record_id is None:
        record = AutoReplyRecord(
            absence_id=absence_id,
            sender_id=sender_id,
            message_version=message_version,
            last_sent_at=at,
            replies=1,
        )
        cursor = run(_claim_first_sql(), RECORD_INSERT.params(record))
    else:
        adapt = connection.ops.adapt_datetimefield_value
        cursor = run(_claim_again_sql(), [adapt(at), record_id, adapt(last_sent_at)])
    return bool(cursor.rowcount == 1)
