"""Invitations, connections, follows and blocks."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as utc_now


class Invitation(models.Model):
    """A connection invitation from one member to another.

    ``pair_low``/``pair_high`` hold the two member ids in order, so one partial
    unique constraint forbids two pending invitations between the same two
    members in either direction, whatever the race.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        IGNORED = "ignored"
        WITHDRAWN = "withdrawn"

    from_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations_sent"
    )
    to_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations_received"
    )
    pair_low = models.BigIntegerField()
    pair_high = models.BigIntegerField()
    note = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=utc_now)
    responded_at = models.DateTimeField(null=True, blank=True)
    # The recipient's away badge as the inviter saw it when sending (AWAY-SPEC I1).
    away_badge = models.JSONField(null=True, blank=True)
    # Accepted automatically for an away member (AWAY-SPEC I2).
    auto_accepted = models.BooleanField(default=False)
    # Why it is in front of its recipient (``backsoon.triage.rules``), set when sent;
    # ``label_codes`` (",collector,note,") lets lists filter by label.
    labels = models.JSONField(default=list, blank=True)
    label_codes = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["pair_low", "pair_high"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(from_member=models.F("to_member")), name="invitation_not_to_self"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["to_member", "status", "-created_at"]),
            models.Index(fields=["from_member", "status", "-created_at"]),
            models.Index(fields=["from_member", "to_member", "-responded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.from_member_id}->{self.to_member_id} {self.status}"


class Connection(models.Model):
    """One direction of a symmetric connection: every connection is stored as two rows.

    Two rows make "my connections" and "are A and B connected" single index
    look-ups, at the price of writing both rows in one transaction.
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connection_rows"
    )
    other = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=utc_now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "other"], name="connection_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["member", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}<->{self.other_id}"


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_rows"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_rows"
    )
    created_at = models.DateTimeField(default=utc_now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_unique"),
            models.CheckConstraint(
                condition=~Q(follower=models.F("followee")), name="follow_not_self"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["followee"])]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class Block(models.Model):
    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received"
    )
    created_at = models.DateTimeField(default=utc_now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["blocked"])]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"
