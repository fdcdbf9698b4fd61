"""Web pages for the out-of-office: the settings page, the absence form, the live preview.

Each view parses a form, calls one action or query, and renders or redirects
(POST-redirect-GET). Domain errors are shown on the form with their status (409,
422); nothing a member types can cause a 500.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backsoon.accounts.models import Member
from backsoon.accounts.queries import member_by_username
from backsoon.errors import Conflict, DomainError, NotFound
from backsoon.network.queries import connections_of
from backsoon.web.forms import error_text
from backsoon.web.net import current_member, not_found_page, safe_next

from . import actions, queries
from .forms import AbsenceForm, PreviewValues, initial_for, initial_for_new, is_whole_days
from .models import Absence
from .rules import (
    AbsenceFacts,
    IncomingFacts,
    Skip,
    back_on,
    decide_reply,
    fill_placeholders,
    last_day_away,
    visible_reply,
)
from .texts import backup_label, format_back_on

DASH = "\u2013"  # between the first and the last day
HISTORY_SHOWN = 50
BACKUP_OPTIONS_SHOWN = 500
# The sample writer of the preview: placeholders are filled as for this person.
SAMPLE_FIRST_NAME = "Sam"

# Which form field a domain error code belongs to; others go to the form as a whole.
FIELD_FOR_CODE = {
    "bad_backup": "backup",
    "bad_audience": "audience",
    "bad_invitation_policy": "invitations",
    "bad_repeat": "repeat_after_days",
    "bad_translation": "message",
    "empty_placeholder": "backup",
}


# -- helpers ------------------------------------------------------------------------


def _day_range(first: date, last: date) -> str:
    """Whole days, both included ("Mon 22 Dec to Fri 2 Jan 2060" with a dash), or one day."""
    # Date formats are translated: Dutch writes months in lower case ("vr 2 jan").
    day_year = pgettext("date format", "D j M Y")
    if first == last:
        return formats.date_format(first, day_year)
    start_format = pgettext("date format", "D j M") if first.year == last.year else day_year
    return _span(formats.date_format(first, start_format), formats.date_format(last, day_year))


def _span(start: str, end: str) -> str:
    return f"{start} {DASH} {end}"


def _overlap_message(member: Member, exc: DomainError) -> str:
    """The 409 of an overlap, with the other absence's days in the member's time zone.

    The action's own message names UTC instants; a person wants their own dates.
    """
    detail = exc.detail
    other_id = detail.get("absence_id") if isinstance(detail, dict) else None
    if other_id is not None:
        try:
            other = queries.absence_for_member(member, int(other_id))
        except (NotFound, TypeError, ValueError):
            other = None
        if other is not None:
            row = absence_row(other, member.timezone, timezone.now(), member.language)
            return _(
                "These dates overlap your absence of %(dates)s. "
                "Choose other dates, or change that absence."
            ) % {"dates": row["dates"]}
    return error_text(exc)


def _show_error(form: AbsenceForm, member: Member, exc: DomainError) -> int:
    """Put a domain error next to the field it is about; return the status to render with."""
    if exc.code == "absence_overlap":
        form.add_error(None, _overlap_message(member, exc))
    elif exc.code == "invalid_window":
        form.add_error(form.window_field, error_text(exc))
    else:
        field = FIELD_FOR_CODE.get(exc.code)
        form.add_error(field if field in form.fields else None, error_text(exc))
    return exc.status


def absence_row(
    absence: Absence, tz_name: str, now: datetime, language: str = "en"
) -> dict[str, Any]:
    """One absence as the pages show it: its state and its dates in the member's zone,
    and its return day (A6) in ``language``."""
    tz = ZoneInfo(tz_name)
    end = absence.effective_end
    whole = is_whole_days(absence.starts_at, absence.ends_at, tz_name)
    first = absence.starts_at.astimezone(tz)
    if whole:
        dates = _day_range(first.date(), last_day_away(absence.ends_at, tz_name))
    else:
        last = absence.ends_at.astimezone(tz)
        moment = pgettext("date format", "D j M Y, H:i")
        if is_whole_days(absence.ends_at, absence.ends_at, tz_name):
            # Ends at the start of a day: name the last day away, not "Sat 00:00",
            # which reads as a day the member is away on (A6).
            end_text = formats.date_format(
                last_day_away(absence.ends_at, tz_name), pgettext("date format", "D j M Y")
            )
        else:
            end_text = formats.date_format(last, moment)
        dates = _span(formats.date_format(first, moment), end_text)
    return {
        "absence": absence,
        "state": absence.state(now),
        "dates": dates,
        "last_day": last_day_away(end, tz_name),
        # A6: the one return day, as every page says it ("back on ...").
        "back_text": format_back_on(back_on(end, tz_name, absence.member.work_days), language),
        **_reply_summary(absence, language),
        "ended_early": absence.ended_at is not None and absence.ended_at < absence.ends_at,
        "ended_on": absence.ended_at,
        "whole_days": whole,
    }


def _reply_summary(absence: Absence, language: str) -> dict[str, Any]:
    """What the page says about the replies, from the rules themselves (R4, R7): the
    text a connection in ``language`` reads, and the languages replies exist in."""
    facts = queries.facts(absence)
    order = [language, *(lang for lang in actions.LANGUAGES if lang != language)]
    texts = {lang: visible_reply(facts, viewer_is_connection=True, language=lang) for lang in order}
    shown, shown_language = next(
        (texts[lang] for lang in order if texts[lang][0].strip()), ("", language)
    )
    if shown:
        # As it will read: the return day and the backup filled in, {first_name} kept.
        shown = fill_placeholders(
            shown,
            first_name="{first_name}",
            return_date=format_back_on(
                back_on(absence.effective_end, absence.member.timezone, absence.member.work_days),
                shown_language,
            ),
            backup=backup_label(absence.backup),
        )
    languages = [lang for lang in order if texts[lang][0].strip() and texts[lang][1] == lang]
    return {
        "reply_text": shown,
        "reply_languages": ", ".join(_language_name(lang) for lang in languages),
    }


def _backup_label(username: str) -> str:
    """``{backup}`` as the real reply fills it: "Display Name (@username)"."""
    if not username:
        return ""
    try:
        backup = member_by_username(username)
    except NotFound:
        return f"@{username}"
    return backup_label(backup)


def reply_preview(
    values: PreviewValues,
    *,
    tz_name: str,
    now: datetime,
    default_language: str = "en",
    work_days: str = "12345",
) -> dict[str, Any]:
    """The automatic reply as a connection and as anyone else would get it (R4, R7, R8).

    Uses the very functions the real reply goes through: ``rules.decide_reply`` (and
    so ``rules.visible_reply``), ``rules.fill_placeholders``, ``rules.back_on`` and
    ``texts.format_back_on``. The writer is a sample person named Sam who reads
    ``values.language`` (``default_language`` when the form did not say); the
    member's own texts are in ``default_language`` (R7: the return day is written in
    the language of the text it is in).
    """
    language = values.language or default_language
    if language not in actions.LANGUAGES:
        language = "en"
    back = None
    if values.window is not None:
        starts_at, ends_at = values.window
        back = back_on(ends_at, tz_name, work_days)
    else:
        # No valid dates yet: preview the text as if the absence were on now.
        starts_at, ends_at = now, now + timedelta(days=1)
    facts = AbsenceFacts(
        language=default_language if default_language in actions.LANGUAGES else "en",
        others_translations=values.others_translations,
        starts_at=starts_at,
        effective_end=ends_at,
        message=values.message,
        translations=values.translations,
        audience=values.audience,
        others_message=values.others_message,
    )
    backup = _backup_label(values.backup)
    result: dict[str, Any] = {"language": language, "language_name": _language_name(language)}
    for key, is_connection in (("connection", True), ("others", False)):
        incoming = IncomingFacts(
            sent_at=starts_at,
            is_direct=True,
            kind="normal",
            sender_id=-1,  # the sample writer: nobody in particular
            recipient_id=0,
            sender_is_bot=False,
            blocked=False,
            sender_is_connection=is_connection,
            sender_language=language,
        )
        decision = decide_reply(facts, incoming, last_reply_at=None)
        text = ""
        if decision.send:
            return_date = (
                format_back_on(back, decision.language)
                if back is not None
                else _("[your return date]")
            )
            text = fill_placeholders(
                decision.text,
                first_name=SAMPLE_FIRST_NAME,
                return_date=return_date,
                backup=backup,
            )
        result[key] = {
            "sent": decision.send,
            "text": text,
            "note": _preview_note(values, decision.skip, is_connection, language),
        }
    result["warnings"] = _preview_warnings(values, backup)
    return result


def _language_name(language: str) -> str:
    return {"en": _("English"), "nl": _("Dutch")}.get(language, language)


def _preview_note(
    values: PreviewValues, skip: Skip | None, is_connection: bool, language: str
) -> str:
    """Which text a writer gets, or why they get none, in a few words."""
    if skip == Skip.AUDIENCE:
        if values.audience == Absence.Audience.NOBODY:
            return _("No automatic reply: you chose nobody.")
        return _("No automatic reply: only your connections get one.")
    if skip == Skip.EMPTY:
        return _("No automatic reply yet: write a message.")
    if skip is not None:
        return _("No automatic reply.")
    others = values.others_message.strip() or any(
        text.strip() for text in values.others_translations.values()
    )
    if not is_connection and others:
        return _("Your text for others")
    if (values.translations.get(language) or "").strip():
        return _("Your %(language)s version") % {"language": _language_name(language)}
    return _("Your main message")


def _preview_warnings(values: PreviewValues, backup: str) -> list[str]:
    texts = [
        values.message,
        values.others_message,
        *values.translations.values(),
        *values.others_translations.values(),
    ]
    if not backup and any("{backup}" in text for text in texts):
        return [
            _(
                "You use {backup} but chose no backup contact: choose one, or take "
                "{backup} out of the text."
            )
        ]
    return []


def _preview_for(form: AbsenceForm, member: Member) -> dict[str, Any]:
    return reply_preview(
        form.preview_values(),
        tz_name=member.timezone,
        now=timezone.now(),
        default_language=member.language,
        work_days=member.work_days,
    )


def _form_context(
    request: HttpRequest, member: Member, form: AbsenceForm, **extra: Any
) -> dict[str, Any]:
    backups = connections_of(member).order_by("username").only("username", "display_name")
    return {
        "form": form,
        "preview": _preview_for(form, member),
        "backup_options": list(backups[:BACKUP_OPTIONS_SHOWN]),
        "timezone_name": member.timezone,
        "sample_name": SAMPLE_FIRST_NAME,
        **extra,
    }


def _index_context(request: HttpRequest, member: Member) -> dict[str, Any]:
    now = timezone.now()
    rows = [
        absence_row(a, member.timezone, now, member.language)
        for a in queries.absences_of(member).order_by("-starts_at", "-id")
    ]
    upcoming = sorted(
        (r for r in rows if r["state"] in ("active", "scheduled")),
        key=lambda r: r["absence"].starts_at,
    )
    # A new absence starts today, or the day after the planned ones, so that the
    # form does not suggest an overlap.
    first_free = max(
        [timezone.localdate(now, timezone=ZoneInfo(member.timezone))]
        + [r["last_day"] + timedelta(days=1) for r in upcoming]
    )
    form = AbsenceForm(
        initial=initial_for_new(first_free, member.language), tz_name=member.timezone
    )
    return _form_context(
        request,
        member,
        form,
        current=upcoming[0] if upcoming else None,
        upcoming=upcoming[1:],
        history=[r for r in rows if r["state"] == "ended"][:HISTORY_SHOWN],
    )


def _saved_message(absence: Absence, member: Member) -> str:
    row = absence_row(absence, member.timezone, timezone.now(), member.language)
    if row["state"] == "active":
        return _("You are away: %(dates)s. Your automatic reply is on.") % {"dates": row["dates"]}
    return _("Your absence is scheduled: %(dates)s.") % {"dates": row["dates"]}


# -- pages --------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The out-of-office page: the current or next absence, a form, and the history."""
    member = current_member(request)
    return render(request, "away/index.html", _index_context(request, member))


@login_required
@require_http_methods(["GET", "POST"])
def absence_new(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    today = timezone.localdate(timezone=ZoneInfo(member.timezone))
    form = AbsenceForm(
        request.POST if request.method == "POST" else None,
        initial=initial_for_new(today, member.language),
        tz_name=member.timezone,
        language=member.language,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                absence = actions.absence_create(member=member, data=form.to_input())
            except DomainError as exc:
                status = _show_error(form, member, exc)
            else:
                messages.success(request, _saved_message(absence, member))
                return redirect("away:index")
        else:
            status = 422
    return render(
        request,
        "away/form_page.html",
        _form_context(request, member, form, absence=None),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def absence_edit(request: HttpRequest, absence_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        absence = queries.absence_for_member(member, absence_id)
    except NotFound:
        return not_found_page(request)
    now = timezone.now()
    if absence.state(now) == "ended":
        messages.info(request, _("This absence has ended. It stays in your history."))
        return redirect("away:index")
    form = AbsenceForm(
        request.POST if request.method == "POST" else None,
        initial=initial_for(absence, member.timezone, member.language),
        tz_name=member.timezone,
        language=member.language,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                absence = actions.absence_update(
                    member=member, absence_id=absence.pk, data=form.to_input(current=absence)
                )
            except DomainError as exc:
                status = _show_error(form, member, exc)
            else:
                messages.success(request, _saved_message(absence, member))
                return redirect("away:index")
        else:
            status = 422
    return render(
        request,
        "away/form_page.html",
        _form_context(
            request,
            member,
            form,
            absence=absence,
            row=absence_row(absence, member.timezone, now, member.language),
        ),
        status=status,
    )


@login_required
@require_POST
def absence_end(request: HttpRequest, absence_id: int) -> HttpResponse:
    """End now (A4), from the banner or the settings page; back to where the member was."""
    member = current_member(request)
    try:
        ended = actions.absence_end(member=member, absence_id=absence_id)
    except NotFound:
        return not_found_page(request)
    except Conflict as exc:
        messages.info(request, error_text(exc))
    else:
        if ended is None:
            messages.success(request, _("Your scheduled absence is cancelled."))
            return redirect(safe_next(request) or reverse("away:index"))
        messages.success(
            request,
            _("Welcome back, %(name)s. Your automatic replies are off.")
            % {"name": member.first_name},
        )
        # Coming back leads to what arrived meanwhile (TRIAGE C4, AWAY-SPEC D1).
        return redirect("away:digest", absence_id=ended.pk)
    return redirect(safe_next(request) or reverse("away:index"))


@login_required
@require_POST
def absence_delete(request: HttpRequest, absence_id: int) -> HttpResponse:
    member = current_member(request)
    try:
        actions.absence_delete(member=member, absence_id=absence_id)
    except NotFound:
        return not_found_page(request)
    except Conflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The absence is deleted."))
    return redirect("away:index")


@login_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The live preview as JSON: the texts a connection and anyone else would get."""
    member = current_member(request)
    form = AbsenceForm(request.POST, tz_name=member.timezone, language=member.language)
    return JsonResponse(_preview_for(form, member))
