"""The member an API request is authenticated as, typed.

``backsoon.api.BearerAuth`` puts the member on ``request.auth``; endpoints read it
through ``api_member`` rather than the untyped attribute. This module sits below
every app's ``api.py`` (it imports only the accounts model), so it adds no cycle.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthenticationError

from backsoon.accounts.models import Member


def api_member(request: HttpRequest) -> Member:
    """The member whose token authenticated ``request``.

    Raises:
        AuthenticationError: the endpoint ran without authentication (an endpoint
            with ``auth=None`` must not call this); answered as 401.
    """
    member = getattr(request, "auth", None)
    if not isinstance(member, Member):
        raise AuthenticationError
    return member
