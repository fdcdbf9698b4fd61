"""Calendar import and export API, mounted at ``/me/calendar``.

- ``GET /me/calendar``: 200 CalendarSettings.
- ``PATCH /me/calendar`` ``{keywords?, default_message?, default_audience?}``: 200; 422.
- ``POST /me/calendar/import`` ``{"ics": "<the .ics text>"}`` (at most 2 MB): 200
  ImportReport; 413 too large; 422 ``calendar_unreadable`` with ``detail.problems``;
  429 (Retry-After) after 10 imports in an hour, or while the server is busy reading
  other calendars.
- ``GET /me/calendar/feeds``: list of Feed.
- ``POST /me/calendar/feeds`` ``{url}``: 201 Feed; 409 duplicate; 422 refused URL.
- ``DELETE /me/calendar/feeds/{id}``: 204; 404 for another member's feed.
- ``POST /me/calendar/feeds/{id}/sync``: 202 ``{detail, code, feed}`` (the fetch is
  queued for the worker; its outcome appears on the feed); 404; 429 (Retry-After).
- ``POST /me/calendar/export-token``: 201 ``{url, token_prefix}``; the URL holds a
  secret, is shown only here, and the previous one stops working.
- ``DELETE /me/calendar/export-token``: 204; the export URL stops working.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

import pydantic
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Router, Schema, Status

from backsoon.apiauth import api_member
from backsoon.errors import Invalid
from backsoon.schemas import ErrorOut

from . import export, feeds, fetch, preferences, sync
from .export import export_url
from .models import CalendarFeed, CalendarSettings

router = Router(tags=["calendar"])

# The .ics text travels JSON-escaped (a line break becomes two characters), so the
# body may be up to twice the size of the file; the file itself is held to 2 MB.
IMPORT_BODY_MAX = 2 * fetch.MAX_ICS_BYTES + 64 * 1024


class ExportOut(Schema):
    active: bool
    token_prefix: str | None
    created_at: datetime | None


class CalendarSettingsOut(Schema):
    keywords: list[str]
    default_message: str
    default_audience: str
    export: ExportOut


class CalendarSettingsPatch(Schema):
    keywords: list[Annotated[str, Field(max_length=preferences.KEYWORD_MAX)]] | None = Field(
        None, max_length=preferences.MAX_KEYWORDS
    )
    default_message: str | None = Field(None, max_length=2000)
    default_audience: Literal["everyone", "connections", "nobody"] | None = None


class ImportIn(pydantic.BaseModel):
    ics: str


class ImportItemOut(Schema):
    absence_id: int | None
    starts_at: datetime
    ends_at: datetime
    events: list[str]
    reason: str | None = None


class ImportReportOut(Schema):
    events: int
    created: list[ImportItemOut]
    updated: list[ImportItemOut]
    removed: list[ImportItemOut]
    skipped: list[ImportItemOut]
    unchanged: int


class FeedIn(Schema):
    url: str = Field(..., max_length=fetch.FEED_URL_MAX)


class FeedOut(Schema):
    id: int
    url: str
    created_at: datetime
    last_fetched_at: datetime | None
    last_status: str
    last_error: str


class FeedPage(Schema):
    items: list[FeedOut]
    next_cursor: str | None


class ExportTokenOut(Schema):
    url: str
    token_prefix: str


def settings_payload(options: CalendarSettings) -> dict[str, Any]:
    active = bool(options.export_token_digest)
    return {
        "keywords": list(options.keywords or []),
        "default_message": options.default_message,
        "default_audience": options.default_audience,
        "export": {
            "active": active,
            "token_prefix": options.export_token_prefix if active else None,
            "created_at": options.export_token_created_at if active else None,
        },
    }


def feed_payload(feed: CalendarFeed) -> dict[str, Any]:
    return {
        "id": feed.pk,
        "url": feed.url,
        "created_at": feed.created_at,
        "last_fetched_at": feed.last_fetched_at,
        "last_status": feed.last_status,
        "last_error": feed.last_error,
    }


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes.

    Read from the stream rather than ``request.body``, which stops at the site-wide
    1 MB (DATA_UPLOAD_MAX_MEMORY_SIZE): a calendar may be 2 MB.

    Raises:
        TooLarge: the body is over ``limit``.
    """
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise fetch.TooLarge(gettext("A calendar file is at most 2 MB."))
    data = request.read(limit + 1)
    if len(data) > limit:
        raise fetch.TooLarge(gettext("A calendar file is at most 2 MB."))
    return data


@router.get("", response={200: CalendarSettingsOut})
def calendar_settings(request: HttpRequest) -> dict[str, Any]:
    member = api_member(request)
    return settings_payload(preferences.calendar_settings_for(member))


@router.patch("", response={200: CalendarSettingsOut, 422: ErrorOut})
def calendar_settings_update(
    request: HttpRequest, payload: CalendarSettingsPatch
) -> dict[str, Any]:
    member = api_member(request)
    options = preferences.calendar_settings_update(
        member=member, **payload.model_dump(exclude_unset=True)
    )
    return settings_payload(options)


@router.post(
    "/import",
    response={200: ImportReportOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ImportIn.model_json_schema()}},
        }
    },
)
def calendar_import(request: HttpRequest) -> dict[str, Any]:
    """Import the absences of an .ics file sent as text: ``{"ics": "BEGIN:VCALENDAR..."}``.

    Nothing is imported when any absence event can not be read: 422 with
    ``detail.problems`` listing each one.
    """
    member = api_member(request)
    raw = _read_body(request, IMPORT_BODY_MAX)
    try:
        payload = ImportIn.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        detail = json.loads(exc.json(include_url=False, include_input=False))
        raise Invalid(detail, code="validation_error") from None
    report = sync.calendar_import_upload(member=member, data=payload.ics.encode("utf-8"))
    return report.as_dict()


@router.get("/feeds", response={200: FeedPage})
def calendar_feed_list(request: HttpRequest) -> dict[str, Any]:
    member = api_member(request)
    subscribed = feeds.calendar_feeds_of(member)
    return {"items": [feed_payload(f) for f in subscribed], "next_cursor": None}


@router.post("/feeds", response={201: FeedOut, 409: ErrorOut, 422: ErrorOut})
def calendar_feed_add(request: HttpRequest, payload: FeedIn) -> Status[dict[str, Any]]:
    member = api_member(request)
    feed = feeds.calendar_feed_add(member=member, url=payload.url)
    return Status(201, feed_payload(feed))


@router.delete("/feeds/{feed_id}", response={204: None, 404: ErrorOut})
def calendar_feed_delete(request: HttpRequest, feed_id: int) -> Status[None]:
    member = api_member(request)
    feeds.calendar_feed_delete(member=member, feed_id=feed_id)
    return Status(204, None)


class SyncQueuedOut(Schema):
    detail: str
    code: str
    feed: FeedOut


@router.post(
    "/feeds/{feed_id}/sync",
    response={202: SyncQueuedOut, 404: ErrorOut, 429: ErrorOut},
)
def calendar_feed_sync(request: HttpRequest, feed_id: int) -> Status[dict[str, Any]]:
    """Queue a fetch of the feed now; the worker reads it within moments.

    The outcome appears on the feed (``GET /me/calendar/feeds``: ``last_status``,
    ``last_error``). 429 when the feed was fetched or queued in the last 10 seconds.
    """
    feed = feeds.calendar_feed_sync_now(member=api_member(request), feed_id=feed_id)
    return Status(
        202,
        {
            "detail": gettext("The feed is queued; it is read within a minute."),
            "code": "calendar_sync_queued",
            "feed": feed_payload(feed),
        },
    )


@router.post("/export-token", response={201: ExportTokenOut})
def calendar_export_token(request: HttpRequest) -> Status[dict[str, Any]]:
    """A new private URL of the member's absences as an ICS feed; the old one stops working.

    The URL holds a secret and is shown only in this answer.
    """
    member = api_member(request)
    token = export.calendar_export_token_regenerate(member=member)
    return Status(201, {"url": export_url(request, token), "token_prefix": token[:6]})


@router.delete("/export-token", response={204: None})
def calendar_export_token_revoke(request: HttpRequest) -> Status[None]:
    export.calendar_export_token_revoke(member=api_member(request))
    return Status(204, None)
