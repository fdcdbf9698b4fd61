"""The notifications page: grouped texts, mark one or all read, open the subject."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import away_badges
from backsoon.errors import NotFound
from backsoon.web.net import current_member

from . import actions, queries
from .models import Notification

PER_PAGE = 30
OLDER_THAN_MAX = 3650

Type = Notification.Type


def type_choices() -> list[tuple[str, str]]:
    """The types the page filters by, with their names (translated now)."""
    return [
        (Type.MESSAGE, _("Messages")),
        (Type.INVITATION_RECEIVED, _("Invitations")),
        (Type.INVITATION_ACCEPTED, _("Accepted invitations")),
        (Type.REACTION, _("Reactions")),
        (Type.COMMENT, _("Comments")),
        (Type.SHARE, _("Shares")),
        (Type.MENTION, _("Mentions")),
    ]


def page_filter(params: Any) -> tuple[str | None, datetime | None, dict[str, str]]:
    """The page's filter (TRIAGE C2): a type and "older than N days"; what is not
    understood is left out. Returns the type, the moment before which, and the fields
    kept as strings (for links and hidden inputs)."""
    kept: dict[str, str] = {}
    kind = params.get("type") or ""
    if kind in dict(type_choices()):
        kept["type"] = kind
    days = (params.get("older_than") or "").strip()
    before = None
    if days.isdigit() and len(days) <= 4 and int(days) <= OLDER_THAN_MAX:
        kept["older_than"] = str(int(days))
        before = timezone.now() - timedelta(days=int(days))
    return kept.get("type"), before, kept


def subject_url(notification: Notification) -> str | None:
    """Where a notification leads: its conversation, invitations, digest or post."""
    kind, pk = notification.subject_type, notification.subject_id
    if kind == "conversation":
        return reverse("messaging:conversation", args=[pk])
    if kind == "invitation":
        return reverse("network:index")
    if kind == "absence" and notification.type == Notification.Type.ABSENCE_STARTS:
        # D4: the editor, whose preview shows the reply as a connection and as
        # anyone else will get it.
        return f"/away/{pk}/edit/#away-preview-title"
    if kind == "absence":
        return f"/away/{pk}/digest/"  # the digest page of the away app
    if kind == "post":
        return f"/posts/{pk}/"  # the post page of the posts app
    return None


def _grouped(actor: SafeString, others: int, alone: str, with_others: str) -> str:
    """``alone`` for one actor, else ``with_others`` (already translated for ``others``)."""
    if others <= 0:
        return format_html(alone, actor=actor)
    return format_html(with_others, actor=actor, others=others)


def notification_text(notification: Notification) -> str:
    """The notification as one sentence (HTML-safe: member text is escaped).

    Grouped rows use ``count``: "Bob and 3 others reacted to your post".
    """
    name = notification.actor.display_name if notification.actor else _("Someone")
    actor = format_html("<strong>{}</strong>", name)
    others = notification.count - 1
    kind = notification.type
    if kind == Type.MESSAGE:
        if notification.count <= 1:
            return format_html(_("{actor} sent you a message"), actor=actor)
        return format_html(
            _("{count} new messages, the latest from {actor}"),
            count=notification.count,
            actor=actor,
        )
    if kind == Type.INVITATION_RECEIVED:
        return format_html(_("{actor} invited you to connect"), actor=actor)
    if kind == Type.INVITATION_ACCEPTED:
        return format_html(_("{actor} accepted your invitation"), actor=actor)
    if kind == Type.REACTION:
        return _grouped(
            actor,
            others,
            _("{actor} reacted to your post"),
            ngettext(
                "{actor} and {others} other reacted to your post",
                "{actor} and {others} others reacted to your post",
                others,
            ),
        )
    if kind == Type.COMMENT:
        return _grouped(
            actor,
            others,
            _("{actor} commented on your post"),
            ngettext(
                "{actor} and {others} other commented on your post",
                "{actor} and {others} others commented on your post",
                others,
            ),
        )
    if kind == Type.SHARE:
        return _grouped(
            actor,
            others,
            _("{actor} shared your post"),
            ngettext(
                "{actor} and {others} other shared your post",
                "{actor} and {others} others shared your post",
                others,
            ),
        )
    if kind == Type.MENTION:
        return _grouped(
            actor,
            others,
            _("{actor} mentioned you"),
            ngettext(
                "{actor} and {others} other mentioned you",
                "{actor} and {others} others mentioned you",
                others,
            ),
        )
    if kind == Type.WELCOME_BACK:
        return format_html(
            "<strong>{}</strong> {}",
            _("Welcome back!"),
            _("Here is what arrived while you were away."),
        )
    if kind == Type.ABSENCE_REMINDER:
        return format_html(
            "<strong>{}</strong> {}",
            _("Your out-of-office is still on."),
            _("Back already? You can end it early."),
        )
    if kind == Type.ABSENCE_STARTS:
        return format_html(
            "<strong>{}</strong> {}",
            _("Your out-of-office starts tomorrow."),
            _("See the automatic reply your connections and others will get."),
        )
    return _("You have a new notification.")


def _rows(viewer: Member, notifications: list[Notification]) -> list[dict[str, Any]]:
    """The page's rows, each with its actor's Away badge (fetched for all in one go)."""
    actors = {n.actor_id: n.actor for n in notifications if n.actor is not None}
    badges = away_badges(viewer, actors.values())
    return [
        {
            "notification": n,
            "text": notification_text(n),
            "away": badges.get(n.actor_id) if n.actor_id is not None else None,
            "url": subject_url(n),
            "initial": (n.actor.display_name[:1].upper() if n.actor else "b"),
            "system": n.actor is None,
        }
        for n in notifications
    ]


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    kind, before, kept = page_filter(request.GET)
    found = queries.notifications_of(member).order_by("-created_at", "-id")
    if kind is not None:
        found = found.filter(type=kind)
    if before is not None:
        found = found.filter(created_at__lt=before)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    rows = _rows(member, list(page.object_list))
    unread = found.filter(read_at__isnull=True).count()
    state = urlencode(kept)
    return render(
        request,
        "notifications/index.html",
        {
            "page": page,
            "rows": rows,
            "any_unread": unread > 0,
            "unread_matching": unread,
            "filter": kept,
            "narrowed": bool(kept),
            "types": type_choices(),
            "page_query": f"&{state}" if state else "",
        },
    )


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    count = actions.notifications_mark_read(member=member, ids=None)
    if count:
        messages.success(request, _("All caught up."))
    return redirect("notifications:index")


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Mark many notifications read (TRIAGE C2): the ones ticked, all on the page
    (``page``), or every unread one matching the page's filter (``matching``)."""
    member = current_member(request)
    kind, before, kept = page_filter(request.POST)
    back = reverse("notifications:index") + (f"?{urlencode(kept)}" if kept else "")
    if request.POST.get("matching"):
        count = actions.notifications_mark_read(member=member, type=kind, before=before)
    else:
        field = "page_ids" if request.POST.get("page") else "ids"
        ids = []
        for value in request.POST.getlist(field):
            for part in value.split(","):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit() or len(part) > 18:
                    messages.error(request, _("That selection is not a list of notifications."))
                    return redirect(back)
                ids.append(int(part))
        if not ids:
            messages.warning(request, _("Select at least one notification."))
            return redirect(back)
        count = actions.notifications_mark_read(member=member, ids=ids)
    messages.success(
        request,
        ngettext(
            "%(count)s notification marked as read.",
            "%(count)s notifications marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect(back)


@login_required
@require_POST
def read_one(request: HttpRequest, notification_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        actions.notification_mark_read(member=member, notification_id=notification_id)
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    return redirect(reverse("notifications:index") + f"#n{notification_id}")


@login_required
@require_POST
def open_subject(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go to what it is about."""
    member = current_member(request)
    try:
        notification = actions.notification_mark_read(
            member=member, notification_id=notification_id
        )
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    return redirect(subject_url(notification) or reverse("notifications:index"))
