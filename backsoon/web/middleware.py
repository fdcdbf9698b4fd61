"""Security headers that Django's own middleware does not set, and request limits."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.utils.html import escape
from django.utils.translation import gettext

# No inline script anywhere: every script is a file under /static/.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
# The interactive API docs (Swagger UI) are third-party pages with inline script.
CSP_EXEMPT_PREFIXES = ("/api/v1/docs",)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(CSP_EXEMPT_PREFIXES):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


# -- Request limits ---------------------------------------------------------------------

API_PREFIX = "/api/"
# Bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE (1 MB) are refused before anything
# reads them, on every URL: the API answers 413 in its error shape, the site a page.
# Calendar imports take a file of up to 2 MB (JSON-escaped in the API: up to twice that).
LARGE_BODY_PATHS = ("/api/v1/me/calendar/import", "/away/calendar/import/")
LARGE_BODY_LIMIT = 4 * 1024 * 1024 + 64 * 1024

# A JSON string escape of NUL or of a UTF-16 surrogate half (an unpaired one can not be
# encoded, and no database stores NUL in text): an odd number of backslashes before it.
_BAD_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _bad_text(value: Any) -> bool:
    """Whether a parsed JSON value holds text with NUL or an unpaired surrogate.

    Walks the value with a stack, not recursion: nesting depth is the client's choice.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _api_error(status: int, detail: str, code: str) -> HttpResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _too_large_page(request: HttpRequest) -> HttpResponse:
    try:
        return render(request, "web/too_large.html", status=413)
    except TemplateDoesNotExist:
        title = escape(gettext("Too large"))
        text = escape(gettext("What you sent is larger than 1 MB. Send less at a time."))
        home = escape(gettext("Back to home"))
        return HttpResponse(
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><h1>{title}</h1><p>{text}</p><a href="/">{home}</a></body></html>',
            status=413,
        )


class RequestLimitsMiddleware:
    """Refuse what no view should see, before any view or middleware reads the body.

    - A declared body over the limit (1 MB; calendar imports 4 MB): 413.
    - NUL in the path or the query string: 400 on the site, 422 in the API.
    - An API JSON body whose text holds NUL or an unpaired surrogate: 422. PostgreSQL
      can store neither, and a client must get a clear answer, not a 500.

    A body sent without ``Content-Length`` (chunked) is not read by Django at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        declared = request.META.get("CONTENT_LENGTH") or ""
        size = int(declared) if declared.isdigit() else 0  # as Django reads it
        limit = (
            LARGE_BODY_LIMIT
            if request.path.startswith(LARGE_BODY_PATHS)
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if limit is not None and size > limit:
            if is_api:
                return _api_error(
                    413, gettext("The request body is larger than 1 MB."), "too_large"
                )
            return _too_large_page(request)
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            if is_api:
                return _api_error(
                    422,
                    gettext("The address may not contain NUL characters."),
                    "invalid_parameter",
                )
            return HttpResponseBadRequest(gettext("The address may not contain NUL characters."))
        # Checked whatever the Content-Type says: the API reads every body as JSON.
        if is_api and size > 0 and not request.path.startswith(LARGE_BODY_PATHS):
            try:
                data = json.loads(request.body)
            except (ValueError, RecursionError):
                return self.get_response(request)  # the API answers 400: not JSON
            if not isinstance(data, dict):
                # Every body of the API is an object; ninja would read `[]` or `null`
                # as "no fields given" and carry on.
                return _api_error(422, gettext("The body must be a JSON object."), "invalid_body")
            if _BAD_ESCAPE.search(request.body) and _bad_text(data):
                return _api_error(
                    422,
                    gettext("Text may not contain NUL characters or unpaired surrogates."),
                    # The code the posts API has always used for a NUL in a post.
                    "invalid_body",
                )
        return self.get_response(request)
