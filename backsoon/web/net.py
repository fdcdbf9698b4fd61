"""Small request helpers shared by the API and the web views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from backsoon.accounts.models import Member


def client_ip(request: HttpRequest) -> str:
    """The client's address as the server saw it.

    ``X-Forwarded-For`` is deliberately ignored: anyone can set it, and trusting it
    would let a client dodge login throttling. Behind a proxy, have the proxy set
    ``REMOTE_ADDR``: ``FORWARDED_ALLOW_IPS`` lists the proxies whose header is
    trusted (``backsoon.wsgi``).
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


def current_member(request: HttpRequest) -> Member:
    """The signed-in member of a view behind ``login_required``."""
    user = request.user
    if not isinstance(user, Member):
        raise PermissionDenied(gettext("Sign in first."))
    return user


def with_retry_after(response: HttpResponse, exc: Exception | None) -> HttpResponse:
    """Add ``Retry-After`` to a page answering a rate limit (``RateLimited``), as the API does."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def not_found_page(request: HttpRequest) -> HttpResponse:
    """The site's 404 page, for what does not exist or the member may not see."""
    return render(request, "web/not_found.html", status=404)


def safe_next(request: HttpRequest) -> str | None:
    """The page to go back to that the request names in ``next`` (the form's, else the
    query's), if it is on this site; None otherwise (open redirects refused).

    The one check of ``next`` for every web view: a local path, or an absolute URL of
    this host with the request's scheme (``https`` only when the request is).
    """
    return safe_url(request, request.POST.get("next") or request.GET.get("next"))


def safe_url(request: HttpRequest, target: str | None) -> str | None:
    """``target`` if it is a page of this site (see ``safe_next``), else None."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
