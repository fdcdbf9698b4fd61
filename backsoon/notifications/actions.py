"""Every write to notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.db.rows import run
from backsoon.errors import NotFound
from backsoon.live import publish_on_commit

from .models import Notification

# Types that are held, not pushed, while the recipient is away (AWAY-SPEC P4).
HELD_WHILE_AWAY = frozenset(
    {
        Notification.Type.MESSAGE,
        Notification.Type.INVITATION_RECEIVED,
        Notification.Type.INVITATION_ACCEPTED,
    }
)


def notification_add(
    *,
    recipient_id: int,
    type: str,
    actor_id: int | None,
    subject_type: str,
    subject_id: int,
    group_key: str | None = None,
    recipient_away: bool = False,
    count: int = 1,
    at: datetime | None = None,
) -> None:
    """Tell a member something, grouping repeats of ``group_key`` into one unread row.

    Runs inside the caller's transaction. The live push happens on commit, and not
    at all for held types while the recipient is away (P4): those stay in the list
    and the digest.

    Args:
        count: how many events of the group this is (``backsoon demo`` records the
            6,329 reactions of its story at once); 1 for one event.
        at: when it happened; now unless the story is told afterwards (the demo).
    """
    now = at or timezone.now()
    pushed = not (recipient_away and type in HELD_WHILE_AWAY)
    if group_key is None or not _bump(recipient_id, group_key, actor_id, now, by=count):
        try:
            with transaction.atomic():
                Notification.objects.create(
                    recipient_id=recipient_id,
                    type=type,
                    actor_id=actor_id,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    group_key=group_key,
                    count=count,
                    created_at=now,
                    pushed=pushed,
                )
        except IntegrityError:
            # Another transaction created the unread group row first; join it.
            _bump(recipient_id, group_key or "", actor_id, now, by=count)
    if pushed:
        publish_on_commit([recipient_id], {"type": "notification", "kind": type})


def _bump(
    recipient_id: int, group_key: str, actor_id: int | None, now: datetime, *, by: int = 1
) -> bool:
    updated = Notification.objects.filter(
        recipient_id=recipient_id, group_key=group_key, read_at__isnull=True
    ).update(count=F("count") + by, actor_id=actor_id, created_at=now)
    return updated > 0


def notifications_mark_read(*, member: Member, ids: list[int] | None = None) -> int:
    """Mark some (or, with None, all) of the member's notifications read; returns how many."""
    qs = Notification.objects.filter(recipient=member, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    count = qs.update(read_at=timezone.now())
    if count:
        publish_on_commit([member.pk], {"type": "notification", "kind": "read"})
    return count


def notification_mark_read(*, member: Member, notification_id: int) -> Notification:
    """Mark one notification read.

    Raises:
        NotFound: not the member's notification.
    """
    notification = Notification.objects.filter(pk=notification_id, recipient=member).first()
    if notification is None:
        raise NotFound(gettext("No such notification."), code="notification_not_found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        publish_on_commit([member.pk], {"type": "notification", "kind": "read"})
    return notification


def notifications_mark_subject_read(
    *, member_id: int, type: str, subject_type: str, subject_id: int
) -> None:
    """Reading a thing (a conversation) reads its grouped notification too."""
    Notification.objects.filter(
        recipient_id=member_id,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        read_at__isnull=True,
    ).update(read_at=timezone.now())


def notifications_add_many(
    *,
    recipient_ids: list[int],
    away_ids: set[int],
    type: str,
    actor_id: int | None,
    subject_type: str,
    subject_id: int,
    group_key: str,
) -> None:
    """``notification_add`` for many recipients of one grouped event, in one statement.

    An upsert against the partial unique index "one unread row per group": a
    recipient with an unread row for ``group_key`` gets it bumped (count + 1,
    newest actor and time), every other recipient gets a new row. It is atomic
    under concurrency on SQLite and PostgreSQL alike (both speak this syntax).
    """
    if not recipient_ids:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = Notification._meta.db_table
    rows = []
    params: list[Any] = []
    for rid in recipient_ids:
        pushed = not (rid in away_ids and type in HELD_WHILE_AWAY)
        rows.append("(%s, %s, %s, %s, %s, %s, 1, %s, NULL, %s)")
        params += [rid, type, actor_id, subject_type, subject_id, group_key, now, pushed]
    run(
        f"INSERT INTO {table} (recipient_id, type, actor_id, subject_type, subject_id, "  # noqa: S608
        "group_key, count, created_at, read_at, pushed) VALUES "
        + ", ".join(rows)
        + " ON CONFLICT (recipient_id, group_key)"
        " WHERE group_key IS NOT NULL AND read_at IS NULL"
        f" DO UPDATE SET count = {table}.count + 1, actor_id = excluded.actor_id,"
        " created_at = excluded.created_at",
        params,
    )
    held = away_ids if type in HELD_WHILE_AWAY else set()
    pushed_to = [rid for rid in recipient_ids if rid not in held]
    publish_on_commit(pushed_to, {"type": "notification", "kind": type})
