"""Notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from backsoon.apiauth import api_member
from backsoon.pagination import keyset_page
from backsoon.schemas import ErrorOut, Id, Page, PageParams

from . import actions, queries
from .models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    type: str
    actor: str | None
    subject_type: str
    subject_id: int
    created_at: datetime
    read: bool
    count: int


class NotificationsQuery(PageParams):
    unread: bool = False


class ReadIn(Schema):
    ids: list[Id] | None = Field(None, max_length=500)


class ReadOut(Schema):
    marked: int


def notification_payload(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "type": n.type,
        "actor": n.actor.username if n.actor else None,
        "subject_type": n.subject_type,
        "subject_id": n.subject_id,
        "created_at": n.created_at,
        "read": n.read_at is not None,
        "count": n.count,
    }


@router.get("/notifications", response={200: Page[NotificationOut], 422: ErrorOut})
def notification_list(request: HttpRequest, params: Query[NotificationsQuery]) -> dict[str, Any]:
    """Newest first. Grouped events (messages per conversation, reactions per post) are one
    row with a ``count`` while unread."""
    member = api_member(request)
    rows, next_cursor = keyset_page(
        queries.notifications_of(member, unread_only=params.unread),
        order=["-created_at", "-id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": [notification_payload(n) for n in rows], "next_cursor": next_cursor}


@router.post("/notifications/read", response={200: ReadOut, 422: ErrorOut})
def notifications_read(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    """Mark the given notifications (or, without ``ids``, all) read."""
    member = api_member(request)
    return {"marked": actions.notifications_mark_read(member=member, ids=payload.ids)}


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, 404: ErrorOut}
)
def notification_read(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    member = api_member(request)
    notification = actions.notification_mark_read(member=member, notification_id=notification_id)
    return notification_payload(notification)
