"""Calendar import and export: a member's settings, feed subscriptions and imported events.

Imported from the end of ``backsoon/away/models.py``, so the models belong to the
``away`` app (their tables and migrations are the app's). This module imports
nothing of ``away.models``: the absence is named by string.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as utc_now

from backsoon.away.choices import Audience

from .parse import DEFAULT_KEYWORDS


def default_keywords() -> list[str]:
    return list(DEFAULT_KEYWORDS)


class CalendarSettings(models.Model):
    """How a member's calendar becomes absences, and their private export feed.

    Only the SHA-256 digest of the export token is stored: the URL is shown once
    when it is made, and making a new one revokes the old one.
    """

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_settings"
    )
    # Matched case-insensitively anywhere in an event's SUMMARY.
    keywords = models.JSONField(default=default_keywords, blank=True)
    # Applied to absences when they are imported (R9: an empty message sends no replies).
    default_message = models.TextField(blank=True, default="")
    default_audience = models.CharField(
        max_length=11, choices=Audience.choices, default=Audience.EVERYONE
    )
    export_token_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    export_token_prefix = models.CharField(max_length=8, blank=True, default="")
    export_token_created_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar settings of {self.member_id}"


class CalendarFeed(models.Model):
    """An ICS feed URL of a member, fetched by the worker every 15 minutes."""

    class Status(models.TextChoices):
        NEVER = "never"
        OK = "ok"
        ERROR = "error"

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    url = models.CharField(max_length=2000)
    created_at = models.DateTimeField(default=utc_now)
    # Set when a fetch is claimed (before it runs), so two workers never fetch at once.
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=5, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "url"], name="calendar_feed_once"),
        ]
        indexes: ClassVar = [models.Index(fields=["last_fetched_at"])]

    def __str__(self) -> str:
        return f"calendar feed #{self.pk} of {self.member_id}"


class ImportedEvent(models.Model):
    """One occurrence of an absence event read from a member's calendar.

    Keyed by its source (an upload when ``feed`` is null, else the feed), its UID
    and its recurrence id, so a re-import updates rather than duplicates.
    ``absence`` is the calendar-sourced absence that covers it (several events
    that overlap share one). ``absence_linked`` records that an absence was made
    for it: when that absence is gone (the member deleted it) or was ended early,
    the event is not imported again until its times change.
    """

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    feed = models.ForeignKey(
        CalendarFeed, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    uid = models.CharField(max_length=300)
    recurrence_id = models.CharField(max_length=40, blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    summary = models.CharField(max_length=200, blank=True, default="")
    absence = models.ForeignKey(
        "away.Absence",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="imported_events",
    )
    absence_linked = models.BooleanField(default=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["feed", "uid", "recurrence_id"],
                condition=Q(feed__isnull=False),
                name="imported_event_feed_key",
            ),
            models.UniqueConstraint(
                fields=["member", "uid", "recurrence_id"],
                condition=Q(feed__isnull=True),
                name="imported_event_upload_key",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="imported_event_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"imported event {self.uid} {self.recurrence_id}".strip()

    @property
    def source(self) -> str:
        return "upload" if self.feed_id is None else "feed"


class CalendarImport(models.Model):
    """One upload of a calendar file by a member, kept for an hour to limit how often
    a member may import (``sync.IMPORTS_PER_HOUR``)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["member", "at"])]

    def __str__(self) -> str:
        return f"calendar import of {self.member_id} at {self.at:%Y-%m-%d %H:%M}"
