"""What the flood rules keep (TRIAGE-SPEC): who knows whom, prints of texts sent to
strangers, and reports for the moderators.

This app sits below messaging and network: it never imports them. Their rows are
referred to by id (``Print.ref_id``, ``Report.conversation_id``).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.timezone import now as utc_now


class Contact(models.Model):
    """``member`` knows ``other`` (TRIAGE S1, L1): they are connected, ``member`` wrote
    to ``other``, or accepted their invitation or message request. For good: nothing
    removes a row but the deletion of either member."""

    class Why(models.TextChoices):
        CONNECTED = "connected"
        WROTE = "wrote"
        ACCEPTED = "accepted"

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    why = models.CharField(max_length=10, choices=Why.choices)
    since = models.DateTimeField(default=utc_now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "other"], name="contact_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} knows {self.other_id}"


class Print(models.Model):
    """The fingerprint of one text that reached a member who did not know its sender
    (``backsoon.triage.similar``): a message in a conversation, or an invitation note.

    ``cluster`` groups similar texts of any sender (L6: the first print's digest, taken
    over by every later similar one); ``sender`` + ``cluster`` counts a sender's copies
    (L2).
    """

    class Kind(models.TextChoices):
        MESSAGE = "message"
        NOTE = "note"

    kind = models.CharField(max_length=7, choices=Kind.choices)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The conversation (MESSAGE) or invitation (NOTE) it reached ``member`` in.
    ref_id = models.BigIntegerField()
    at = models.DateTimeField(default=utc_now)
    digest = models.BigIntegerField()
    signature = models.BinaryField()
    cluster = models.BigIntegerField()

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["sender", "kind", "cluster", "at"], name="print_sender_cluster"),
            models.Index(fields=["member", "kind", "cluster"], name="print_member_cluster"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} print of {self.sender_id} to {self.member_id}"


class PrintBand(models.Model):
    """One LSH band key of a print: the index that finds similar earlier texts."""

    print = models.ForeignKey(Print, on_delete=models.CASCADE, related_name="+")
    key = models.BigIntegerField()
    at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["key", "at"], name="printband_key_at")]

    def __str__(self) -> str:
        return f"band {self.key} of {self.print_id}"


class Report(models.Model):
    """A member reported a message request (TRIAGE S3): the moderators' queue, in the
    Django admin."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reported = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_received"
    )
    conversation_id = models.BigIntegerField(null=True, blank=True)
    excerpt = models.TextField(blank=True, default="")
    at = models.DateTimeField(default=utc_now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        indexes: ClassVar = [models.Index(fields=["handled_at", "-at"], name="report_queue")]

    def __str__(self) -> str:
        return f"report of {self.reported_id} by {self.reporter_id}"
