"""A member's feed subscriptions, and syncing them in the background worker.

A feed is only ever fetched by the worker (``backsoon.tasks.calendar_feed_sync_job``),
never on a request thread. Before a fetch is queued the feed is *claimed*: a
conditional UPDATE of ``last_fetched_at`` that one caller wins, so eight parallel
"sync now" clicks, or two workers looking for due feeds, make one fetch (issue 14,
finding 1). The fetch itself is bounded by ``fetch.FETCH_DEADLINE_SECONDS``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.errors import Conflict, DomainError, Invalid, NotFound, RateLimited

from .fetch import calendar_feed_fetch, calendar_feed_url_check
from .models import CalendarFeed
from .preferences import lock_member
from .sync import ImportReport, import_windows, parse_for_member, reconcile

log = logging.getLogger(__name__)

FEED_INTERVAL = timedelta(minutes=15)
MAX_FEEDS = 10
MANUAL_SYNC_EVERY = timedelta(seconds=10)
SYNC_BATCH = 50


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


def calendar_feed_add(*, member: Member, url: str) -> CalendarFeed:
    """Subscribe to an ICS feed; the worker fetches it within a minute, then every 15.

    Raises:
        Invalid: see ``calendar_feed_url_check``; more than 10 feeds.
        Conflict: the member already subscribes to this URL.
    """
    normalized = calendar_feed_url_check(url)
    with transaction.atomic():
        lock_member(member)
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
        lock_member(member)
        calendar_feed_for_member(member, feed_id).delete()
        return reconcile(member=member, now=now)


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

    Runs in the worker; the caller has claimed the feed.

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
        windows = parse_for_member(member, data, now)
        report = import_windows(member=member, feed=feed, windows=windows, now=now)
    except DomainError as exc:
        _feed_record(feed, status=CalendarFeed.Status.ERROR, error=_error_text(exc))
        raise
    _feed_record(feed, status=CalendarFeed.Status.OK)
    return report


def _claim(feed: CalendarFeed, *, now: datetime, not_since: datetime) -> bool:
    """Claim ``feed`` for one fetch: set ``last_fetched_at`` to ``now`` unless it was
    set after ``not_since``. One conditional UPDATE, so of any number of parallel
    callers exactly one wins.

    Returns:
        Whether this caller won.
    """
    return bool(
        CalendarFeed.objects.filter(pk=feed.pk)
        .filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lte=not_since))
        .update(last_fetched_at=now)
    )


def _enqueue(feed: CalendarFeed) -> None:
    """Queue the fetch of a claimed feed. The job is a row of the database queue, so
    inside a transaction it commits (or not) together with the claim."""
    from backsoon.tasks import calendar_feed_sync_job

    calendar_feed_sync_job.enqueue(feed.pk)


def calendar_feed_sync_now(*, member: Member, feed_id: int) -> CalendarFeed:
    """The member's "sync now": claim the feed and queue its fetch for the worker.

    At most one fetch per feed every 10 seconds, however many calls arrive at once.

    Returns:
        The feed; its ``last_status`` and ``last_error`` change when the worker is done.

    Raises:
        NotFound: not the member's feed.
        RateLimited: claimed (queued or fetched) less than 10 seconds ago.
    """
    feed = calendar_feed_for_member(member, feed_id)
    now = timezone.now()
    if not _claim(feed, now=now, not_since=now - MANUAL_SYNC_EVERY):
        last = CalendarFeed.objects.filter(pk=feed.pk).values_list("last_fetched_at", flat=True)
        since = now - (last.first() or now)
        raise RateLimited(
            gettext("This feed was fetched a moment ago; try again in a few seconds."),
            retry_after=int((MANUAL_SYNC_EVERY - since).total_seconds()) + 1,
        )
    feed.last_fetched_at = now
    _enqueue(feed)
    return feed


def calendar_feed_sync_claimed(*, feed_id: int) -> str:
    """The worker's side of a claimed fetch: sync the feed and record the outcome.

    Never raises for a feed's own trouble (it is recorded on the feed).

    Returns:
        ``"ok"``, ``"error"`` or ``"gone"`` (the feed was deleted meanwhile).
    """
    feed = (
        CalendarFeed.objects.select_related("member")
        .filter(pk=feed_id, member__is_active=True)
        .first()
    )
    if feed is None:
        return "gone"
    try:
        calendar_feed_sync(feed=feed)
    except NotFound:
        return "gone"
    except DomainError:
        return CalendarFeed.Status.ERROR  # recorded on the feed
    except Exception:  # one broken feed must not fail the worker
        log.exception("calendar feed %s could not be synced", feed.pk)
        _feed_record(
            feed,
            status=CalendarFeed.Status.ERROR,
            error=gettext("Something went wrong while reading this feed; it is retried later."),
        )
        return CalendarFeed.Status.ERROR
    return CalendarFeed.Status.OK


def calendar_feeds_sync_due(*, now: datetime) -> int:
    """Queue a fetch of every feed last fetched 15 minutes ago or more (or never); the
    worker calls this every minute.

    Each feed is claimed first (see ``_claim``), so two workers never queue the same
    feed. Each fetch is its own job, bounded by the fetch deadline, so a slow feed
    holds the worker for at most that long and other jobs run in between. At most
    50 feeds per call, the longest waiting first.

    Returns:
        How many fetches were queued.
    """
    due = list(
        CalendarFeed.objects.filter(
            Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lte=now - FEED_INTERVAL),
            member__is_active=True,
        ).order_by(F("last_fetched_at").asc(nulls_first=True), "pk")[:SYNC_BATCH]
    )
    queued = 0
    for feed in due:
        if _claim(feed, now=now, not_since=now - FEED_INTERVAL):
            _enqueue(feed)
            queued += 1
    return queued
