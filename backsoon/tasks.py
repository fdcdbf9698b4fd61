"""Background jobs (django-tasks, database backend) and the periodic schedule.

``backsoon worker`` runs the database worker and, beside it, a scheduler that
enqueues each periodic job once per period, whatever the number of workers.

Logging (``job_log_one_line``): one line per job that did something, e.g.
``absences_tick: welcomed=1 reminded=0``; nothing for a periodic job that found
nothing to do; failures in full, as django-tasks logs them.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django_tasks import task

log = logging.getLogger(__name__)


@task()
def absences_tick() -> dict[str, int]:
    """Welcome-back notifications and end-of-absence reminders that are due (D2, D3)."""
    from backsoon.away.actions import absences_notify_due

    return absences_notify_due(now=timezone.now())


@task()
def calendar_feeds_tick() -> int:
    """Queue a fetch of each member's ICS feed last fetched 15 minutes ago or more."""
    from backsoon.away.calendar.feeds import calendar_feeds_sync_due

    return calendar_feeds_sync_due(now=timezone.now())


# Below the default priority: the worker takes other jobs (replies, reminders) first,
# and one fetch holds it for at most the fetch deadline.
FEED_SYNC_PRIORITY = -10


@task(priority=FEED_SYNC_PRIORITY)
def calendar_feed_sync_job(feed_id: int) -> str:
    """Fetch one claimed calendar feed and import it (issue 14, finding 1).

    Bounded by the fetch deadline; SIGTERM cuts the download at once, so stopping
    the worker is never held up by a slow feed.
    """
    from backsoon.away.calendar.feeds import calendar_feed_sync_claimed
    from backsoon.away.calendar.fetch import fetches_cancelled_on_sigterm

    with fetches_cancelled_on_sigterm():
        return calendar_feed_sync_claimed(feed_id=feed_id)


# (job, period): each job is enqueued once per period.
PERIODIC: list[tuple[Any, timedelta]] = [
    (absences_tick, timedelta(minutes=1)),
    (calendar_feeds_tick, timedelta(minutes=1)),
]


def schedule_due(*, now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose current slot nobody has claimed yet.

    Returns:
        The names of the jobs this call enqueued.
    """
    from backsoon.web.models import PeriodicSlot

    now = now or timezone.now()
    enqueued = []
    for job, period in PERIODIC:
        name = job.module_path
        slot = int(now.timestamp() // period.total_seconds())
        try:
            with transaction.atomic():
                PeriodicSlot.objects.create(name=name, slot=slot)
                job.enqueue()
        except IntegrityError:
            continue  # another worker has it
        enqueued.append(name)
    # Keep the table small: slots older than a day are of no use.
    PeriodicSlot.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    return enqueued


def run_scheduler(stop: threading.Event, *, every: float = 15.0) -> None:
    """Loop of the scheduler thread: check the schedule every ``every`` seconds until stopped."""
    while not stop.is_set():
        try:
            schedule_due()
        except Exception:  # keep scheduling through a database hiccup
            log.exception("scheduling periodic jobs failed")
        finally:
            close_old_connections()
        stop.wait(every)


def job_did_something(return_value: Any) -> bool:
    """Whether a job's return value says it did something: a non-zero count, a
    dict with one, a non-empty string (a feed's sync status)."""
    if isinstance(return_value, dict):
        return any(return_value.values())
    return bool(return_value)


def job_summary(return_value: Any) -> str:
    """The job's return value as the rest of its log line."""
    if isinstance(return_value, dict):
        return " ".join(f"{key}={value}" for key, value in return_value.items())
    return str(return_value)


# django-tasks logs every job twice at INFO ("state=RUNNING", "state=SUCCESSFUL"):
# with two periodic jobs a minute, that is four lines a minute of nothing.
class _DropRoutineTaskLines(logging.Filter):
    """Drops django-tasks' INFO lines about each job; keeps warnings and failures."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not str(record.msg).startswith("Task id=")


def _log_finished_job(sender: Any, task_result: Any, **kwargs: Any) -> None:
    from django_tasks_db.compat import TaskResultStatus

    if task_result.status != TaskResultStatus.SUCCESSFUL:
        return  # django-tasks logs failures with their traceback
    value = task_result.return_value
    if job_did_something(value):
        name = task_result.task.module_path.rsplit(".", 1)[-1]
        log.info("%s: %s", name, job_summary(value))


_ONE_LINE = _DropRoutineTaskLines()


def job_log_one_line() -> None:
    """Log one line per job that did something (``backsoon worker`` and the jobs
    inside ``backsoon serve``), instead of django-tasks' two per job. Idempotent."""
    from django_tasks_db.compat import TASKS_LOGGER, task_finished

    logger = logging.getLogger(TASKS_LOGGER)
    if _ONE_LINE not in logger.filters:
        logger.addFilter(_ONE_LINE)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    task_finished.connect(_log_finished_job, dispatch_uid="backsoon.tasks.one_line")
