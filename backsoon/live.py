"""Live updates: events pushed to members' open pages (server-sent events).

:func:`bus` picks one of three buses, once per process:

- :class:`RedisBus` when ``REDIS_URL`` is set: Redis pub/sub, so a member connected
  to any app process on any machine gets events published by any other.
- :class:`LocalSocketBus` otherwise (the embedded default): Unix datagram sockets in
  ``LIVE_DIR``, so the app workers and the background worker of one machine reach
  each other's subscribers.
- :class:`InProcessBus` when neither is available (``LIVE_DIR`` unset, no Unix
  sockets, or a socket path too long): subscribers of the publishing process only.

Delivery is best effort: an event is a hint to refetch, and a page refetches what it
shows whenever its stream (re)connects.

Actions never publish directly: they call :func:`publish_on_commit`, so nothing is
announced for a transaction that rolls back.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import socket
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


class Subscription(Protocol):
    async def get(self) -> dict[str, Any]: ...


class Bus(Protocol):
    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None: ...

    def subscribe(self, member_id: int) -> Any: ...


class _QueueSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.loop = asyncio.get_running_loop()

    def offer(self, event: dict[str, Any]) -> None:
        # Runs on the subscriber's loop; a page too slow to keep up loses old events
        # rather than growing memory without bound (it refetches on reconnect).
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


class InProcessBus:
    """Delivers to subscribers of this process only; thread-safe publish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[int, set[_QueueSubscription]] = {}

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        with self._lock:
            targets = [sub for mid in member_ids for sub in self._subs.get(mid, ())]
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, event)
            except RuntimeError:  # the subscriber's loop has closed
                continue

    @asynccontextmanager
    async def subscribe(self, member_id: int) -> AsyncIterator[_QueueSubscription]:
        sub = _QueueSubscription()
        with self._lock:
            self._subs.setdefault(member_id, set()).add(sub)
        try:
            yield sub
        finally:
            with self._lock:
                subs = self._subs.get(member_id)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._subs[member_id]


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def get(self) -> dict[str, Any]:
        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message and message.get("type") == "message":
                data: dict[str, Any] = json.loads(message["data"])
                return data


class RedisBus:
    """Publishes to the channel ``backsoon:live:<member id>`` on Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._client = redis.Redis.from_url(url)

    @staticmethod
    def channel(member_id: int) -> str:
        return f"backsoon:live:{member_id}"

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        payload = json.dumps(event, default=str)
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for mid in member_ids:
                    pipe.publish(self.channel(mid), payload)
                pipe.execute()
        except Exception:  # live updates are best effort; the data is already committed
            log.warning("live update not published", exc_info=True)

    @asynccontextmanager
    async def subscribe(self, member_id: int) -> AsyncIterator[_RedisSubscription]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        await pubsub.subscribe(self.channel(member_id))
        try:
            yield _RedisSubscription(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
            await client.aclose()


# sun_path's size, its terminating NUL included.
_SUN_PATH_MAX = 104 if sys.platform == "darwin" or "bsd" in sys.platform else 108


class LocalSocketBus:
    """Reaches the subscribers of every process on this machine that shares ``directory``.

    A process with subscribers binds the datagram socket ``<directory>/<name>.sock``
    on its first subscribe and reads it on one daemon thread, handing each event to
    its subscribers as :class:`InProcessBus` does. :meth:`publish` delivers to this
    process's subscribers directly and queues the event for one sender thread, so a
    request never waits for another process. The sender sends what has queued up as
    few datagrams as it fits in to every other socket in the directory: Linux queues
    only 10 datagrams per socket, and a receiver busy for a moment (it shares its
    process's GIL with the request threads) then still gets every event of a burst.
    A receiver that lags by more than SEND_TIMEOUT misses that batch, and the socket
    of a process that is gone is removed.

    Args:
        directory: shared by the processes that reach each other; created (owner
            only) on the first subscribe.
        name: the socket's file name without ``.sock``, unique per process (default:
            the process id).
    """

    CHUNK = 500  # member ids per piece: about 4 KB
    MAX_DATAGRAM = 64 * 1024
    SEND_TIMEOUT = 0.2  # seconds a receiver may lag before it misses a batch
    OUTBOX = 10_000  # events waiting to be sent; the oldest go first when it is full

    def __init__(self, directory: Path, *, name: str | None = None) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{name or os.getpid()}.sock"
        self._local = InProcessBus()
        self._lock = threading.Lock()
        self._receiver: socket.socket | None = None
        self._sender: socket.socket | None = None
        self._owner_pid = 0
        self._outbox: deque[tuple[list[int], dict[str, Any]]] = deque(maxlen=self.OUTBOX)
        self._wake = threading.Event()
        self._sender_thread: threading.Thread | None = None
        self._idle = threading.Event()  # set while nothing is queued or being sent
        self._idle.set()

    @classmethod
    def fits(cls, directory: Path) -> bool:
        """Whether a socket path in ``directory`` fits in ``sun_path`` for any pid."""
        return len(os.fsencode(Path(directory) / f"{'9' * 10}.sock")) < _SUN_PATH_MAX

    def publish(self, member_ids: list[int], event: dict[str, Any]) -> None:
        """Deliver ``event`` here, and queue it for the other processes; never raises
        and never waits (thread-safe): one sender thread sends what is queued."""
        self._local.publish(member_ids, event)
        if not member_ids:
            return
        with self._lock:
            self._idle.clear()
            self._outbox.append((list(member_ids), event))
        if self._sender_thread is None:
            with self._lock:
                if self._sender_thread is None:
                    self._sender_thread = threading.Thread(
                        target=self._send_loop, name="live-bus-sender", daemon=True
                    )
                    self._sender_thread.start()
                    atexit.register(self.flush)  # a process ending sends what it queued
        self._wake.set()

    def _send_loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            batch = []
            while self._outbox:
                batch.append(self._outbox.popleft())
            try:
                self._send_to_peers(batch)
            except Exception:  # live updates are best effort; the data is already committed
                log.warning("live updates not sent to the other processes", exc_info=True)
            with self._lock:
                if not self._outbox:
                    self._idle.set()

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until everything published so far has been sent; False on timeout."""
        return self._idle.wait(timeout)

    def _datagrams(self, batch: list[tuple[list[int], dict[str, Any]]]) -> list[bytes]:
        """The batch as datagrams of whole pieces (``{"ids", "event"}``), each below
        MAX_DATAGRAM: under load one datagram carries many events, so a receiver
        wakes once for all of them."""
        datagrams: list[bytes] = []
        pieces: list[bytes] = []
        size = 2
        for member_ids, event in batch:
            for i in range(0, len(member_ids), self.CHUNK):
                piece = json.dumps(
                    {"ids": member_ids[i : i + self.CHUNK], "event": event}, default=str
                ).encode()
                if len(piece) + 2 > self.MAX_DATAGRAM:
                    log.warning("live update of type %r too large to send", event.get("type"))
                    continue
                if size + len(piece) + 1 > self.MAX_DATAGRAM:
                    datagrams.append(b"[" + b",".join(pieces) + b"]")
                    pieces, size = [], 2
                pieces.append(piece)
                size += len(piece) + 1
        if pieces:
            datagrams.append(b"[" + b",".join(pieces) + b"]")
        return datagrams

    def _send_to_peers(self, batch: list[tuple[list[int], dict[str, Any]]]) -> None:
        peers = [path for path in self.directory.glob("*.sock") if path != self.path]
        if not peers or not batch:
            return
        datagrams = self._datagrams(batch)
        sender = self._sender_socket()
        for peer in peers:
            for datagram in datagrams:
                try:
                    sender.sendto(datagram, os.fspath(peer))
                except (ConnectionRefusedError, FileNotFoundError):
                    # Its process is gone (or removed the socket as we listed it).
                    with suppress(FileNotFoundError):
                        peer.unlink()
                    break
                except (BlockingIOError, TimeoutError):
                    log.debug("live updates dropped: %s is not keeping up", peer.name)
                    break
                except OSError:
                    log.warning("live update not sent to %s", peer.name, exc_info=True)
                    break

    def _sender_socket(self) -> socket.socket:
        with self._lock:
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.settimeout(self.SEND_TIMEOUT)
            return self._sender

    @asynccontextmanager
    async def subscribe(self, member_id: int) -> AsyncIterator[_QueueSubscription]:
        """Subscribe on the local bus, binding this process's socket first if need be.

        If the socket can not be bound, the subscriber still gets this process's
        events (and a warning is logged).
        """
        self._bind()
        async with self._local.subscribe(member_id) as sub:
            yield sub

    def _bind(self) -> None:
        with self._lock:
            if self._receiver is not None:
                return
            try:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                # A file left at this path by an earlier process with the same pid.
                self.path.unlink(missing_ok=True)
                receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                try:
                    receiver.bind(os.fspath(self.path))
                except OSError:
                    receiver.close()
                    raise
            except OSError:
                log.warning("live updates from other processes unavailable", exc_info=True)
                return
            self._receiver, self._owner_pid = receiver, os.getpid()
        atexit.register(self._unlink)
        threading.Thread(
            target=self._receive, args=(receiver,), name="live-bus-receiver", daemon=True
        ).start()

    def _receive(self, receiver: socket.socket) -> None:
        """Hand each datagram's event to the local subscribers until :meth:`close`."""
        while True:
            try:
                datagram = receiver.recv(self.MAX_DATAGRAM)
            except OSError:
                return
            if self._receiver is not receiver:  # closed: shutdown() woke us up
                return
            try:
                pieces = [
                    ([int(mid) for mid in piece["ids"]], piece["event"])
                    for piece in json.loads(datagram)
                ]
            except (ValueError, KeyError, TypeError):
                log.debug("malformed live update datagram ignored")
                continue
            for member_ids, event in pieces:
                self._local.publish(member_ids, event)

    def _unlink(self) -> None:
        if os.getpid() == self._owner_pid:  # not from a forked child
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop receiving and remove this process's socket; idempotent.

        The bus stays usable: the next subscribe binds again.
        """
        with self._lock:
            receiver, self._receiver = self._receiver, None
            sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()
        if receiver is None:
            return
        atexit.unregister(self._unlink)
        self._unlink()
        with suppress(OSError):
            receiver.shutdown(socket.SHUT_RDWR)  # wakes the receiver thread
        receiver.close()


@lru_cache(maxsize=1)
def bus() -> Bus:
    """This process's bus (see the module docstring for the choice)."""
    if settings.REDIS_URL:
        return RedisBus(settings.REDIS_URL)
    live_dir = settings.LIVE_DIR
    if live_dir and hasattr(socket, "AF_UNIX"):
        if LocalSocketBus.fits(live_dir):
            return LocalSocketBus(live_dir)
        log.info(
            "live updates reach this process only: LIVE_DIR %s is too long for a socket path",
            live_dir,
        )
    return InProcessBus()


def publish_on_commit(member_ids: Iterable[int], event: dict[str, Any]) -> None:
    """Announce ``event`` to the members' open pages once the transaction commits."""
    ids = sorted(set(member_ids))
    if ids:
        transaction.on_commit(lambda: bus().publish(ids, event))
