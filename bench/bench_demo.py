"""The demo network: how long `backsoon demo` takes, and the trainer's flooded digest.

Loads the demo into a fresh database with the real command (as `make run` does),
then serves it with `backsoon serve` and asks for the trainer's digest over HTTP:
hundreds of invitations, thousands of reactions and dozens of conversations.

Run: .venv/bin/python bench/bench_demo.py   (SQLite in a temp folder).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, percentile, report, served

REQUESTS = 30


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="backsoon-bench-demo-"))
    env = {
        **os.environ,
        "BACKSOON_VAR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "backsoon.settings",
    }
    backsoon = [sys.executable, "-m", "backsoon.cli"]
    subprocess.run([*backsoon, "manage", "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    started = time.perf_counter()
    subprocess.run([*backsoon, "demo", "--quiet"], env=env, check=True, cwd=ROOT)
    load = time.perf_counter() - started
    print(f"backsoon demo loaded in {load:.1f} s")
    report("demo_load", load, "s", "< 60", load < 60)

    os.environ["BACKSOON_VAR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backsoon.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from backsoon.accounts.actions import token_issue
    from backsoon.accounts.models import Member
    from backsoon.away.models import Absence

    trainer = Member.objects.get(username="trainer")
    absence = Absence.objects.get(member=trainer)
    token = token_issue(member=trainer, name="bench")
    from django.db import connection

    connection.close()
    with served(var_dir) as base:
        url = urlparse(base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        path = f"/api/v1/me/absences/{absence.pk}/digest"
        headers = {"Authorization": f"Bearer {token}"}
        conn.request("GET", path, headers=headers)
        first = conn.getresponse()
        totals = json.loads(first.read())["totals"]
        print(f"digest totals: {totals}")
        timings = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status == 200
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"digest over HTTP: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({REQUESTS} requests)")
    report("digest_p95", p95, "ms", "< 300", p95 < 300)


if __name__ == "__main__":
    main()
