"""The ``backsoon`` command as a user runs it: serve, demo, createadmin, manage."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

from .conftest import BACKSOON, backsoon_env


def run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*BACKSOON, *args], env=env, capture_output=True, text=True, timeout=120, check=False, **kw
    )


def test_serve_migrates_serves_pages_static_and_api_without_debug(served):
    base, var_dir = served
    with urllib.request.urlopen(base + "/") as page:  # noqa: S310
        html = page.read().decode()
    assert "backsoon.css" not in html or "/static/web/backsoon." in html
    css_url = html.split('href="', 2)[1].split('"', 1)[0]
    with urllib.request.urlopen(base + css_url) as css:  # noqa: S310
        assert css.status == 200
        assert b"Backsoon" in css.read()
    with urllib.request.urlopen(base + "/api/v1/openapi.json") as schema:  # noqa: S310
        assert "/api/v1/auth/signup" in json.load(schema)["paths"]
    with urllib.request.urlopen(base + "/favicon.ico") as icon:  # noqa: S310
        assert icon.status == 200  # after the redirect to the static file
        assert icon.headers["Content-Type"].startswith("image/svg+xml")
    # The secret key is generated once and kept under var/.
    assert (var_dir / "secret_key").stat().st_mode & 0o077 == 0


def test_database_is_sqlite_in_wal_mode(tmp_path):
    env = backsoon_env(tmp_path)
    assert run(["manage", "migrate", "-v0"], env).returncode == 0
    conn = sqlite3.connect(tmp_path / "backsoon.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_demo_is_idempotent_and_prints_the_login(tmp_path):
    env = backsoon_env(tmp_path)
    assert run(["manage", "migrate", "-v0"], env).returncode == 0
    first = run(["demo", "--small"], env)
    assert first.returncode == 0, first.stderr
    assert "Log in as 'trainer'" in first.stdout
    second = run(["demo", "--small"], env)
    assert second.returncode == 0
    conn = sqlite3.connect(tmp_path / "backsoon.sqlite3")
    count = conn.execute("SELECT count(*) FROM accounts_member").fetchone()[0]
    again = run(["demo", "--small"], env)
    assert again.returncode == 0
    assert conn.execute("SELECT count(*) FROM accounts_member").fetchone()[0] == count
    conn.close()


def test_createadmin_and_manage_passthrough(tmp_path):
    env = backsoon_env(tmp_path, BACKSOON_ADMIN_PASSWORD="admin-pass-phrase-2026")
    assert run(["manage", "migrate", "-v0"], env).returncode == 0
    made = run(["createadmin", "--username", "root.admin", "--email", "root@example.com"], env)
    assert made.returncode == 0, made.stderr
    again = run(["createadmin", "--username", "root.admin", "--email", "x@example.com"], env)
    assert again.returncode == 2
    assert "taken" in again.stderr
    check = run(["manage", "check"], env)
    assert check.returncode == 0
    assert "no issues" in check.stdout


def test_worker_runs_periodic_jobs(tmp_path):
    """`backsoon worker` schedules absences_tick and runs it: a due welcome back appears.

    Issue 18: it logs one line for the job that did something, and nothing for the one
    that found nothing to do (not django-tasks' two lines per job)."""
    import time

    env = backsoon_env(tmp_path)
    assert run(["manage", "migrate", "-v0"], env).returncode == 0
    setup = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from backsoon.accounts.actions import member_create\n"
        "from backsoon.away.models import Absence\n"
        "m = member_create(username='walker', email='w@example.com', "
        "password='a-long-pass-phrase', display_name='W')\n"
        "now = timezone.now()\n"
        "Absence.objects.create(member=m, starts_at=now - timedelta(hours=3), "
        "ends_at=now - timedelta(hours=1), message='x')\n"
    )
    assert run(["manage", "shell", "-c", setup], env).returncode == 0
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(  # noqa: S603
        [*BACKSOON, "worker", "--interval", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        conn = sqlite3.connect(tmp_path / "backsoon.sqlite3", timeout=10)
        deadline = time.monotonic() + 30
        count = 0
        while time.monotonic() < deadline and not count:
            time.sleep(0.5)
            count = conn.execute(
                "SELECT count(*) FROM notifications_notification WHERE type='welcome_back'"
            ).fetchone()[0]
        conn.close()
        while time.monotonic() < deadline and "absences_tick" not in _read(tmp_path / "worker.log"):
            time.sleep(0.2)
        time.sleep(1)  # the other periodic job of the minute, if it were logged
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    output = (tmp_path / "worker.log").read_text()
    assert count == 1, output
    jobs = [line for line in output.splitlines() if "tick" in line or "Task id=" in line]
    assert jobs == ["absences_tick: welcomed=1 reminded=0 starts=0"], output


def _read(path) -> str:
    return path.read_text() if path.exists() else ""


def test_serve_says_where_to_log_in_once_the_site_answers(tmp_path):
    """Issue 18: `backsoon serve` prints the address and the demo's login when the site
    answers, not before; `make run` no longer prints it ahead of the server."""
    import time

    from .conftest import free_port

    env = backsoon_env(tmp_path)
    assert run(["manage", "migrate", "-v0"], env).returncode == 0
    assert run(["demo", "--small", "--quiet"], env).returncode == 0
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(  # noqa: S603
        [*BACKSOON, "serve", "--no-migrate", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "Backsoon is ready" not in _read(log_path):
            assert proc.poll() is None, _read(log_path)
            time.sleep(0.1)
        # Once the line is there, the site answers at the first try.
        with urllib.request.urlopen(base + "/login/", timeout=5) as page:  # noqa: S310
            assert page.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    lines = log_path.read_text().splitlines()
    starting = next(i for i, line in enumerate(lines) if line.startswith("Backsoon is starting"))
    ready = next(i for i, line in enumerate(lines) if line.startswith("Backsoon is ready"))
    assert starting < ready
    assert lines[ready] == (
        f"Backsoon is ready: open {base}/ and log in as 'trainer' with password 'backsoon-demo'."
    )
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "log in as" not in makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]


def test_the_readiness_wait_is_bounded(capsys):
    from backsoon.cli import announce_when_answering

    from .conftest import free_port

    port = free_port()  # nobody listens there
    assert not announce_when_answering(
        host="127.0.0.1", port=port, message="ready", timeout=0.5, every=0.1
    )
    out, err = capsys.readouterr()
    assert "ready" not in out
    assert f"does not answer on port {port}" in err


def test_demo_reset_replays_the_story_from_the_start(tmp_path):
    """Issue 18: once the trainer ended his absence, `backsoon demo --reset` brings the
    story back (it asks first; --yes does not), and refuses when the database holds
    members who are not the demo's."""
    env = backsoon_env(tmp_path, BACKSOON_ADMIN_PASSWORD="admin-pass-phrase-2026")
    assert run(["manage", "migrate", "-v0"], env).returncode == 0
    assert run(["demo", "--small", "--quiet"], env).returncode == 0
    db = tmp_path / "backsoon.sqlite3"
    query = (
        "SELECT a.ends_at, a.ended_at FROM away_absence a "
        "JOIN accounts_member m ON m.id = a.member_id WHERE m.username = 'trainer'"
    )
    with sqlite3.connect(db) as conn:
        members = conn.execute("SELECT count(*) FROM accounts_member").fetchone()[0]
        conn.execute("UPDATE away_absence SET ended_at = datetime('now')")  # "End now"
    declined = run(["demo", "--reset", "--small"], env, input="n\n")
    assert declined.returncode == 1
    assert "deletes everything" in declined.stdout and "Nothing was deleted" in declined.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute(query).fetchone()[1] is not None  # still ended

    reset = run(["demo", "--reset", "--small", "--yes"], env)
    assert reset.returncode == 0, reset.stderr
    assert "Log in as 'trainer'" in reset.stdout
    with sqlite3.connect(db) as conn:
        ends_at, ended_at = conn.execute(query).fetchone()
        assert ended_at is None  # away again
        assert conn.execute("SELECT count(*) FROM accounts_member").fetchone()[0] == members
    # The absence ends at the start of a day in the trainer's time zone.
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    stored = datetime.fromisoformat(ends_at).replace(tzinfo=UTC)  # Django keeps UTC
    local = stored.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert (local.hour, local.minute, local.second) == (0, 0, 0)

    made = run(["createadmin", "--username", "root.admin", "--email", "root@example.org"], env)
    assert made.returncode == 0, made.stderr
    refused = run(["demo", "--reset", "--small", "--yes"], env)
    assert refused.returncode == 2
    assert "1 member(s) who are not the demo's" in refused.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM accounts_member").fetchone()[0] == members + 1
