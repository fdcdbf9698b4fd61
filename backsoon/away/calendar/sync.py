"""Importing absences from the member's calendar: an uploaded file or a feed's body.

Every write is one ``calendar_*`` action in one transaction. Reading the ICS text
is pure (``parse.py``, ``expand.py``); so is the plan that turns imported events into
absences (``plan.py``). The functions here lock, store the events and write the plan.

Import rules (the issue text, and the choices where it is silent):

- A calendar is read whole or not at all: when any absence event can not be read
  the import is refused with the list of problems and nothing changes.
- Imported events are kept per source (the uploaded file, or each feed) keyed by
  UID and recurrence id; importing the same calendar again changes nothing.
- Imported absences are derived from the imported events of *all* sources of the
  member together: events that overlap or touch become one absence (A3 forbids
  overlapping absences).
- Only absences with ``source="calendar"`` are ever changed or removed here.
  A window that overlaps any other absence (made by hand, or an imported one the
  member ended early) is skipped and reported, never merged or cut.
- An event that disappears removes its absence while that absence is scheduled.
  An absence that is already active is left as it is: a feed that is briefly
  wrong must not end someone's holiday halfway; the member can end it.
- When the member deletes an imported absence, or ends it early, the event is not
  imported again until its times change in the calendar.
- An imported absence gets the member's default message and audience when it is
  made; the member may then edit it like any other. Its times follow the calendar.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.errors import Invalid, NotFound, RateLimited

from .fetch import MAX_ICS_BYTES, TooLarge
from .models import CalendarFeed, CalendarImport, ImportedEvent
from .parse import EventWindow, parse_absence_events
from .plan import PlanAbsence, PlanEvent, plan_calendar_absences
from .preferences import calendar_settings_for, lock_member, settings_for_update


@dataclass
class ImportReport:
    """What one import or sync did. Each item is a dict ready for JSON:
    ``{absence_id, starts_at, ends_at, events: [summary, ...]}``; skipped items add
    ``reason`` and name the absence in the way as ``absence_id``."""

    events: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "skipped": self.skipped,
            "unchanged": self.unchanged,
        }


def _member_tz(member: Member) -> str:
    try:
        ZoneInfo(member.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return settings.DEFAULT_MEMBER_TIMEZONE
    return member.timezone


# Imports of uploaded files a member may start per hour (issue 14, finding 2): each
# one may cost up to PARSE_BUDGET_SECONDS of CPU, so a member can not keep a
# server busy by uploading in a loop.
IMPORTS_PER_HOUR = 10
IMPORT_WINDOW = timedelta(hours=1)
# Expanding recurring events of one file: at most this much time (checked inside
# the expansion, after every occurrence).
PARSE_BUDGET_SECONDS = 5.0
# Files read at once by one process; more uploads wait their turn for at most
# PARSE_WAIT_SECONDS, then are refused with 429 (a bounded pool: eight parallel
# uploads can not take every CPU of the machine).
PARSE_SLOTS = 2
PARSE_WAIT_SECONDS = 10.0
_parse_slots = threading.BoundedSemaphore(PARSE_SLOTS)


def parse_for_member(member: Member, data: bytes, now: datetime) -> list[EventWindow]:
    """The absence windows of ``data`` for ``member``, read in one of the parse slots.

    Raises:
        TooLarge: over 2 MB.
        RateLimited: every parse slot stayed busy for ``PARSE_WAIT_SECONDS``.
        Invalid: ``calendar_unreadable`` with the problems found.
    """
    if len(data) > MAX_ICS_BYTES:
        raise TooLarge(gettext("A calendar file is at most 2 MB."))
    options = calendar_settings_for(member)
    if not _parse_slots.acquire(timeout=PARSE_WAIT_SECONDS):
        raise RateLimited(
            gettext("Many calendars are being read right now; try again in a moment."),
            retry_after=int(PARSE_WAIT_SECONDS),
            code="calendar_busy",
        )
    try:
        result = parse_absence_events(
            data,
            tz_name=_member_tz(member),
            keywords=options.keywords or [],
            now=now,
            budget_seconds=PARSE_BUDGET_SECONDS,
        )
    finally:
        _parse_slots.release()
    if result.problems:
        raise Invalid(
            {
                "message": gettext("The calendar could not be read, so nothing was imported."),
                "problems": result.problems,
            },
            code="calendar_unreadable",
        )
    return result.events


def _count_import(member: Member, now: datetime) -> None:
    """Count one upload of ``member`` against ``IMPORTS_PER_HOUR`` (refused ones count too).

    Under the member lock, so parallel uploads can not all pass the count.

    Raises:
        RateLimited: ``IMPORTS_PER_HOUR`` uploads in the last hour; ``retry_after`` is
            when the oldest of them leaves the window.
    """
    with transaction.atomic():
        lock_member(member)
        recent = list(
            CalendarImport.objects.filter(member=member, at__gt=now - IMPORT_WINDOW)
            .order_by("-at")
            .values_list("at", flat=True)[:IMPORTS_PER_HOUR]
        )
        if len(recent) >= IMPORTS_PER_HOUR:
            retry_after = (recent[-1] + IMPORT_WINDOW - now).total_seconds()
            raise RateLimited(
                gettext("You imported a calendar %(count)s times this hour; try again later.")
                % {"count": IMPORTS_PER_HOUR},
                retry_after=int(retry_after) + 1,
                code="calendar_import_throttled",
            )
        CalendarImport.objects.create(member=member, at=now)
        CalendarImport.objects.filter(member=member, at__lte=now - IMPORT_WINDOW).delete()


def calendar_import_upload(*, member: Member, data: bytes) -> ImportReport:
    """Import the absences of an uploaded .ics file.

    The upload is one source: importing a new file replaces what the previous
    upload brought (events no longer in it remove their scheduled absences).
    At most ``IMPORTS_PER_HOUR`` uploads per member per hour; the file is read in
    one of ``PARSE_SLOTS`` slots of the process, with recurring events expanded
    within a window and a CPU budget (``parse.parse_absence_events``).

    Args:
        data: the file's bytes, at most 2 MB.

    Raises:
        TooLarge: over 2 MB (413).
        RateLimited: too many imports this hour (``calendar_import_throttled``), or
            the server is busy reading other calendars (``calendar_busy``) (429).
        Invalid: the file, or an absence event in it, can not be read
            (``calendar_unreadable``, detail ``{"message", "problems": [...]}``);
            nothing is imported.
    """
    if len(data) > MAX_ICS_BYTES:
        raise TooLarge(gettext("A calendar file is at most 2 MB."))
    now = timezone.now()
    _count_import(member, now)
    windows = parse_for_member(member, data, now)
    return import_windows(member=member, feed=None, windows=windows, now=now)


def import_windows(
    *, member: Member, feed: CalendarFeed | None, windows: list[EventWindow], now: datetime
) -> ImportReport:
    """Store one source's events (the upload when ``feed`` is None) and reconcile the
    member's calendar absences, in one transaction under the member lock.

    Raises:
        NotFound: the feed was deleted meanwhile.
    """
    with transaction.atomic():
        lock_member(member)
        if feed is not None and not CalendarFeed.objects.filter(pk=feed.pk).exists():
            raise NotFound(gettext("No such calendar feed."), code="calendar_feed_not_found")
        _store_events(member=member, feed=feed, windows=windows)
        report = reconcile(member=member, now=now)
    report.events = len(windows)
    return report


def _store_events(*, member: Member, feed: CalendarFeed | None, windows: list[EventWindow]) -> None:
    """Upsert one source's events by (uid, recurrence id); drop those no longer there.

    Runs under the member lock, so the read-then-write can not race another sync;
    the unique constraints back it up.
    """
    existing = {
        (row.uid, row.recurrence_id): row
        for row in ImportedEvent.objects.filter(member=member, feed=feed)
    }
    new_rows = []
    for window in windows:
        row = existing.pop((window.uid, window.recurrence_id), None)
        if row is None:
            new_rows.append(
                ImportedEvent(
                    member=member,
                    feed=feed,
                    uid=window.uid,
                    recurrence_id=window.recurrence_id,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    summary=window.summary,
                )
            )
            continue
        changed = [
            name
            for name in ("starts_at", "ends_at", "summary")
            if getattr(row, name) != getattr(window, name)
        ]
        for name in changed:
            setattr(row, name, getattr(window, name))
        if {"starts_at", "ends_at"} & set(changed) and row.absence_linked:
            # Moved in the calendar: a dismissed event counts again.
            row.absence_linked = False
            changed.append("absence_linked")
        if changed:
            row.save(update_fields=changed)
    ImportedEvent.objects.bulk_create(new_rows)
    if existing:
        ImportedEvent.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()


def _item(absence_id: int | None, starts_at: datetime, ends_at: datetime, summaries: list[str]):
    return {
        "absence_id": absence_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "events": summaries,
    }


def reconcile(*, member: Member, now: datetime) -> ImportReport:
    """Make the member's calendar absences match their imported events (all sources).

    The caller holds the member lock inside a transaction.
    """
    ImportedEvent.objects.filter(member=member, ends_at__lte=now).delete()
    managed = {
        a.pk: a
        for a in Absence.objects.filter(
            member=member, source=Absence.Source.CALENDAR, ended_at__isnull=True, ends_at__gt=now
        )
    }
    rows = list(ImportedEvent.objects.filter(member=member))
    events = [
        PlanEvent(
            id=row.pk,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            absence_id=row.absence_id if row.absence_id in managed else None,
            summary=row.summary,
        )
        for row in rows
        # Dismissed: its absence was deleted or ended early by the member.
        if not (row.absence_linked and row.absence_id not in managed)
    ]
    others: list[PlanAbsence] = []
    if events:
        low = min(e.starts_at for e in events)
        high = max(e.ends_at for e in events)
        others = [
            PlanAbsence(a.pk, a.starts_at, a.effective_end)
            for a in Absence.objects.filter(
                member=member, starts_at__lt=high, ends_at__gt=low
            ).exclude(pk__in=list(managed))
            if a.effective_end > a.starts_at
        ]
    plan = plan_calendar_absences(
        events=events,
        managed=[
            PlanAbsence(a.pk, a.starts_at, a.ends_at, a.is_active(now)) for a in managed.values()
        ],
        others=others,
        now=now,
    )
    report = ImportReport(unchanged=len(plan.keep))

    doomed = [a.id for a in plan.delete]
    if doomed:
        ImportedEvent.objects.filter(absence_id__in=doomed).update(
            absence=None, absence_linked=False
        )
        Absence.objects.filter(pk__in=doomed, member=member).delete()
        report.removed = [_item(a.id, a.starts_at, a.ends_at, []) for a in plan.delete]
    for window in plan.update:
        absence = managed[window.absence_id or 0]
        absence.starts_at, absence.ends_at = window.starts_at, window.ends_at
        absence.save(update_fields=["starts_at", "ends_at"])
        report.updated.append(_item(absence.pk, window.starts_at, window.ends_at, window.summaries))
    options = settings_for_update(member) if plan.create else None
    for window in plan.create:
        assert options is not None
        created = Absence.objects.create(
            member=member,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            message=options.default_message,
            audience=options.default_audience,
            source=Absence.Source.CALENDAR,
            created_at=now,
        )
        window.absence_id = created.pk
        report.created.append(_item(created.pk, window.starts_at, window.ends_at, window.summaries))
    for window in [*plan.create, *plan.update, *plan.keep]:
        absence_id = window.absence_id
        assert absence_id is not None
        ImportedEvent.objects.filter(pk__in=window.event_ids).exclude(
            absence_id=absence_id, absence_linked=True
        ).update(absence_id=absence_id, absence_linked=True)
    for window in plan.skip:
        item = _item(
            window.blocker.id if window.blocker and window.blocker.id else None,
            window.starts_at,
            window.ends_at,
            window.summaries,
        )
        item["reason"] = window.reason
        report.skipped.append(item)
    return report
