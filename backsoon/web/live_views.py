"""Live updates: a server-sent events stream per signed-in member, and the header counts.

``GET /live/`` streams ``event: <type>\\ndata: <json>\\n\\n`` for every event that
the actions publish to the member (see ``backsoon.live``), with a keepalive comment
every ``KEEPALIVE_SECONDS``. The first event, ``ready``, is sent once the
subscription is in place: the page refetches what it shows then, so nothing
published while it was (re)connecting is missed.

The stream is a streaming response of Django's WSGI handler: an open stream holds
one server thread, waiting on its subscription with the GIL released. Streams are
capped per member and per process (``LIVE_STREAMS_PER_MEMBER``,
``LIVE_STREAMS_PER_PROCESS``; issue 14, finding 9): past a cap the answer is 429 in
the API's error shape, and EventSource retries later. A client that went away is
noticed at the next write (a keepalive at the latest); the server then closes the
stream and its subscription.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backsoon.accounts.models import Member
from backsoon.live import TooManyStreams, bus

from .context import HeaderCounts

KEEPALIVE_SECONDS = 20.0
# Tells EventSource how long to wait before reconnecting after a dropped stream.
RETRY_MILLISECONDS = 3000
# Tells a client refused for too many streams when to try again.
RETRY_AFTER_SECONDS = 30


def sse_event(event: dict[str, Any]) -> str:
    """One event in the text/event-stream format; ``type`` names it."""
    name = str(event.get("type") or "message").replace("\n", " ").replace("\r", " ")
    data = json.dumps(event, separators=(",", ":"), default=str)
    return f"event: {name}\ndata: {data}\n\n"


class EventStream:
    """The events of an entered subscription as SSE text, until the client goes away
    or the server stops. ``close()`` (called by the server when the response ends,
    whether or not it was ever iterated) leaves the subscription.

    Args:
        subscribed: the subscription's context manager, already entered.
        subscription: what entering it gave.
        keepalive: seconds without an event before a keepalive comment.
    """

    def __init__(
        self, subscribed: Any, subscription: Any, *, keepalive: float = KEEPALIVE_SECONDS
    ) -> None:
        self.subscribed = subscribed
        self.subscription = subscription
        self.keepalive = keepalive
        self._open = True

    def __iter__(self) -> Iterator[str]:
        yield f"retry: {RETRY_MILLISECONDS}\n" + sse_event({"type": "ready"})
        while self._open:
            event = self.subscription.get(self.keepalive)
            if event is not None:
                yield sse_event(event)
            elif self.subscription.closed:
                return  # the server is stopping: EventSource reconnects elsewhere
            else:
                yield ": keepalive\n\n"

    def close(self) -> None:
        if self._open:
            self._open = False
            self.subscribed.__exit__(None, None, None)


def release_db_connections() -> None:
    """A stream may stay open for hours: hold no database connection meanwhile.

    (One left inside a transaction, as in a test, is left alone.)
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


@never_cache
@require_GET
def live_stream(request: HttpRequest) -> HttpResponseBase:
    user = request.user
    if not user.is_authenticated:
        return JsonResponse(
            {"detail": gettext("Sign in first."), "code": "not_authenticated"}, status=401
        )
    if not isinstance(user, Member) or not user.is_active:
        return JsonResponse({"detail": gettext("Not allowed."), "code": "forbidden"}, status=403)
    subscribed = bus().subscribe(user.pk)
    try:
        # Enter now, so that a stream over a cap is refused before the response starts.
        subscription = subscribed.__enter__()
    except TooManyStreams:
        refused = JsonResponse(
            {
                "detail": gettext("Too many live update streams are open; try again later."),
                "code": "too_many_streams",
            },
            status=429,
        )
        refused["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return refused
    release_db_connections()
    response = StreamingHttpResponse(
        EventStream(subscribed, subscription), content_type="text/event-stream"
    )
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
