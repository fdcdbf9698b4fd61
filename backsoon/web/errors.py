"""Answers for what no view answers: unknown pages, server errors, a database that is
full or read-only; and the API's error shape for all of them.

Every answer under ``/api/`` is JSON ``{"detail", "code"}``, whatever produced it
(Django's 404 for an unknown path, django-ninja's 405 for a wrong method, a 500):
``ApiErrorShapeMiddleware``. A database that can not take writes answers 503 with
``Retry-After``: JSON on the API, a friendly page (English or Dutch) on the site.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from backsoon.db.failures import RETRY_AFTER_SECONDS, database_unavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
# What an error answer of the API says when nothing more specific is known.
CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    500: "server_error",
    503: "unavailable",
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _detail(status: int) -> str:
    details = {
        404: gettext("Not found."),
        405: gettext("This method is not allowed here."),
        500: gettext("Something went wrong on our side. Try again later."),
        503: gettext("The service can not save anything right now. Try again in a minute."),
    }
    return details.get(status) or gettext("The request could not be answered.")


def api_error(status: int, *, code: str | None = None, detail: str | None = None) -> HttpResponse:
    """An API error answer in the contract's shape."""
    return JsonResponse(
        {"detail": detail or _detail(status), "code": code or CODES.get(status, "error")},
        status=status,
    )


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: JSON for the API, a friendly page for the site.

    The page is rendered without the request's context processors, which would read
    the database again; the language is the one the request was answered in.
    """
    if _is_api(request):
        response = api_error(503)
    else:
        language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
        with translation.override(language):
            html = render_to_string("web/unavailable.html", {"language": language})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: JSON under the API, the site's page elsewhere."""
    if _is_api(request):
        return api_error(404)
    from backsoon.web.net import not_found_page

    return not_found_page(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a full or read-only database becomes a 503, anything else a 500."""
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        log.warning("database unavailable: %s", exc)
        return unavailable_response(request)
    if _is_api(request):
        return api_error(500)
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
    with translation.override(language):
        html = render_to_string("web/server_error.html", {"language": language})
    return HttpResponse(html, status=500)


class DatabaseUnavailableMiddleware:
    """A view that fails because the database is full or read-only answers 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if database_unavailable(exception):
            log.warning("database unavailable: %s", exception)
            return unavailable_response(request)
        return None


class ApiErrorShapeMiddleware:
    """Every error answer under ``/api/`` is ``{"detail", "code"}`` JSON.

    The API's own errors already are; this catches the rest (Django's 404 for an
    unknown path, django-ninja's plain-text 405, a 500 page), keeping their status
    and headers (``Allow``, ``Retry-After``). Placed first, so it sees every answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not _is_api(request) or response.status_code < 400 or _has_error_shape(response):
            return response
        shaped = api_error(response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                shaped[header] = response[header]
        return shaped


def _has_error_shape(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    if getattr(response, "streaming", False):
        return True
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and "detail" in body and "code" in body
