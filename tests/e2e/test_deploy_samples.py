"""The sample deployment files (deploy/) parse, and say what docs/deployment.md says.

The systemd units are read with configparser and, where systemd is installed, checked
by ``systemd-analyze verify``; the nginx file is checked by ``nginx -t`` where nginx is
installed (``apt-get install nginx-light``), with a throwaway certificate.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = {"backsoon.service": "serve", "backsoon-worker.service": "worker"}


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


@pytest.mark.parametrize("name", list(UNITS))
def test_systemd_units_parse_and_run_the_backsoon_command(name):
    unit = _unit(name)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/bin/backsoon")
    assert command[1] == UNITS[name]
    assert "--no-migrate" in command  # `backsoon prepare` migrates once per release
    # SIGTERM to the main process only, which stops its workers gracefully.
    assert service["KillMode"] == "mixed"
    assert service["EnvironmentFile"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize("name", list(UNITS))
def test_systemd_units_pass_systemd_analyze_verify(name, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # The unit as installed, with ExecStart pointing at this checkout's command.
    backsoon = Path(sys.executable).parent / "backsoon"
    text = (DEPLOY / name).read_text().replace("/opt/backsoon/.venv/bin/backsoon", str(backsoon))
    (tmp_path / name).write_text(text)
    done = subprocess.run(  # noqa: S603
        [analyze, "verify", str(tmp_path / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_nginx_sample_passes_nginx_t(tmp_path):
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx (apt-get install nginx-light) or openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subject = ["-subj", "/CN=backsoon.example.org", "-keyout", str(key), "-out", str(cert)]
    subprocess.run([*request, *subject], capture_output=True, check=True, timeout=60)  # noqa: S603
    text = (DEPLOY / "nginx.conf").read_text()
    text = text.replace(
        "/etc/letsencrypt/live/backsoon.example.org/fullchain.pem", str(cert)
    ).replace("/etc/letsencrypt/live/backsoon.example.org/privkey.pem", str(key))
    (tmp_path / "backsoon.conf").write_text(text)
    (tmp_path / "main.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n"
        f"  proxy_temp_path {tmp_path};\n  include {tmp_path}/backsoon.conf;\n}}\n"
    )
    done = subprocess.run(  # noqa: S603
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "main.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


def test_nginx_sample_streams_live_updates_unbuffered():
    text = (DEPLOY / "nginx.conf").read_text()
    live = text[text.index("location = /live/") :]
    live = live[: live.index("}")]
    assert "proxy_buffering off;" in live
    assert "proxy_read_timeout" in live
    assert text.count("{") == text.count("}")
