"""The public REST API, version 1: one NinjaAPI, its auth and its error shape.

Every 4xx answer has the body ``{"detail": <human readable>, "code": <machine code>}``
(``detail`` may be a list for validation errors). Routers of the apps are mounted
here; each app's ``api.py`` holds one Router.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from backsoon.accounts.actions import TOKEN_TOUCH_SECONDS, token_digest, token_touch
from backsoon.accounts.queries import token_owner
from backsoon.errors import DomainError, RateLimited


class BearerAuth(HttpBearer):
    """``Authorization: Bearer <token>``; sets ``request.auth`` to the Member.

    Revoked and expired tokens are refused (401). The token's last use is written at
    most once a minute (``TOKEN_TOUCH_SECONDS``): most requests only read.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        now = timezone.now()
        owner = token_owner(
            token_digest(token), now=now, touch_before=now - timedelta(seconds=TOKEN_TOUCH_SECONDS)
        )
        if owner is None:
            return None
        member = owner.member
        if owner.needs_touch:
            token_touch(token_id=owner.token_id, now=now)
        request.user = member
        request.auth_time = now  # type: ignore[attr-defined]
        request.api_token_id = owner.token_id  # type: ignore[attr-defined]
        # The member's profile language wins over Accept-Language, as on the web pages:
        # every `detail` of this request is written in it (`code` never changes).
        translation.activate(member.language)
        return member


# Answers any operation may give besides those it declares, added to the schema so
# that clients (and the fuzzer, tests/security/test_fuzz.py) can rely on it.
COMMON_ERRORS = {
    "400": "The body is not valid JSON.",
    "401": "No token, or not a valid one.",
    "413": "The request body is larger than 1 MB.",
    "422": "Invalid input: a field, a parameter or text with NUL characters.",
    "503": "The database is full or read-only for now: try again after Retry-After.",
}


class BacksoonAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        """The schema, with the common error answers (COMMON_ERRORS) on every operation.

        Ninja keys an operation's responses by ``int`` status; they are turned into
        the strings OpenAPI expects before the common answers are added, so that an
        answer an operation declares itself (say 422) is not written a second time
        under the same key in ``openapi.json`` (strict YAML and JSON loaders, such as
        the docs page's, refuse duplicated keys).
        """
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error = {"$ref": "#/components/schemas/ErrorOut"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = {
                    str(status): answer for status, answer in operation.get("responses", {}).items()
                }
                operation["responses"] = responses
                for status, description in COMMON_ERRORS.items():
                    if status == "401" and not operation.get("security"):
                        continue
                    if status == "400" and "requestBody" not in operation:
                        continue
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": error}},
                        },
                    )
        return schema


api = BacksoonAPI(
    title="Backsoon API",
    version="1",
    description="The public REST API of Backsoon. See API.md for the contract.",
    auth=BearerAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(
    request: HttpRequest,
    *,
    status: int,
    detail: Any,
    code: str,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    response = api.create_response(request, {"detail": detail, "code": code}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(
        request, status=exc.status, detail=exc.detail, code=exc.code, headers=headers
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(request, status=422, detail=exc.errors, code="validation_error")


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        status=401,
        detail=gettext("Authentication required: send 'Authorization: Bearer <token>'."),
        code="not_authenticated",
        headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return error_response(
        request,
        status=exc.status_code,
        detail=str(exc.message),
        code=codes.get(exc.status_code, "error"),
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, status=404, detail=gettext("Not found."), code="not_found")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(
        request,
        status=413,
        detail=gettext("The request body is larger than 1 MB."),
        code="too_large",
    )


def _mount_routers() -> None:
    from backsoon.accounts.api import auth_router, me_router, members_router

    api.add_router("/auth", auth_router)
    api.add_router("/me", me_router)
    from backsoon.counts import router as counts_router

    api.add_router("", counts_router)
    api.add_router("/members", members_router)

    from backsoon.away.api import router as absences_router
    from backsoon.away.calendar.api import router as calendar_router
    from backsoon.messaging.api import router as messaging_router
    from backsoon.network.api import router as network_router
    from backsoon.notifications.api import router as notifications_router
    from backsoon.posts.api import router as posts_router

    api.add_router("/me/absences", absences_router)
    api.add_router("/me/calendar", calendar_router)
    api.add_router("", network_router)
    api.add_router("", messaging_router)
    api.add_router("", notifications_router)

    api.add_router("", posts_router)


_mount_routers()
