"""Impressions: buffered in memory or in Redis, written to the database in batches.

A member counts at most once per post per UTC hour (issue 14, finding 6: one
member posting the same id over and over inflated the count). A bounded set of
the (member, post) pairs this process counted in the current and previous hour
(``RecentViews``) drops repeats before they reach the buffer; with Redis, a set
per hour shared by every process (``SADD``, expiring an hour after the hour ends) decides.
Without Redis each process keeps its own set: with several app processes a member
can count once per process per hour, and a process that saw more than
``MAX_SEEN_KEYS`` pairs in an hour forgets the oldest hour's pairs first, then
starts over (so a repeat can count again only after that many distinct views).

Recording an impression never touches the database. A *flush* takes everything
buffered and writes it in one transaction: the posts' ``impressions_count`` and
``unique_viewers``, the hourly buckets (``PostImpressionHour``) and the viewers
(``PostViewer``, unique per post and member).

Two buffers:

- **Memory** (no ``REDIS_URL``): a lock-protected counter per process, flushed by
  a daemon thread every ``IMPRESSIONS_FLUSH_SECONDS`` (default 2) and when the
  process stops (``atexit``, and a SIGTERM handler: see ``install_shutdown_flush``).
  A clean shutdown loses nothing; a SIGKILL loses what arrived since the last
  flush (at most about two seconds' worth).
- **Redis** (``REDIS_URL`` set): ``HINCRBY`` into a hash keyed ``<post>:<hour>`` and
  ``SADD`` of ``<post>:<member>`` into a set, shared by every app process. Whoever
  takes a short Redis lock flushes: the keys are renamed atomically, written to the
  database and only then deleted, so a flusher that dies leaves them for the next.

``impressions_flush()`` flushes now (tests call it). Setting
``IMPRESSIONS_FLUSH_SECONDS = 0`` turns the background flushing off (tests do, so
that no second thread writes to the test database behind their back). It is also
off for an in-memory SQLite database, which a second thread can not share safely.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, Count, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

from backsoon.accounts.models import Member

from .models import Post, PostImpressionHour, PostViewer

log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 2.0
# How long after an hour starts Redis keeps its set of counted (post, member) pairs.
SEEN_TTL_SECONDS = 2 * 3600
# A buffer holding this many distinct keys is flushed by the caller right away,
# so memory stays bounded even if the background thread falls behind.
MAX_PENDING_KEYS = 200_000
# Rows per statement when writing a batch.
CHUNK = 500
# (member, post) pairs a process remembers to count each at most once an hour.
MAX_SEEN_KEYS = 250_000  # one int each: about 25 MB at most
HOUR = 3600


class RecentViews:
    """Which (member, post) pairs this process counted, per UTC hour: bounded, thread-safe.

    Keeps the newest hour it was asked about and the one before; older hours are
    forgotten. Holds at most ``max_keys`` pairs: past that it forgets everything
    but the current hour, and past that again, the current hour too.
    """

    def __init__(self, max_keys: int = MAX_SEEN_KEYS) -> None:
        self._lock = threading.Lock()
        # One int per pair, member * 2**64 + post: exact for ids below 2**64, and
        # smaller than a tuple.
        self._hours: dict[int, set[int]] = {}
        self._size = 0
        self.max_keys = max_keys

    def fresh(self, member_id: int, post_ids: Iterable[int], hour: int) -> list[int]:
        """The posts of ``post_ids`` not yet counted for the member in ``hour``, now marked."""
        with self._lock:
            seen = self._hours.get(hour)
            if seen is None:
                for old in [h for h in self._hours if h < hour - HOUR]:
                    self._size -= len(self._hours.pop(old))
                seen = self._hours[hour] = set()
            fresh = []
            base = member_id << 64
            for post_id in post_ids:
                key = base | post_id
                if key not in seen:
                    seen.add(key)
                    fresh.append(post_id)
            self._size += len(fresh)
            if self._size > self.max_keys:
                self._shrink(hour)
            return fresh

    def _shrink(self, hour: int) -> None:
        for other in [h for h in self._hours if h != hour]:
            self._size -= len(self._hours.pop(other))
        if self._size > self.max_keys:
            self._hours[hour] = set()
            self._size = 0

    def clear(self) -> None:
        with self._lock:
            self._hours.clear()
            self._size = 0


@dataclass
class Batch:
    """Impressions taken out of a buffer, to be written in one transaction."""

    counts: dict[tuple[int, int], int] = field(default_factory=dict)  # (post, hour epoch) -> n
    viewers: set[tuple[int, int]] = field(default_factory=set)  # (post, member)

    def __bool__(self) -> bool:
        return bool(self.counts or self.viewers)


class Buffer(Protocol):
    def add(self, member_id: int, post_ids: Iterable[int], hour: int) -> int: ...

    def flush(self) -> int: ...

    def discard(self) -> None: ...


def hour_epoch(at: float | None = None) -> int:
    """The start of the UTC hour containing ``at`` (default now), in epoch seconds."""
    t = int(at if at is not None else time.time())
    return t - t % 3600


class MemoryBuffer:
    """A per-process, thread-safe buffer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._counts: defaultdict[tuple[int, int], int] = defaultdict(int)
        self._viewers: set[tuple[int, int]] = set()

    def add(self, member_id: int, post_ids: Iterable[int], hour: int) -> int:
        """Count one impression of each post; returns the number of pending keys."""
        with self._lock:
            counts, viewers = self._counts, self._viewers
            for post_id in post_ids:
                counts[(post_id, hour)] += 1
                viewers.add((post_id, member_id))
            return len(counts) + len(viewers)

    def _take(self) -> Batch:
        with self._lock:
            batch = Batch(counts=dict(self._counts), viewers=self._viewers)
            self._counts = defaultdict(int)
            self._viewers = set()
        return batch

    def _put_back(self, batch: Batch) -> None:
        with self._lock:
            for key, n in batch.counts.items():
                self._counts[key] += n
            self._viewers |= batch.viewers

    def flush(self) -> int:
        with self._flush_lock:
            batch = self._take()
            if not batch:
                return 0
            try:
                return write_batch(batch)
            except BaseException:
                # Nothing is lost when the database is briefly unavailable: the
                # next flush tries again with these added.
                self._put_back(batch)
                raise

    def discard(self) -> None:
        self._take()


class RedisBuffer:
    """A buffer shared by every app process through Redis."""

    # Prefixed with settings.REDIS_NAMESPACE (issue 14, finding 8).
    COUNTS = "impressions:counts"
    VIEWERS = "impressions:viewers"
    LOCK = "impressions:lock"
    # One set per hour of "<post>:<member>" already counted, shared by every process.
    SEEN = "impressions:seen"
    LOCK_MS = 30_000
    # Moves each live key to its ":flushing" name unless a previous flush left one
    # there (then that one is written first and the live key waits its turn).
    _TAKE = """
    for i = 1, #KEYS, 2 do
      if redis.call('EXISTS', KEYS[i + 1]) == 0 and redis.call('EXISTS', KEYS[i]) == 1 then
        redis.call('RENAME', KEYS[i], KEYS[i + 1])
      end
    end
    return 1
    """
    # KEYS: counts, viewers, this hour's seen set; ARGV: member, hour, ttl, post ids...
    _ADD = """
    local counted = 0
    for i = 4, #ARGV do
      local pair = ARGV[i] .. ':' .. ARGV[1]
      if redis.call('SADD', KEYS[3], pair) == 1 then
        redis.call('HINCRBY', KEYS[1], ARGV[i] .. ':' .. ARGV[2], 1)
        redis.call('SADD', KEYS[2], pair)
        counted = counted + 1
      end
    end
    redis.call('EXPIREAT', KEYS[3], tonumber(ARGV[2]) + tonumber(ARGV[3]))
    return counted
    """
    _RELEASE = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """

    def __init__(self, url: str, namespace: str = "backsoon") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.COUNTS, self.VIEWERS, self.LOCK, self.SEEN = (
            f"{namespace}:{key}" for key in (self.COUNTS, self.VIEWERS, self.LOCK, self.SEEN)
        )
        self._take_script = self.client.register_script(self._TAKE)
        self._release_script = self.client.register_script(self._RELEASE)
        self._add_script = self.client.register_script(self._ADD)

    def add(self, member_id: int, post_ids: Iterable[int], hour: int) -> int:
        ids = list(post_ids)
        if not ids:
            return 0
        with self.client.pipeline(transaction=False) as pipe:
            for post_id in ids:
                pipe.hincrby(self.COUNTS, f"{post_id}:{hour}", 1)
            pipe.sadd(self.VIEWERS, *[f"{post_id}:{member_id}" for post_id in ids])
            pipe.execute()
        return 0  # Redis holds the data; flushing is left to the flusher thread

    def add_first(self, member_id: int, post_ids: list[int], hour: int) -> int:
        """Count each post not yet counted for the member in ``hour`` by any process.

        Returns:
            How many of ``post_ids`` were counted (one round trip, atomic in Redis).
        """
        if not post_ids:
            return 0
        return int(
            self._add_script(
                keys=[self.COUNTS, self.VIEWERS, f"{self.SEEN}:{hour}"],
                args=[member_id, hour, SEEN_TTL_SECONDS, *post_ids],
            )
        )

    def flush(self) -> int:
        """Flush if no other process is flushing; returns the impressions written."""
        token = secrets.token_hex(8)
        if not self.client.set(self.LOCK, token, nx=True, px=self.LOCK_MS):
            return 0
        try:
            counts_key, viewers_key = self.COUNTS + ":flushing", self.VIEWERS + ":flushing"
            self._take_script(keys=[self.COUNTS, counts_key, self.VIEWERS, viewers_key])
            batch = Batch()
            for raw_key, raw_n in self.client.hgetall(counts_key).items():
                post_id, hour = _pair(raw_key)
                batch.counts[(post_id, hour)] = int(raw_n)
            for raw in self.client.sscan_iter(viewers_key, count=5000):
                batch.viewers.add(_pair(raw))
            written = write_batch(batch) if batch else 0
            # Deleted only once written: a flusher that dies leaves them for the next.
            self.client.delete(counts_key, viewers_key)
            return written
        finally:
            self._release_script(keys=[self.LOCK], args=[token])

    def discard(self) -> None:
        seen = list(self.client.scan_iter(match=f"{self.SEEN}:*", count=1000))
        self.client.delete(
            self.COUNTS,
            self.VIEWERS,
            self.COUNTS + ":flushing",
            self.VIEWERS + ":flushing",
            *seen,
        )


def _pair(raw: Any) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    a, b = text.split(":", 1)
    return int(a), int(b)


def write_batch(batch: Batch) -> int:
    """Write one batch in one transaction. Posts or members deleted since are skipped.

    Returns:
        The number of impressions written (those of deleted posts left out).

    Raises:
        DatabaseError: the write failed; nothing of the batch was written.
    """
    post_ids = {p for p, _ in batch.counts} | {p for p, _ in batch.viewers}
    with transaction.atomic():
        existing = _existing(Post, post_ids)
        per_post: defaultdict[int, int] = defaultdict(int)
        hours: list[tuple[int, int, int]] = []
        for (post_id, hour), n in batch.counts.items():
            if post_id in existing and n > 0:
                per_post[post_id] += n
                hours.append((post_id, hour, n))
        _add_counts(per_post)
        _upsert_hours(hours)
        viewers = [(p, m) for p, m in batch.viewers if p in existing]
        members = _existing(Member, {m for _, m in viewers})
        rows = [PostViewer(post_id=p, member_id=m) for p, m in viewers if m in members]
        PostViewer.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CHUNK)
        touched = sorted({row.post_id for row in rows})
        for i in range(0, len(touched), CHUNK):
            # Exact even when two processes flush the same viewer: the table decides.
            distinct = (
                PostViewer.objects.filter(post_id=OuterRef("pk"))
                .values("post_id")
                .annotate(n=Count("id"))
                .values("n")
            )
            Post.objects.filter(pk__in=touched[i : i + CHUNK]).update(
                unique_viewers=Coalesce(Subquery(distinct), Value(0))
            )
    return sum(per_post.values())


def _existing(model: Any, ids: set[int]) -> set[int]:
    found: set[int] = set()
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        found.update(
            model.objects.filter(pk__in=ordered[i : i + CHUNK]).values_list("pk", flat=True)
        )
    return found


def _add_counts(per_post: dict[int, int]) -> None:
    items = sorted(per_post.items())
    for i in range(0, len(items), CHUNK):
        chunk = items[i : i + CHUNK]
        Post.objects.filter(pk__in=[p for p, _ in chunk]).update(
            impressions_count=F("impressions_count")
            + Case(*[When(pk=p, then=Value(n)) for p, n in chunk], default=Value(0))
        )


def _upsert_hours(hours: list[tuple[int, int, int]]) -> None:
    if not hours:
        return
    ops = connection.ops
    table = ops.quote_name(PostImpressionHour._meta.db_table)
    post_col, hour_col, count_col = (ops.quote_name(c) for c in ("post_id", "hour", "count"))
    # Raised in the database, not read-modify-written, so concurrent flushes add up.
    sql = (
        f"INSERT INTO {table} ({post_col}, {hour_col}, {count_col}) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({post_col}, {hour_col}) "
        f"DO UPDATE SET {count_col} = {table}.{count_col} + excluded.{count_col}"
    )
    params = [
        (post_id, ops.adapt_datetimefield_value(datetime.fromtimestamp(hour, UTC)), n)
        for post_id, hour, n in hours
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(params), CHUNK):
            cursor.executemany(sql, params[i : i + CHUNK])


# --- the process-wide buffer and its flusher -----------------------------------

_state_lock = threading.Lock()
_buffer: Buffer | None = None
_recent = RecentViews()
# Whether this process flushes in the background: decided once, at the first
# impression (None: not yet), together with the database it flushes to.
_armed: bool | None = None
_armed_database: str = ""


def buffer() -> Buffer:
    """The buffer of this process (Redis when ``REDIS_URL`` is set, else memory)."""
    global _buffer
    if _buffer is None:
        with _state_lock:
            if _buffer is None:
                url = getattr(settings, "REDIS_URL", "")
                namespace = getattr(settings, "REDIS_NAMESPACE", "") or "backsoon"
                _buffer = RedisBuffer(url, namespace) if url else MemoryBuffer()
    return _buffer


def flush_interval() -> float:
    return float(getattr(settings, "IMPRESSIONS_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))


def _database_name() -> str:
    return str(connections["default"].settings_dict.get("NAME") or "")


def autoflush_enabled() -> bool:
    """Whether a background thread may flush (see the module docstring)."""
    if flush_interval() <= 0:
        return False
    db = connections["default"]
    in_memory = getattr(db, "is_in_memory_db", None)
    return not (in_memory is not None and in_memory())


def record(*, member_id: int, post_ids: Iterable[int], at: float | None = None) -> int:
    """Buffer one impression of each post for the member, once per post an hour.

    No database access. A post already counted for this member in the same UTC hour
    is skipped: by this process's ``RecentViews`` without a second thought, and with
    Redis by the hour's shared set as well.

    Args:
        member_id: the viewer.
        post_ids: the posts shown.
        at: when, in epoch seconds (default now); only its hour is kept.

    Returns:
        How many of ``post_ids`` were counted.
    """
    hour = hour_epoch(at)
    fresh = _recent.fresh(member_id, post_ids, hour)
    if not fresh:
        return 0
    current = buffer()
    if isinstance(current, RedisBuffer):
        counted = current.add_first(member_id, fresh, hour)
        pending = 0
    else:
        counted = len(fresh)
        pending = current.add(member_id, fresh, hour)
    if _armed is None:
        _arm()
    if pending > MAX_PENDING_KEYS:
        impressions_flush()
    return counted


def impressions_flush() -> int:
    """Write everything buffered now (Redis: unless another process is flushing).

    Returns:
        The number of impressions written.

    Raises:
        DatabaseError: the write failed; the impressions stay buffered for the next try.
    """
    return buffer().flush()


def impressions_discard() -> None:
    """Forget everything buffered and every view seen (for tests and benchmarks)."""
    buffer().discard()
    _recent.clear()


def _arm() -> None:
    """Start the flusher thread and the exit flush, unless autoflush is off now.

    Decided once per process: a process that starts with autoflush off (the test
    suite) never flushes behind the caller's back, not even at exit.
    """
    global _armed, _armed_database
    with _state_lock:
        if _armed is not None:
            return
        _armed = autoflush_enabled()
        if not _armed:
            return
        _armed_database = _database_name()
        threading.Thread(target=_flush_loop, name="impressions-flush", daemon=True).start()
        atexit.register(_flush_at_exit)


def _may_flush() -> bool:
    # Never into another database than the one the process started with (a test
    # run switches back from its test database before the process exits).
    return flush_interval() > 0 and _database_name() == _armed_database


def _flush_loop() -> None:
    while True:
        interval = flush_interval()
        time.sleep(interval if interval > 0 else 1.0)
        try:
            if _may_flush():
                impressions_flush()
        except Exception:
            log.warning("impressions flush failed; will retry", exc_info=True)
        finally:
            # This thread's own connection; the request threads keep theirs.
            connections.close_all()


def _flush_at_exit() -> None:
    try:
        if _may_flush():
            impressions_flush()
    except Exception:
        log.warning("impressions lost at exit: the final flush failed", exc_info=True)


def install_shutdown_flush() -> None:
    """Flush before the process dies of SIGTERM, which skips ``atexit``.

    In the main thread and only where nobody handles SIGTERM yet (a script, a
    management command), this installs a handler that flushes (if this process
    buffers impressions) and then dies of the signal as before. Called from the
    app's ``ready()``. (``backsoon serve``'s worker processes stop through granian's
    own handler and flush as they end: see ``backsoon.wsgi``.)
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _flush_then_die)


def _flush_then_die(signum: int, frame: Any) -> None:
    if _armed:
        # In a thread: the signal may have interrupted this very thread inside a flush.
        final = threading.Thread(target=_flush_at_exit, name="impressions-final-flush")
        final.start()
        final.join(timeout=10)
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)
