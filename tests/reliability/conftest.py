"""Real ``backsoon serve`` processes on a real database, for crash and concurrency tests.

``database`` gives each test a database of its own that server processes can open:
a SQLite file in the test's temporary folder, or (in the PostgreSQL pass, when the
suite's own database is PostgreSQL) a fresh database ``backsoon_xproc_<random>`` on
the same server, migrated with ``backsoon manage migrate`` and dropped at the end.
``seed`` creates members, tokens, an away member and conversations in it, and
``Server`` starts (and kills) ``backsoon serve`` on a free loopback port.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.e2e.conftest import BACKSOON, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class Database:
    """A database for server processes, with a small query helper for checks."""

    url: str
    vendor: str  # "sqlite" or "postgresql"
    path: Path | None = None  # the SQLite file
    dsn: dict[str, Any] | None = None  # psycopg connection arguments

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one read-only statement on a fresh connection and return its rows."""
        if self.vendor == "sqlite":
            assert self.path is not None
            db = sqlite3.connect(self.path, timeout=30)
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()
        import psycopg

        assert self.dsn is not None
        with psycopg.connect(**self.dsn, autocommit=True) as db:
            return db.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]


def _pg_admin_dsn() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
    }


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database that ``backsoon serve`` processes can share."""
    if not is_postgres():
        path = tmp_path / "shared.sqlite3"
        db = Database(url=f"sqlite:///{path}", vendor="sqlite", path=path)
        migrate(db, tmp_path)
        yield db
        return
    import psycopg

    admin = _pg_admin_dsn()
    name = f"backsoon_xproc_{secrets.token_hex(4)}"
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = {**admin, "dbname": name}
    auth = admin["user"] + (f":{admin['password']}" if admin["password"] else "")
    url = f"postgres://{auth}@{admin['host']}:{admin['port']}/{name}"
    try:
        db = Database(url=url, vendor="postgresql", dsn=dsn)
        migrate(db, tmp_path)
        yield db
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(db: Database, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        BACKSOON_VAR=str(var_dir),
        DJANGO_SETTINGS_MODULE="backsoon.settings",
        DATABASE_URL=db.url,
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="ERROR",
    )
    return env


def migrate(db: Database, var_dir: Path) -> None:
    done = subprocess.run(  # noqa: S603
        [*BACKSOON, "manage", "migrate", "--noinput", "-v0"],
        env=server_env(db, var_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


SEED = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from datetime import timedelta
    from django.utils import timezone
    from backsoon.accounts.actions import token_issue
    from backsoon.accounts.models import Member
    from backsoon.away.models import Absence
    from backsoon.messaging.actions import conversation_start

    senders = int(sys.argv[1])
    now = timezone.now()
    away = Member.objects.create(
        username="away", email="away@example.com", display_name="Away Member", password="!"
    )
    Absence.objects.create(
        member=away,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        message="I am away until {return_date}.",
    )
    out = []
    for i in range(senders):
        member = Member.objects.create(
            username=f"sender{i}", email=f"sender{i}@example.com",
            display_name=f"Sender {i}", password="!",
        )
        conversation, _ = conversation_start(creator=member, usernames=["away"])
        out.append(
            {"username": member.username, "token": token_issue(member=member),
             "conversation": conversation.pk}
        )
    print(json.dumps(out))
    """
)


POST = textwrap.dedent(
    """
    import django
    django.setup()
    from backsoon.accounts.models import Member
    from backsoon.posts.actions import post_create
    print(post_create(author=Member.objects.get(username="away"), body="Back soon").post.pk)
    """
)


def make_post(db: Database, var_dir: Path) -> int:
    """A post by the away member (after ``seed``); returns its id."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", POST],
        env=server_env(db, var_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


@dataclass
class Sender:
    username: str
    token: str
    conversation: int


def seed(db: Database, var_dir: Path, senders: int) -> list[Sender]:
    """An away member (an active absence, audience everyone) and ``senders`` members,
    each with a token and a 1:1 conversation with the away member."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SEED, str(senders)],
        env=server_env(db, var_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [Sender(**row) for row in json.loads(done.stdout.strip().splitlines()[-1])]


class Server:
    """``backsoon serve`` (one worker process) on a free loopback port."""

    def __init__(
        self, db: Database, var_dir: Path, name: str, *, without: tuple[str, ...] = ()
    ) -> None:
        self.db = db
        self.without = without  # environment variables the server must not see
        self.var_dir = var_dir / name
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.var_dir / "serve.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = server_env(self.db, self.var_dir)
        for name in self.without:
            env.pop(name, None)
        log = self.log_path.open("ab")
        # A session (process group) of its own, so that a kill reaches every process.
        self.proc = subprocess.Popen(  # noqa: S603
            [*BACKSOON, "serve", "--no-migrate", "--workers", "1", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for(self.base + "/login/", timeout=60)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test starts; all are stopped at the end, whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    timeout: float = 30,
) -> tuple[int, Any, dict[str, str]]:
    """One API request; returns (status, parsed body or None, headers).

    Raises:
        OSError, http.client.HTTPException: the server did not answer (killed, down).
    """
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, "/api/v1" + path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        raw = response.read()
        data = json.loads(raw) if raw else None
        return response.status, data, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
