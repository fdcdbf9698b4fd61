"""Web pages of the calendar import and export, and the public export feed itself.

``/away/calendar/`` shows everything on one page: upload an .ics file, the import
report, feed subscriptions, keywords and default message, and the private export
URL. Forms that produce something to show (a report, a new export URL) render the
page directly; the others redirect back to it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from backsoon.accounts.models import Member
from backsoon.errors import DomainError, NotFound
from backsoon.web.net import current_member

from . import export, feeds, preferences, sync
from .export import export_url
from .forms import CalendarFeedForm, CalendarSettingsForm, CalendarUploadForm


def _error_parts(exc: DomainError) -> tuple[str, list[str]]:
    """The message of a domain error and the problems it lists, if any."""
    detail = exc.detail
    if isinstance(detail, dict):
        problems = [str(p) for p in detail.get("problems") or []]
        return str(detail.get("message") or exc.code), problems
    return str(detail), []


def _page(
    request: HttpRequest,
    member: Member,
    *,
    status: int = 200,
    upload_form: CalendarUploadForm | None = None,
    feed_form: CalendarFeedForm | None = None,
    settings_form: CalendarSettingsForm | None = None,
    report: sync.ImportReport | None = None,
    report_title: str = "",
    problems: list[str] | None = None,
    new_export_url: str | None = None,
) -> HttpResponse:
    options = preferences.calendar_settings_for(member)
    if settings_form is None:
        settings_form = CalendarSettingsForm(
            initial={
                "keywords": "\n".join(options.keywords or []),
                "default_message": options.default_message,
                "default_audience": options.default_audience,
            }
        )
    context: dict[str, Any] = {
        "upload_form": upload_form or CalendarUploadForm(),
        "feed_form": feed_form or CalendarFeedForm(),
        "settings_form": settings_form,
        "feeds": feeds.calendar_feeds_of(member),
        "options": options,
        "export_active": bool(options.export_token_digest),
        "new_export_url": new_export_url,
        "report": report,
        "report_title": report_title,
        "problems": problems or [],
    }
    return render(request, "away/calendar.html", context, status=status)


@login_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    return _page(request, current_member(request))


@login_required
@require_POST
def calendar_import(request: HttpRequest) -> HttpResponse:
    """Upload an .ics file; the page shows the report, or what could not be read."""
    member = current_member(request)
    form = CalendarUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        too_large = any(e.code == "too_large" for e in form.errors.as_data().get("file", []))
        return _page(request, member, upload_form=form, status=413 if too_large else 422)
    try:
        report = sync.calendar_import_upload(member=member, data=form.cleaned_data["file"].read())
    except DomainError as exc:
        message, problems = _error_parts(exc)
        form.add_error(None, message)
        return _page(request, member, upload_form=form, problems=problems, status=exc.status)
    return _page(request, member, report=report, report_title=_("Your calendar was imported."))


@login_required
@require_POST
def calendar_settings(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = CalendarSettingsForm(request.POST)
    if form.is_valid():
        try:
            preferences.calendar_settings_update(member=member, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, _error_parts(exc)[0])
        else:
            messages.success(request, _("Calendar settings saved."))
            return redirect("away:calendar")
    return _page(request, member, settings_form=form, status=422)


@login_required
@require_POST
def calendar_feed_add(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = CalendarFeedForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            feeds.calendar_feed_add(member=member, url=form.cleaned_data["url"])
        except DomainError as exc:
            form.add_error("url", _error_parts(exc)[0])
            status = exc.status
        else:
            messages.success(
                request, _("Feed added. It is read within a minute, then every 15 minutes.")
            )
            return redirect("away:calendar")
    return _page(request, member, feed_form=form, status=status)


@login_required
@require_POST
def calendar_feed_delete(request: HttpRequest, feed_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        report = feeds.calendar_feed_delete(member=member, feed_id=feed_id)
    except NotFound:
        return _page(request, member, status=404)
    removed = len(report.removed)
    messages.success(
        request,
        ngettext(
            "Feed removed, with the %(count)s scheduled absence it made.",
            "Feed removed, with the %(count)s scheduled absences it made.",
            removed,
        )
        % {"count": removed}
        if removed
        else _("Feed removed."),
    )
    return redirect("away:calendar")


@login_required
@require_POST
def calendar_feed_sync(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Queue a fetch of the feed for the worker and go back to the page."""
    member = current_member(request)
    try:
        feeds.calendar_feed_sync_now(member=member, feed_id=feed_id)
    except DomainError as exc:
        message, problems = _error_parts(exc)
        messages.error(request, message)
        return _page(request, member, problems=problems, status=exc.status)
    messages.success(
        request, _("The feed is queued; it is read within a minute. Reload to see the result.")
    )
    return redirect("away:calendar")


@login_required
@require_POST
def calendar_export_token(request: HttpRequest) -> HttpResponse:
    """Make a new export URL (the old one stops working) and show it, once."""
    member = current_member(request)
    token = export.calendar_export_token_regenerate(member=member)
    return _page(request, member, new_export_url=export_url(request, token))


@login_required
@require_POST
def calendar_export_revoke(request: HttpRequest) -> HttpResponse:
    export.calendar_export_token_revoke(member=current_member(request))
    messages.success(request, _("Your export URL no longer works."))
    return redirect("away:calendar")


@require_safe
def calendar_export(request: HttpRequest, token: str) -> HttpResponse:
    """The member's absences as an ICS feed. No session: the token in the URL is the secret."""
    try:
        body = export.calendar_export_ics(token=token)
    except NotFound:
        return HttpResponseNotFound(
            _("No such calendar."), content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="backsoon-absences.ics"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
