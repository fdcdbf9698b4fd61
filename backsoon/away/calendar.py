"""Absences from the member's calendar (import) and a private ICS feed of them (export).

Every write is one ``calendar_*`` action in one transaction. Reading the ICS text
is pure (``ical.py``); so is the plan that turns imported events into absences
(``plan_calendar_absences`` below). The actions around them fetch, lock and write.

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

import hashlib
import http.client
import ipaddress
import logging
import secrets
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPMessage
from typing import IO, Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.errors import Conflict, DomainError, Invalid, NotFound, RateLimited

from .actions import MESSAGE_MAX, AbsenceInput, absence_update
from .calendar_models import CalendarFeed, CalendarSettings, ImportedEvent
from .ical import (
    DEFAULT_KEYWORDS,
    EventWindow,
    ExportedAbsence,
    absences_to_ics,
    normalize_keywords,
    parse_absence_events,
)
from .models import Absence
from .rules import MAX_ABSENCE_DAYS, window_problem

log = logging.getLogger(__name__)

MAX_ICS_BYTES = 2 * 1024 * 1024
FEED_INTERVAL = timedelta(minutes=15)
FETCH_TIMEOUT_SECONDS = 10.0
# A server that drips one byte every few seconds never trips the socket timeout;
# this bounds the whole download.
FETCH_DEADLINE_SECONDS = 30.0
MAX_REDIRECTS = 5
MAX_FEEDS = 10
FEED_URL_MAX = 2000
MANUAL_SYNC_EVERY = timedelta(seconds=10)
SYNC_BATCH = 50
MAX_KEYWORDS = 30
KEYWORD_MAX = 60
USER_AGENT = "Backsoon-Calendar/1.0 (absence import)"
DEFAULT_MESSAGES = {
    "en": "I am out of office and back on {return_date}. I will answer your message then.",
    "nl": "Ik ben afwezig en ben terug op {return_date}. Dan beantwoord ik je bericht.",
}


class TooLarge(DomainError):
    """The calendar is larger than we read (413)."""

    status = 413
    default_code = "too_large"


class FetchRefused(Exception):
    """A feed address (or one it redirects to) that we do not connect to."""


# -- Reports ----------------------------------------------------------------------------


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


# -- The plan: pure -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanEvent:
    """An imported event that should be covered by an absence."""

    id: int
    starts_at: datetime
    ends_at: datetime
    absence_id: int | None  # the calendar absence that covered it so far, if any
    summary: str = ""


@dataclass(frozen=True)
class PlanAbsence:
    """An existing absence as the plan sees it: ``ends_at`` is its effective end."""

    id: int
    starts_at: datetime
    ends_at: datetime
    active: bool = False


@dataclass
class PlannedWindow:
    starts_at: datetime
    ends_at: datetime
    event_ids: list[int]
    summaries: list[str]
    absence_id: int | None = None  # the absence to update or keep; None: create one
    blocker: PlanAbsence | None = None  # for skipped windows: the absence in the way
    reason: str = ""


@dataclass
class Plan:
    create: list[PlannedWindow] = field(default_factory=list)
    update: list[PlannedWindow] = field(default_factory=list)
    keep: list[PlannedWindow] = field(default_factory=list)
    skip: list[PlannedWindow] = field(default_factory=list)
    delete: list[PlanAbsence] = field(default_factory=list)


def merge_events(events: list[PlanEvent]) -> list[list[PlanEvent]]:
    """Events grouped so that the events of a group overlap or touch one another.

    Returns:
        Groups sorted by start; the windows of two groups never meet.
    """
    groups: list[list[PlanEvent]] = []
    end: datetime | None = None
    for event in sorted(events, key=lambda e: (e.starts_at, e.ends_at, e.id)):
        if groups and end is not None and event.starts_at <= end:
            groups[-1].append(event)
            end = max(end, event.ends_at)
        else:
            groups.append([event])
            end = event.ends_at
    return groups


def clip_window(
    starts_at: datetime, ends_at: datetime, now: datetime, *, fixed_start: bool = False
) -> tuple[datetime, datetime]:
    """A3: at most ``MAX_ABSENCE_DAYS`` long. A longer window that started in the past
    starts today (UTC midnight) instead; then its end is cut.

    Args:
        fixed_start: the start may not move (an active absence keeps its start).
    """
    limit = timedelta(days=MAX_ABSENCE_DAYS)
    if ends_at - starts_at <= limit:
        return starts_at, ends_at
    if not fixed_start:
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        starts_at = max(starts_at, today)
    return starts_at, min(ends_at, starts_at + limit)


def plan_calendar_absences(
    *,
    events: list[PlanEvent],
    managed: list[PlanAbsence],
    others: list[PlanAbsence],
    now: datetime,
) -> Plan:
    """Which calendar absences to create, move, keep and delete so they cover ``events``.

    Args:
        events: imported events that have not ended and that the member did not
            dismiss (by deleting or ending their absence).
        managed: the member's calendar-sourced absences that have not ended; only
            these may change.
        others: every other absence of the member (effective windows) that may
            be in the way: made by hand, or ended early.
        now: the current time (aware).

    Returns:
        The plan. Groups of overlapping or touching events become one window each.
        An existing absence is reused when one of its events is in the group or it
        meets the group's window (an active one only when it meets the window; it
        keeps its start). A window that would overlap ``others`` (or an absence kept
        for a skipped window) is skipped. Scheduled managed absences that no window
        uses are deleted; active ones are left as they are.
    """
    by_id = {a.id: a for a in managed}
    claimed: set[int] = set()
    fixed: list[PlanAbsence] = []  # final windows decided so far
    plan = Plan()
    for group in merge_events(events):
        g_start = group[0].starts_at
        g_end = max(e.ends_at for e in group)
        linked = {e.absence_id for e in group if e.absence_id in by_id}
        touching = {a.id for a in managed if a.starts_at <= g_end and a.ends_at >= g_start}
        candidates = sorted(
            (by_id[i] for i in linked | touching if i not in claimed),
            key=lambda a: (a.starts_at, a.id),
        )
        # An active absence can only grow into a window it meets; it keeps its start.
        candidates = [a for a in candidates if not a.active or a.id in touching]
        chosen = next((a for a in candidates if a.active), None) or next(iter(candidates), None)
        fixed_start = chosen is not None and chosen.active
        start = chosen.starts_at if chosen is not None and fixed_start else g_start
        start, end = clip_window(start, g_end, now, fixed_start=fixed_start)
        window = PlannedWindow(
            starts_at=start,
            ends_at=end,
            event_ids=sorted(e.id for e in group),
            summaries=sorted({e.summary for e in group if e.summary}),
            absence_id=chosen.id if chosen is not None else None,
        )
        claimed.update(a.id for a in candidates)
        blocker = next(
            (o for o in [*others, *fixed] if o.starts_at < end and o.ends_at > start), None
        )
        problem = window_problem(start, end, now)
        if blocker is not None or problem:
            window.blocker = blocker
            window.reason = (
                gettext("It overlaps another absence of yours.")
                if blocker is not None
                else problem or ""
            )
            plan.skip.append(window)
            # Absences that were meant for this window stay as they are.
            fixed.extend(candidates)
            continue
        for extra in candidates:
            if extra is not chosen:
                plan.delete.append(extra)  # merged into the chosen one (never active)
        if chosen is None:
            plan.create.append(window)
        elif (chosen.starts_at, chosen.ends_at) == (start, end):
            plan.keep.append(window)
        else:
            plan.update.append(window)
        fixed.append(PlanAbsence(window.absence_id or 0, start, end))
    plan.delete.extend(a for a in managed if a.id not in claimed and not a.active)
    return plan


# -- Settings -------------------------------------------------------------------------------


def calendar_settings_for(member: Member) -> CalendarSettings:
    """The member's calendar settings; defaults (not saved) when they have none yet."""
    found = CalendarSettings.objects.filter(member=member).first()
    if found is not None:
        return found
    return CalendarSettings(
        member=member,
        keywords=list(DEFAULT_KEYWORDS),
        default_message=DEFAULT_MESSAGES.get(member.language, DEFAULT_MESSAGES["en"]),
    )


def _settings_for_update(member: Member) -> CalendarSettings:
    """The member's settings row, made with the defaults when missing (inside a transaction)."""
    found = CalendarSettings.objects.select_for_update().filter(member=member).first()
    if found is not None:
        return found
    fresh = calendar_settings_for(member)
    fresh.save(force_insert=True)
    return fresh


def _clean_keywords(keywords: list[str]) -> list[str]:
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise Invalid(gettext("keywords is a list of texts."), code="bad_keywords")
    cleaned = normalize_keywords(keywords)
    if len(cleaned) > MAX_KEYWORDS:
        raise Invalid(
            gettext("At most %(max)s keywords.") % {"max": MAX_KEYWORDS}, code="bad_keywords"
        )
    if too_long := [k for k in cleaned if len(k) > KEYWORD_MAX]:
        raise Invalid(
            gettext("A keyword is at most %(max)s characters: '%(keyword)s'.")
            % {"max": KEYWORD_MAX, "keyword": too_long[0][:80]},
            code="bad_keywords",
        )
    return cleaned


def calendar_settings_update(
    *,
    member: Member,
    keywords: list[str] | None = None,
    default_message: str | None = None,
    default_audience: str | None = None,
) -> CalendarSettings:
    """Change how the member's calendar becomes absences. None leaves a field as it is.

    New keywords apply from the next sync: every feed of the member is due at once.
    A new default message or audience is also given to the imported absences that
    have not ended and still carry the old default (texts the member edited stay).

    Raises:
        Invalid: more than 30 keywords or one over 60 characters, a message over
            2000 characters, an unknown audience.
    """
    fields: dict[str, Any] = {}
    if keywords is not None:
        fields["keywords"] = _clean_keywords(keywords)
    if default_message is not None:
        if len(default_message) > MESSAGE_MAX:
            raise Invalid(
                gettext("The default message is at most %(max)s characters.")
                % {"max": MESSAGE_MAX},
                code="text_too_long",
            )
        fields["default_message"] = default_message
    if default_audience is not None:
        if default_audience not in Absence.Audience.values:
            raise Invalid(
                gettext("audience is one of everyone, connections, nobody."), code="bad_audience"
            )
        fields["default_audience"] = default_audience
    now = timezone.now()
    with transaction.atomic():
        _lock_member(member)
        current = _settings_for_update(member)
        old_message, old_audience = current.default_message, current.default_audience
        changed = [name for name, value in fields.items() if getattr(current, name) != value]
        for name in changed:
            setattr(current, name, fields[name])
        if changed:
            current.save(update_fields=changed)
        if "keywords" in changed:
            CalendarFeed.objects.filter(member=member).update(last_fetched_at=None)
        if "default_message" in changed or "default_audience" in changed:
            imported = Absence.objects.filter(
                member=member,
                source=Absence.Source.CALENDAR,
                ended_at__isnull=True,
                ends_at__gt=now,
            )
            for absence in imported:
                data = AbsenceInput()
                if "default_message" in changed and absence.message == old_message:
                    data.message = current.default_message
                if "default_audience" in changed and absence.audience == old_audience:
                    data.audience = current.default_audience
                data.given = frozenset(
                    name for name in ("message", "audience") if getattr(data, name) is not None
                )
                if data.given:
                    absence_update(member=member, absence_id=absence.pk, data=data)
    return current


# -- Import -------------------------------------------------------------------------------


def _lock_member(member: Member) -> None:
    # The same lock as absence writes take (actions._lock_member): a sync and a
    # member creating an absence by hand can not both pass the overlap check.
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()


def _member_tz(member: Member) -> str:
    try:
        ZoneInfo(member.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return settings.DEFAULT_MEMBER_TIMEZONE
    return member.timezone


def _parse(member: Member, data: bytes, now: datetime) -> list[EventWindow]:
    if len(data) > MAX_ICS_BYTES:
        raise TooLarge(gettext("A calendar file is at most 2 MB."))
    options = calendar_settings_for(member)
    result = parse_absence_events(
        data, tz_name=_member_tz(member), keywords=options.keywords or [], now=now
    )
    if result.problems:
        raise Invalid(
            {
                "message": gettext("The calendar could not be read, so nothing was imported."),
                "problems": result.problems,
            },
            code="calendar_unreadable",
        )
    return result.events


def calendar_import_upload(*, member: Member, data: bytes) -> ImportReport:
    """Import the absences of an uploaded .ics file.

    The upload is one source: importing a new file replaces what the previous
    upload brought (events no longer in it remove their scheduled absences).

    Args:
        data: the file's bytes, at most 2 MB.

    Raises:
        TooLarge: over 2 MB (413).
        Invalid: the file, or an absence event in it, can not be read
            (``calendar_unreadable``, detail ``{"message", "problems": [...]}``);
            nothing is imported.
    """
    now = timezone.now()
    windows = _parse(member, data, now)
    return _import(member=member, feed=None, windows=windows, now=now)


def _import(
    *, member: Member, feed: CalendarFeed | None, windows: list[EventWindow], now: datetime
) -> ImportReport:
    with transaction.atomic():
        _lock_member(member)
        if feed is not None and not CalendarFeed.objects.filter(pk=feed.pk).exists():
            raise NotFound(gettext("No such calendar feed."), code="calendar_feed_not_found")
        _store_events(member=member, feed=feed, windows=windows)
        report = _reconcile(member=member, now=now)
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


def _reconcile(*, member: Member, now: datetime) -> ImportReport:
    """Make the member's calendar absences match their imported events (all sources)."""
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
    options = _settings_for_update(member) if plan.create else None
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


# -- Feeds ----------------------------------------------------------------------------------


def calendar_feeds_of(member: Member) -> list[CalendarFeed]:
    return list(CalendarFeed.objects.filter(member=member).order_by("created_at", "pk"))


def calendar_feed_for_member(member: Member, feed_id: int) -> CalendarFeed:
    """One of the member's own feeds.

    Raises:
        NotFound: no such feed, or another member's.
    """
    feed = CalendarFeed.objects.select_related("member").filter(pk=feed_id, member=member).first()
    if feed is None:
        raise NotFound(gettext("No such calendar feed."), code="calendar_feed_not_found")
    return feed


def _allow_private() -> bool:
    return bool(getattr(settings, "CALENDAR_ALLOW_PRIVATE_URLS", False))


def address_allowed(address: str) -> bool:
    """Whether we may connect to this IP address: public unicast only, unless the
    ``CALENDAR_ALLOW_PRIVATE_URLS`` setting says otherwise (tests, intranets)."""
    if _allow_private():
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for loopback, private, link-local (169.254/16, cloud
    # metadata), shared (100.64/10), reserved and unspecified addresses.
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    """The addresses of ``host``, all of which must be allowed.

    Raises:
        FetchRefused: one of them is loopback, private, link-local, reserved or multicast.
        OSError: the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        if not address_allowed(str(info[4][0])):
            raise FetchRefused(
                gettext("%(host)s points to a private or local network address.") % {"host": host}
            )
    return infos


def calendar_feed_url_check(url: str) -> str:
    """The feed URL, normalised, if we may fetch it.

    ``webcal://`` (what calendar apps hand out) is fetched as ``https://``.

    Raises:
        Invalid: not http(s), credentials in it, no host, a host that does not
            resolve or resolves to a loopback, private, link-local, reserved or
            multicast address (unless ``CALENDAR_ALLOW_PRIVATE_URLS``).
    """
    url = (url or "").strip()
    if not url or len(url) > FEED_URL_MAX or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise Invalid(
            gettext("Give the web address of the feed (at most %(max)s characters, no spaces).")
            % {"max": FEED_URL_MAX},
            code="calendar_url_invalid",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(
            gettext("This is not a valid web address."), code="calendar_url_invalid"
        ) from None
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        scheme = "https"
    if scheme not in ("http", "https"):
        raise Invalid(
            gettext("Only http:// and https:// feed addresses are fetched."),
            code="calendar_url_scheme",
        )
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            gettext("Leave the user name and password out of the feed address."),
            code="calendar_url_invalid",
        )
    host = parts.hostname or ""
    if not host:
        raise Invalid(gettext("The feed address has no host name."), code="calendar_url_invalid")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise Invalid(gettext("The host name is not valid."), code="calendar_url_invalid") from None
    try:
        _resolve(ascii_host, port or (443 if scheme == "https" else 80))
    except FetchRefused:
        raise Invalid(
            gettext(
                "This feed address points to a private or local network address; "
                "only public addresses are fetched."
            ),
            code="calendar_url_private",
        ) from None
    except (OSError, UnicodeError):
        raise Invalid(
            gettext("The host %(host)s could not be found.") % {"host": host},
            code="calendar_url_unresolvable",
        ) from None
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    normalized = urlunsplit((scheme, netloc, path, query, ""))
    if len(normalized) > FEED_URL_MAX:
        raise Invalid(
            gettext("The feed address is longer than %(max)s characters.") % {"max": FEED_URL_MAX},
            code="calendar_url_invalid",
        )
    return normalized


def calendar_feed_add(*, member: Member, url: str) -> CalendarFeed:
    """Subscribe to an ICS feed; the worker fetches it within a minute, then every 15.

    Raises:
        Invalid: see ``calendar_feed_url_check``; more than 10 feeds.
        Conflict: the member already subscribes to this URL.
    """
    normalized = calendar_feed_url_check(url)
    with transaction.atomic():
        _lock_member(member)
        if CalendarFeed.objects.filter(member=member).count() >= MAX_FEEDS:
            raise Invalid(
                gettext("At most %(max)s calendar feeds.") % {"max": MAX_FEEDS},
                code="too_many_feeds",
            )
        try:
            with transaction.atomic():
                feed = CalendarFeed.objects.create(member=member, url=normalized)
        except IntegrityError:
            raise Conflict(
                gettext("You already subscribe to this feed."), code="calendar_feed_exists"
            ) from None
    return feed


def calendar_feed_delete(*, member: Member, feed_id: int) -> ImportReport:
    """Unsubscribe: the feed's events go, and so do the scheduled absences they made.

    Raises:
        NotFound: no such feed, or another member's.
    """
    now = timezone.now()
    with transaction.atomic():
        _lock_member(member)
        calendar_feed_for_member(member, feed_id).delete()
        return _reconcile(member=member, now=now)


def _error_text(exc: DomainError) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        text = str(detail.get("message") or exc.code)
        problems = detail.get("problems") or []
        return " ".join([text, *[str(p) for p in problems[:5]]])[:2000]
    return str(detail)[:2000]


def _feed_record(feed: CalendarFeed, *, status: str, error: str = "") -> None:
    now = timezone.now()
    CalendarFeed.objects.filter(pk=feed.pk).update(
        last_fetched_at=now, last_status=status, last_error=error
    )
    feed.last_fetched_at, feed.last_status, feed.last_error = now, status, error


def calendar_feed_sync(*, feed: CalendarFeed) -> ImportReport:
    """Fetch a feed and import its absences; the outcome is recorded on the feed.

    Raises:
        TooLarge: the feed is over 2 MB.
        Invalid: it could not be fetched (``calendar_fetch_failed``) or read
            (``calendar_unreadable``); nothing is imported.
        NotFound: the feed was deleted meanwhile.
    """
    member = feed.member
    try:
        data = calendar_feed_fetch(feed.url)
        now = timezone.now()
        report = _import(member=member, feed=feed, windows=_parse(member, data, now), now=now)
    except DomainError as exc:
        _feed_record(feed, status=CalendarFeed.Status.ERROR, error=_error_text(exc))
        raise
    _feed_record(feed, status=CalendarFeed.Status.OK)
    return report


def calendar_feed_sync_now(*, member: Member, feed_id: int) -> ImportReport:
    """The member's "sync now": at most one fetch per feed every 10 seconds.

    Raises:
        NotFound: not the member's feed.
        RateLimited: fetched less than 10 seconds ago.
        and what ``calendar_feed_sync`` raises.
    """
    feed = calendar_feed_for_member(member, feed_id)
    now = timezone.now()
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < MANUAL_SYNC_EVERY:
        wait = MANUAL_SYNC_EVERY - (now - feed.last_fetched_at)
        raise RateLimited(
            gettext("This feed was fetched a moment ago; try again in a few seconds."),
            retry_after=int(wait.total_seconds()) + 1,
        )
    return calendar_feed_sync(feed=feed)


def calendar_feeds_sync_due(*, now: datetime) -> int:
    """Sync every feed last fetched 15 minutes ago or more (or never); the worker calls
    this every minute. Errors are recorded on each feed, never raised.

    Each feed is claimed with a conditional UPDATE of ``last_fetched_at`` first, so
    two workers never fetch the same feed at once. At most 50 feeds per call, the
    longest waiting first.

    Returns:
        How many feeds were synced (successfully or not).
    """
    due = list(
        CalendarFeed.objects.filter(
            Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lte=now - FEED_INTERVAL),
            member__is_active=True,
        )
        .select_related("member")
        .order_by(F("last_fetched_at").asc(nulls_first=True), "pk")[:SYNC_BATCH]
    )
    synced = 0
    for feed in due:
        claim = CalendarFeed.objects.filter(pk=feed.pk)
        if feed.last_fetched_at is None:
            claim = claim.filter(last_fetched_at__isnull=True)
        else:
            claim = claim.filter(last_fetched_at=feed.last_fetched_at)
        if not claim.update(last_fetched_at=now):
            continue  # another worker has it
        synced += 1
        try:
            calendar_feed_sync(feed=feed)
        except DomainError:
            continue  # recorded on the feed
        except Exception:  # one broken feed must not stop the others
            log.exception("calendar feed %s could not be synced", feed.pk)
            _feed_record(
                feed,
                status=CalendarFeed.Status.ERROR,
                error=gettext("Something went wrong while reading this feed; it is retried later."),
            )
    return synced


# -- Fetching, with the address checked on every connection ---------------------------------


def _guarded_connect(
    address: tuple[str, int], timeout: object = None, source_address: object = None, **_: object
) -> socket.socket:
    """``socket.create_connection`` that refuses loopback, private and link-local peers.

    Checked at connect time (for the first request and every redirect), so a host
    name that resolves to a public address when added and to a private one later
    (DNS rebinding) is still refused.
    """
    host, port = address
    last_error: OSError | None = None
    for family, kind, proto, _name, sockaddr in _resolve(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout if isinstance(timeout, int | float) else FETCH_TIMEOUT_SECONDS)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    raise last_error or OSError(f"could not connect to {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        super().__init__()
        self._guarded_context = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req, context=self._guarded_context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FetchRefused(gettext("The feed redirects to an address that is not http(s)."))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand: no file://, ftp:// or data: handlers, no proxies from the environment.
    opener = urllib.request.OpenerDirector()
    for handler in (
        _GuardedHTTPHandler(),
        _GuardedHTTPSHandler(),
        _RedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def calendar_feed_fetch(url: str) -> bytes:
    """Download a feed: http(s) only, public addresses only (checked on every connection,
    redirects included), 10 s socket timeout, 30 s in all, at most 2 MB.

    Raises:
        TooLarge: the feed is over 2 MB.
        Invalid: ``calendar_fetch_failed`` with what went wrong.
    """

    def failed(reason: str) -> Invalid:
        return Invalid(
            gettext("The feed could not be fetched: %(reason)s") % {"reason": reason},
            code="calendar_fetch_failed",
        )

    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise failed(gettext("only http:// and https:// addresses are fetched."))
    request = urllib.request.Request(  # noqa: S310 (scheme checked above and on redirects)
        url, headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    )
    deadline = time.monotonic() + FETCH_DEADLINE_SECONDS
    try:
        with _opener().open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_ICS_BYTES:
                raise TooLarge(gettext("The feed is larger than 2 MB."))
            body = bytearray()
            while chunk := response.read(64 * 1024):
                body += chunk
                if len(body) > MAX_ICS_BYTES:
                    raise TooLarge(gettext("The feed is larger than 2 MB."))
                if time.monotonic() > deadline:
                    raise failed(gettext("the server took too long to send it."))
            return bytes(body)
    except FetchRefused as exc:
        raise failed(str(exc)) from None
    except urllib.error.HTTPError as exc:
        raise failed(
            gettext("the server answered %(status)s %(reason)s.")
            % {"status": exc.code, "reason": exc.reason}
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, FetchRefused):
            raise failed(str(reason)) from None
        raise failed(f"{reason}.") from None
    except TimeoutError:
        raise failed(gettext("the server did not answer in time.")) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise failed(f"{type(exc).__name__}: {exc}.") from None


# -- Export -----------------------------------------------------------------------------------


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
        current = _settings_for_update(member)
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
