"""Site-wide pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from backsoon.accounts.actions import member_update_profile
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


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on their own: a redirect to the icon
    among the static files (an SVG; its name carries a hash of its content).

    Temporary (302) and cached for a day: the hashed name changes with the icon.
    """
    response = HttpResponseRedirect(static("web/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/not_found.html", status=404)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The footer's language switch: POST ``language`` (and ``next``, a local URL).

    Everyone gets Django's language cookie (``set_language``: it also checks ``next``);
    a signed-in member's profile language is saved too, because the profile setting
    wins over the cookie and the browser on every later request, and is the language
    of their API errors and automatic-reply dates.
    """
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        member_update_profile(member=current_member(request), language=language)
    return set_language(request)
