"""Small request helpers shared by the API and the web views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from backsoon.accounts.models import Member


def client_ip(request: HttpRequest) -> str:
    """The client's address as the server saw it.

    ``X-Forwarded-For`` is deliberately ignored: anyone can set it, and trusting it
    would let a client dodge login throttling. Behind a proxy, have the proxy set
    ``REMOTE_ADDR`` (uvicorn ``--proxy-headers`` with ``--forwarded-allow-ips``).
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


def current_member(request: HttpRequest) -> Member:
    """The signed-in member of a view behind ``login_required``."""
    user = request.user
    if not isinstance(user, Member):
        raise PermissionDenied("Sign in first.")
    return user
