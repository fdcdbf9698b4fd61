"""Issue 14, finding 8: every Redis key and channel carries the deployment's namespace,
so that two deployments sharing one Redis never see each other's live events,
impression counts or cache entries. Runs when ``REDIS_URL`` is set."""

from __future__ import annotations

import os
import secrets

import pytest
from django.conf import settings

from backsoon.live import RedisBus
from backsoon.posts.impressions import RedisBuffer

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


@pytest.fixture
def namespaces() -> tuple[str, str]:
    tag = secrets.token_hex(4)
    return f"test-a-{tag}", f"test-b-{tag}"


def test_issue14_finding8_live_events_stay_in_their_namespace(namespaces):
    one, other = (RedisBus(REDIS_URL, namespace=ns) for ns in namespaces)
    assert one.channel(5) == f"{namespaces[0]}:live:5"
    with one.subscribe(5) as mine:
        other.publish([5], {"type": "message", "from": "the other deployment"})
        assert mine.get(0.5) is None
        one.publish([5], {"type": "message", "from": "this deployment"})
        assert mine.get(5) == {"type": "message", "from": "this deployment"}


def test_issue14_finding8_impression_buffers_stay_in_their_namespace(namespaces):
    import redis

    one, other = (RedisBuffer(REDIS_URL, ns) for ns in namespaces)
    try:
        one.add(member_id=1, post_ids=[10, 11], hour=0)
        client = redis.Redis.from_url(REDIS_URL)
        mine = {k.decode() for k in client.scan_iter(match=f"{namespaces[0]}:*")}
        assert mine == {
            f"{namespaces[0]}:impressions:counts",
            f"{namespaces[0]}:impressions:viewers",
        }
        assert list(client.scan_iter(match=f"{namespaces[1]}:*")) == []
        other.discard()  # the other deployment's flush or discard leaves ours alone
        assert client.hlen(f"{namespaces[0]}:impressions:counts") == 2
    finally:
        one.discard()


def test_issue14_finding8_cache_keys_carry_the_namespace():
    assert settings.REDIS_NAMESPACE
    assert settings.CACHES["default"]["KEY_PREFIX"] == settings.REDIS_NAMESPACE
