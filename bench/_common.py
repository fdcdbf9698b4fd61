"""Shared helpers for the benchmarks: a fresh Backsoon in a temp folder, a served process,
and the one output format that ``make bench`` collects into a table.

Every benchmark prints its figures as lines ``BENCH {"figure": ..., "value": ..., "unit":
..., "goal": ..., "ok": ...}`` next to its human-readable output.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(figure: str, value: float, unit: str, goal: str, ok: bool | None) -> None:
    """Print one figure in the collected format (and readably)."""
    line = {"figure": figure, "value": round(value, 2), "unit": unit, "goal": goal, "ok": ok}
    verdict = {True: "OK", False: "MISSED", None: ""}[ok]
    print(f"  {figure}: {value:,.2f} {unit} (goal {goal}) {verdict}")
    print("BENCH " + json.dumps(line), flush=True)


def setup_django(var_dir: Path | None = None) -> Path:
    """Point Django at a fresh var dir (SQLite) unless DATABASE_URL is set; migrate."""
    if var_dir is None:
        var_dir = Path(tempfile.mkdtemp(prefix="backsoon-bench-"))
        if not os.environ.get("BENCH_KEEP"):
            atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
    os.environ["BACKSOON_VAR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backsoon.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return var_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(
    var_dir: Path, *, workers: int | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``backsoon serve`` (production settings, no DEBUG) and yield its base URL;
    ``workers`` None leaves the number of processes to ``backsoon serve``."""
    port = free_port()
    env = {
        **os.environ,
        "BACKSOON_VAR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "backsoon.settings",
    }
    env.pop("DEBUG", None)
    env.update(extra_env or {})
    log = (var_dir / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backsoon.cli",
            "serve",
            "--port",
            str(port),
            "--no-migrate",
            *(["--workers", str(workers)] if workers else []),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login/", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError((var_dir / f"serve-{port}.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
