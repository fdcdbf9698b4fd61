"""``backsoon serve`` as it runs in production (granian, WSGI) on the embedded default.

- A request body sent chunked (no ``Content-Length``) is read, and one over the limit
  still gets the 413.
- Live updates work end to end: a member's open ``/live/`` stream gets the events of
  the background jobs, which run in the server process when live updates can not pass
  between processes (SQLite without Redis).
- SIGTERM with a stream open stops the server promptly and writes the impressions
  still buffered in memory.
- The supervisor process imports neither Django nor the app (issue 13: it held about
  100 MB), and the defaults of processes, threads and jobs follow the database and
  Redis settings.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backsoon.cli import serve_plan

from .conftest import BACKSOON, backsoon_env, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from backsoon.accounts.actions import member_create, token_issue
from backsoon.posts.actions import post_create
m = member_create(username='walker', email='w@example.com',
                  password='a-long-pass-phrase', display_name='W')
s = SessionStore()
s[SESSION_KEY] = str(m.pk)
s[BACKEND_SESSION_KEY] = 'backsoon.accounts.backends.ThrottledModelBackend'
s[HASH_SESSION_KEY] = m.get_session_auth_hash()
s.create()
print('SETUP', s.session_key, token_issue(member=m), post_create(author=m, body='hi').post.pk)
"""

DUE_WELCOME_BACK = """
from datetime import timedelta
from django.utils import timezone
from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.tasks import absences_tick
now = timezone.now()
Absence.objects.create(member=Member.objects.get(username='walker'),
                       starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1),
                       message='x')
absences_tick.enqueue()
"""


class Serve:
    """``backsoon serve`` on the embedded default (SQLite, no Redis) in ``var_dir``."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.env = backsoon_env(var_dir)
        self.env.pop("REDIS_URL", None)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = var_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def manage(self, code: str) -> str:
        done = subprocess.run(  # noqa: S603
            [*BACKSOON, "manage", "shell", "-c", code],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> Serve:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                [*BACKSOON, "serve", "--port", str(self.port), "--log-level", "warning"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.base + "/login/", timeout=60)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    server = Serve(tmp_path)
    assert subprocess.run([*BACKSOON, "prepare"], env=server.env, check=False).returncode == 0  # noqa: S603
    yield server
    server.stop()


def _chunked(base: str, path: str, body: bytes) -> tuple[int, dict]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 65536):
            piece = body[i : i + 65536]
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _open_stream(base: str, session: str) -> tuple[http.client.HTTPConnection, object]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/live/", headers={"Cookie": f"sessionid={session}"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    return conn, response


def _read_event(response, name: str, timeout: float = 30) -> str:
    """Read stream lines until an event called ``name``; its data line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = response.fp.readline().decode()
        if not line:
            raise AssertionError("the stream ended")
        if line.strip() == f"event: {name}":
            return str(response.fp.readline().decode())
    raise AssertionError(f"no {name} event within {timeout} s")


def test_a_chunked_request_body_is_read_and_one_over_the_limit_gets_413(serve):
    serve.manage(SETUP)
    serve.start()
    credentials = json.dumps({"username": "walker", "password": "a-long-pass-phrase"}).encode()
    status, data = _chunked(serve.base, "/api/v1/auth/token", credentials)
    assert status == 200, data
    assert data["token"]
    status, data = _chunked(serve.base, "/api/v1/auth/token", b'{"x": "' + b"a" * 1_100_000 + b'"}')
    assert status == 413
    assert data["code"] == "too_large"


def test_the_background_jobs_notifications_reach_an_open_page_in_the_embedded_default(serve):
    session = serve.manage(SETUP).split("SETUP ")[1].split()[0]
    serve.start()
    conn, response = _open_stream(serve.base, session)
    try:
        _read_event(response, "ready")
        serve.manage(DUE_WELCOME_BACK)  # the job runs in the server process
        data = json.loads(_read_event(response, "notification").removeprefix("data: "))
        assert data == {"type": "notification", "kind": "welcome_back"}
    finally:
        conn.close()


def test_sigterm_with_a_stream_open_stops_promptly_and_writes_buffered_impressions(serve):
    session, token, post = serve.manage(SETUP).split("SETUP ")[1].split()
    serve.env["IMPRESSIONS_FLUSH_SECONDS"] = "3600"  # only the shutdown writes them
    serve.start()
    host, port = serve.base.removeprefix("http://").split(":")
    for _ in range(3):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request(
            "POST",
            "/api/v1/views",
            json.dumps({"post_ids": [int(post)]}),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert conn.getresponse().status == 202
        conn.close()
    stream, response = _open_stream(serve.base, session)
    _read_event(response, "ready")
    assert serve.proc is not None
    started = time.monotonic()
    serve.proc.send_signal(signal.SIGTERM)
    assert serve.proc.wait(timeout=20) == 0, serve.log.read_text()
    assert time.monotonic() - started < 10
    stream.close()
    with sqlite3.connect(serve.var_dir / "backsoon.sqlite3") as db:
        (count,) = db.execute(
            "SELECT impressions_count FROM posts_post WHERE id = ?", (int(post),)
        ).fetchone()
    # The buffered impression was written on the way out (one: a member counts once
    # a post an hour, issue 14 finding 6).
    assert count == 1


def test_the_supervisor_imports_neither_django_nor_the_app():
    code = (
        "import sys; from backsoon.cli import serve_plan, build_parser; serve_plan(); "
        "build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_serve_defaults_follow_the_database_and_redis():
    cpus = len(os.sched_getaffinity(0))
    embedded = serve_plan(environ={})
    assert (embedded.processes, embedded.jobs_in_process) == (1, True)
    assert embedded.threads == 4 and embedded.live_streams == 32
    redis = serve_plan(environ={"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert (redis.processes, redis.jobs_in_process) == (2 * cpus, False)
    postgres = serve_plan(environ={"DATABASE_URL": "postgres://u@h:5432/backsoon"})
    assert (postgres.processes, postgres.jobs_in_process) == (2 * cpus, False)
    assert serve_plan(3, 6, "no", environ={"LIVE_STREAMS_PER_PROCESS": "5"}) == type(embedded)(
        processes=3, threads=6, live_streams=5, jobs_in_process=False
    )
    env = serve_plan(environ={"BACKSOON_THREADS": "2"}).environ()
    assert env["BACKSOON_SERVE"] == "1" and env["BACKSOON_JOBS_IN_PROCESS"] == "1"
