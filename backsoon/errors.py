"""Domain errors raised by actions and queries.

Actions raise these; the API turns each into a 4xx response with the shape
``{"detail": "...", "code": "..."}`` and the web views show ``detail`` to the
member. They carry no HTTP knowledge beyond the status they map to.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext


class DomainError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, detail: Any, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code


class Invalid(DomainError):
    """The input is well formed but not acceptable (422)."""

    status = 422
    default_code = "invalid"


class Conflict(DomainError):
    """The request conflicts with what exists: duplicate, overlap (409)."""

    status = 409
    default_code = "conflict"


class Forbidden(DomainError):
    """The member may see the thing but may not do this to it (403)."""

    status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    """Not there, or not visible to this member: the two are never told apart (404)."""

    status = 404
    default_code = "not_found"

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        super().__init__(gettext("Not found.") if detail is None else detail, code=code)


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` is in whole seconds (429)."""

    status = 429
    default_code = "rate_limited"

    def __init__(self, detail: Any, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = max(1, int(retry_after))
