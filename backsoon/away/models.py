"""Absences (out of office) and the record of automatic replies sent."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as utc_now

from .choices import Audience


class Absence(models.Model):
    """A half-open window ``[starts_at, ends_at)`` in UTC during which a member is away.

    Whether it is active is computed from the stored times when asked (AWAY-SPEC A1):
    ``starts_at <= now < effective end``, where the effective end is ``ended_at``
    when the member came back early. No job flips a flag.
    """

    Audience = Audience

    class InvitationPolicy(models.TextChoices):
        HOLD = "hold"
        AUTO_ACCEPT_MUTUAL = "auto_accept_mutual"

    class Source(models.TextChoices):
        MANUAL = "manual"
        CALENDAR = "calendar"

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Set when the member ended it early (AWAY-SPEC A4); then it ends at ended_at.
    ended_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    translations = models.JSONField(default=dict, blank=True)
    audience = models.CharField(max_length=11, choices=Audience.choices, default=Audience.EVERYONE)
    others_message = models.TextField(blank=True, default="")
    # others_message in other languages (AWAY-SPEC R7), like ``translations``.
    others_translations = models.JSONField(default=dict, blank=True)
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    repeat_after_days = models.PositiveSmallIntegerField(null=True, blank=True)
    invitations = models.CharField(
        max_length=18, choices=InvitationPolicy.choices, default=InvitationPolicy.HOLD
    )
    # Bumped whenever a reply text changes: replies are recorded per version, so
    # everyone may get the new text once (AWAY-SPEC R3).
    message_version = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=utc_now)
    # The two reminders of AWAY-SPEC D3 and the welcome back of D2, once each.
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The reminder the day before it starts (D4), once.
    start_reminded_at = models.DateTimeField(null=True, blank=True)
    welcomed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["member", "ends_at"]),
            models.Index(fields=["ends_at"]),
        ]

    def __str__(self) -> str:
        return f"absence #{self.pk} of {self.member_id}"

    @property
    def effective_end(self) -> datetime:
        """When the absence stops: ``ended_at`` if ended early, else ``ends_at`` (exclusive)."""
        if self.ended_at is not None and self.ended_at < self.ends_at:
            return self.ended_at
        return self.ends_at

    def is_active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.effective_end

    def state(self, at: datetime) -> str:
        if at < self.starts_at and self.ended_at is None:
            return "scheduled"
        if self.is_active(at):
            return "active"
        return "ended"


class AutoReplyRecord(models.Model):
    """Whom an absence answered, per reply text version (AWAY-SPEC R3, R6).

    The unique constraint is what makes "one reply per sender" hold across any
    number of concurrent requests and processes: the first transaction to insert
    the row sends the reply; every other one fails the insert and sends nothing.
    A repeat after ``repeat_after_days`` is claimed by a conditional UPDATE of
    ``last_sent_at``, which is atomic in the same way.
    """

    absence = models.ForeignKey(Absence, on_delete=models.CASCADE, related_name="reply_records")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message_version = models.PositiveIntegerField()
    last_sent_at = models.DateTimeField()
    replies = models.PositiveIntegerField(default=1)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["absence", "sender", "message_version"], name="auto_reply_once"
            ),
        ]

    def __str__(self) -> str:
        return f"reply record {self.absence_id}/{self.sender_id}/v{self.message_version}"


# The calendar models live in their own package but belong to this app; importing
# them here registers them when Django loads the app's models. They import nothing
# of this module (the absence they point to is named by string), so no cycle.
from .calendar.models import (  # noqa: E402,F401
    CalendarFeed,
    CalendarImport,
    CalendarSettings,
    ImportedEvent,
)
