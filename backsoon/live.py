"""Live updates: events pushed to members' open pages (server-sent events).

With ``REDIS_URL`` set, events go through Redis pub/sub, so a member connected to
one app process gets events published by any other. Without it, an in-process
bus serves a single process (the embedded default).

Actions never publish directly: they call :func:`publish_on_commit`, so nothing is
announced for a transaction that rolls back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
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


@lru_cache(maxsize=1)
def bus() -> Bus:
    if settings.REDIS_URL:
        return RedisBus(settings.REDIS_URL)
    return InProcessBus()


def publish_on_commit(member_ids: Iterable[int], event: dict[str, Any]) -> None:
    """Announce ``event`` to the members' open pages once the transaction commits."""
    ids = sorted(set(member_ids))
    if ids:
        transaction.on_commit(lambda: bus().publish(ids, event))
