"""Live updates: events pushed to members' open pages (server-sent events).

Every process keeps its open streams in an :class:`InProcessBus`. :func:`bus` adds,
once per process, the transport that carries events between processes:

- :class:`RedisBus` when ``REDIS_URL`` is set: Redis pub/sub, one channel per member
  (``<REDIS_NAMESPACE>:live:<member id>``), so a member connected to any app process
  on any machine gets events published by any other.
- :class:`PostgresBus` on PostgreSQL without Redis: ``NOTIFY`` on commit, and one
  thread per process that ``LISTEN``\\ s and hands events to its own streams.
- :class:`InProcessBus` alone otherwise (SQLite without Redis): ``backsoon serve``
  then runs one app process, with the background jobs in it (see ``backsoon.cli``).

Delivery is best effort: an event is a hint to refetch, and a page refetches what it
shows whenever its stream (re)connects.

Actions never publish directly: they call :func:`publish_on_commit`, so nothing is
announced for a transaction that rolls back. Publishing costs nothing when this
process has no open stream and no other process can have one.

Streams are bounded (issue 14, finding 9): at most ``LIVE_STREAMS_PER_MEMBER`` per
member and ``LIVE_STREAMS_PER_PROCESS`` per process; :meth:`InProcessBus.open`
raises :class:`TooManyStreams` beyond that.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

DEFAULT_STREAMS_PER_MEMBER = 10
DEFAULT_STREAMS_PER_PROCESS = 32


class TooManyStreams(Exception):
    """A new stream would pass a cap; ``scope`` is ``"member"`` or ``"process"``."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class Subscription(Protocol):
    closed: bool

    def get(self, timeout: float) -> dict[str, Any] | None: ...


class Bus(Protocol):
    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None: ...

    def listening(self) -> bool: ...

    def subscribe(self, member_id: int) -> Any: ...


class _QueueSubscription:
    """The events of one open stream, handed from publishing threads to its thread."""

    MAX_PENDING = 1000

    def __init__(self) -> None:
        # A page too slow to keep up loses old events rather than growing memory
        # without bound (it refetches on reconnect).
        self._events: deque[dict[str, Any]] = deque(maxlen=self.MAX_PENDING)
        self._ready = threading.Condition(threading.Lock())
        self.closed = False

    def offer(self, event: dict[str, Any]) -> None:
        with self._ready:
            self._events.append(event)
            self._ready.notify()

    def close(self) -> None:
        """End the stream: ``get`` returns None from now on (the server is stopping)."""
        with self._ready:
            self.closed = True
            self._ready.notify_all()

    def get(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None after ``timeout`` seconds or once closed."""
        with self._ready:
            if not self._events and not self.closed:
                self._ready.wait(timeout)
            if self._events and not self.closed:
                return self._events.popleft()
            return None


class InProcessBus:
    """The open streams of this process; thread-safe, bounded.

    Args:
        per_member: the most streams one member may hold open in this process.
        per_process: the most streams this process holds open in all.
    """

    def __init__(
        self,
        *,
        per_member: int = DEFAULT_STREAMS_PER_MEMBER,
        per_process: int = DEFAULT_STREAMS_PER_PROCESS,
    ) -> None:
        self.per_member = per_member
        self.per_process = per_process
        self._lock = threading.Lock()
        self._subs: dict[int, set[_QueueSubscription]] = {}
        self._count = 0
        self._stopping = False

    def listening(self) -> bool:
        """Whether any stream is open here (read without the lock: a hint)."""
        return bool(self._subs)

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        if not self._subs:
            return
        with self._lock:
            targets = [sub for mid in member_ids for sub in self._subs.get(mid, ())]
        for sub in targets:
            sub.offer(event)

    def open(self, member_id: int) -> _QueueSubscription:
        """Register a stream for the member (close it with :meth:`release`).

        Raises:
            TooManyStreams: the member or the process is at its cap, or the process
                is stopping.
        """
        sub = _QueueSubscription()
        with self._lock:
            mine = self._subs.get(member_id, set())
            if self._stopping or self._count >= self.per_process:
                raise TooManyStreams("process")
            if len(mine) >= self.per_member:
                raise TooManyStreams("member")
            mine.add(sub)
            self._subs[member_id] = mine
            self._count += 1
        return sub

    def release(self, member_id: int, sub: _QueueSubscription) -> None:
        with self._lock:
            subs = self._subs.get(member_id)
            if subs is not None and sub in subs:
                subs.discard(sub)
                self._count -= 1
                if not subs:
                    del self._subs[member_id]

    @contextmanager
    def subscribe(self, member_id: int) -> Iterator[_QueueSubscription]:
        sub = self.open(member_id)
        try:
            yield sub
        finally:
            self.release(member_id, sub)

    def stop(self) -> None:
        """End every open stream and refuse new ones (the process is stopping)."""
        with self._lock:
            self._stopping = True
            subs = [sub for member_subs in self._subs.values() for sub in member_subs]
        for sub in subs:
            sub.close()


def _local() -> InProcessBus:
    return InProcessBus(
        per_member=int(getattr(settings, "LIVE_STREAMS_PER_MEMBER", DEFAULT_STREAMS_PER_MEMBER)),
        per_process=int(getattr(settings, "LIVE_STREAMS_PER_PROCESS", DEFAULT_STREAMS_PER_PROCESS)),
    )


class _RedisSubscription:
    """One stream's Redis subscription, read by the stream's own thread."""

    def __init__(self, local: _QueueSubscription, pubsub: Any) -> None:
        self.local = local
        self.pubsub = pubsub

    @property
    def closed(self) -> bool:
        return self.local.closed

    def get(self, timeout: float) -> dict[str, Any] | None:
        """The next event from Redis, or None after ``timeout`` or once the stream is
        closed (checked at least every second)."""
        remaining = timeout
        while remaining > 0 and not self.local.closed:
            wait = min(remaining, 1.0)
            message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            if message and message.get("type") == "message":
                data: dict[str, Any] = json.loads(message["data"])
                return data
            remaining -= wait
        return None


class RedisBus:
    """Publishes to ``<namespace>:live:<member id>`` on Redis; each open stream reads
    its member's channel on a connection of its own (bounded by the stream caps)."""

    def __init__(self, url: str, *, namespace: str, local: InProcessBus | None = None) -> None:
        import redis

        self.url = url
        self.namespace = namespace
        self.local = local or InProcessBus()
        self._client = redis.Redis.from_url(url)

    def channel(self, member_id: int) -> str:
        return f"{self.namespace}:live:{member_id}"

    def listening(self) -> bool:
        return True  # a stream on another process or machine may be listening

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        """One pipelined round trip on the publishing thread; never raises."""
        payload = json.dumps(event, default=str)
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for mid in member_ids:
                    pipe.publish(self.channel(mid), payload)
                pipe.execute()
        except Exception:  # live updates are best effort; the data is already committed
            log.warning("live update not published", exc_info=True)

    @contextmanager
    def subscribe(self, member_id: int) -> Iterator[_RedisSubscription]:
        with self.local.subscribe(member_id) as local:
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self.channel(member_id))
                yield _RedisSubscription(local, pubsub)
            finally:
                with suppress(Exception):
                    pubsub.close()

    def stop(self) -> None:
        self.local.stop()


class PostgresBus:
    """PostgreSQL ``LISTEN``/``NOTIFY`` on one channel: :meth:`publish` runs
    ``pg_notify`` on the publishing thread's connection (after the commit), and one
    listener thread per process, started with its first stream, hands each event to
    the streams open here. A payload carries at most CHUNK member ids (PostgreSQL
    takes payloads under 8000 bytes)."""

    CHANNEL = "backsoon_live"
    CHUNK = 200

    def __init__(self, local: InProcessBus | None = None) -> None:
        self.local = local or InProcessBus()
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._stop = threading.Event()

    def listening(self) -> bool:
        return True

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        try:
            with connection.cursor() as cursor:
                for i in range(0, len(member_ids), self.CHUNK):
                    payload = json.dumps(
                        {"ids": member_ids[i : i + self.CHUNK], "event": event}, default=str
                    )
                    if len(payload) >= 8000:
                        log.warning("live update of type %r too large", event.get("type"))
                        continue
                    cursor.execute("SELECT pg_notify(%s, %s)", [self.CHANNEL, payload])
        except Exception:  # best effort; the data is already committed
            log.warning("live update not published", exc_info=True)

    def _listen(self) -> None:
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        while not self._stop.is_set():
            try:
                with psycopg.connect(**params, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self.CHANNEL}")
                    self._listening.set()
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=1.0):
                            self._deliver(notify.payload)
            except Exception:
                self._listening.clear()
                log.warning("live updates: LISTEN connection lost; retrying", exc_info=True)
                self._stop.wait(1.0)

    def _deliver(self, payload: str) -> None:
        try:
            piece = json.loads(payload)
            ids = [int(mid) for mid in piece["ids"]]
        except (ValueError, KeyError, TypeError):
            log.debug("malformed live update notification ignored")
            return
        self.local.publish(ids, piece["event"])

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._listen, name="live-listen", daemon=True
                )
                self._listener.start()
        self._listening.wait(5.0)

    @contextmanager
    def subscribe(self, member_id: int) -> Iterator[_QueueSubscription]:
        with self.local.subscribe(member_id) as sub:
            self._start_listener()
            yield sub

    def stop(self) -> None:
        """End the open streams and the listener thread (within a second)."""
        self.local.stop()
        self._stop.set()
        listener = self._listener
        if listener is not None:
            listener.join(timeout=5)


def redis_namespace() -> str:
    """The prefix of every Redis key and channel of this deployment (issue 14,
    finding 8): ``REDIS_NAMESPACE``, by default derived from the database's name."""
    return str(getattr(settings, "REDIS_NAMESPACE", "") or "backsoon")


@lru_cache(maxsize=1)
def bus() -> RedisBus | PostgresBus | InProcessBus:
    """This process's bus (see the module docstring for the choice)."""
    if settings.REDIS_URL:
        return RedisBus(settings.REDIS_URL, namespace=redis_namespace(), local=_local())
    if connection.vendor == "postgresql":
        return PostgresBus(local=_local())
    return _local()


def shares_between_processes() -> bool:
    """Whether live updates reach streams in other processes (Redis or PostgreSQL)."""
    return not isinstance(bus(), InProcessBus)


def stop_streams() -> None:
    """End this process's open streams (on shutdown), so that the server can stop."""
    bus().stop()


def publish_on_commit(member_ids: Iterable[int], event: dict[str, Any]) -> None:
    """Announce ``event`` to the members' open pages once the transaction commits.

    Free when nobody can be listening: in-process only, and no stream open here.
    """
    target = bus()
    if not target.listening():
        return
    ids = sorted(set(member_ids))
    if ids:
        transaction.on_commit(lambda: target.publish(ids, event))
