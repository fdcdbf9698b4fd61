"""A clean shutdown loses no buffered impressions (a real process on a file database)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from backsoon.accounts.models import Member
    from backsoon.posts.actions import impressions_record, post_create
    member = Member.objects.create(username="viewer", email="v@example.com", password="!")
    post = post_create(author=member, body="hello").post
    # One a member counts once an hour (issue 14, finding 6): 250 hours of views.
    import time
    for i in range(250):
        impressions_record(member_id=member.pk, post_ids=[post.pk], at=time.time() - i * 3600)
    print(post.pk, flush=True)
    if sys.argv[1] == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
    """
)


@pytest.mark.parametrize("how", ["exit", "sigterm"])
def test_buffered_impressions_are_written_when_the_process_stops(tmp_path, how):
    env = {
        **os.environ,
        "BACKSOON_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "backsoon.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CHILD, how],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    expected = -signal.SIGTERM if how == "sigterm" else 0
    assert done.returncode == expected, done.stderr
    post_id = int(done.stdout.split()[0])
    with sqlite3.connect(tmp_path / "backsoon.sqlite3") as db:
        row = db.execute(
            "SELECT impressions_count, unique_viewers FROM posts_post WHERE id = ?", (post_id,)
        ).fetchone()
    assert row == (250, 1)
