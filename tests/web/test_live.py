"""Live updates: the in-process bus, the SSE stream and the header counts endpoint."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from backsoon.live import InProcessBus, bus
from backsoon.messaging import actions as messaging
from backsoon.web.live_views import event_stream, sse_event


def run(scenario):
    """Run a coroutine function to completion on a fresh event loop in its own thread.

    (Another test's event loop may be running in this thread: Playwright's sync API.)
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=10)


def test_in_process_bus_delivers_a_published_event_to_its_subscriber():
    async def scenario() -> None:
        hub = InProcessBus()
        async with hub.subscribe(1) as mine, hub.subscribe(2) as theirs:
            hub.publish([1], {"type": "message", "conversation": 3, "message": 4})
            event = await asyncio.wait_for(mine.get(), timeout=1)
            assert event == {"type": "message", "conversation": 3, "message": 4}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(theirs.get(), timeout=0.05)
        assert hub._subs == {}  # unsubscribed on exit

    run(scenario)


def test_in_process_bus_accepts_events_from_other_threads():
    async def scenario() -> None:
        hub = InProcessBus()
        async with hub.subscribe(7) as sub:
            worker = threading.Thread(target=hub.publish, args=([7], {"type": "read"}))
            worker.start()
            assert await asyncio.wait_for(sub.get(), timeout=1) == {"type": "read"}
            worker.join()

    run(scenario)


def test_sse_event_format():
    text = sse_event({"type": "notification", "kind": "message"})
    assert text == 'event: notification\ndata: {"type":"notification","kind":"message"}\n\n'


def test_event_stream_starts_ready_keeps_alive_and_still_delivers():
    async def scenario() -> list[str]:
        stream = event_stream(99, keepalive=0.05)
        try:
            chunks = [await anext(stream), await anext(stream)]
            bus().publish([99], {"type": "read", "conversation": 5})
            chunk = await anext(stream)
            while chunk.startswith(":"):
                chunk = await anext(stream)
            return [*chunks, chunk]
        finally:
            await stream.aclose()

    ready, keepalive, event = run(scenario)
    assert ready.startswith("retry: ")
    assert "event: ready\n" in ready
    assert keepalive == ": keepalive\n\n"
    assert event == 'event: read\ndata: {"type":"read","conversation":5}\n\n'


@pytest.mark.django_db
def test_live_endpoints_refuse_anonymous_users():
    client = Client()
    response = client.get("/live/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert client.get("/live/counts/").status_code == 401


@pytest.mark.django_db
def test_live_stream_answers_204_under_wsgi(alice):
    # A threaded WSGI server can not hold an endless stream: EventSource stops on 204.
    client = Client()
    client.force_login(alice)
    assert client.get("/live/").status_code == 204


@pytest.mark.django_db
def test_live_stream_delivers_the_members_events(alice, bob):
    async def scenario() -> tuple[str, str, str]:
        client = AsyncClient()
        await client.aforce_login(alice)
        response = await client.get("/live/")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/event-stream"
        assert "no-cache" in response["Cache-Control"]
        chunks = response.streaming_content
        try:
            ready = (await anext(chunks)).decode()
            bus().publish([bob.pk], {"type": "notification", "kind": "not-for-alice"})
            bus().publish([alice.pk], {"type": "message", "conversation": 1, "message": 2})
            first = (await asyncio.wait_for(anext(chunks), timeout=5)).decode()
            bus().publish([alice.pk], {"type": "invitation", "id": 9})
            second = (await asyncio.wait_for(anext(chunks), timeout=5)).decode()
        finally:
            await chunks.aclose()
        return ready, first, second

    ready, first, second = async_to_sync(scenario)()
    assert "event: ready" in ready
    name, data = first.strip().split("\n")
    assert name == "event: message"
    assert json.loads(data.removeprefix("data: ")) == {
        "type": "message",
        "conversation": 1,
        "message": 2,
    }
    assert second.startswith("event: invitation\n")


@pytest.mark.django_db
def test_counts_endpoint(alice, bob):
    conversation, _ = messaging.conversation_start(creator=bob, usernames=["alice"])
    messaging.message_send(sender=bob, conversation_id=conversation.pk, body="one")
    messaging.message_send(sender=bob, conversation_id=conversation.pk, body="two")
    client = Client()
    client.force_login(alice)
    response = client.get("/live/counts/")
    assert response.status_code == 200
    assert response.json() == {"messages": 2, "notifications": 1}
    assert "no-cache" in response["Cache-Control"]
