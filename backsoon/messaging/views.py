"""Web pages for messaging: the conversation list, one conversation, a new message.

Two fragments serve live updates (``live.js``): the conversation list and the
messages after a given id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.accounts.queries import member_by_username
from backsoon.errors import DomainError, NotFound
from backsoon.network import queries as network_queries
from backsoon.triage import rules as triage_rules
from backsoon.web.forms import error_text
from backsoon.web.net import current_member, not_found_page, with_retry_after

from . import actions, queries
from .forms import AddMembersForm, MessageForm, NewConversationForm, parse_usernames
from .models import Conversation, Message, Participant, SavedReply

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

Folder = Participant.Folder
# The label filters offered above Inbox and Requests (TRIAGE C2), besides "All".
LABEL_FILTERS = (triage_rules.KNOWN, triage_rules.MASS, triage_rules.FIRST_CONTACT)
_SELF_EXPLAINING = (triage_rules.KNOWN, triage_rules.FIRST_CONTACT)
_SIMILAR_KEY = re.compile(r"^-?[0-9]{1,19}$")
_BIGINT = 2**63


@dataclass(frozen=True)
class ListFilter:
    """What the conversation list shows: a folder, narrowed to a label or to one
    group of similar texts (TRIAGE S1, C1, C2, L6)."""

    folder: str = Folder.INBOX
    label: str | None = None
    similar: int | None = None

    @classmethod
    def parse(cls, params: QueryDict) -> ListFilter:
        """From ``?folder=&label=&similar=``: anything unknown falls back to the inbox,
        all labels, all texts (a list is never an error page)."""
        folder = params.get("folder", "")
        label = params.get("label", "")
        similar = params.get("similar", "")
        key = int(similar) if _SIMILAR_KEY.match(similar) else None
        return cls(
            folder=folder if folder in queries.FOLDERS else Folder.INBOX,
            label=label if label in triage_rules.CODES else None,
            similar=key if key is not None and -_BIGINT <= key < _BIGINT else None,
        )

    @property
    def narrowed(self) -> bool:
        return self.label is not None or self.similar is not None

    def params(self, **extra: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.folder != Folder.INBOX:
            found["folder"] = self.folder
        if self.label is not None:
            found["label"] = self.label
        if self.similar is not None:
            found["similar"] = self.similar
        found.update({k: v for k, v in extra.items() if v is not None})
        return found

    def url(self, name: str = "messaging:index", **extra: Any) -> str:
        query = urlencode(self.params(**extra))
        return reverse(name) + (f"?{query}" if query else "")


def _label_chips(labels: Any) -> list[dict[str, str]]:
    return [
        {**label, "title": triage_rules.label_title(label["code"])}
        for label in triage_rules.labels_out(labels)
    ]


def inbox_rows(
    member: Member,
    *,
    where: ListFilter | None = None,
    active_id: int | None = None,
    limit: int = CONVERSATIONS_SHOWN,
    also: Iterable[Member] = (),
) -> tuple[list[dict[str, Any]], bool, dict[int, dict[str, Any]]]:
    """The member's conversations of one folder (``where``), newest activity first,
    ready for the list template.

    Four queries for any number of conversations: the participant rows with their
    conversations and last messages, the participants of those conversations, and
    the away badges of everyone shown (and of ``also``, fetched in the same go); one
    more for the sizes of the groups of similar texts, when a row belongs to one.

    Returns:
        The rows, whether there are more conversations than ``limit``, and the
        member cards of everyone involved keyed by member id.
    """
    where = where or ListFilter()
    participations: list[Participant] = list(
        queries.inbox(
            member, folder=where.folder, label=where.label, similar=where.similar
        ).order_by("-last_message_at", "-conversation_id")[: limit + 1]
    )
    more = len(participations) > limit
    participations = participations[:limit]
    queries.hide_blocked_last_messages(member, participations)
    similar = queries.similar_counts(member, [p.similar_key for p in participations], where.folder)
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
        labels = _label_chips(row.labels)
        group = similar.get(row.similar_key, 0) if row.similar_key is not None else 0
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
                "folder": row.folder,
                "muted": row.muted,
                "labels": labels,
                # Known and first contact need no explaining on every row (the chip
                # says it; its title has the reason); mass and the others show why.
                "reasons": [c["reason"] for c in labels if c["code"] not in _SELF_EXPLAINING],
                "similar": group if group > 1 and where.similar is None else 0,
                "similar_url": ListFilter(folder=where.folder, similar=row.similar_key).url()
                if group > 1
                else "",
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


def _matching_count(member: Member, where: ListFilter) -> int:
    """How many of the member's conversations the filter matches (one indexed count)."""
    rows = Participant.objects.filter(member=member, left_at__isnull=True, folder=where.folder)
    if where.label is not None:
        rows = rows.filter(label_codes__contains=f",{where.label},")
    if where.similar is not None:
        rows = rows.filter(similar_key=where.similar)
    return rows.count()


def _bulk_choices(folder: str) -> list[tuple[str, str]]:
    """The bulk actions that make sense in a folder, as (action, label)."""
    if folder == Folder.REQUESTS:
        return [("accept", _("Accept")), ("decline", _("Decline")), ("read", _("Mark read"))]
    if folder == Folder.ARCHIVED:
        return [
            ("unarchive", _("Move back")),
            ("read", _("Mark read")),
            ("mute", _("Mute")),
            ("unmute", _("Unmute")),
        ]
    return [
        ("archive", _("Archive")),
        ("read", _("Mark read")),
        ("mute", _("Mute")),
        ("unmute", _("Unmute")),
    ]


def _list_context(
    request: HttpRequest,
    member: Member,
    active_id: int | None,
    also: Iterable[Member] = (),
    *,
    where: ListFilter,
) -> dict[str, Any]:
    limit = _limit(request)
    rows, more, cards = inbox_rows(member, where=where, active_id=active_id, limit=limit, also=also)
    matching = _matching_count(member, where) if (more or where.narrowed) and rows else None
    folder_titles: dict[str, str] = {
        Folder.INBOX: _("Inbox"),
        Folder.REQUESTS: _("Requests"),
        Folder.ARCHIVED: _("Archived"),
    }
    return {
        "rows": rows,
        "more_url": "?" + urlencode(where.params(limit=limit + CONVERSATIONS_SHOWN))
        if more
        else None,
        "active_id": active_id,
        "cards": cards,
        "where": where,
        "folder": where.folder,
        "folder_title": folder_titles[where.folder],
        "tabs": [
            {"folder": f, "title": folder_titles[f], "url": ListFilter(folder=f).url()}
            for f in queries.FOLDERS
        ],
        "label_filters": [
            {
                "code": code,
                "title": triage_rules.label_title(code) if code else _("All"),
                "url": ListFilter(folder=where.folder, label=code).url(),
                "active": where.label == code and where.similar is None,
            }
            for code in (None, *LABEL_FILTERS)
        ]
        if where.folder != Folder.ARCHIVED
        else [],
        "list_url": where.url("messaging:list", active=active_id, limit=limit),
        "bulk_choices": _bulk_choices(where.folder),
        # "Reply with a saved reply" in the bulk bar (TRIAGE C3).
        "saved_replies": list(queries.saved_replies_of(member).only("pk", "name")),
        "matching": matching,
        "group_action": "decline" if where.folder == Folder.REQUESTS else "archive",
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    where = ListFilter.parse(request.GET)
    return render(
        request, "messaging/index.html", _list_context(request, member, None, where=where)
    )


@login_required
@require_GET
def list_fragment(request: HttpRequest) -> HttpResponse:
    """The conversation list alone (of ``?folder=``, ``label``, ``similar``), for live
    updates."""
    member = current_member(request)
    try:
        active_id = _int_param(request.GET.get("active"))
    except ValueError:
        active_id = None
    where = ListFilter.parse(request.GET)
    html = render_to_string(
        "messaging/_conversation_list.html",
        _list_context(request, member, active_id, where=where),
        request=request,
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
    # The list beside it shows the folder the conversation is in.
    where = ListFilter(folder=me.folder if me is not None else Folder.INBOX)
    listing = _list_context(
        request, member, conversation.pk, also=[p.member for p in participants], where=where
    )
    cards = listing["cards"]
    others = [cards[p.member_id] for p in participants if p.member_id != member.pk]
    found = queries.messages_of(conversation, viewer=member)
    if before is not None:
        found = found.filter(pk__lt=before)
    batch = list(found.order_by("-id")[: MESSAGES_SHOWN + 1])
    has_earlier = len(batch) > MESSAGES_SHOWN
    shown = batch[:MESSAGES_SHOWN][::-1]
    rows = message_rows(shown, viewer=member, last_read_id=last_read_id)
    # The list beside it has read the saved replies' names: no more queries without any.
    saved = _saved_replies_for(member, conversation) if me and listing["saved_replies"] else []
    if form is None and saved:
        form = _form_with_saved_reply(request, saved)
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
        "mine": me,
        "is_request": me is not None and me.folder == Folder.REQUESTS,
        "conversation_labels": _label_chips(me.labels) if me is not None else [],
        "saved_replies": saved,
    }
    return render(request, "messaging/conversation.html", context, status=status)


def _saved_replies_for(member: Member, conversation: Conversation) -> list[dict[str, Any]]:
    """The member's saved replies as they would be sent in ``conversation`` (TRIAGE
    C3): ``{pk, name, text}``, ``{first_name}`` filled for the member being answered.
    Two queries when there are any, one when there are none."""
    replies: list[SavedReply] = list(queries.saved_replies_of(member))
    if not replies:
        return []
    to = queries.addressees(member, [conversation.pk]).get(conversation.pk)
    first_name = to.first_name if to is not None else ""
    return [
        {
            "pk": r.pk,
            "name": r.name,
            "text": actions.saved_reply_text(r.body, first_name=first_name),
        }
        for r in replies
    ]


def _form_with_saved_reply(request: HttpRequest, saved: list[dict[str, Any]]) -> MessageForm | None:
    """The compose form holding the saved reply of ``?reply=<id>`` (TRIAGE C3: works
    without JavaScript); None without one, or for one that is not the member's."""
    try:
        reply_id = _int_param(request.GET.get("reply"))
    except ValueError:
        return None
    chosen = next((r for r in saved if r["pk"] == reply_id), None)
    if chosen is None:
        return None
    return MessageForm(initial={"body": chosen["text"]})


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


# -- where a conversation sits: one at a time and in bulk (TRIAGE S3, C1, C2) ------------


def _problem(
    request: HttpRequest, detail: str, *, status: int, back: str, code: str
) -> HttpResponse:
    """A friendly 4xx page for an action that could not be done."""
    return render(
        request,
        "messaging/problem.html",
        {"detail": detail, "code": code, "back": back},
        status=status,
    )


@dataclass(frozen=True)
class FolderAction:
    """One button of the conversation header or the request banner."""

    run: Callable[..., Conversation]
    done: Callable[[], str]
    # Where to go after: the conversation, or the list of the folder it was in.
    to_list: bool


FOLDER_ACTIONS: dict[str, FolderAction] = {
    "accept": FolderAction(
        actions.conversation_accept,
        lambda: _("Request accepted: the conversation is in your inbox."),
        to_list=False,
    ),
    "decline": FolderAction(
        actions.conversation_decline,
        lambda: _("Request declined. Nobody is told; you find it under Archived."),
        to_list=True,
    ),
    "report": FolderAction(
        actions.conversation_report,
        lambda: _("Reported. The sender is blocked and the moderators will have a look."),
        to_list=True,
    ),
    "archive": FolderAction(
        actions.conversation_archive,
        lambda: _("Conversation archived. It comes back when someone writes in it."),
        to_list=True,
    ),
    "unarchive": FolderAction(
        actions.conversation_unarchive,
        lambda: _("Conversation moved back out of Archived."),
        to_list=False,
    ),
    # Opening the conversation would read it again: back to the list instead.
    "unread": FolderAction(
        actions.conversation_mark_unread, lambda: _("Marked as unread."), to_list=True
    ),
    "mute": FolderAction(
        partial(actions.conversation_mute, muted=True),
        lambda: _("Conversation muted: it no longer alerts you."),
        to_list=False,
    ),
    "unmute": FolderAction(
        partial(actions.conversation_mute, muted=False),
        lambda: _("Conversation unmuted."),
        to_list=False,
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def folder_action(request: HttpRequest, conversation_id: int, action: str) -> HttpResponse:
    """Accept, decline, report, archive, unarchive, mark unread, mute or unmute one
    conversation (POST), then back to it or to the list of the folder it was in, with
    a flash. Reporting asks first: GET shows the confirm form."""
    member = current_member(request)
    chosen = FOLDER_ACTIONS.get(action)
    try:
        found = queries.conversation_for_member(member, conversation_id)
    except NotFound:
        return not_found_page(request)
    if chosen is None:
        return not_found_page(request)
    here = reverse("messaging:conversation", args=[found.pk])
    mine = queries.participation(member, found)
    if request.method == "GET":
        if action != "report":
            return redirect(here)
        if mine.folder != Folder.REQUESTS:
            return _problem(
                request,
                _("This conversation is not a request."),
                status=409,
                back=here,
                code="not_a_request",
            )
        if found.kind == Conversation.Kind.DIRECT:
            participants = queries.active_participants(found)
            others = [p.member for p in participants if p.member_id != member.pk]
        else:  # a group's request comes from who started it
            others = [m for m in [found.created_by] if m is not None and m.pk != member.pk]
        return render(
            request,
            "messaging/report.html",
            {"conversation": found, "others": others, "back": here},
        )
    try:
        chosen.run(member=member, conversation_id=found.pk)
    except NotFound:
        return not_found_page(request)
    except DomainError as exc:
        return _problem(request, error_text(exc), status=exc.status, back=here, code=exc.code)
    messages.success(request, chosen.done())
    if chosen.to_list:
        return redirect(ListFilter(folder=mine.folder).url())
    return redirect(here)


def _ids(values: Sequence[str]) -> list[int]:
    """Conversation ids from repeated form fields; ValueError for anything else."""
    ids = []
    for value in values:
        for part in value.split(","):
            if part.strip():
                parsed = _int_param(part.strip())
                if parsed is None:
                    raise ValueError(part)
                ids.append(parsed)
    return list(dict.fromkeys(ids))


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One action on many conversations (TRIAGE C1, C2): the ones ticked, every one on
    the page (``page``), or every one the list's filter matches (``matching``: not only
    the page; archive and decline then leave people the member knows alone, L1)."""
    member = current_member(request)
    where = ListFilter.parse(request.POST)
    back = where.url()
    action = request.POST.get("action", "")
    template: int | None = None
    if action.startswith("reply:"):
        # "Reply with a saved reply" (TRIAGE C3): ``reply:<saved reply id>``.
        try:
            template = _int_param(action.removeprefix("reply:"))
        except ValueError:
            template = None
        action = "reply" if template else ""
    if action != "reply" and action not in dict(_bulk_choices(where.folder)):
        return _problem(
            request, _("Pick an action first."), status=400, back=back, code="invalid_action"
        )
    try:
        if request.POST.get("matching"):
            changed = actions.conversations_bulk(
                member=member,
                action=action,
                folder=where.folder,
                label=where.label,
                similar=where.similar,
                template=template,
            )
            # A group of similar texts that was cleared: back to the whole folder.
            back = ListFilter(folder=where.folder, label=where.label).url()
        else:
            field = "page_ids" if request.POST.get("page") else "ids"
            ids = _ids(request.POST.getlist(field))
            if not ids:
                messages.warning(request, _("Select at least one conversation."))
                return redirect(back)
            changed = actions.conversations_bulk(
                member=member, action=action, ids=ids, template=template
            )
    except ValueError:
        return _problem(
            request,
            _("That selection is not a list of conversations."),
            status=400,
            back=back,
            code="invalid_ids",
        )
    except DomainError as exc:
        return _problem(request, error_text(exc), status=exc.status, back=back, code=exc.code)
    if action == "reply":
        done = ngettext("%(count)s reply sent.", "%(count)s replies sent.", changed)
    else:
        done = ngettext(
            "%(count)s conversation changed.", "%(count)s conversations changed.", changed
        )
    messages.success(request, done % {"count": changed})
    return redirect(back)


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
