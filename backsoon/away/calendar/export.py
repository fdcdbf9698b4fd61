"""The export: a member's absences as a private ICS feed, behind a secret URL.

Only the SHA-256 digest of the secret is stored; making a new URL revokes the old.
``absences_to_ics`` is pure; the actions around it read and write the settings.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.errors import NotFound

from .models import CalendarSettings
from .parse import EXPORT_UID_DOMAIN, EXPORT_UID_PREFIX
from .preferences import settings_for_update


@dataclass(frozen=True)
class ExportedAbsence:
    """What the export feed shows of one absence."""

    id: int
    starts_at: datetime
    ends_at: datetime  # the effective end: ended_at when the member came back early
    message: str
    created_at: datetime


def export_uid(absence_id: int) -> str:
    return f"{EXPORT_UID_PREFIX}{absence_id}{EXPORT_UID_DOMAIN}"


def absences_to_ics(
    absences: Iterable[ExportedAbsence], *, now: datetime, name: str = "Out of office"
) -> bytes:
    """A VCALENDAR with one opaque VEVENT per absence (times in UTC).

    Each event carries ``X-MICROSOFT-CDO-BUSYSTATUS:OOF`` so Outlook shows it as
    out of office; its UID ``absence-<id>@backsoon`` is stable, so calendars update
    the event rather than duplicate it, and our own import skips it.
    """
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//Backsoon//Absences//EN")
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", name)
    calendar.add("X-PUBLISHED-TTL", "PT15M")
    calendar.add("REFRESH-INTERVAL", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    for absence in absences:
        event = icalendar.Event()
        event.add("UID", export_uid(absence.id))
        event.add("DTSTAMP", now.astimezone(UTC))
        event.add("CREATED", absence.created_at.astimezone(UTC))
        event.add("DTSTART", absence.starts_at.astimezone(UTC))
        event.add("DTEND", absence.ends_at.astimezone(UTC))
        event.add("SUMMARY", name)
        if absence.message:
            event.add("DESCRIPTION", absence.message)
        event.add("TRANSP", "OPAQUE")
        event.add("X-MICROSOFT-CDO-BUSYSTATUS", "OOF")
        calendar.add_component(event)
    return calendar.to_ical()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_export_token_regenerate(*, member: Member) -> str:
    """Make a new secret for the member's export feed; the old URL stops working.

    Returns:
        The new token. It is not stored (only its SHA-256 digest is) and can not
        be shown again.
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        current = settings_for_update(member)
        current.export_token_digest = _token_digest(token)
        current.export_token_prefix = token[:6]
        current.export_token_created_at = timezone.now()
        current.save(
            update_fields=["export_token_digest", "export_token_prefix", "export_token_created_at"]
        )
    return token


def calendar_export_token_revoke(*, member: Member) -> None:
    """Turn the member's export feed off: its URL answers 404 from now on."""
    CalendarSettings.objects.filter(member=member).update(
        export_token_digest=None, export_token_prefix="", export_token_created_at=None
    )


def calendar_export_ics(*, token: str) -> bytes:
    """The export feed of the member whose secret ``token`` this is.

    Every absence that is not deleted, as an event from its start to its effective
    end (the moment the member came back, for one ended early).

    Raises:
        NotFound: unknown or revoked token.
    """
    if not token or len(token) > 200:
        raise NotFound(gettext("No such calendar."), code="calendar_not_found")
    owner = CalendarSettings.objects.filter(export_token_digest=_token_digest(token)).first()
    if owner is None:
        raise NotFound(gettext("No such calendar."), code="calendar_not_found")
    absences = Absence.objects.filter(member_id=owner.member_id).order_by("starts_at", "pk")
    return absences_to_ics(
        (
            ExportedAbsence(a.pk, a.starts_at, a.effective_end, a.message, a.created_at)
            for a in absences
            if a.effective_end > a.starts_at
        ),
        now=timezone.now(),
    )


def export_url(request: HttpRequest, token: str) -> str:
    """The absolute URL of a member's export feed."""
    return request.build_absolute_uri(reverse("away:calendar_export", kwargs={"token": token}))
