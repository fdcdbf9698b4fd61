"""Issue 13, item 4: with Redis, live publishing is free when nobody listens anywhere.

Each test starts its own redis-server on a Unix socket, and two ``RedisBus``
instances on it stand for two app processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from unittest import mock

import pytest
import redis

from backsoon.live import RedisBus, bus, publish_on_commit
from tests.posts import test_impressions

redis_url = test_impressions.redis_url  # a redis-server of the test's own
NS = "test-live"


@pytest.fixture
def processes(redis_url) -> Iterator[tuple[RedisBus, RedisBus]]:
    """Two buses on one Redis and namespace, their registries loaded."""
    first, second = RedisBus(redis_url, namespace=NS), RedisBus(redis_url, namespace=NS)
    for one in (first, second):
        one.listeners([])  # starts the control thread
        eventually(lambda one=one: one._registry is not None)
    yield first, second
    first.stop()
    second.stop()


def eventually(condition: Callable[[], object], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def stored_counts(url: str) -> dict[bytes, bytes]:
    return redis.Redis.from_url(url).hgetall(f"{NS}:live:listeners")


def test_issue13_a_stream_on_another_process_gets_the_events(processes):
    first, second = processes
    with second.subscribe(5) as stream:
        eventually(lambda: first.listeners([5, 6]) == [5])
        first.publish([5, 6], {"type": "message", "conversation": 1})
        assert stream.get(5) == {"type": "message", "conversation": 1}


def test_issue13_no_publish_for_members_without_a_stream(processes):
    first, second = processes
    with mock.patch.object(first._client, "pipeline") as pipeline:
        first.publish([7, 8], {"type": "message"})
        assert not pipeline.called  # no round trip to Redis at all
        with second.subscribe(8):
            eventually(lambda: first.listeners([7, 8]) == [8])
            first.publish([7, 8], {"type": "message"})
        assert pipeline.called
        assert [c.args[0] for c in pipeline().__enter__().publish.call_args_list] == [
            f"{NS}:live:8"
        ]


def test_issue13_counts_go_back_to_zero_when_streams_close(processes, redis_url):
    first, second = processes
    with first.subscribe(3), second.subscribe(3), second.subscribe(4):
        assert stored_counts(redis_url) == {b"3": b"2", b"4": b"1"}
        eventually(lambda: first._registry == {3: 2, 4: 1})
    assert stored_counts(redis_url) == {}
    for one in processes:
        eventually(lambda one=one: one._registry == {})
        assert one.listeners([3, 4]) == []


def test_issue13_until_the_registry_is_loaded_every_member_gets_published(redis_url):
    fresh = RedisBus(redis_url, namespace=NS)
    with (
        mock.patch.object(fresh, "_start_control"),
        mock.patch.object(fresh._client, "pipeline") as pipeline,
    ):
        assert fresh.listeners([1, 2]) == [1, 2]
        fresh.publish([1, 2], {"type": "message"})
        assert pipeline.called


def test_issue13_a_reconnected_control_connection_reloads_the_registry(processes, redis_url):
    first, _ = processes
    client = redis.Redis.from_url(redis_url)
    client.hincrby(f"{NS}:live:listeners", "12", 1)  # a change whose message was missed
    assert first.listeners([12]) == []
    client.client_kill_filter(_type="pubsub")
    eventually(lambda: first.listeners([12]) == [12])


def test_issue13_counts_left_by_a_dead_process_heal(processes, redis_url):
    first, second = processes
    dead = RedisBus(redis_url, namespace=NS)
    dead._register(20, 1)  # counted; then the process died before unregistering
    with second.subscribe(21):
        dead._register(21, 1)  # 21's stream on the dead process, 1 alive on second
        eventually(lambda: first._registry == {20: 1, 21: 2})
        assert first.heal() == 1  # 21 still has a subscriber: kept, overcounted
        assert stored_counts(redis_url) == {b"21": b"2"}
        eventually(lambda: first._registry == {21: 2} and second._registry == {21: 2})
        assert first.listeners([20, 21]) == [21]


@pytest.mark.django_db
def test_issue13_publish_on_commit_skips_redis_when_nobody_listens(
    redis_url, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = redis_url
    settings.REDIS_NAMESPACE = NS
    bus.cache_clear()
    try:
        target = bus()
        assert isinstance(target, RedisBus)
        target.listeners([])
        eventually(lambda: target._registry is not None)
        with mock.patch.object(target._client, "pipeline") as pipeline:
            with django_capture_on_commit_callbacks(execute=True) as queued:
                publish_on_commit([1, 2], {"type": "message"})
            assert queued == []  # nothing even waits for the commit
            assert not pipeline.called
            with target.subscribe(2), django_capture_on_commit_callbacks(execute=True):
                publish_on_commit([1, 2], {"type": "message"})
            assert [c.args[0] for c in pipeline().__enter__().publish.call_args_list] == [
                f"{NS}:live:2"
            ]
    finally:
        bus().stop()
        bus.cache_clear()
