"""The bridge from the ASGI server to Django's WSGI handler (backsoon/wsgi_pool.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from backsoon.wsgi_pool import WSGIPool, build_environ


def scope(
    path: str = "/api/v1/x", *, method: str = "POST", headers: list[tuple[bytes, bytes]] = ()
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"a=1&b=%C3%A9",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("10.0.0.7", 51234),
        "headers": list(headers),
    }


def call(
    app: WSGIPool, request: dict[str, Any], chunks: list[bytes]
) -> tuple[list[dict[str, Any]], int]:
    """Run one request through ``app``; returns what it sent and how many body pieces
    it read."""
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    received = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received < len(pending):
            received += 1
            return pending[received - 1]
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError("not reached")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run(asyncio.wait_for(app(request, receive, send), timeout=10))
    return sent, received


def run(coroutine: Any) -> None:
    """Run on a fresh event loop in its own thread (a test before may have left one
    running in this thread: Playwright's)."""
    with ThreadPoolExecutor(max_workers=1) as runner:
        runner.submit(asyncio.run, coroutine).result(timeout=20)


class Recorder:
    """A WSGI app that records its environ and body and answers with ``body``."""

    def __init__(self, body: list[bytes] | None = None, streaming: bool = False) -> None:
        self.body = body or [b"ok"]
        self.streaming = streaming
        self.environ: dict[str, Any] = {}
        self.read = b""
        self.closed_in: str | None = None
        self.ran_in: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.environ = environ
        self.read = environ["wsgi.input"].read()
        self.ran_in = threading.current_thread().name
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Two", "2")])
        recorder = self

        class Result:
            streaming = recorder.streaming

            def __iter__(self) -> Iterator[bytes]:
                return iter(recorder.body)

            def close(self) -> None:
                recorder.closed_in = threading.current_thread().name

        return Result()


def test_environ_follows_pep_3333():
    environ = build_environ(
        scope(
            "/caf\u00e9",
            headers=[
                (b"content-type", b"application/json"),
                (b"content-length", b"2"),
                (b"x-forwarded-for", b"1.1.1.1"),
                (b"x-forwarded-for", b"2.2.2.2"),
                (b"authorization", b"Bearer t"),
            ],
        ),
        b"{}",
    )
    assert environ["PATH_INFO"] == "/caf\u00e9".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.1.1.1,2.2.2.2"
    assert environ["HTTP_AUTHORIZATION"] == "Bearer t"
    assert environ["REMOTE_ADDR"] == "10.0.0.7"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["wsgi.input"].read() == b"{}"


def test_the_request_runs_in_a_pool_thread_and_its_answer_is_sent_whole():
    app = Recorder([b"hel", b"lo"])
    pool = WSGIPool(app, threads=2, body_limit=100)
    body = [b'{"body":', b' "hi"}']
    sent, _ = call(pool, scope(headers=[(b"content-length", b"14")]), body)
    assert app.read == b'{"body": "hi"}'
    assert app.ran_in and app.ran_in.startswith("wsgi")
    # close() ends the Django request in the thread that ran it (its DB connection).
    assert app.closed_in == app.ran_in
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-two", b"2")],
        },
        {"type": "http.response.body", "body": b"hello"},
    ]


def test_a_streaming_answer_is_sent_piece_by_piece():
    app = Recorder([b"one", b"", b"two"], streaming=True)
    sent, _ = call(WSGIPool(app, threads=1, body_limit=100), scope(method="GET"), [b""])
    assert [m.get("body") for m in sent] == [None, b"one", b"two", b""]
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, False]
    assert app.closed_in is not None


def test_an_app_may_use_the_write_callable_of_pep_3333():
    def legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"hello, ")
        return [b"world"]

    sent, _ = call(WSGIPool(legacy, threads=1, body_limit=100), scope(method="GET"), [b""])
    assert sent[0]["status"] == 200
    assert sent[1] == {"type": "http.response.body", "body": b"hello, world"}


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"101")],  # declared beyond the limit: Django answers 413
        [(b"transfer-encoding", b"chunked")],  # undeclared: Django would not read it
    ],
)
def test_a_body_beyond_the_limit_or_undeclared_is_not_read(headers):
    app = Recorder()
    sent, pieces_read = call(
        WSGIPool(app, threads=1, body_limit=100), scope(headers=headers), [b"x" * 101]
    )
    assert pieces_read == 0
    assert app.read == b""
    assert sent[0]["status"] == 201  # the app still runs and decides


def test_a_client_gone_before_its_body_arrived_gets_nothing():
    app = Recorder()
    pool = WSGIPool(app, threads=1, body_limit=100)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run(pool(scope(headers=[(b"content-length", b"5")]), receive, send))
    assert sent == []
    assert app.ran_in is None


def test_the_api_answers_through_the_pool(db, client):
    """The real Django application behind the bridge: a 401 from the API, as JSON."""
    from django.core.wsgi import get_wsgi_application

    pool = WSGIPool(get_wsgi_application(), threads=1, body_limit=1000)  # type: ignore[arg-type]
    sent, _ = call(
        pool,
        scope(
            "/api/v1/conversations",
            method="GET",
            headers=[(b"host", b"127.0.0.1"), (b"authorization", b"Bearer nope")],
        ),
        [b""],
    )
    from django.db import connections

    pool.executor.submit(connections.close_all).result()  # the pool thread's connection
    pool.executor.shutdown()
    assert sent[0]["status"] == 401
    assert b'"code"' in sent[1]["body"]
