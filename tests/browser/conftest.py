"""Playwright driving Debian's Chromium (never a downloaded browser).

Locally a missing Chromium skips only these tests, with a message; in CI
(``CI=true``) it is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Playwright's sync API runs an event loop in the test thread; the test's own
# database setup there is ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not _chromium_available():
        message = f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI requires the browser tests)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=[(1280, 860), (390, 844)], ids=["laptop", "phone"])
def page(request, browser, live_server):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    context.close()


class Shots:
    """Saves one screenshot per step under var/screenshots/<test>/."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.dir = SCREENSHOTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, step: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.dir / f"{self.n:02d}-{step}.png"), full_page=True)


@pytest.fixture
def shots(request, page) -> Shots:
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    return Shots(page, name)


class _OneRequestAtATime:
    """WSGI wrapper: handles one request at a time, up to the start of its response.

    The in-memory SQLite test database is shared between threads in shared-cache
    mode, which locks whole tables and does not wait for a lock ("database table is
    locked"), unlike the WAL database file of a real deployment. The server runs each
    request in its own thread, so two overlapping requests (a page and a live
    refetch) could collide. Views do all their database work before Django's handler
    returns the response, so holding the lock until then serializes that work, while
    response bodies (the endless /live/ stream) still run side by side.
    """

    def __init__(self, app) -> None:
        import threading

        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return self.app(environ, start_response)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wsgi_server(transactional_db) -> Iterator[str]:
    """The site (``backsoon.wsgi``, as ``backsoon serve`` runs it) on a threaded WSGI
    server in this process; yields its base URL.

    Unlike live_server, it serves the live-update stream as production does (the
    endless /live/ server-sent events, one thread per stream, chunked request
    bodies). The test database is a shared-cache in-memory SQLite database (or
    PostgreSQL), reachable from the server's threads, the same trick live_server
    uses; ``transactional_db`` makes the test's writes visible. On SQLite, requests
    are handled one at a time up to their response (see ``_OneRequestAtATime``).
    Static files are served from the app directories, as live_server does.
    """
    import threading
    import time
    import urllib.error
    import urllib.request

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.db import connection

    from backsoon.live import bus, stop_streams
    from backsoon.wsgi import application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    bus.cache_clear()
    app = StaticFilesHandler(application)
    if connection.vendor == "sqlite":
        app = _OneRequestAtATime(app)
    port = _free_port()
    server = ThreadedWSGIServer(("127.0.0.1", port), QuietHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, name="wsgi-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(base_url + "/login/", timeout=2):  # noqa: S310
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline or not thread.is_alive():
                server.shutdown()
                pytest.fail("the WSGI test server did not start")
            time.sleep(0.05)
    yield base_url
    stop_streams()  # the open streams end, as when `backsoon serve` stops
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    bus.cache_clear()
