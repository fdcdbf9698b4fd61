"""Django's WSGI handler behind the ASGI server, on a fixed pool of threads.

``backsoon serve`` runs uvicorn (ASGI) so that the live-update stream can hold
connections open without threads, while every page and API call is a synchronous
Django view. Those go to Django's WSGI handler on a pool of threads that keep their
database connections (Django's ASGI handler would start a new thread, and with it
a new connection, for every request).

The bridge costs one hop to a thread and one back per request: the event loop reads
the request body, the thread runs the whole request and hands back status, headers
and the complete body, and the loop writes them. (a2wsgi, used before, let the
thread ask the loop for every piece of the body and wait for every write: three
round trips between the threads per request, a fifth of the server's time in
``bench/bench_send.py``.) Only streaming responses (files) are written piece by
piece from the thread.

The body is read only as far as the request declares it (``Content-Length``) and
never beyond ``body_limit``: a longer declared body is left unread, and Django's
``RequestLimitsMiddleware`` answers 413 from the header alone. A body without a
declared length (chunked) is not read at all, as Django would not read it.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Disconnected(Exception):
    """The client went away before its request body arrived."""


def build_environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP scope whose body has been read."""
    script_name = scope.get("root_path", "").encode("utf-8").decode("latin-1")
    path_info = scope["path"].encode("utf-8").decode("latin-1")
    if script_name and path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]
    server_name, server_port = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port or 0),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        if name not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            name = "HTTP_" + name
        value = raw_value.decode("latin-1")
        environ[name] = environ[name] + "," + value if name in environ else value
    return environ


def declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def read_body(scope: dict[str, Any], receive: Receive, limit: int) -> bytes:
    """The request body, as far as ``Content-Length`` declares it and at most ``limit``."""
    length = declared_length(scope)
    if not length or length > limit:
        return b""
    parts: list[bytes] = []
    size = 0
    while size < length:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        parts.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)[:length]


def _start_message(status: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": int(status.split(" ", 1)[0]),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }


class WSGIPool:
    """An ASGI application running a WSGI application on ``threads`` threads."""

    def __init__(self, app: WSGIApp, *, threads: int, body_limit: int) -> None:
        self.app = app
        self.body_limit = body_limit
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            body = await read_body(scope, receive, self.body_limit)
        except Disconnected:
            return
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, body)
        result = await loop.run_in_executor(self.executor, self._run, environ, loop, send)
        if result is not None:
            start, content = result
            await send(start)
            await send({"type": "http.response.body", "body": content})

    def _run(
        self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send
    ) -> tuple[dict[str, Any], bytes] | None:
        """Run one request in a pool thread. Returns the response to write, or None when
        it was streamed from here. ``close()`` runs here too: Django ends the request
        (and tidies this thread's database connection) in it."""
        started: list[tuple[str, list[tuple[str, str]]]] = []
        written: list[bytes] = []  # PEP 3333's write(): sent before the iterable's body
        headers_sent = False

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [(status, headers)]
            return written.append

        iterable = self.app(environ, start_response)
        try:
            if not getattr(iterable, "streaming", False):
                content = b"".join([*written, *iterable])
                return _start_message(*started[0]), content

            def write(message: dict[str, Any]) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()  # type: ignore[arg-type]

            write(_start_message(*started[0]))
            headers_sent = True
            for chunk in chain(written, iterable):
                if chunk:
                    write({"type": "http.response.body", "body": chunk, "more_body": True})
            write({"type": "http.response.body", "body": b""})
            return None
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
