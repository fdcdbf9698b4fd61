"""Notifications: one row per thing to tell, grouped where a flood is expected."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as utc_now


class Notification(models.Model):
    """Something to tell a member.

    ``group_key`` groups repeats: while an unread notification with the same key
    exists, a new event updates it (``count``, ``actor``, ``created_at``) instead of
    adding a row; a partial unique constraint keeps that true under concurrency.
    """

    class Type(models.TextChoices):
        INVITATION_RECEIVED = "invitation_received"
        INVITATION_ACCEPTED = "invitation_accepted"
        MESSAGE = "message"
        MENTION = "mention"
        REACTION = "reaction"
        COMMENT = "comment"
        SHARE = "share"
        WELCOME_BACK = "welcome_back"
        ABSENCE_REMINDER = "absence_reminder"
        ABSENCE_STARTS = "absence_starts"  # the day before an absence starts (AWAY-SPEC D4)

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    type = models.CharField(max_length=32, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject_type = models.CharField(max_length=32)
    subject_id = models.BigIntegerField()
    group_key = models.CharField(max_length=100, null=True, blank=True)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=utc_now)
    read_at = models.DateTimeField(null=True, blank=True)
    # False when the member was away as it arrived: no live push (AWAY-SPEC P4).
    pushed = models.BooleanField(default=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["recipient", "group_key"],
                condition=Q(read_at__isnull=True, group_key__isnull=False),
                name="notification_one_unread_per_group",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["recipient", "-created_at", "-id"]),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.recipient_id}"

    @property
    def read(self) -> bool:
        return self.read_at is not None
