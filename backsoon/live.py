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
process has no open stream and no other process can have one, and with Redis
nothing more than a dictionary look-up when the members have no stream open on any
process (see :class:`RedisBus`).

Streams are bounded (issue 14, finding 9): at most ``LIVE_STREAMS_PER_MEMBER`` per
member (a new stream beyond that ends the member's oldest one) and
``LIVE_STREAMS_PER_PROCESS`` per process (:meth:`InProcessBus.open` raises
:class:`TooManyStreams` beyond that).
"""

from __future__ import annotations

import json
import logging
import threading
import time
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

    def listeners(self, member_ids: list[int]) -> list[int]: ...

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
        # Each member's streams, oldest first (a dict keeps insertion order).
        self._subs: dict[int, dict[_QueueSubscription, None]] = {}
        self._count = 0
        self._stopping = False

    def listening(self) -> bool:
        """Whether any stream is open here (read without the lock: a hint)."""
        return bool(self._subs)

    def listeners(self, member_ids: list[int]) -> list[int]:
        """Those of ``member_ids`` with a stream open here (a hint, as above)."""
        return [mid for mid in member_ids if mid in self._subs]

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
            TooManyStreams: the process is at its cap, or stopping. (At the member's
                cap the member's oldest stream is ended instead.)
        """
        sub = _QueueSubscription()
        ended = []
        with self._lock:
            mine = self._subs.get(member_id, {})
            if self._stopping:
                raise TooManyStreams("process")
            # At the member's cap the newest stream wins: the oldest is ended (a tab
            # closed without the server noticing yet must not lock its member out; a
            # page whose stream ends reconnects, and then the oldest goes in turn).
            # The same holds at the process's cap for a member who has a stream here
            # (the common case: one member moving from page to page).
            while mine and (len(mine) >= self.per_member or self._count >= self.per_process):
                oldest = next(iter(mine))
                del mine[oldest]
                self._count -= 1
                ended.append(oldest)
            if self._count >= self.per_process:
                for old in ended:  # nothing changes for a stream that is refused
                    mine[old] = None
                    self._count += 1
                raise TooManyStreams("process")
            mine[sub] = None
            self._subs[member_id] = mine
            self._count += 1
        for old in ended:
            old.close()
        return sub

    def release(self, member_id: int, sub: _QueueSubscription) -> None:
        with self._lock:
            subs = self._subs.get(member_id)
            if subs is not None and sub in subs:
                del subs[sub]
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


# Register or unregister one stream and announce the member's new count, atomically
# (so that control messages arrive in the order of the counts they carry).
_COUNT_SCRIPT = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]); n = 0 end
redis.call('PUBLISH', KEYS[2], ARGV[3] .. ARGV[1] .. ' ' .. n)
return n
"""

# Drop the entries of members whose channel nobody subscribes to any more (left by a
# process that died with streams open); ARGV: member ids, then their channels.
_HEAL_SCRIPT = """
local healed = 0
local half = #ARGV / 2
for i = 1, half do
  local numsub = redis.call('PUBSUB', 'NUMSUB', ARGV[half + i])
  if numsub[2] == 0 and redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('PUBLISH', KEYS[2], '-' .. ARGV[i] .. ' 0')
    healed = healed + 1
  end
end
return healed
"""


class RedisBus:
    """Publishes to ``<namespace>:live:<member id>`` on Redis; each open stream reads
    its member's channel on a connection of its own (bounded by the stream caps).

    Publishing is free when nobody listens anywhere (issue 13): the hash
    ``<namespace>:live:listeners`` counts the open streams of each member over all
    processes, and every change is announced on ``<namespace>:live:control`` as
    ``+<member> <count>`` or ``-<member> <count>``. One daemon thread per process
    (started with the first publish or stream) follows that channel into a local
    copy, loaded with ``HGETALL`` once it is (re)subscribed; :meth:`publish` keeps only
    the members counted there or with a stream in this process, without a round
    trip, and skips Redis when none is left. Until the copy is loaded, and while
    the control connection is down, it publishes to every member as before.

    A process that dies with streams open leaves its counts behind: that only costs
    publishes nobody reads. The control thread heals them every
    ``HEAL_SECONDS``: an entry whose member channel has no subscriber left
    (``PUBSUB NUMSUB``; a stream subscribes before it is counted and is uncounted
    before it unsubscribes) is deleted.
    """

    HEAL_SECONDS = 60.0

    def __init__(self, url: str, *, namespace: str, local: InProcessBus | None = None) -> None:
        import redis

        self.url = url
        self.namespace = namespace
        self.local = local or InProcessBus()
        self._client = redis.Redis.from_url(url)
        self._count = self._client.register_script(_COUNT_SCRIPT)
        self._heal = self._client.register_script(_HEAL_SCRIPT)
        self.listeners_key = f"{namespace}:live:listeners"
        self.control_channel = f"{namespace}:live:control"
        # member id -> open streams over all processes; None until loaded (or while
        # the control connection is down): then every member may be listening.
        self._registry: dict[int, int] | None = None
        self._lock = threading.Lock()
        self._control: threading.Thread | None = None
        self._stop = threading.Event()

    def channel(self, member_id: int) -> str:
        return f"{self.namespace}:live:{member_id}"

    def listening(self) -> bool:
        """Whether a stream may be open on any process (starts the control thread)."""
        if self._control is None:
            self._start_control()
        registry = self._registry
        return registry is None or bool(registry) or self.local.listening()

    def listeners(self, member_ids: list[int]) -> list[int]:
        """Those of ``member_ids`` who may have a stream open on any process (all of
        them until the registry is loaded); no round trip to Redis."""
        if self._control is None:
            self._start_control()
        registry = self._registry
        if registry is None:
            return member_ids
        here = self.local._subs
        return [mid for mid in member_ids if mid in registry or mid in here]

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        """At most one pipelined round trip on the publishing thread, none when no
        member listens; never raises."""
        ids = self.listeners(member_ids)
        if not ids:
            return
        payload = json.dumps(event, default=str)
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for mid in ids:
                    pipe.publish(self.channel(mid), payload)
                pipe.execute()
        except Exception:  # live updates are best effort; the data is already committed
            log.warning("live update not published", exc_info=True)

    def _register(self, member_id: int, delta: int) -> None:
        sign = "+" if delta > 0 else "-"
        keys = [self.listeners_key, self.control_channel]
        self._count(keys=keys, args=[member_id, delta, sign])

    @contextmanager
    def subscribe(self, member_id: int) -> Iterator[_RedisSubscription]:
        with self.local.subscribe(member_id) as local:
            self._start_control()
            pubsub = self._client.pubsub()
            registered = False
            try:
                pubsub.subscribe(self.channel(member_id))  # before it is counted
                self._register(member_id, 1)  # raises as subscribe does: Redis is down
                registered = True
                yield _RedisSubscription(local, pubsub)
            finally:
                if registered:
                    try:
                        self._register(member_id, -1)
                    except Exception:  # healed later: the channel has no subscriber
                        log.warning("live stream not unregistered", exc_info=True)
                with suppress(Exception):
                    pubsub.close()

    def _start_control(self) -> None:
        with self._lock:
            if self._control is None:
                self._control = threading.Thread(
                    target=self._follow, name="live-control", daemon=True
                )
                self._control.start()

    def _follow(self) -> None:
        """The control thread: keeps :attr:`_registry` in step with Redis."""
        while not self._stop.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self.control_channel)
                healed_at = time.monotonic()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    kind = message and message.get("type")
                    if kind == "subscribe":  # (re)subscribed: what came before is in
                        self._reload()
                    elif kind == "message":
                        self._apply(message["data"])
                    if time.monotonic() - healed_at >= self.HEAL_SECONDS:
                        self.heal()
                        healed_at = time.monotonic()
            except Exception:
                self._registry = None  # publish to all until reloaded
                log.warning("live updates: control connection lost; retrying", exc_info=True)
                self._stop.wait(1.0)
            finally:
                with suppress(Exception):
                    pubsub.close()

    def _reload(self) -> None:
        loaded = self._client.hgetall(self.listeners_key)
        self._registry = {int(k): int(v) for k, v in loaded.items() if int(v) > 0}

    def _apply(self, data: bytes) -> None:
        """Apply one control message, ``+<member> <count>`` or ``-<member> <count>``."""
        registry = self._registry
        try:
            member, count = data.decode()[1:].split(" ")
            mid, n = int(member), int(count)
        except ValueError:
            log.debug("malformed live control message ignored")
            return
        if registry is None:
            return
        if n > 0:
            registry[mid] = n
        else:
            registry.pop(mid, None)

    def heal(self) -> int:
        """Delete the counts of members whose channel nobody subscribes to; how many."""
        members = list(self._registry or ())
        healed = 0
        for i in range(0, len(members), 500):
            chunk = members[i : i + 500]
            args: list[int | str] = [*chunk, *(self.channel(mid) for mid in chunk)]
            healed += int(self._heal(keys=[self.listeners_key, self.control_channel], args=args))
        return healed

    def stop(self) -> None:
        """End the open streams and the control thread (within a second)."""
        self.local.stop()
        self._stop.set()
        control = self._control
        if control is not None:
            control.join(timeout=5)


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

    def listeners(self, member_ids: list[int]) -> list[int]:
        return member_ids  # any of them may have a stream open on another process

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

    Free when nobody can be listening: nothing is even queued when none of the
    members can have a stream open (in-process: none here; with Redis: none on any
    process, by the registry of :class:`RedisBus`, without a round trip). Otherwise
    the bus checks again at the commit, for all of them.
    """
    target = bus()
    if not target.listening():
        return
    ids = sorted(set(member_ids))
    if ids and target.listeners(ids):
        transaction.on_commit(lambda: target.publish(ids, event))
