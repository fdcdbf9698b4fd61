"""The digest's conversation forms (TRIAGE C4): handle, or reply in place; the page
itself is away's (``backsoon.away.digest_views``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backsoon.away import queries
from backsoon.away.digest_views import _back, _handled, _ids
from backsoon.errors import DomainError, NotFound
from backsoon.web.forms import error_text
from backsoon.web.net import current_member

from . import digest as actions
from .actions import message_send


@login_required
@require_POST
def digest_conversations(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Archive, decline, accept or mark read conversations of the digest, or "the rest"
    of a section (requests declined, the others archived; never a known contact's)."""
    member = current_member(request)
    ids = _ids(request)
    if ids is None:
        messages.error(request, _("That selection is not valid."))
        return _back(absence_id, request)
    try:
        n = actions.digest_conversations_handle(
            member=member,
            absence_id=absence_id,
            action=request.POST.get("action", ""),
            ids=ids or None,
            section=request.POST.get("section"),
        )
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _back(absence_id, request)
    _handled(request, n)
    return _back(absence_id, request)


@login_required
@require_POST
def digest_reply(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Reply in place: to one conversation of the digest (``conversation``), or with
    ``rest=1`` to every connection's conversation not handled yet."""
    member = current_member(request)
    body = request.POST.get("body", "")[:5000]
    raw_template = request.POST.get("template", "")
    try:
        queries.absence_for_member(member, absence_id)
        if request.POST.get("rest") == "1":
            n = actions.digest_reply_rest(
                member=member,
                absence_id=absence_id,
                body=None if raw_template.isdigit() else body,
                template=int(raw_template) if raw_template.isdigit() else None,
            )
        else:
            raw = request.POST.get("conversation", "")
            if not raw.isdigit():
                messages.error(request, _("That selection is not valid."))
                return _back(absence_id, request)
            message_send(sender=member, conversation_id=int(raw), body=body)
            n = 1
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _back(absence_id, request)
    _handled(request, n)
    return _back(absence_id, request)
