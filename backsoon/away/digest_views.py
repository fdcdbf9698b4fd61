"""The return digest as a web page: the place to clear the flood (D1, I3, TRIAGE C4).

Every section pages on its own (``?<section>_page=N``); every item says whether it
was handled and can be handled in place with a small form; each section has "handle
the rest". Every form posts to one of the views below, which call one action and
come back to the same section and page (POST-redirect-GET).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from backsoon.errors import DomainError, NotFound
from backsoon.web.forms import error_text
from backsoon.web.net import current_member

from . import actions, queries
from .digest import arrivals_per_day, digest_for

# Each section of the page and how many items one page shows.
SECTIONS = {
    "connections": 10,
    "others": 10,
    "invitations": 20,
    "notifications": 20,
    "mentions": 10,
    "comments": 10,
    "reactions": 10,
}


def _page(request: HttpRequest, section: str, items: Any) -> Page:
    return Paginator(items, SECTIONS[section]).get_page(request.GET.get(f"{section}_page"))


def _notifications(member: Any, absence: Any, request: HttpRequest) -> dict[str, Any]:
    """The member's notifications since the absence began, newest first, one page."""
    from backsoon.notifications.models import Notification
    from backsoon.notifications.views import notification_text, subject_url

    since = Notification.objects.filter(
        recipient=member, created_at__gte=absence.starts_at
    ).select_related("actor")
    page = _page(request, "notifications", since.order_by("-created_at", "-id"))
    rows = [
        {"notification": n, "text": notification_text(n), "url": subject_url(n)}
        for n in page.object_list
    ]
    return {"page": page, "rows": rows, "unread": since.filter(read_at__isnull=True).count()}


SAVED_REPLY_BUTTONS = 5


def _saved_replies(member: Any) -> list[Any]:
    """The member's first saved replies, one button each under "Reply to the rest"."""
    from backsoon.messaging.queries import saved_replies_of

    return list(saved_replies_of(member)[:SAVED_REPLY_BUTTONS])


@login_required
@require_GET
def digest(request: HttpRequest, absence_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        absence = queries.absence_for_member(member, absence_id)
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    data = digest_for(member, absence)
    posts = data.posts
    pages = {
        "connections": _page(request, "connections", data.messages_from_connections),
        "others": _page(request, "others", data.messages_from_others),
        "invitations": _page(request, "invitations", data.invitations_received),
        "mentions": _page(request, "mentions", posts.get("mentions", [])),
        "comments": _page(request, "comments", posts.get("comments", [])),
        "reactions": _page(request, "reactions", posts.get("reactions", {}).get("posts", [])),
    }
    waiting = {
        "connections": sum(1 for c in data.messages_from_connections if not c.handled),
        "others": sum(1 for c in data.messages_from_others if not c.handled and not c.known),
        "requests": sum(1 for c in data.messages_from_others if c.request and not c.handled),
    }
    per_day = arrivals_per_day(member, data.starts_at, min(data.ends_at, absence.effective_end))
    chart = {
        **per_day,
        "text": {
            "messages": _("Messages"),
            "invitations": _("Invitations"),
            "reactions": _("Reactions"),
            "comments": _("Comments"),
        },
    }
    per_day_rows = list(
        zip(
            per_day["days"],
            per_day["messages"],
            per_day["invitations"],
            per_day["reactions"],
            per_day["comments"],
            strict=True,
        )
    )
    return render(
        request,
        "away/digest.html",
        {
            "digest": data,
            "pages": pages,
            "waiting": waiting,
            "notifications": _notifications(member, absence, request),
            "chart": chart,
            "per_day_rows": per_day_rows,
            "saved_replies": _saved_replies(member) if waiting["connections"] else [],
        },
    )


def _back(absence_id: int, request: HttpRequest) -> HttpResponse:
    """Back to the section and page the form was on (never a URL from the form)."""
    url = reverse("away:digest", kwargs={"absence_id": absence_id})
    section = request.POST.get("section", "")
    if section in SECTIONS:
        page = request.POST.get("page", "")
        query = f"?{section}_page={int(page)}" if page.isdigit() else ""
        return redirect(f"{url}{query}#digest-{section}")
    return redirect(url)


def _ids(request: HttpRequest) -> list[int] | None:
    """The ids posted, or None when the posted ids are not numbers."""
    try:
        return [int(i) for i in request.POST.getlist("ids")]
    except ValueError:
        return None


def _handled(request: HttpRequest, n: int) -> None:
    messages.success(request, ngettext("%(n)d handled.", "%(n)d handled.", n) % {"n": n})


@login_required
@require_POST
def digest_invitations(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Accept or ignore invitations of the digest: the selected ones, those matching a
    filter (mutual connections at least / at most, label, with a note), or the rest."""
    member = current_member(request)
    action = request.POST.get("action")
    post = request.POST
    ids: list[int] | None = None
    filters: dict[str, Any] = {}
    try:
        if post.get("min_mutual"):
            filters["min_mutual"] = max(0, int(post["min_mutual"]))
        if post.get("max_mutual"):
            filters["max_mutual"] = max(0, int(post["max_mutual"]))
        if post.get("label"):
            filters["label"] = post["label"][:20]
        if post.get("has_note") in ("true", "false"):
            filters["has_note"] = post["has_note"] == "true"
        if post.get("rest") == "1":
            filters["rest"] = True
        if post.get("likely") == "1":
            filters["likely"] = True
        if not filters:
            ids = [int(i) for i in post.getlist("ids")]
    except ValueError:
        messages.error(request, _("That selection is not valid."))
        return _back(absence_id, request)
    if action not in {"accept", "ignore"}:
        messages.error(request, _("Choose accept or ignore."))
        return _back(absence_id, request)
    try:
        done = actions.digest_invitations_respond(
            member=member, absence_id=absence_id, accept=action == "accept", ids=ids, **filters
        )
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _back(absence_id, request)
    if action == "accept":
        text = ngettext("%(n)d invitation accepted.", "%(n)d invitations accepted.", len(done))
    else:
        text = ngettext("%(n)d invitation ignored.", "%(n)d invitations ignored.", len(done))
    messages.success(request, text % {"n": len(done)})
    return _back(absence_id, request)


@login_required
@require_POST
def digest_notifications(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Mark read the selected notifications since the absence began, or with ``rest=1``
    all of them."""
    member = current_member(request)
    ids = _ids(request)
    if ids is None or (not ids and request.POST.get("rest") != "1"):
        messages.error(request, _("That selection is not valid."))
        return _back(absence_id, request)
    try:
        n = actions.digest_notifications_read(
            member=member, absence_id=absence_id, ids=None if request.POST.get("rest") else ids
        )
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    _handled(request, n)
    return _back(absence_id, request)
