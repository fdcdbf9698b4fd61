"""Web pages for saved replies (TRIAGE C3): list, create, edit and delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from backsoon.errors import DomainError, NotFound
from backsoon.web.forms import error_text
from backsoon.web.net import current_member, not_found_page

from . import actions, queries
from .forms import SavedReplyForm
from .models import SavedReply


def _field_for(exc: DomainError) -> str:
    return "name" if "name" in exc.code or exc.code == "too_many_templates" else "body"


@login_required
@require_http_methods(["GET", "POST"])
def saved_replies(request: HttpRequest) -> HttpResponse:
    """The member's saved replies, and a form to add one (POST)."""
    member = current_member(request)
    form = SavedReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                actions.saved_reply_create(
                    member=member, name=form.cleaned_data["name"], body=form.cleaned_data["body"]
                )
            except DomainError as exc:
                form.add_error(_field_for(exc), error_text(exc))
                status = exc.status
            else:
                messages.success(request, _("Saved reply added."))
                return redirect("messaging:saved_replies")
    replies = list(queries.saved_replies_of(member))
    return render(
        request,
        "messaging/saved_replies.html",
        {"replies": replies, "form": form, "at_most": actions.SAVED_REPLIES_MAX},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    """Edit one of the member's saved replies; another member's is not found."""
    member = current_member(request)
    try:
        reply: SavedReply = queries.saved_reply_for_member(member, reply_id)
    except NotFound:
        return not_found_page(request)
    form = SavedReplyForm(request.POST or None, initial={"name": reply.name, "body": reply.body})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                actions.saved_reply_update(
                    member=member,
                    saved_reply_id=reply.pk,
                    name=form.cleaned_data["name"],
                    body=form.cleaned_data["body"],
                )
            except NotFound:
                return not_found_page(request)
            except DomainError as exc:
                form.add_error(_field_for(exc), error_text(exc))
                status = exc.status
            else:
                messages.success(request, _("Saved reply changed."))
                return redirect("messaging:saved_replies")
    return render(
        request, "messaging/saved_reply_edit.html", {"reply": reply, "form": form}, status=status
    )


@login_required
@require_POST
def saved_reply_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        actions.saved_reply_delete(member=member, saved_reply_id=reply_id)
    except NotFound:
        return not_found_page(request)
    messages.success(request, _("Saved reply deleted."))
    return redirect("messaging:saved_replies")
