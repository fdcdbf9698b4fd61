"""The one authentication backend: Django's password check behind the login throttle."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from backsoon.web.net import client_ip

from .actions import login_attempt_begin, login_failure_prune, login_success_record

BACKEND = "backsoon.accounts.backends.ThrottledModelBackend"


class ThrottledModelBackend(ModelBackend):
    """``ModelBackend`` with the login throttle (``actions.login_attempt_begin``).

    Every form that checks a password goes through ``django.contrib.auth.authenticate``
    and so through here: the site's login page, ``POST /api/v1/auth/token`` and the
    admin's login page share one count per username and per address.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        ip: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Count the attempt, then check the password.

        Args:
            ip: the client's address; taken from ``request`` when not given.

        Raises:
            RateLimited: too many recent attempts for this username or address.
        """
        if username is None or password is None:
            return None
        if ip is None:
            ip = client_ip(request) if request is not None else "unknown"
        login_attempt_begin(username=username, ip=ip)
        member = super().authenticate(request, username=username, password=password, **kwargs)
        if member is None:
            login_failure_prune()
            return None
        login_success_record(username=username)
        return member
