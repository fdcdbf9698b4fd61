"""Web pages for messaging: the conversation list, one conversation, a new message.

Two fragments serve live updates (``live.js``): the conversation list and the
messages after a given id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.accounts.queries import member_by_username
from backsoon.errors import DomainError, NotFound
from backsoon.network import queries as network_queries
from backsoon.web.forms import error_text
from backsoon.web.net import current_member, not_found_page, with_retry_after

from . import actions, queries
from .forms import AddMembersForm, MessageForm, NewConversationForm, parse_usernames
from .models import Conversation, Message, Participant

MESSAGES_SHOWN = 50
CONVERSATIONS_SHOWN = 50
CONVERSATIONS_MAX = 500
FRAGMENT_MAX = 100
PICKER_CONNECTIONS = 200
# Messages from one sender closer together than this share one header.
GROUP_WINDOW = timedelta(minutes=5)


def _int_param(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValueError(value)
    return int(value)


def _cards_by_id(viewer: Member, members: Iterable[Member]) -> dict[int, dict[str, Any]]:
    """Member cards (with away badges) keyed by member id: two queries for any number."""
    unique = list({m.pk: m for m in members}.values())
    return {m.pk: card for m, card in zip(unique, member_cards(viewer, unique), strict=True)}


def conversation_title(conversation: Conversation, others: Sequence[dict[str, Any]]) -> str:
    """A group's subject, else the other participants' names."""
    if conversation.subject:
        return conversation.subject
    if not others:
        return _("Only you")
    return ", ".join(card["display_name"] for card in others)


# -- the conversation list ---------------------------------------------------------------


def inbox_rows(
    member: Member,
    *,
    active_id: int | None = None,
    limit: int = CONVERSATIONS_SHOWN,
    also: Iterable[Member] = (),
) -> tuple[list[dict[str, Any]], bool, dict[int, dict[str, Any]]]:
    """The member's conversations, newest activity first, ready for the list template.

    Four queries for any number of conversations: the participant rows with their
    conversations and last messages, the participants of those conversations, and
    the away badges of everyone shown (and of ``also``, fetched in the same go).

    Returns:
        The rows, whether there are more conversations than ``limit``, and the
        member cards of everyone involved keyed by member id.
    """
    participations: list[Participant] = list(
        queries.inbox(member).order_by("-last_message_at", "-conversation_id")[: limit + 1]
    )
    more = len(participations) > limit
    participations = participations[:limit]
    queries.hide_blocked_last_messages(member, participations)
    everyone = [
        p.member
        for row in participations
        for p in row.conversation.active_participants  # type: ignore[attr-defined]
        if p.member_id != member.pk
    ]
    cards = _cards_by_id(member, [*everyone, *also])
    rows = []
    for row in participations:
        conversation = row.conversation
        others = [
            cards[p.member_id]
            for p in conversation.active_participants  # type: ignore[attr-defined]
            if p.member_id != member.pk
        ]
        last = conversation.last_message
        rows.append(
            {
                "conversation": conversation,
                "title": conversation_title(conversation, others),
                "others": others,
                "away": [card for card in others if card["away"]],
                "is_group": conversation.kind == Conversation.Kind.GROUP,
                "unread": row.unread_count,
                "last": last,
                "last_mine": last is not None and last.sender_id == member.pk,
                "when": short_when(conversation.last_message_at),
                "active": conversation.pk == active_id,
            }
        )
    return rows, more, cards


def short_when(moment: datetime) -> str:
    """A list timestamp in the viewer's time zone: 14:05, Mon, 3 Mar, or 3 Mar 2024."""
    local = timezone.localtime(moment)
    today = timezone.localdate()
    if local.date() == today:
        return formats.time_format(local, "H:i")
    if today - local.date() < timedelta(days=7):
        return formats.date_format(local, "D")
    if local.year == today.year:
        return formats.date_format(local, pgettext("date format", "j M"))
    return formats.date_format(local, pgettext("date format", "j M Y"))


def _limit(request: HttpRequest) -> int:
    try:
        limit = _int_param(request.GET.get("limit")) or CONVERSATIONS_SHOWN
    except ValueError:
        limit = CONVERSATIONS_SHOWN
    return max(CONVERSATIONS_SHOWN, min(limit, CONVERSATIONS_MAX))


def _list_context(
    request: HttpRequest, member: Member, active_id: int | None, also: Iterable[Member] = ()
) -> dict[str, Any]:
    limit = _limit(request)
    rows, more, cards = inbox_rows(member, active_id=active_id, limit=limit, also=also)
    return {
        "rows": rows,
        "more_limit": limit + CONVERSATIONS_SHOWN if more else None,
        "active_id": active_id,
        "cards": cards,
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    return render(request, "messaging/index.html", _list_context(request, member, None))


@login_required
@require_GET
def list_fragment(request: HttpRequest) -> HttpResponse:
    """The conversation list alone, for live updates."""
    member = current_member(request)
    try:
        active_id = _int_param(request.GET.get("active"))
    except ValueError:
        active_id = None
    html = render_to_string(
        "messaging/_conversation_list.html", _list_context(request, member, active_id)
    )
    return HttpResponse(html)


# -- one conversation --------------------------------------------------------------------


def message_rows(
    items: Sequence[Message],
    *,
    viewer: Member,
    previous: Message | None = None,
    last_read_id: int | None = None,
) -> list[dict[str, Any]]:
    """Messages (oldest first) with what the template needs: day separators in the
    viewer's time zone, grouping of consecutive messages, the first unread one.

    Args:
        previous: the message shown just before ``items``, if any (for grouping).
        last_read_id: the viewer's read position before opening; None: no marker.
    """
    today = timezone.localdate()
    rows = []
    marked = False
    for message in items:
        day = timezone.localtime(message.sent_at).date()
        new_day = previous is None or timezone.localtime(previous.sent_at).date() != day
        continued = (
            not new_day
            and previous is not None
            and previous.sender_id == message.sender_id
            and previous.kind == message.kind == Message.Kind.NORMAL
            and message.sent_at - previous.sent_at < GROUP_WINDOW
        )
        first_unread = (
            not marked
            and last_read_id is not None
            and message.pk > last_read_id
            and message.sender_id != viewer.pk
        )
        marked = marked or first_unread
        rows.append(
            {
                "message": message,
                "mine": message.sender_id == viewer.pk,
                "day_label": _day_label(day, today) if new_day else None,
                "continued": continued and not first_unread,
                "first_unread": first_unread,
            }
        )
        previous = message
    return rows


def _day_label(day: date, today: date) -> str:
    if day == today:
        return _("Today")
    if day == today - timedelta(days=1):
        return _("Yesterday")
    if day.year == today.year:
        return formats.date_format(day, "l j F")
    return formats.date_format(day, "l j F Y")


def _conversation_page(
    request: HttpRequest,
    member: Member,
    conversation: Conversation,
    *,
    form: MessageForm | None = None,
    add_form: AddMembersForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        before = _int_param(request.GET.get("before"))
    except ValueError:
        before = None
    participants = queries.active_participants(conversation)
    me = next((p for p in participants if p.member_id == member.pk), None)
    last_read_id = me.last_read_message_id if me is not None else 0
    if me is not None and (me.unread_count or last_read_id < (conversation.last_message_id or 0)):
        # Opening a conversation reads it (and its notification), before the list
        # and the header counts are read.
        actions.conversation_mark_read(member=member, conversation_id=conversation.pk)
    listing = _list_context(request, member, conversation.pk, also=[p.member for p in participants])
    cards = listing["cards"]
    others = [cards[p.member_id] for p in participants if p.member_id != member.pk]
    found = queries.messages_of(conversation, viewer=member)
    if before is not None:
        found = found.filter(pk__lt=before)
    batch = list(found.order_by("-id")[: MESSAGES_SHOWN + 1])
    has_earlier = len(batch) > MESSAGES_SHOWN
    shown = batch[:MESSAGES_SHOWN][::-1]
    rows = message_rows(shown, viewer=member, last_read_id=last_read_id)
    context = {
        **listing,
        "conversation": conversation,
        "title": conversation_title(conversation, others),
        "is_group": conversation.kind == Conversation.Kind.GROUP,
        "others": others,
        "away_others": [card for card in others if card["away"]],
        "message_rows": rows,
        "has_earlier": has_earlier,
        "earliest_id": shown[0].pk if shown else None,
        "latest_id": shown[-1].pk if shown else 0,
        "viewing_earlier": before is not None,
        "form": form or MessageForm(),
        "add_form": add_form or AddMembersForm(),
    }
    return render(request, "messaging/conversation.html", context, status=status)


@login_required
@require_GET
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        found = queries.conversation_for_member(member, conversation_id)
    except NotFound:
        return not_found_page(request)
    return _conversation_page(request, member, found)


@login_required
@require_POST
def send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        found = queries.conversation_for_member(member, conversation_id)
    except NotFound:
        return not_found_page(request)
    form = MessageForm(request.POST)
    status = 422
    refused: DomainError | None = None
    if form.is_valid():
        try:
            actions.message_send(
                sender=member,
                conversation_id=found.pk,
                body=form.cleaned_data["body"],
                client_key=form.cleaned_data["client_key"] or None,
            )
        except NotFound:
            return not_found_page(request)
        except DomainError as exc:
            form.add_error("body", error_text(exc))
            status = exc.status
            refused = exc
        else:
            return redirect(reverse("messaging:conversation", args=[found.pk]) + "#latest")
    return with_retry_after(
        _conversation_page(request, member, found, form=form, status=status), refused
    )


@login_required
@require_GET
def messages_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Messages after ``?after=<message id>``, oldest first, as list items (live updates)."""
    member = current_member(request)
    try:
        after = _int_param(request.GET.get("after")) or 0
    except ValueError:
        return HttpResponseBadRequest(_("after must be a message id"))
    try:
        found = queries.conversation_for_member(member, conversation_id)
    except NotFound:
        return not_found_page(request)
    batch = list(
        queries.messages_of(found, viewer=member)
        .filter(pk__gte=after)
        .order_by("id")[: FRAGMENT_MAX + 1]
    )
    previous = batch[0] if batch and batch[0].pk == after else None
    fresh = [m for m in batch if m.pk > after][:FRAGMENT_MAX]
    rows = message_rows(fresh, viewer=member, previous=previous)
    html = render_to_string("messaging/_messages.html", {"rows": rows})
    return HttpResponse(html)


@login_required
@require_POST
def mark_read(request: HttpRequest, conversation_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        actions.conversation_mark_read(member=member, conversation_id=conversation_id)
    except NotFound:
        return HttpResponse(status=404)
    return HttpResponse(status=204)


@login_required
@require_POST
def add_members(request: HttpRequest, conversation_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        found = queries.conversation_for_member(member, conversation_id)
    except NotFound:
        return not_found_page(request)
    form = AddMembersForm(request.POST)
    status = 422
    refused: DomainError | None = None
    if form.is_valid():
        try:
            actions.conversation_add_participants(
                member=member, conversation_id=found.pk, usernames=form.cleaned_data["to"]
            )
        except DomainError as exc:
            form.add_error("to", error_text(exc))
            status = exc.status
            refused = exc
        else:
            messages.success(request, _("Added to the conversation."))
            return redirect("messaging:conversation", found.pk)
    return with_retry_after(
        _conversation_page(request, member, found, add_form=form, status=status), refused
    )


@login_required
@require_POST
def leave(request: HttpRequest, conversation_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        actions.conversation_leave(member=member, conversation_id=conversation_id)
    except NotFound:
        return not_found_page(request)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("messaging:conversation", conversation_id)
    messages.success(request, _("You left the conversation."))
    return redirect("messaging:index")


# -- a new message -----------------------------------------------------------------------


def _existing_direct(member: Member, username: str) -> int | None:
    """The id of the member's 1:1 conversation with ``username``, if there is one."""
    try:
        other = member_by_username(username)
    except NotFound:
        return None
    return (
        Conversation.objects.filter(
            direct_key=queries.direct_key(member.pk, other.pk),
            participants__member=member,
            participants__left_at__isnull=True,
        )
        .values_list("pk", flat=True)
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Write to one member (their existing 1:1 conversation is reused) or start a group."""
    member = current_member(request)
    status = 200
    refused: DomainError | None = None
    if request.method == "POST":
        form = NewConversationForm(request.POST)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                started, _created = actions.conversation_start(
                    creator=member, usernames=data["usernames"], subject=data["subject"]
                )
                actions.message_send(
                    sender=member,
                    conversation_id=started.pk,
                    body=data["body"],
                    client_key=data["client_key"] or None,
                )
            except DomainError as exc:
                form.add_error(None, error_text(exc))
                status = exc.status
                refused = exc
            else:
                return redirect(reverse("messaging:conversation", args=[started.pk]) + "#latest")
        picked = [
            *parse_usernames(" ".join(request.POST.getlist("connections"))),
            *parse_usernames(request.POST.get("to", "")),
        ]
    else:
        picked = parse_usernames(" ".join(request.GET.getlist("to")))[:50]
        if len(picked) == 1:
            existing = _existing_direct(member, picked[0])
            if existing is not None:
                return redirect(reverse("messaging:conversation", args=[existing]) + "#latest")
        form = NewConversationForm()
    connections = list(
        network_queries.connections_of(member).order_by("display_name", "id")[:PICKER_CONNECTIONS]
    )
    connection_names = {m.username for m in connections}
    recipients = list(
        Member.objects.filter(username__in=picked, is_active=True).exclude(pk=member.pk)[:50]
    )
    cards = _cards_by_id(member, [*connections, *recipients])
    if request.method == "GET":
        form.initial["to"] = ", ".join(u for u in picked if u not in connection_names)
    return with_retry_after(
        render(
            request,
            "messaging/new.html",
            {
                "form": form,
                "connections": [cards[m.pk] for m in connections],
                "picked": set(picked),
                "away_recipients": [cards[m.pk] for m in recipients if cards[m.pk]["away"]],
                "has_connections_more": len(connections) >= PICKER_CONNECTIONS,
            },
            status=status,
        ),
        refused,
    )
