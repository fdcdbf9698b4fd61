"""The return digest as a web page, with bulk handling of held invitations (D1, I3)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from backsoon.errors import DomainError, NotFound
from backsoon.web.net import current_member

from . import actions, queries
from .digest import digest_for


@login_required
def digest(request: HttpRequest, absence_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        absence = queries.absence_for_member(member, absence_id)
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    return render(request, "away/digest.html", {"digest": digest_for(member, absence)})


@login_required
@require_POST
def digest_invitations(request: HttpRequest, absence_id: int) -> HttpResponse:
    """Accept everyone with N+ mutual connections, or accept/ignore the selected ones."""
    member = current_member(request)
    action = request.POST.get("action")
    ids: list[int] | None = None
    min_mutual: int | None = None
    try:
        if request.POST.get("min_mutual"):
            min_mutual = max(0, int(request.POST["min_mutual"]))
        else:
            ids = [int(i) for i in request.POST.getlist("ids")]
    except ValueError:
        messages.error(request, _("That selection is not valid."))
        return redirect("away:digest", absence_id=absence_id)
    if action not in {"accept", "ignore"}:
        messages.error(request, _("Choose accept or ignore."))
        return redirect("away:digest", absence_id=absence_id)
    try:
        done = actions.digest_invitations_respond(
            member=member,
            absence_id=absence_id,
            accept=action == "accept",
            ids=ids,
            min_mutual=min_mutual,
        )
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("away:digest", absence_id=absence_id)
    if action == "accept":
        text = ngettext("%(n)d invitation accepted.", "%(n)d invitations accepted.", len(done))
    else:
        text = ngettext("%(n)d invitation ignored.", "%(n)d invitations ignored.", len(done))
    messages.success(request, text % {"n": len(done)})
    return redirect("away:digest", absence_id=absence_id)
