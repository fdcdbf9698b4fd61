"""Conversations (1:1 and group), their participants and messages."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import now as utc_now


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct"
        GROUP = "group"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    subject = models.CharField(max_length=200, blank=True, default="")
    # "<low id>:<high id>" for a 1:1 conversation: the unique constraint makes
    # "one 1:1 conversation per pair" hold even when both create it at once.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=utc_now)
    # Started with at least one member who was not a connection (rate limited).
    with_stranger = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(default=utc_now)
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes: ClassVar = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Participant(models.Model):
    """A member in a conversation, with their read position and stored unread count,
    and where it sits for them (TRIAGE S1-S3, C1): folder, muted, labels."""

    class Folder(models.TextChoices):
        INBOX = "inbox"
        # A stranger's new conversation, screened (S1); declined ones are archived.
        REQUESTS = "requests"
        ARCHIVED = "archived"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    joined_at = models.DateTimeField(default=utc_now)
    left_at = models.DateTimeField(null=True, blank=True)
    last_read_message_id = models.BigIntegerField(default=0)
    unread_count = models.PositiveIntegerField(default=0)
    # Copied from the conversation on every message, so "my conversations, newest
    # activity first" is one index range scan on this table.
    last_message_at = models.DateTimeField(default=utc_now)
    folder = models.CharField(max_length=8, choices=Folder.choices, default=Folder.INBOX)
    # A declined request (S3): archived, and later messages leave it archived and silent.
    declined = models.BooleanField(default=False)
    # No notification, live alert or unread badge; stays archived when archived (C1).
    muted = models.BooleanField(default=False)
    # Why it is in front of the member (``backsoon.triage.rules``), set when a message
    # of someone else arrives; ``label_codes`` (",mass,") lets lists filter by label.
    labels = models.JSONField(default=list, blank=True)
    label_codes = models.CharField(max_length=60, blank=True, default="")
    # The cluster of similar texts its last stranger's message belongs to (L6).
    similar_key = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["conversation", "member"], name="participant_unique"),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["member", "folder", "-last_message_at", "-conversation"],
                condition=Q(left_at__isnull=True),
                name="participant_folder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.conversation_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        NORMAL = "normal"
        AUTO_REPLY = "auto_reply"
        BULK = "bulk"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages_sent"
    )
    body = models.TextField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    sent_at = models.DateTimeField(default=utc_now)
    # Idempotency: a client may retry a send with the same key in the same
    # conversation and gets the same message; the key means nothing elsewhere.
    client_key = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["conversation", "id"]),
            models.Index(fields=["sender", "-sent_at"]),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["sender", "conversation", "client_key"],
                condition=Q(client_key__isnull=False),
                name="message_client_key_per_conversation",
            ),
        ]

    def __str__(self) -> str:
        return f"message #{self.pk} in {self.conversation_id}"

    @property
    def auto_reply(self) -> bool:
        return self.kind == self.Kind.AUTO_REPLY


class Introduction(models.Model):
    """One member put in front of another they are not connected to, by ``by``.

    Starting a conversation or a group with someone, or adding them to a group, stores
    one row per member who is not a connection of the one doing it; the daily stranger
    limit counts these rows (issue 14, finding 4: groups used to bypass it).
    """

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=utc_now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["by", "-at"], name="introduction_by_at")]

    def __str__(self) -> str:
        return f"{self.by_id} -> {self.member_id} in {self.conversation_id}"


class SavedReply(models.Model):
    """A member's named reply text (TRIAGE C3; "Template" in the API), with the
    placeholders of AWAY-SPEC R7 (``{first_name}``). Only its owner sees it."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_replies"
    )
    name = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField(default=utc_now)
    updated_at = models.DateTimeField(default=utc_now)

    class Meta:
        constraints: ClassVar = [
            # Names are unique per member, whatever their case ("Thanks" and "thanks").
            models.UniqueConstraint(Lower("name"), "member", name="saved_reply_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.name}"
