"""Impressions: POST /views, the buffers and their batched flush."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import DatabaseError

from backsoon.posts import impressions
from backsoon.posts.impressions import MemoryBuffer, RedisBuffer, impressions_flush
from backsoon.posts.models import Post, PostImpressionHour, PostViewer
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_id(alice) -> int:
    return Api(alice).post("/posts", {"body": "Look at me"}).json()["id"]


def stored(post_id: int) -> tuple[int, int]:
    post = Post.objects.get(pk=post_id)
    return post.impressions_count, post.unique_viewers


def test_views_are_accepted_then_written_in_a_batch(bob, post_id):
    api = Api(bob)
    response = api.post("/views", {"post_ids": [post_id, post_id]})
    assert response.status_code == 202
    assert response.json() == {"recorded": 1}
    api.post("/views", {"post_ids": [post_id]})
    assert stored(post_id) == (0, 0)  # buffered: nothing written yet
    assert impressions_flush() == 2
    assert stored(post_id) == (2, 1)
    hour = PostImpressionHour.objects.get(post_id=post_id)
    assert hour.count == 2
    assert hour.hour.minute == hour.hour.second == 0
    assert impressions_flush() == 0


def test_more_than_100_ids_is_422_and_records_nothing(bob, post_id):
    assert_error(Api(bob).post("/views", {"post_ids": [post_id] * 101}), 422)
    assert_error(Api(bob).post("/views", {"post_ids": ["x"]}), 422)
    assert_error(Api(bob).post("/views", {"post_ids": [0]}), 422, "invalid_post_id")
    assert Api(bob).post("/views", {"post_ids": list(range(1, 101))}).status_code == 202
    impressions.impressions_discard()
    assert Api(bob).post("/views", {"post_ids": []}).status_code == 202
    assert impressions_flush() == 0


def test_unique_viewers_and_unknown_posts(alice, bob, post_id):
    carol = make_member("carol")
    for member in (bob, carol, bob):
        Api(member).post("/views", {"post_ids": [post_id, 999_999]})
    impressions_flush()
    assert stored(post_id) == (3, 2)
    Api(bob).post("/views", {"post_ids": [post_id]})
    impressions_flush()
    assert stored(post_id) == (4, 2)
    assert PostViewer.objects.filter(post_id=post_id).count() == 2


def test_hourly_buckets_add_up_across_flushes(bob, post_id):
    ten = datetime(2026, 12, 21, 10, 30, tzinfo=UTC).timestamp()
    eleven = ten + 3600
    impressions.record(member_id=bob.pk, post_ids=[post_id], at=ten)
    impressions_flush()
    impressions.record(member_id=bob.pk, post_ids=[post_id], at=ten + 60)
    impressions.record(member_id=bob.pk, post_ids=[post_id], at=eleven)
    impressions_flush()
    rows = dict(PostImpressionHour.objects.filter(post_id=post_id).values_list("hour", "count"))
    assert rows == {
        datetime(2026, 12, 21, 10, tzinfo=UTC): 2,
        datetime(2026, 12, 21, 11, tzinfo=UTC): 1,
    }


def test_a_failed_flush_keeps_the_impressions_for_the_next(bob, post_id):
    Api(bob).post("/views", {"post_ids": [post_id]})
    failing = mock.patch.object(impressions, "write_batch", side_effect=DatabaseError("locked"))
    with failing, pytest.raises(DatabaseError):
        impressions_flush()
    assert impressions_flush() == 1
    assert stored(post_id) == (1, 1)


def test_deleted_posts_are_dropped_at_flush(alice, bob, post_id):
    Api(bob).post("/views", {"post_ids": [post_id]})
    Api(alice).delete(f"/posts/{post_id}")
    assert impressions_flush() == 0
    assert not PostImpressionHour.objects.exists()


def test_the_memory_buffer_is_thread_safe():
    buffer = MemoryBuffer()
    hour = impressions.hour_epoch()

    def work(member_id: int) -> None:
        for _ in range(5000):
            buffer.add(member_id, [1, 2], hour)

    threads = [threading.Thread(target=work, args=(m,)) for m in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batch = buffer._take()
    assert batch.counts == {(1, hour): 40_000, (2, hour): 40_000}
    assert len(batch.viewers) == 16


def test_showing_a_post_or_the_feed_records_impressions(alice, bob, post_id):
    from tests.factories import connect

    connect(alice, bob)
    Api(bob).get(f"/posts/{post_id}")
    Api(bob).get("/feed")
    impressions_flush()
    assert stored(post_id) == (2, 1)


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    sock = tmp_path / "redis.sock"
    proc = subprocess.Popen(  # noqa: S603
        [server, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    yield f"unix://{sock}"
    proc.terminate()
    proc.wait(timeout=10)


def test_the_redis_buffer_is_shared_and_flushed_under_a_lock(redis_url, alice, bob, post_id):
    first, second = RedisBuffer(redis_url), RedisBuffer(redis_url)  # two "processes"
    hour = impressions.hour_epoch()
    first.add(bob.pk, [post_id], hour)
    second.add(alice.pk, [post_id], hour)
    second.add(bob.pk, [post_id], hour)
    # Someone else holds the lock: this process leaves the flush to them.
    first.client.set(first.LOCK, "other", px=5000)
    assert second.flush() == 0
    first.client.delete(first.LOCK)
    failing = mock.patch.object(impressions, "write_batch", side_effect=DatabaseError("down"))
    with failing, pytest.raises(DatabaseError):
        first.flush()
    assert first.client.get(first.LOCK) is None  # released after a failure
    first.add(bob.pk, [post_id], hour)  # arrives while the failed batch waits
    assert second.flush() == 3  # the failed batch first
    assert first.flush() == 1  # then what came after
    assert stored(post_id) == (4, 2)
    assert first.flush() == 0
