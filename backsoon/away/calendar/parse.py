"""Reading iCalendar: which events of a calendar mark an absence.

Pure functions over bytes and plain values: no database, no clock (``now`` is an
argument; only the CPU budget reads ``time.monotonic``), no network. ``sync.py``
does the I/O around them; ``expand.py`` expands recurring events within bounds.

Reading (issue 3): an event marks an absence when it has
``X-MICROSOFT-CDO-BUSYSTATUS:OOF`` (or ``OUTOFOFFICE``; Outlook, Exchange),
``X-NEXTCLOUD-OUT-OF-OFFICE`` (Nextcloud), or a SUMMARY that contains one of the
member's keywords (case-insensitive). Recurring events are expanded with
``recurring-ical-events`` (RRULE, RDATE, EXDATE, modified instances with
RECURRENCE-ID, X-WR-TIMEZONE); VTIMEZONE definitions are honoured by
``icalendar``. All-day events are whole days in the member's time zone with an
exclusive DTEND (RFC 5545 3.6.1); floating times are in the member's time zone.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from django.utils.translation import gettext, gettext_noop

from backsoon.away.rules import whole_days_window

from .expand import MAX_FILE_COST, MAX_SERIES_COST, TooComplex, expand_series, series_cost

DEFAULT_KEYWORDS: tuple[str, ...] = (
    "out of office",
    "vacation",
    "holiday",
    "afwezig",
    "vakantie",
    "verlof",
)
HORIZON_DAYS = 365
# Occurrences of absence series looked at in one file. A daily absence for a year
# is 365; far more than this is not a calendar we can trust, and the bound keeps a
# hostile file from costing more than a moment of CPU.
MAX_OCCURRENCES = 2000
TOO_COMPLEX = gettext_noop(
    "The recurring absence events of this calendar are too many or too complex to read: "
    "check for events that repeat very often or started very long ago."
)
TOO_OLD = gettext_noop(
    "it repeats so often since so long ago that it can not be read: "
    "start the series closer to today."
)
# Rules that repeat this often are not absences; expanding them from a DTSTART
# long ago would take minutes.
TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
MAX_PROBLEMS_LISTED = 50
UID_MAX = 255
SUMMARY_MAX = 200
OOF_STATUSES = frozenset({"OOF", "OUTOFOFFICE"})
# Events of our own export feed: importing them back would echo absences forever.
EXPORT_UID_PREFIX = "absence-"
EXPORT_UID_DOMAIN = "@backsoon"
# Properties whose unreadable value makes an event unreadable for us.
_TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


@dataclass(frozen=True)
class EventWindow:
    """One occurrence of an absence event, as a half-open UTC window.

    ``(uid, recurrence_id)`` identifies it across imports: ``recurrence_id`` is ""
    for an event that does not recur, else the original start of the occurrence
    (ISO 8601: a date for all-day series, a UTC time otherwise), which stays the
    same when that one occurrence is moved.
    """

    uid: str
    recurrence_id: str
    starts_at: datetime  # UTC, inclusive
    ends_at: datetime  # UTC, exclusive
    summary: str


@dataclass(frozen=True)
class ParseResult:
    """The absence windows read from a file, or why it could not be read.

    When ``problems`` is not empty the file must not be imported at all (nothing
    half-imported); ``events`` is then empty.
    """

    events: list[EventWindow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def normalize_keywords(keywords: Iterable[str]) -> list[str]:
    """Keywords stripped, without empties and case-insensitive duplicates, in order."""
    seen: set[str] = set()
    result = []
    for keyword in keywords:
        text = " ".join(str(keyword).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return result


def marks_absence(component: Any, keywords: Sequence[str]) -> bool:
    """Whether one VEVENT (or occurrence) says its owner is away.

    Args:
        component: an ``icalendar`` VEVENT.
        keywords: matched case-insensitively anywhere in SUMMARY.
    """
    if str(component.get("STATUS", "")).strip().upper() == "CANCELLED":
        return False
    busy = str(component.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).strip().upper()
    if busy in OOF_STATUSES:
        return True
    if "X-NEXTCLOUD-OUT-OF-OFFICE" in component:
        return True
    summary = str(component.get("SUMMARY", "")).casefold()
    return any(k.casefold() in summary for k in keywords if k.strip())


def parse_absence_events(
    data: bytes,
    *,
    tz_name: str,
    keywords: Sequence[str],
    now: datetime,
    horizon_days: int = HORIZON_DAYS,
    budget_seconds: float = 5.0,
) -> ParseResult:
    """The absence events of an iCalendar file that have not ended by ``now``.

    Recurring events are expanded from ``now`` to ``now + horizon_days``; an event
    that is going on at ``now`` is included whole (its start may be in the past).
    Events that do not mark an absence are ignored without being read further, so
    an odd meeting elsewhere in the calendar does not block the import.

    Args:
        data: the file as sent (UTF-8 text; at most a few MB, the caller checks).
        tz_name: the member's IANA time zone, for all-day and floating times.
        keywords: the member's keywords for SUMMARY.
        now: an aware datetime; windows ending at or before it are left out.
        horizon_days: how far ahead to expand recurring events.
        budget_seconds: time allowed for expanding recurring events, checked after
            every occurrence; a file that needs more is refused. Before expanding,
            a series whose rule would walk more than ``MAX_SERIES_COST`` steps to
            the window (a daily rule from the year 1), or a file whose series
            together would walk more than ``MAX_FILE_COST``, is refused as well.

    Returns:
        The windows sorted by start, or the problems found (then no windows).
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    tz = ZoneInfo(tz_name)
    keywords = normalize_keywords(keywords)
    calendar, problem = _read_calendar(data)
    if calendar is None:
        return ParseResult(problems=[problem or gettext("This is not an iCalendar (.ics) file.")])

    problems: list[str] = []
    series: dict[str, list[Any]] = defaultdict(list)
    for component in calendar.walk("VEVENT"):
        uid = _uid(component)
        if uid.startswith(EXPORT_UID_PREFIX) and uid.endswith(EXPORT_UID_DOMAIN):
            continue
        series[uid].append(component)

    horizon_end = now + timedelta(days=horizon_days)
    window_start = now - timedelta(days=1)
    deadline = time.monotonic() + budget_seconds
    windows: dict[tuple[str, str], EventWindow] = {}
    occurrences = 0
    cost = 0
    for uid, components in series.items():
        if not any(marks_absence(c, keywords) for c in components):
            continue
        if time.monotonic() > deadline:
            return ParseResult(problems=[gettext(TOO_COMPLEX)])
        if series_problem := _series_problem(components):
            problems.append(f"{_describe(uid, components)}: {series_problem}")
            continue
        recurring = any(key in c for c in components for key in ("RRULE", "RDATE", "RECURRENCE-ID"))
        try:
            series_steps = series_cost(components, window_start)
        except Exception as exc:  # odd values in a rule
            problems.append(f"{_describe(uid, components)}: {_short(exc)}")
            continue
        cost += series_steps
        if series_steps > MAX_SERIES_COST:
            problems.append(f"{_describe(uid, components)}: {gettext(TOO_OLD)}")
            continue
        if cost > MAX_FILE_COST:
            return ParseResult(problems=[gettext(TOO_COMPLEX)])
        try:
            expanded = expand_series(
                calendar, components, start=window_start, end=horizon_end, deadline=deadline
            )
        except TooComplex:
            return ParseResult(problems=[gettext(TOO_COMPLEX)])
        except Exception as exc:  # the libraries raise many kinds on odd input
            problems.append(f"{_describe(uid, components)}: {_short(exc)}")
            continue
        occurrences += len(expanded)
        if occurrences > MAX_OCCURRENCES:
            return ParseResult(problems=[gettext(TOO_COMPLEX)])
        for occurrence in expanded:
            if time.monotonic() > deadline:
                return ParseResult(problems=[gettext(TOO_COMPLEX)])
            window = _window(occurrence, uid=uid, recurring=recurring, tz=tz, tz_name=tz_name)
            if window.ends_at <= max(now, window.starts_at) or window.starts_at >= horizon_end:
                continue  # ended already, an instant rather than a window, or too far ahead
            if not marks_absence(occurrence, keywords):
                continue  # a modified instance may no longer be an absence
            # A duplicated event (same UID and occurrence) counts once: the last wins.
            windows[(window.uid, window.recurrence_id)] = window
    if problems:
        return ParseResult(problems=_capped(problems))
    return ParseResult(events=sorted(windows.values(), key=lambda w: (w.starts_at, w.uid)))


def _read_calendar(data: bytes) -> tuple[Any | None, str | None]:
    if not data.strip():
        return None, gettext("The file is empty.")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends on garbage
        return None, gettext("This is not a readable iCalendar (.ics) file: %(reason)s") % {
            "reason": _short(exc)
        }
    if isinstance(calendar, list) or getattr(calendar, "name", "") != "VCALENDAR":
        return None, gettext("The file has no VCALENDAR: export the calendar, not a single event.")
    return calendar, None


def _uid(component: Any) -> str:
    uid = str(component.get("UID", "")).strip()
    if not uid:
        # RFC 5545 requires a UID; without one, the start and summary identify the event.
        seed = f"{component.get('DTSTART') and component['DTSTART'].to_ical()!r}|"
        seed += str(component.get("SUMMARY", ""))
        return "no-uid-" + hashlib.sha256(seed.encode()).hexdigest()[:32]
    if len(uid) > UID_MAX:
        return "sha256-" + hashlib.sha256(uid.encode()).hexdigest()
    return uid


def _describe(uid: str, components: list[Any]) -> str:
    summary = next((str(c.get("SUMMARY")) for c in components if c.get("SUMMARY")), "")
    name = f'"{summary[:80]}"' if summary else gettext("An event without a title")
    return f"{name} (UID {uid[:80]})"


def _series_problem(components: list[Any]) -> str | None:
    """Why the VEVENTs of one UID can not be read, or None."""
    for component in components:
        for name, message in getattr(component, "errors", []) or []:
            if name in _TIME_PROPERTIES:
                return gettext("%(name)s could not be read (%(reason)s).") % {
                    "name": name,
                    "reason": _short(message),
                }
        if "DTSTART" not in component:
            return gettext("it has no start (DTSTART).")
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            prop = component.get(name)
            if isinstance(prop, list):
                return gettext("%(name)s appears more than once.") % {"name": name}
            value = getattr(prop, "dt", None)
            if isinstance(value, datetime) and value.tzinfo is None and "TZID" in prop.params:
                return gettext("%(name)s uses the unknown time zone '%(tz)s'.") % {
                    "name": name,
                    "tz": prop.params["TZID"],
                }
        rules = component.get("RRULE") or []
        for rule in rules if isinstance(rules, list) else [rules]:
            frequency = [str(f).upper() for f in rule.get("FREQ", [])]
            if TOO_FREQUENT.intersection(frequency) or any(
                len(rule.get(part, [])) > 1 for part in ("BYHOUR", "BYMINUTE", "BYSECOND")
            ):
                return gettext("it repeats more than once a day, which is not an absence.")
        try:
            start, end = component.start, component.end
        except Exception as exc:  # icalendar: InvalidCalendar for mixed date/datetime
            return _short(exc)
        if isinstance(start, datetime) != isinstance(end, datetime):
            return gettext("its start and end must both be dates or both be times.")
    return None


def _window(
    occurrence: Any, *, uid: str, recurring: bool, tz: ZoneInfo, tz_name: str
) -> EventWindow:
    start, end = occurrence.start, occurrence.end
    if isinstance(start, datetime):
        starts_at, ends_at = _utc(start, tz), _utc(end, tz)
    else:
        last_day = end - timedelta(days=1) if end > start else start
        starts_at, ends_at = (
            t.astimezone(UTC) for t in whole_days_window(start, last_day, tz_name)
        )
    recurrence_id = ""
    if recurring:
        rid = occurrence.get("RECURRENCE-ID")
        value = rid.dt if rid is not None else start
        recurrence_id = _utc(value, tz).isoformat() if isinstance(value, datetime) else str(value)
    summary = " ".join(str(occurrence.get("SUMMARY", "")).split())[:SUMMARY_MAX]
    return EventWindow(uid, recurrence_id, starts_at, ends_at, summary)


def _utc(value: datetime, tz: ZoneInfo) -> datetime:
    if value.tzinfo is None:  # floating time: the member's wall clock
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _short(exc: object) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS_LISTED:
        return problems
    more = len(problems) - MAX_PROBLEMS_LISTED
    return [*problems[:MAX_PROBLEMS_LISTED], gettext("… and %(count)s more.") % {"count": more}]
