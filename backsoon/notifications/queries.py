"""Reads of notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from backsoon.accounts.models import Member

from .models import Notification


def notifications_of(member: Member, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=member).select_related("actor")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(member: Member) -> int:
    return Notification.objects.filter(recipient=member, read_at__isnull=True).count()
