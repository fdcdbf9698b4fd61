"""Notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema

from backsoon.apiauth import api_member
from backsoon.errors import Invalid
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


class ReadFilter(Schema):
    """TRIAGE C2: every unread notification of ``type`` that arrived ``before``; an
    empty filter is all of them."""

    type: (
        Literal[
            "invitation_received",
            "invitation_accepted",
            "message",
            "mention",
            "reaction",
            "comment",
            "share",
            "welcome_back",
            "absence_reminder",
            "absence_starts",
        ]
        | None
    ) = None
    before: datetime | None = None


class ReadIn(Schema):
    ids: list[Id] | None = Field(None, max_length=500)
    filter: ReadFilter | None = None


class ReadOut(Schema):
    marked: int
    changed: int


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
    """Mark the given notifications read, or every one matching ``filter`` (TRIAGE C2),
    or, with neither, all; at most one of ``ids`` and ``filter``. ``changed`` (and, as
    before, ``marked``) counts those that were unread."""
    member = api_member(request)
    if payload.ids is not None and payload.filter is not None:
        raise Invalid(gettext("Give either ids or a filter, not both."), code="ids_or_filter")
    f = payload.filter
    changed = actions.notifications_mark_read(
        member=member,
        ids=payload.ids,
        type=f.type if f else None,
        before=f.before if f else None,
    )
    return {"marked": changed, "changed": changed}


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, 404: ErrorOut}
)
def notification_read(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    member = api_member(request)
    notification = actions.notification_mark_read(member=member, notification_id=notification_id)
    return notification_payload(notification)
