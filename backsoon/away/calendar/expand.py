"""Recurring events expanded within bounds: a window, a count and a deadline.

Pure: no database, no network; the clock is only read for the CPU deadline.

Expanding a rule costs one step per period from its DTSTART, not from the window
asked for: ``DTSTART`` in the year 1 with ``RRULE:FREQ=DAILY`` walks 740,000 days
(9 s of CPU, issue 14 finding 2) before the first occurrence of this year comes
out, inside one library call that no deadline can interrupt. So the cost of that
walk is estimated from the rule *before* expanding (``series_cost``) and a series
over ``MAX_SERIES_COST`` steps, or a file over ``MAX_FILE_COST``, is refused. What
is left is one bounded walk per series plus the occurrences inside the window (at
most one a day per rule: rules that repeat more often are refused by ``parse``);
the CPU deadline and the occurrence count are checked after every series, and the
caller checks the deadline again for every occurrence it reads.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

# Steps (periods of a rule, times the occurrences each period yields) one series may
# take before its window: a daily rule that started 50 years ago is about 18,000;
# 20,000 steps cost about a quarter of a second of CPU (measured on a busy machine).
MAX_SERIES_COST = 20_000
# Steps of all the absence series of one file together (about half a second of CPU).
MAX_FILE_COST = 40_000
# Occurrences one series may have inside the window (a daily absence for a year is 366).
MAX_SERIES_OCCURRENCES = 1000

_PERIOD = {
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
# The lists of a rule that make one period yield several occurrences.
_EXPANDING_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR")
# A yearly period looks at every day of its year; count it as several steps.
_PERIOD_WEIGHT = {"DAILY": 1, "WEEKLY": 1, "MONTHLY": 2, "YEARLY": 8}


class TooComplex(Exception):
    """A series (or a file) that costs more than the bounds allow to expand."""


def _naive_utc(value: Any) -> datetime | None:
    """A date or datetime as a naive UTC datetime, for estimates only (floating times
    are taken as UTC: a few hours do not matter here)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _rule_cost(rule: Any, dtstart: datetime, until_window: datetime) -> int:
    frequency = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
    period = _PERIOD.get(frequency)
    if period is None:
        return MAX_SERIES_COST + 1  # more than daily: never an absence (parse refuses it too)
    try:
        interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
    except (TypeError, ValueError):
        interval = 1
    stop = until_window
    until = rule.get("UNTIL")
    if until:
        end = _naive_utc(until[0])
        if end is not None:
            stop = min(stop, end)
    periods = max(0.0, (stop - dtstart) / (period * interval)) + 1
    count = rule.get("COUNT")
    if count:
        with contextlib.suppress(TypeError, ValueError):
            periods = min(periods, float(int(count[0])))
    per_period = 1
    for part in _EXPANDING_PARTS:
        per_period *= max(1, len(rule.get(part) or []))
    if rule.get("BYDAY") and not rule.get("BYMONTH") and not rule.get("BYWEEKNO"):
        # A weekday in a year is ~52 days, in a month ~4.
        per_period *= {"YEARLY": 52, "MONTHLY": 4}.get(frequency, 1)
    return int(periods * max(per_period, _PERIOD_WEIGHT[frequency]))


def series_cost(components: Iterable[Any], start: datetime) -> int:
    """Estimated steps to walk the rules of one series from their DTSTART to ``start``.

    Args:
        components: the VEVENTs of one UID (the rule and its modified instances).
        start: where the window of interest begins (aware).

    Returns:
        Roughly the number of periods the rule iteration visits before ``start``,
        times the occurrences each period yields; 0 for a series without RRULE.
    """
    window = _naive_utc(start)
    assert window is not None
    cost = 0
    for component in components:
        rules = component.get("RRULE")
        if not rules:
            continue
        prop = component.get("DTSTART")
        dtstart = _naive_utc(getattr(prop, "dt", None))
        if dtstart is None:
            continue
        for rule in rules if isinstance(rules, list) else [rules]:
            cost += _rule_cost(rule, dtstart, window)
    return cost


def expand_series(
    calendar: Any,
    components: list[Any],
    *,
    start: datetime,
    end: datetime,
    deadline: float,
    max_occurrences: int = MAX_SERIES_OCCURRENCES,
) -> list[Any]:
    """The occurrences of one series (the VEVENTs of one UID) that meet ``[start, end]``.

    Each series is expanded on its own, so an unreadable rule is reported with the
    event it belongs to. Times already carry their VTIMEZONE (``icalendar``
    resolves TZID while parsing), so the series needs no copy of them.
    Check ``series_cost`` first: the walk to ``start`` is not interruptible.

    Args:
        calendar: the whole VCALENDAR (for VERSION and X-WR-TIMEZONE).
        start: aware; occurrences still going on at ``start`` are included.
        end: aware; occurrences starting after it are not.
        deadline: a ``time.monotonic()`` value; checked once the series is expanded.
        max_occurrences: at most this many occurrences in the window.

    Raises:
        TooComplex: the deadline passed, or more than ``max_occurrences``.
    """
    single = icalendar.Calendar()
    for name in ("VERSION", "PRODID", "X-WR-TIMEZONE"):
        if name in calendar:
            single.add(name, calendar[name])
    for component in components:
        single.add_component(component)
    # One call for the whole window: the library's lazy ``after()`` walks the rule from
    # DTSTART again for every step it takes, which costs far more than this walk.
    found = recurring_ical_events.of(single).between(start, end)
    if time.monotonic() > deadline:
        raise TooComplex("deadline")
    if len(found) > max_occurrences:
        raise TooComplex("occurrences")
    return found
