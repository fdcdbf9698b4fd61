"""Web pages for the network: invitations, connections, people you may know, profile buttons."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.errors import DomainError
from backsoon.triage import rules
from backsoon.web.forms import error_text
from backsoon.web.net import current_member, safe_next, with_retry_after
from backsoon.web.templatetags.away_badge import back_day

from . import actions, queries
from .forms import ConnectionSearchForm, InviteForm
from .models import Block, Invitation

CONNECTIONS_PER_PAGE = 30
SENT_PER_PAGE = 30
RECEIVED_PER_PAGE = 50
# The received invitations' filter links, in order (TRIAGE C2); "" is all of them.
LABEL_FILTERS = ("", rules.COLLECTOR, rules.MASS, rules.NOTE, rules.FIRST_CONTACT, rules.KNOWN)
# The received invitations' filter fields beside the label (TRIAGE C2).
FILTER_FIELDS = ("min_mutual", "max_mutual", "has_note", "older_than")
# What the page's links carry over: the connections' search and page, the received
# invitations' filter and page, the sent invitations' page.
PAGE_STATE = ("q", "page", "label", *FILTER_FIELDS, "invitations_page", "sent_page")
# "Older than" in days, at most about ten years.
OLDER_THAN_MAX = 3650
SUGGESTIONS_SHOWN = 8


def stored_badge(away_badge: dict[str, Any] | None) -> dict[str, Any] | None:
    """An invitation's stored away badge (ISO strings) as the badge template expects it."""
    if not away_badge:
        return None
    try:
        back_on = away_badge.get("back_on")
        return {
            "until": datetime.fromisoformat(away_badge["until"]),
            "until_date": date.fromisoformat(away_badge["until_date"]),
            "back_on": date.fromisoformat(back_on) if back_on else None,
            "message": away_badge.get("message") or "",
            "backup": away_badge.get("backup"),
        }
    except (KeyError, TypeError, ValueError):
        return None


def _cards_by_id(viewer: Member, members: list[Member]) -> dict[int, dict[str, Any]]:
    """Member cards keyed by member id, away badges included, in two queries at most."""
    unique = list({m.pk: m for m in members}.values())
    return {m.pk: card for m, card in zip(unique, member_cards(viewer, unique), strict=True)}


def _page_url(state: dict[str, str], anchor: str, **changes: str | int | None) -> str:
    """A link to /network/ with the page's ``state`` and ``changes`` (None drops a key)."""
    merged: dict[str, str | int | None] = {**state, **changes}
    query = urlencode(
        {key: value for key, value in merged.items() if value is not None and value != ""}
    )
    return reverse("network:index") + (f"?{query}" if query else "") + anchor


def _page_state(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET[key] for key in PAGE_STATE if request.GET.get(key)}


def _count(value: str | None, *, high: int) -> int | None:
    """A whole number from 0 to ``high`` typed in a filter field, else None."""
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 7:
        return None
    number = int(value)
    return number if number <= high else None


def received_filter(
    params: Any, *, now: datetime | None = None
) -> tuple[actions.InvitationsFilter, dict[str, str]]:
    """The received invitations' filter (TRIAGE C2) from a query string or a form: the
    label, mutual connections at least / at most N, has a note (``yes``/``no``), older
    than N days. What is not understood is left out; also returns the fields kept, as
    strings (for links and hidden inputs)."""
    kept: dict[str, str] = {}
    label = params.get("label") or ""
    if label in rules.CODES:
        kept["label"] = label
    min_mutual = _count(params.get("min_mutual"), high=1_000_000)
    max_mutual = _count(params.get("max_mutual"), high=1_000_000)
    older_than = _count(params.get("older_than"), high=OLDER_THAN_MAX)
    has_note = {"yes": True, "no": False}.get(params.get("has_note") or "")
    for key, value in (
        ("min_mutual", min_mutual),
        ("max_mutual", max_mutual),
        ("older_than", older_than),
    ):
        if value is not None:
            kept[key] = str(value)
    if has_note is not None:
        kept["has_note"] = "yes" if has_note else "no"
    before = None
    if older_than is not None:
        before = (now or timezone.now()) - timedelta(days=older_than)
    kept = {key: kept[key] for key in ("label", *FILTER_FIELDS) if key in kept}
    return (
        actions.InvitationsFilter(
            label=label if "label" in kept else None,
            min_mutual=min_mutual,
            max_mutual=max_mutual,
            has_note=has_note,
            before=before,
        ),
        kept,
    )


def _received_page(request: HttpRequest, member: Member) -> tuple[list[Invitation], dict[str, Any]]:
    """The received pending invitations, filtered (TRIAGE C2) and paged, with the
    label links and their counts; a few queries, the rows are the caller's.

    Links keep the rest of the page's state (``PAGE_STATE``); a new filter starts at
    its first page. What the filter does not understand is left out.
    """
    state = _page_state(request)
    chosen, kept = received_filter(request.GET)
    for key in ("label", *FILTER_FIELDS):
        state.pop(key, None)
    state.update(kept)
    state = {key: state[key] for key in PAGE_STATE if key in state}
    label = kept.get("label", "")
    counts = queries.received_label_counts(member.pk, rules.CODES)
    pending = queries.invitations_for(member, box="received", status=Invitation.Status.PENDING)
    matching = queries.invitations_filtered(
        pending,
        member_id=member.pk,
        box="received",
        label=chosen.label,
        min_mutual=chosen.min_mutual,
        max_mutual=chosen.max_mutual,
        has_note=chosen.has_note,
        before=chosen.before,
    ).order_by("-created_at", "-id")
    paginator = Paginator(matching, RECEIVED_PER_PAGE)
    narrowed = any(key in kept for key in FILTER_FIELDS)
    if not narrowed:
        paginator.count = counts[label or "all"]  # counted above already
    page = paginator.get_page(state.get("invitations_page"))
    filters = [
        {
            "code": code,
            "title": rules.label_title(code) if code else _("All"),
            "count": counts[code or "all"],
            "url": _page_url(state, "#received", label=code or None, invitations_page=None),
            "current": code == label,
        }
        for code in LABEL_FILTERS
    ]
    return list(page.object_list), {
        "received_total": counts["all"],
        "received_page": page,
        "received_label": label,
        "received_filter": kept,
        "received_narrowed": narrowed,
        "received_matching": paginator.count,
        "received_clear_url": _page_url(
            {k: v for k, v in state.items() if k not in ("label", *FILTER_FIELDS)},
            "#received",
            invitations_page=None,
        ),
        "label_filters": filters,
        "received_prev_url": _page_url(
            state, "#received", invitations_page=page.previous_page_number()
        )
        if page.has_previous()
        else None,
        "received_next_url": _page_url(state, "#received", invitations_page=page.next_page_number())
        if page.has_next()
        else None,
        "received_live_url": reverse("network:received")
        + (f"?{urlencode(state)}" if state else ""),
    }


def _received_context(request: HttpRequest, member: Member) -> dict[str, Any]:
    received, context = _received_page(request, member)
    cards = _cards_by_id(member, [inv.from_member for inv in received])
    return {**context, "received": _received_rows(member, received, cards)}


def _received_rows(
    member: Member, received: list[Invitation], cards: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    mutual = queries.mutual_counts(member.pk, [inv.from_member_id for inv in received])
    return [
        {
            "invitation": inv,
            "card": cards[inv.from_member_id],
            "mutual": mutual.get(inv.from_member_id, 0),
            "labels": [
                {**shown, "title": rules.label_title(shown["code"])}
                for shown in rules.labels_out(inv.labels)
            ],
        }
        for inv in received
    ]


def _index_context(
    request: HttpRequest, member: Member, *, invite_form: InviteForm | None = None
) -> dict[str, Any]:
    """Everything /network/ shows, with the away badges of all members in one go."""
    received, received_state = _received_page(request, member)
    inviters = {inv.from_member_id for inv in received}
    search = ConnectionSearchForm(request.GET)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    sent_page = Paginator(
        queries.invitations_for(member, box="sent", status=Invitation.Status.PENDING).order_by(
            "-created_at", "-id"
        ),
        SENT_PER_PAGE,
    ).get_page(request.GET.get("sent_page"))
    sent = list(sent_page.object_list)
    page = Paginator(
        queries.connections_of(member, q=q).order_by("display_name", "id"), CONNECTIONS_PER_PAGE
    ).get_page(request.GET.get("page"))
    connections = list(page.object_list)
    # Someone who already invited you is in "Invitations", not a suggestion.
    suggestions = [
        (m, mutual)
        for m, mutual in queries.people_you_may_know(
            member, limit=SUGGESTIONS_SHOWN + len(inviters)
        )
        if m.pk not in inviters
    ][:SUGGESTIONS_SHOWN]
    cards = _cards_by_id(
        member,
        [inv.from_member for inv in received]
        + [inv.to_member for inv in sent]
        + connections
        + [m for m, _ in suggestions],
    )
    just_sent = None
    sent_id = request.GET.get("sent", "")
    if sent_id.isdigit() and len(sent_id) < 19:
        invitation = next((inv for inv in sent if inv.pk == int(sent_id)), None)
        if invitation is not None:
            just_sent = {
                "invitation": invitation,
                "card": cards[invitation.to_member_id],
                "badge": stored_badge(invitation.away_badge),
            }
    state = _page_state(request)
    return {
        **received_state,
        "received": _received_rows(member, received, cards),
        "sent": [{"invitation": inv, "card": cards[inv.to_member_id]} for inv in sent],
        "sent_page": sent_page,
        "sent_total": sent_page.paginator.count,
        "sent_prev_url": _page_url(state, "#sent", sent_page=sent_page.previous_page_number())
        if sent_page.has_previous()
        else None,
        "sent_next_url": _page_url(state, "#sent", sent_page=sent_page.next_page_number())
        if sent_page.has_next()
        else None,
        "just_sent": just_sent,
        "q": q,
        "page": page,
        "connections_prev_url": _page_url(state, "#connections", page=page.previous_page_number())
        if page.has_previous()
        else None,
        "connections_next_url": _page_url(state, "#connections", page=page.next_page_number())
        if page.has_next()
        else None,
        "connections": [cards[m.pk] for m in connections],
        "connections_total": member.connections_count,
        "suggestions": [
            {"card": cards[m.pk], "mutual": mutual, "form": _suggestion_form(m, invite_form)}
            for m, mutual in suggestions
        ],
        "invite_form": invite_form,
    }


def _suggestion_form(member: Member, failed: InviteForm | None) -> InviteForm:
    """The Connect form of one suggestion: the failed one keeps what was typed."""
    auto_id = f"id_%s_{member.username}"
    if failed is not None and failed.data.get("username", "").lower() == member.username:
        failed.auto_id = auto_id
        return failed
    return InviteForm(initial={"username": member.username}, auto_id=auto_id)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    return render(request, "network/index.html", _index_context(request, member))


@login_required
@require_GET
def received_fragment(request: HttpRequest) -> HttpResponse:
    """The received invitations list alone, for live updates (live.js)."""
    member = current_member(request)
    return render(request, "network/_received.html", _received_context(request, member))


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    """Send an invitation from a Connect button (on /network/ or a profile).

    When the recipient is away, the inviter sees their away badge at once (AWAY-SPEC I1).
    """
    member = current_member(request)
    form = InviteForm(request.POST)
    next_url = safe_next(request)
    status = 422
    refused: DomainError | None = None
    if form.is_valid():
        try:
            invitation = actions.invitation_send(
                sender=member,
                to_username=form.cleaned_data["username"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form.add_error(None, error_text(exc))
            status = exc.status
            refused = exc
        else:
            return _invited(request, invitation, next_url)
    if next_url is not None:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        for problem in problems or [_("The invitation could not be sent.")]:
            messages.error(request, problem)
        return redirect(next_url)
    return with_retry_after(
        render(
            request,
            "network/index.html",
            _index_context(request, member, invite_form=form),
            status=status,
        ),
        refused,
    )


def _invited(request: HttpRequest, invitation: Invitation, next_url: str | None) -> HttpResponse:
    recipient = invitation.to_member
    if invitation.status == Invitation.Status.ACCEPTED:
        # Accepted at once for an away member who shares enough connections (I2).
        messages.success(
            request,
            _("You are now connected with %(name)s.") % {"name": recipient.display_name},
        )
        return redirect(next_url or reverse("network:index"))
    if next_url is None:
        # /network/ shows the "sent" panel with the recipient's full away badge.
        return redirect(reverse("network:index") + f"?sent={invitation.pk}")
    messages.success(request, _("Invitation sent to %(name)s.") % {"name": recipient.display_name})
    badge = stored_badge(invitation.away_badge)
    if badge is not None:
        messages.info(
            request,
            _("%(name)s is away, back on %(date)s. Your invitation waits for their return.")
            % {
                "name": recipient.display_name,
                "date": back_day(badge, "long"),
            },
        )
    return redirect(next_url)


def _respond(request: HttpRequest, invitation_id: int, how: str) -> HttpResponse:
    member = current_member(request)
    try:
        if how == "accept":
            invitation = actions.invitation_accept(member=member, invitation_id=invitation_id)
            messages.success(
                request,
                _("You are now connected with %(name)s.")
                % {"name": invitation.from_member.display_name},
            )
        elif how == "ignore":
            invitation = actions.invitation_ignore(member=member, invitation_id=invitation_id)
            messages.success(
                request,
                _("Invitation ignored. %(name)s is not told.")
                % {"name": invitation.from_member.display_name},
            )
        else:
            invitation = actions.invitation_withdraw(member=member, invitation_id=invitation_id)
            messages.success(
                request,
                _("Invitation to %(name)s withdrawn.")
                % {"name": invitation.to_member.display_name},
            )
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect(safe_next(request) or reverse("network:index"))


@login_required
@require_POST
def accept(request: HttpRequest, invitation_id: int) -> HttpResponse:
    return _respond(request, invitation_id, "accept")


@login_required
@require_POST
def ignore(request: HttpRequest, invitation_id: int) -> HttpResponse:
    return _respond(request, invitation_id, "ignore")


@login_required
@require_POST
def withdraw(request: HttpRequest, invitation_id: int) -> HttpResponse:
    return _respond(request, invitation_id, "withdraw")


def _posted_ids(values: list[str]) -> list[int]:
    """Invitation ids from repeated form fields (each may hold several, comma
    separated); ValueError for anything else."""
    ids = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise ValueError(part)
            ids.append(int(part))
    return list(dict.fromkeys(ids))


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Accept or ignore many received invitations (TRIAGE C2): the ones ticked, all on
    the page (``page``), or all that match the list's filter (``matching``: every
    page, not only this one). Flashes how many changed."""
    member = current_member(request)
    chosen, kept = received_filter(request.POST)
    back = _page_url(kept, "#received")
    action = request.POST.get("action", "")
    if action not in ("accept", "ignore"):
        messages.error(request, _("Pick Accept or Ignore."))
        return redirect(back)
    accept = action == "accept"
    try:
        if request.POST.get("matching"):
            changed = actions.invitations_bulk(member=member, accept=accept, filter=chosen).changed
        else:
            field = "page_ids" if request.POST.get("page") else "ids"
            ids = _posted_ids(request.POST.getlist(field))
            if not ids:
                messages.warning(request, _("Select at least one invitation."))
                return redirect(back)
            changed = actions.invitations_bulk(
                member=member, accept=accept, invitation_ids=ids
            ).changed
    except ValueError:
        messages.error(request, _("That selection is not a list of invitations."))
        return redirect(back)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    if accept:
        text = ngettext(
            "%(count)s invitation accepted.", "%(count)s invitations accepted.", changed
        )
    else:
        text = ngettext("%(count)s invitation ignored.", "%(count)s invitations ignored.", changed)
    messages.success(request, text % {"count": changed})
    return redirect(back)


@login_required
@require_POST
def connection_remove(request: HttpRequest, username: str) -> HttpResponse:
    member = current_member(request)
    try:
        actions.connection_remove(member=member, username=username)
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Connection removed."))
    return redirect(safe_next(request) or reverse("network:index"))


def _member_action(request: HttpRequest, username: str, how: str) -> HttpResponse:
    member = current_member(request)
    try:
        if how == "follow":
            other = actions.follow_create(member=member, username=username)
            messages.success(request, _("You follow %(name)s.") % {"name": other.display_name})
        elif how == "unfollow":
            other = actions.follow_remove(member=member, username=username)
            messages.success(
                request, _("You no longer follow %(name)s.") % {"name": other.display_name}
            )
        elif how == "block":
            actions.block_create(member=member, username=username)
            messages.success(request, _("Blocked. They can no longer invite or message you."))
        else:
            actions.block_remove(member=member, username=username)
            messages.success(request, _("Unblocked."))
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect(safe_next(request) or reverse("accounts:profile", args=[username.lower()]))


@login_required
@require_POST
def follow(request: HttpRequest, username: str) -> HttpResponse:
    return _member_action(request, username, "follow")


@login_required
@require_POST
def unfollow(request: HttpRequest, username: str) -> HttpResponse:
    return _member_action(request, username, "unfollow")


@login_required
@require_POST
def block(request: HttpRequest, username: str) -> HttpResponse:
    return _member_action(request, username, "block")


@login_required
@require_POST
def unblock(request: HttpRequest, username: str) -> HttpResponse:
    return _member_action(request, username, "unblock")


def profile_actions_context(viewer: Member, member: Member) -> dict[str, Any]:
    """Context for ``network/_profile_actions.html`` on ``member``'s profile, seen by ``viewer``.

    Four small queries (connected, pending invitation, following, blocks); none for
    your own profile. Use: ``context.update(profile_actions_context(viewer, member))``.

    Returns:
        ``{"profile_actions": {...}}`` with the member, whether it is the viewer,
        the connection, the pending invitation either way (``pending_sent`` /
        ``pending_received``), following and block state.
    """
    state: dict[str, Any] = {"member": member, "is_me": viewer.pk == member.pk}
    if not state["is_me"]:
        blocks = set(
            Block.objects.filter(
                Q(blocker=viewer, blocked=member) | Q(blocker=member, blocked=viewer)
            ).values_list("blocker_id", flat=True)
        )
        pending = queries.pending_between(viewer.pk, member.pk)
        state.update(
            connected=queries.are_connected(viewer.pk, member.pk),
            pending_sent=pending if pending and pending.from_member_id == viewer.pk else None,
            pending_received=pending if pending and pending.to_member_id == viewer.pk else None,
            following=queries.is_following(viewer.pk, member.pk),
            blocked_by_me=viewer.pk in blocks,
            blocked_me=member.pk in blocks,
            invite_form=InviteForm(initial={"username": member.username}),
        )
    return {"profile_actions": state}
