"""Per-request member context: language and time zone; the two-factor gate."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class MemberLocaleMiddleware:
    """After authentication: a member's profile language wins over the browser's, and
    times are shown in the member's own time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", None)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# The session's two-factor state: "verified" (signed in with a code, or set it up in
# this session), "none" (the member has no two-factor authentication; noted at login
# by ``two_factor_state_at_login``). Absent: not known, as after a sign-in of a member
# with two-factor authentication that skipped the code step (the admin's login form),
# which this middleware then turns into the code step.
SESSION_TWO_FACTOR = "backsoon_2fa"
# A sign-in waiting for its code: {"member": id, "at": epoch seconds, "next": url}.
SESSION_PENDING = "backsoon_2fa_pending"


class TwoFactorMiddleware:
    """Sign-in completes only with the second factor, and staff need one for the admin.

    - A session signed in without the code of a member who has two-factor
      authentication (any login form but the site's own: the admin's) is signed
      out and sent to the code step, with the page it asked for as ``next``.
    - A staff member reaches ``/admin/`` only in a session verified with a code;
      without two-factor authentication set up they are sent to set it up first.

    Costs no query on a page: the state is noted in the session at login (one query
    then); a session from before this middleware is looked at once. Nothing for the
    API, which uses tokens, never the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            response = self._check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        from django.contrib.auth import logout
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import urlencode

        from .two_factor import two_factor_enabled

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        state = request.session.get(SESSION_TWO_FACTOR)
        to_admin = request.path.startswith(reverse("admin:index"))
        # A staff member's "none" is looked at again on the way to the admin: two-factor
        # authentication may have been set up since, in another session.
        if state is None or (state == "none" and to_admin and user.is_staff):
            if two_factor_enabled(user):
                member_id = user.pk
                logout(request)
                request.session[SESSION_PENDING] = {
                    "member": member_id,
                    "at": int(time.time()),
                    "next": request.get_full_path(),
                }
                return redirect("accounts:login_code")
            state = request.session[SESSION_TWO_FACTOR] = "none"
        if to_admin and user.is_staff and state != "verified":
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:two_factor_setup')}?{query}")
        return None


def two_factor_state_at_login(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """``user_logged_in`` receiver: note in the session whether the member has no second
    factor ("none"); with one, the state stays unknown until the code step marks it
    "verified" right after its own login(), so that any other login is caught."""
    from .two_factor import two_factor_enabled

    session = getattr(request, "session", None)
    if session is None:
        return
    if two_factor_enabled(user):
        session.pop(SESSION_TWO_FACTOR, None)
    else:
        session[SESSION_TWO_FACTOR] = "none"
