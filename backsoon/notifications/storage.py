"""Notifications' hand-written statements (the send path's grouped notification).

Columns come from the model's metadata (``backsoon.db.rows.Insert``); every statement
goes through Django's cursor (``backsoon.db.rows.run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from backsoon.db.rows import Insert, placeholders, run, table

from .models import Notification

# Types that are held, not pushed, while the recipient is away (AWAY-SPEC P4).
HELD_WHILE_AWAY = frozenset(
    {
        Notification.Type.MESSAGE,
        Notification.Type.INVITATION_RECEIVED,
        Notification.Type.INVITATION_ACCEPTED,
    }
)

NOTIFICATION_INSERT = Insert(Notification)


def grouped_upsert(
    *,
    recipient_ids: Sequence[int],
    away_ids: set[int] | frozenset[int],
    type: str,
    actor_id: int | None,
    subject_type: str,
    subject_id: int,
    group_key: str,
    at: datetime,
) -> tuple[str, list[Any]]:
    """The statement (and its parameters) telling each of ``recipient_ids`` about one
    grouped event: an upsert against the partial unique index "one unread row per
    group". A recipient with an unread row for ``group_key`` gets it bumped (count + 1,
    newest actor and time); every other recipient gets a new row, not pushed while
    away (P4). Atomic under concurrency on SQLite and PostgreSQL alike.

    Given as text so that the send path can run it alone (``notifications_add_many``)
    or inside its one statement on PostgreSQL (``backsoon.messaging.storage``).
    """
    fields = NOTIFICATION_INSERT.fields()
    rows = f"({placeholders(len(fields))})"
    params: list[Any] = []
    held = type in HELD_WHILE_AWAY
    for rid in recipient_ids:
        params += NOTIFICATION_INSERT.params(
            Notification(
                recipient_id=rid,
                type=type,
                actor_id=actor_id,
                subject_type=subject_type,
                subject_id=subject_id,
                group_key=group_key,
                created_at=at,
                pushed=not (held and rid in away_ids),
            )
        )
    name = table(Notification)
    head = NOTIFICATION_INSERT.sql().rsplit(" VALUES ", 1)[0]
    sql = (
        f"{head} VALUES {', '.join([rows] * len(recipient_ids))}"
        " ON CONFLICT (recipient_id, group_key)"
        " WHERE group_key IS NOT NULL AND read_at IS NULL"
        f" DO UPDATE SET count = {name}.count + 1, actor_id = excluded.actor_id,"
        " created_at = excluded.created_at"
    )
    return sql, params


def run_grouped_upsert(**kwargs: Any) -> None:
    """``grouped_upsert`` run as one statement; see there for the arguments."""
    if kwargs["recipient_ids"]:
        run(*grouped_upsert(**kwargs))
