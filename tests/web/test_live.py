"""Live updates: the in-process bus, the SSE stream, its caps, and the header counts."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.test import Client, override_settings

from backsoon.live import InProcessBus, TooManyStreams, bus, publish_on_commit
from backsoon.messaging import actions as messaging
from backsoon.web.live_views import EventStream, sse_event
from tests.factories import connect, make_member


@pytest.fixture
def fresh_bus():
    """A bus built from the current settings, and a fresh one again afterwards."""
    bus.cache_clear()
    yield
    bus().stop()  # and PostgreSQL's listener thread with its connection
    bus.cache_clear()


def test_in_process_bus_delivers_a_published_event_to_its_subscriber():
    hub = InProcessBus()
    with hub.subscribe(1) as mine, hub.subscribe(2) as theirs:
        hub.publish([1], {"type": "message", "conversation": 3, "message": 4})
        assert mine.get(1) == {"type": "message", "conversation": 3, "message": 4}
        assert theirs.get(0.05) is None
    assert not hub.listening()  # unsubscribed on exit


def test_in_process_bus_accepts_events_from_other_threads():
    hub = InProcessBus()
    with hub.subscribe(7) as sub:
        worker = threading.Thread(target=hub.publish, args=([7], {"type": "read"}))
        worker.start()
        assert sub.get(1) == {"type": "read"}
        worker.join()


def test_stopping_the_bus_ends_open_streams_and_refuses_new_ones():
    hub = InProcessBus()
    with hub.subscribe(3) as sub:
        threading.Timer(0.05, hub.stop).start()
        started = time.monotonic()
        assert sub.get(10) is None
        assert sub.closed and time.monotonic() - started < 5
    with pytest.raises(TooManyStreams):
        hub.open(3)


def test_sse_event_format():
    text = sse_event({"type": "notification", "kind": "message"})
    assert text == 'event: notification\ndata: {"type":"notification","kind":"message"}\n\n'


def test_event_stream_starts_ready_keeps_alive_and_still_delivers():
    hub = InProcessBus()
    subscribed = hub.subscribe(99)
    stream = EventStream(subscribed, subscribed.__enter__(), keepalive=0.05)
    chunks = iter(stream)
    ready, keepalive = next(chunks), next(chunks)
    hub.publish([99], {"type": "read", "conversation": 5})
    chunk = next(chunks)
    while chunk.startswith(":"):
        chunk = next(chunks)
    assert ready.startswith("retry: ")
    assert "event: ready\n" in ready
    assert keepalive == ": keepalive\n\n"
    assert chunk == 'event: read\ndata: {"type":"read","conversation":5}\n\n'
    stream.close()
    assert not hub.listening()  # close() left the subscription


def test_a_stream_closed_before_it_was_read_leaves_its_subscription():
    hub = InProcessBus()
    subscribed = hub.subscribe(4)
    EventStream(subscribed, subscribed.__enter__()).close()
    assert not hub.listening()


@pytest.mark.django_db
def test_publish_on_commit_costs_nothing_without_a_listener(monkeypatch):
    """Issue 13: publishing is free when nobody listens. In-process, with no stream
    open, nothing is even queued for the commit."""
    import backsoon.live

    hub = InProcessBus()
    monkeypatch.setattr(backsoon.live, "bus", lambda: hub)
    before = len(transaction.get_connection().run_on_commit)
    publish_on_commit([1, 2], {"type": "message"})
    assert len(transaction.get_connection().run_on_commit) == before
    with hub.subscribe(1):
        publish_on_commit([1, 2], {"type": "message"})
        assert len(transaction.get_connection().run_on_commit) == before + 1


@pytest.mark.django_db
def test_live_endpoints_refuse_anonymous_users():
    client = Client()
    response = client.get("/live/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert client.get("/live/counts/").status_code == 401


@pytest.mark.django_db(transaction=True)  # PostgreSQL delivers a NOTIFY on commit
def test_live_stream_delivers_the_members_events(alice, bob, fresh_bus):
    client = Client()
    client.force_login(alice)
    response = client.get("/live/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert "no-cache" in response["Cache-Control"]
    chunks = iter(response.streaming_content)
    try:
        ready = next(chunks).decode()
        bus().publish([bob.pk], {"type": "notification", "kind": "not-for-alice"})
        bus().publish([alice.pk], {"type": "message", "conversation": 1, "message": 2})
        first = next(chunks).decode()
        bus().publish([alice.pk], {"type": "invitation", "id": 9})
        second = next(chunks).decode()
    finally:
        _close(response)
    assert "event: ready" in ready
    name, data = first.strip().split("\n")
    assert name == "event: message"
    assert json.loads(data.removeprefix("data: ")) == {
        "type": "message",
        "conversation": 1,
        "message": 2,
    }
    assert second.startswith("event: invitation\n")


def _close(response) -> None:
    """End a stream as the server does, without the end of request closing the test's
    database connection (Django's test client does the same around its own close)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _open_streams(client: Client, n: int) -> list:
    responses = [client.get("/live/") for _ in range(n)]
    assert [r.status_code for r in responses] == [200] * n
    return responses


def _assert_too_many(response) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_streams"
    assert response.json()["detail"]
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_issue14_finding9_live_streams_are_capped_per_member(alice, bob, fresh_bus):
    with override_settings(LIVE_STREAMS_PER_MEMBER=3, LIVE_STREAMS_PER_PROCESS=50):
        bus.cache_clear()
        client = Client()
        client.force_login(alice)
        open_ = _open_streams(client, 3)
        local = getattr(bus(), "local", bus())
        oldest = next(iter(local._subs[alice.pk]))
        # The newest wins: a fourth stream ends the oldest (a tab closed without the
        # server noticing yet never locks its member out), and alice still holds 3.
        fourth = client.get("/live/")
        assert fourth.status_code == 200
        assert oldest.closed
        assert len(local._subs[alice.pk]) == 3
        other = Client()
        other.force_login(bob)
        theirs = other.get("/live/")
        assert theirs.status_code == 200  # another member is not affected
        assert len(local._subs[alice.pk]) == 3
        for response in [*open_, fourth, theirs]:
            _close(response)
    assert not getattr(bus(), "local", bus()).listening()  # every stream released


@pytest.mark.django_db
def test_issue14_finding9_live_streams_are_capped_per_process(alice, bob, fresh_bus):
    with override_settings(LIVE_STREAMS_PER_MEMBER=10, LIVE_STREAMS_PER_PROCESS=4):
        bus.cache_clear()
        mine, theirs = Client(), Client()
        mine.force_login(alice)
        theirs.force_login(bob)
        open_ = _open_streams(mine, 2) + _open_streams(theirs, 2)
        local = getattr(bus(), "local", bus())
        # A member who has a stream here takes the place of their own oldest one...
        oldest = next(iter(local._subs[alice.pk]))
        newest = mine.get("/live/")
        assert newest.status_code == 200 and oldest.closed
        open_.append(newest)
        # ...a member who has none is refused.
        carol = make_member("carol")
        third = Client()
        third.force_login(carol)
        _assert_too_many(third.get("/live/"))
        for response in open_:
            _close(response)
        last = mine.get("/live/")
        assert last.status_code == 200
        _close(last)


@pytest.mark.django_db
def test_counts_endpoint(alice, bob):
    connect(alice, bob)
    conversation, _ = messaging.conversation_start(creator=bob, usernames=["alice"])
    messaging.message_send(sender=bob, conversation_id=conversation.pk, body="one")
    messaging.message_send(sender=bob, conversation_id=conversation.pk, body="two")
    client = Client()
    client.force_login(alice)
    response = client.get("/live/counts/")
    assert response.status_code == 200
    assert response.json() == {
        "messages": 2,
        "requests": 0,
        "invitations": 0,
        "notifications": 1,
    }
    assert "no-cache" in response["Cache-Control"]
