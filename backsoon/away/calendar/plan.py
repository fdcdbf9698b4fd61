"""The plan that turns imported events into absences: pure, no database, no clock.

``sync._reconcile`` reads the rows, asks ``plan_calendar_absences`` what to do and
writes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext

from backsoon.away.rules import MAX_ABSENCE_DAYS, window_problem


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
