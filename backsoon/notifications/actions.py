"""Every write to notifications."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.db.chunks import update_in_chunks
from backsoon.errors import NotFound
from backsoon.live import publish_on_commit

from .models import Notification
from .storage import HELD_WHILE_AWAY, run_grouped_upsert


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


def notifications_mark_read(
    *,
    member: Member,
    ids: list[int] | None = None,
    type: str | None = None,
    before: datetime | None = None,
) -> int:
    """Mark the member's unread notifications read: those of ``ids``, or every one of
    ``type`` (any, with None) that arrived ``before`` (exclusive; any time, with None),
    so with neither all of them (TRIAGE C2). Runs in chunks (``backsoon.db.chunks``),
    each its own short transaction; a notification already read is not counted again
    (idempotent).

    Returns:
        How many changed.
    """
    qs = Notification.objects.filter(recipient=member, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    if type is not None:
        qs = qs.filter(type=type)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    count = update_in_chunks(qs, read_at=timezone.now())
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
    """``notification_add`` for many recipients of one grouped event, in one statement
    (``storage.grouped_upsert``)."""
    if not recipient_ids:
        return
    run_grouped_upsert(
        recipient_ids=recipient_ids,
        away_ids=away_ids,
        type=type,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        group_key=group_key,
        at=timezone.now(),
    )
    notifications_published(recipient_ids=recipient_ids, away_ids=away_ids, type=type)


def notifications_published(*, recipient_ids: list[int], away_ids: set[int], type: str) -> None:
    """The live push of a grouped event once the transaction commits: not to the away
    recipients for held types (P4)."""
    held = away_ids if type in HELD_WHILE_AWAY else set()
    pushed_to = [rid for rid in recipient_ids if rid not in held]
    publish_on_commit(pushed_to, {"type": "notification", "kind": type})
