"""The admin site, whose login form shares the login throttle of every other form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

from backsoon.errors import RateLimited


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form; a throttled attempt becomes a form error, not a 500.

    The throttle itself is in the authentication backend
    (``backsoon.accounts.backends.ThrottledModelBackend``), which raises ``RateLimited``.
    """

    throttled: RateLimited | None = None

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except RateLimited as exc:
            self.throttled = exc
            minutes = max(1, round(exc.retry_after / 60))
            raise ValidationError(
                gettext("Too many failed attempts. Try again in %(minutes)s minutes.")
                % {"minutes": minutes},
                code="login_throttled",
            ) from exc


class BacksoonAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's admin login; a throttled attempt answers 429 with ``Retry-After``."""
        response = super().login(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        throttled = getattr(context.get("form"), "throttled", None)
        if throttled is not None:
            response.status_code = 429
            response["Retry-After"] = str(throttled.retry_after)
        return response
