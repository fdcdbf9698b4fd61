"""Fixtures that run the real ``backsoon`` command as a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKSOON = [sys.executable, "-m", "backsoon.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backsoon_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(BACKSOON_VAR=str(var_dir), DJANGO_SETTINGS_MODULE="backsoon.settings", **extra)
    # The subprocess gets its own SQLite file unless a DATABASE_URL is given explicitly.
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``backsoon serve`` process on a fresh SQLite file; yields (base URL, var dir)."""
    port = free_port()
    env = backsoon_env(tmp_path)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(  # noqa: S603
        [*BACKSOON, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/login/", timeout=90)  # it migrates a fresh database first
        yield base, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
