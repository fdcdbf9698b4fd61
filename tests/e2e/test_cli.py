"""The ``backsoon`` command as a user runs it: serve, demo, createadmin, manage."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.request

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
    first = run(["demo"], env)
    assert first.returncode == 0, first.stderr
    assert "Log in as 'trainer'" in first.stdout
    second = run(["demo"], env)
    assert second.returncode == 0
    conn = sqlite3.connect(tmp_path / "backsoon.sqlite3")
    count = conn.execute("SELECT count(*) FROM accounts_member").fetchone()[0]
    again = run(["demo"], env)
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
