"""Live updates: a server-sent events stream per signed-in member, and the header counts.

``GET /live/`` streams ``event: <type>\\ndata: <json>\\n\\n`` for every event that
the actions publish to the member (see ``backsoon.live``), with a keepalive comment
every ``KEEPALIVE_SECONDS``. The first event, ``ready``, is sent once the
subscription is in place: the page refetches what it shows then, so nothing
published while it was (re)connecting is missed.

The stream needs an ASGI server (``backsoon serve``). Under WSGI (a threaded
development or test server) an endless stream would pin a thread, so the view
answers 204, which tells EventSource not to reconnect.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backsoon.accounts.models import Member
from backsoon.live import bus

from .context import HeaderCounts

KEEPALIVE_SECONDS = 20.0
# Tells EventSource how long to wait before reconnecting after a dropped stream.
RETRY_MILLISECONDS = 3000


def sse_event(event: dict[str, Any]) -> str:
    """One event in the text/event-stream format; ``type`` names it."""
    name = str(event.get("type") or "message").replace("\n", " ").replace("\r", " ")
    data = json.dumps(event, separators=(",", ":"), default=str)
    return f"event: {name}\ndata: {data}\n\n"


async def event_stream(
    member_id: int, *, keepalive: float = KEEPALIVE_SECONDS
) -> AsyncIterator[str]:
    """The member's events as SSE text, forever (until the client goes away).

    A keepalive does not cancel the pending read of the subscription (cancelling a
    Redis pub/sub read midway can cost the connection); the same read goes on.
    If the subscription fails, the stream ends and EventSource reconnects.
    """
    async with bus().subscribe(member_id) as subscription:
        yield f"retry: {RETRY_MILLISECONDS}\n" + sse_event({"type": "ready"})
        pending: asyncio.Future[dict[str, Any]] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(subscription.get())
                done, _ = await asyncio.wait({pending}, timeout=keepalive)
                if not done:
                    yield ": keepalive\n\n"
                    continue
                event, pending = pending.result(), None
                yield sse_event(event)
        finally:
            if pending is not None:
                pending.cancel()


def release_db_connections() -> None:
    """A stream may stay open for hours: hold no database connection meanwhile.

    (One left inside a transaction, as in a test, is left alone.)
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@never_cache
@require_GET
async def live_stream(request: HttpRequest) -> HttpResponseBase:
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse(
            {"detail": gettext("Sign in first."), "code": "not_authenticated"}, status=401
        )
    if not isinstance(user, Member) or not user.is_active:
        return JsonResponse({"detail": gettext("Not allowed."), "code": "forbidden"}, status=403)
    if not isinstance(request, ASGIRequest):
        return HttpResponse(status=204)
    await sync_to_async(release_db_connections)()
    response = StreamingHttpResponse(event_stream(user.pk), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


@never_cache
@require_GET
def live_counts(request: HttpRequest) -> HttpResponse:
    """``{"messages": <unread messages>, "notifications": <unread notifications>}``."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse(
            {"detail": gettext("Sign in first."), "code": "not_authenticated"}, status=401
        )
    if not isinstance(user, Member):
        return JsonResponse({"detail": gettext("Not allowed."), "code": "forbidden"}, status=403)
    return JsonResponse(HeaderCounts(user).as_dict())
