"""The numbers behind every badge (TRIAGE S2): ``GET /me/counts`` and the web header
read the same functions, so the two never disagree."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from backsoon.accounts.models import Member
from backsoon.apiauth import api_member

router = Router(tags=["me"])


def inbox_unread(member: Member) -> int:
    from backsoon.messaging.queries import unread_total

    return unread_total(member)


def requests_pending(member: Member) -> int:
    from backsoon.messaging.queries import requests_count

    return requests_count(member)


def invitations_pending(member: Member) -> int:
    from backsoon.network.models import Invitation

    return Invitation.objects.filter(to_member=member, status=Invitation.Status.PENDING).count()


def notifications_unread(member: Member) -> int:
    from backsoon.notifications.queries import unread_count

    return unread_count(member)


def member_counts(member: Member) -> dict[str, int]:
    """Every badge's number for ``member``: four indexed counts."""
    return {
        "inbox_unread": inbox_unread(member),
        "requests": requests_pending(member),
        "invitations_pending": invitations_pending(member),
        "notifications_unread": notifications_unread(member),
    }


class CountsOut(Schema):
    inbox_unread: int
    requests: int
    invitations_pending: int
    notifications_unread: int


@router.get("/me/counts", response=CountsOut)
def counts(request: HttpRequest) -> dict[str, Any]:
    """Unread messages in the inbox, pending message requests, pending invitations and
    unread notifications: what every badge shows."""
    return member_counts(api_member(request))
