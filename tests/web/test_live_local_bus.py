"""Live updates between the processes of one machine: the Unix datagram socket bus.

Two buses on one directory, each with its own socket name, stand in for two
processes; one test also publishes from a real second process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.test import override_settings

from backsoon.live import InProcessBus, LocalSocketBus, bus

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")


def run(scenario):
    """Run a coroutine function to completion on a fresh event loop in its own thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=20)


async def nothing_more(subscription) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(subscription.get(), timeout=0.2)


@pytest.fixture
def live_dir() -> Iterator[Path]:
    # Not tmp_path: a socket path must fit in about 100 bytes.
    path = Path(tempfile.mkdtemp(prefix="backsoon-live-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_bus(live_dir: Path) -> Iterator[Callable[[str], LocalSocketBus]]:
    buses: list[LocalSocketBus] = []

    def make(name: str) -> LocalSocketBus:
        buses.append(LocalSocketBus(live_dir, name=name))
        return buses[-1]

    yield make
    for made in buses:
        made.close()


def test_an_event_published_in_one_process_reaches_a_subscriber_in_another(make_bus):
    a, b = make_bus("a"), make_bus("b")

    async def scenario() -> None:
        async with a.subscribe(1) as mine, a.subscribe(2) as theirs:
            b.publish([1], {"type": "message", "conversation": 3, "message": 4})
            event = await asyncio.wait_for(mine.get(), timeout=5)
            assert event == {"type": "message", "conversation": 3, "message": 4}
            await nothing_more(theirs)

    run(scenario)


def test_an_event_reaches_a_subscriber_of_the_publishing_process_once(make_bus):
    a, b = make_bus("a"), make_bus("b")

    async def scenario() -> None:
        async with a.subscribe(1) as mine, b.subscribe(1) as other:
            a.publish([1], {"type": "read", "conversation": 5})
            assert await asyncio.wait_for(mine.get(), timeout=5) == {
                "type": "read",
                "conversation": 5,
            }
            assert await asyncio.wait_for(other.get(), timeout=5) == {
                "type": "read",
                "conversation": 5,
            }
            await nothing_more(mine)  # not also through its own socket

    run(scenario)


def test_a_long_list_of_members_is_split_over_several_datagrams(make_bus):
    a, b = make_bus("a"), make_bus("b")
    member_ids = list(range(1, 3 * LocalSocketBus.CHUNK + 2))

    async def scenario() -> None:
        async with a.subscribe(1) as first, a.subscribe(member_ids[-1]) as last:
            b.publish(member_ids, {"type": "post", "id": 8})
            assert await asyncio.wait_for(first.get(), timeout=5) == {"type": "post", "id": 8}
            assert await asyncio.wait_for(last.get(), timeout=5) == {"type": "post", "id": 8}

    run(scenario)


def test_an_event_published_by_another_process_reaches_a_subscriber_here(make_bus, live_dir):
    here = make_bus("here")
    code = (
        "import sys; from pathlib import Path; from backsoon.live import LocalSocketBus; "
        "LocalSocketBus(Path(sys.argv[1])).publish([6], {'type': 'notification', 'n': 1})"
    )

    async def scenario() -> None:
        async with here.subscribe(6) as sub:
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", code, str(live_dir)],
                check=True,
                timeout=15,
            )
            event = await asyncio.wait_for(sub.get(), timeout=5)
            assert event == {"type": "notification", "n": 1}

    run(scenario)


def test_the_socket_of_a_process_that_is_gone_is_removed_on_publish(make_bus, live_dir):
    stale = live_dir / "gone.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as gone:
        gone.bind(str(stale))  # closed without unlinking, as by a killed process
    a, b = make_bus("a"), make_bus("b")

    async def scenario() -> None:
        async with a.subscribe(1) as sub:
            b.publish([1], {"type": "read"})  # does not raise
            assert await asyncio.wait_for(sub.get(), timeout=5) == {"type": "read"}

    run(scenario)
    assert b.flush()
    assert not stale.exists()


def test_binding_replaces_a_stale_socket_file_and_close_removes_it(make_bus, live_dir):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as earlier:
        earlier.bind(str(live_dir / "a.sock"))  # an earlier process with the same pid
    a, b = make_bus("a"), make_bus("b")

    async def scenario() -> None:
        async with a.subscribe(1) as sub:
            b.publish([1], {"type": "read"})
            assert await asyncio.wait_for(sub.get(), timeout=5) == {"type": "read"}

    run(scenario)
    assert a.path.exists()
    a.close()
    assert not a.path.exists()
    b.publish([1], {"type": "read"})  # no peer left; does not raise


@pytest.fixture
def fresh_bus() -> Iterator[None]:
    bus.cache_clear()
    yield
    chosen = bus()
    if isinstance(chosen, LocalSocketBus):
        chosen.close()
    bus.cache_clear()


def test_bus_is_the_socket_bus_with_a_live_dir_and_no_redis(fresh_bus, live_dir):
    with override_settings(REDIS_URL="", LIVE_DIR=live_dir):
        chosen = bus()
    assert isinstance(chosen, LocalSocketBus)
    assert chosen.path.parent == live_dir


def test_bus_stays_in_process_without_a_live_dir_or_with_one_too_long(fresh_bus, live_dir):
    with override_settings(REDIS_URL="", LIVE_DIR=None):
        assert isinstance(bus(), InProcessBus)
    bus.cache_clear()
    with override_settings(REDIS_URL="", LIVE_DIR=live_dir / ("x" * 100)):
        assert isinstance(bus(), InProcessBus)


def test_a_burst_reaches_a_busy_receiver_whole(make_bus):
    """Linux queues only 10 datagrams per socket: 300 events published while the
    receiver's process is busy still arrive, batched into few datagrams."""
    a, b = make_bus("a"), make_bus("b")
    received: list[int] = []

    async def scenario() -> None:
        async with a.subscribe(9) as sub:
            for n in range(300):
                b.publish([9], {"type": "message", "n": n})
            assert b.flush()
            while len(received) < 300:
                received.append((await asyncio.wait_for(sub.get(), timeout=5))["n"])

    run(scenario)
    assert received == list(range(300))


def test_serve_runs_two_processes_per_cpu_only_when_they_share_live_updates(fresh_bus, live_dir):
    from backsoon.cli import default_workers

    cpus = len(os.sched_getaffinity(0))
    with override_settings(REDIS_URL="", LIVE_DIR=live_dir):
        assert default_workers() == 2 * cpus
    bus.cache_clear()
    with override_settings(REDIS_URL="", LIVE_DIR=None):
        assert default_workers() == 1  # the in-process bus would not reach the others
