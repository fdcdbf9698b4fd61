"""Site-wide pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backsoon.accounts.presenters import member_card
from backsoon.web.net import current_member


def home(request: HttpRequest) -> HttpResponse:
    """The landing page, or for a member: the composer and their ranked feed."""
    if not request.user.is_authenticated:
        return render(request, "web/landing.html")
    from backsoon.posts.views import feed_context

    member = current_member(request)
    context = {"card": member_card(member, member), **feed_context(request, member)}
    return render(request, "web/home.html", context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/not_found.html", status=404)
