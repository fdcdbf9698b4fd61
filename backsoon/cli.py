"""The ``backsoon`` command: serve, prepare, worker, demo, createadmin, manage.

Configuration comes from the environment (see backsoon/settings.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backsoon.settings")
    import django

    django.setup()


# Request threads per server process (besides one per open live stream): threads
# share one GIL, and a writer that lets it go for each SQLite statement waits to get
# it back while the other threads run, holding the database's write lock meanwhile.
DEFAULT_THREADS = 4
DEFAULT_LIVE_STREAMS_PER_PROCESS = 32


def _serve(args: argparse.Namespace) -> int:
    """Prepare (in a child process), then serve under granian. This supervisor imports
    neither Django nor the app: it stays small, and only granian's workers load them.

    Where to go (and the demo's login, when the demo is loaded) is printed once the
    site answers, not before (issue 18): a thread of the supervisor asks until it does.
    """
    prepare = [sys.executable, "-m", "backsoon.cli", "prepare", "--demo-login"]
    done = subprocess.run(  # noqa: S603
        [*prepare, *(["--no-migrate"] if args.no_migrate else [])],
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    if done.returncode:
        sys.stdout.write(done.stdout)
        return done.returncode
    login = done.stdout.strip()
    plan = serve_plan(args.workers, args.threads, args.jobs)
    os.environ.update(plan.environ())
    host_for_url = "[" + args.host + "]" if ":" in args.host else args.host
    url = f"http://{host_for_url}:{args.port}/"
    print(
        f"Backsoon is starting on {url} "
        f"({plan.processes} process(es) x {plan.threads} threads"
        f"{', background jobs in process' if plan.jobs_in_process else ''})",
        flush=True,
    )
    ready = f"Backsoon is ready: open {url}" + (f" and {login}" if login else "") + "."
    threading.Thread(
        target=announce_when_answering,
        kwargs={"host": args.host, "port": args.port, "message": ready},
        daemon=True,
        name="readiness",
    ).start()
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        "backsoon.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=plan.processes,
        # One thread per open live stream on top of the request threads: the streams
        # are capped per process (LIVE_STREAMS_PER_PROCESS), so requests always find one.
        blocking_threads=plan.threads + plan.live_streams,
        log_level=LogLevels(args.log_level),
        log_access=args.access_log,
        respawn_failed_workers=True,
        # A worker that has not stopped this long after SIGTERM is killed.
        workers_kill_timeout=30,
    ).serve()
    return 0


# How long the supervisor waits for the site's first answer before saying it has none.
READY_TIMEOUT = 60.0


def site_answers(*, host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether an HTTP request to ``/login/`` gets an answer (any status).

    A port that accepts connections is not enough: granian listens before its
    workers have loaded the app. A wildcard address (``0.0.0.0``, ``::``) is asked
    on the loopback address.
    """
    import http.client

    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    connection = http.client.HTTPConnection(target, port, timeout=timeout)
    try:
        connection.request("GET", "/login/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


def announce_when_answering(
    *, host: str, port: int, message: str, timeout: float = READY_TIMEOUT, every: float = 0.2
) -> bool:
    """Print ``message`` once the site answers (``site_answers``), waiting at most
    ``timeout`` seconds; past that, say on stderr that it does not answer yet.

    Returns:
        Whether the site answered in time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if site_answers(host=host, port=port):
            print(message, flush=True)
            return True
        time.sleep(every)
    print(
        f"Backsoon does not answer on port {port} after {timeout:.0f}s: see the log above.",
        file=sys.stderr,
        flush=True,
    )
    return False


@dataclass(frozen=True)
class ServePlan:
    """How ``backsoon serve`` runs: processes, request threads, live streams, jobs."""

    processes: int
    threads: int
    live_streams: int
    jobs_in_process: bool

    def environ(self) -> dict[str, str]:
        """What the worker processes learn from the supervisor."""
        return {
            "BACKSOON_SERVE": "1",
            "BACKSOON_JOBS_IN_PROCESS": "1" if self.jobs_in_process else "0",
            "LIVE_STREAMS_PER_PROCESS": str(self.live_streams),
        }


def shares_live_updates(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether live updates pass between processes: Redis (``REDIS_URL``), or
    PostgreSQL's LISTEN/NOTIFY (a ``postgres`` ``DATABASE_URL``). Read from the
    environment, as the settings do, without importing Django."""
    if environ.get("REDIS_URL"):
        return True
    return environ.get("DATABASE_URL", "").split(":", 1)[0] in {
        "postgres",
        "postgresql",
        "pgsql",
    }


def serve_plan(
    processes: int = 0,
    threads: int = 0,
    jobs: str = "auto",
    environ: Mapping[str, str] = os.environ,
) -> ServePlan:
    """The defaults of ``backsoon serve`` (0 or "auto": decide).

    - Processes: two per CPU when live updates pass between processes (a keep-alive
      connection stays with the process that accepted it, and with one per CPU one
      process often held most connections while the other CPU idled); otherwise one,
      since an event must reach the streams of every process.
    - Threads: ``BACKSOON_THREADS`` (default 4) request threads per process, plus one
      per open live stream up to ``LIVE_STREAMS_PER_PROCESS`` (default 32).
    - Background jobs run in the (one) server process when live updates stay inside
      one process, so that what they publish reaches the open pages; otherwise
      ``backsoon worker`` runs them.
    """
    shared = shares_live_updates(environ)
    if not processes:
        processes = 2 * _cpus() if shared else 1
    threads = threads or int(environ.get("BACKSOON_THREADS") or DEFAULT_THREADS)
    live_streams = int(environ.get("LIVE_STREAMS_PER_PROCESS") or DEFAULT_LIVE_STREAMS_PER_PROCESS)
    in_process = {"auto": not shared and processes == 1, "yes": True, "no": False}[jobs]
    return ServePlan(processes, threads, live_streams, in_process)


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_workers() -> int:
    """The number of server processes ``backsoon serve`` runs by default."""
    return serve_plan().processes


def _prepare(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    call_command("compiletranslations", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo_login:
        from backsoon.demo import demo_login_hint

        print(demo_login_hint() or "")
    return 0


def _worker(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    from backsoon.tasks import job_log_one_line, run_scheduler

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    if not shares_live_updates():
        print(
            "Backsoon worker: without Redis or PostgreSQL, live updates from background "
            "jobs reach no open page; `backsoon serve` runs the jobs itself in that case.",
            flush=True,
        )
    job_log_one_line()
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(stop,), daemon=True, name="scheduler")
    scheduler.start()
    print("Backsoon worker: running background jobs (Ctrl+C stops).", flush=True)
    try:
        call_command("db_worker", interval=args.interval)
    finally:
        stop.set()
    return 0


def _demo(args: argparse.Namespace) -> int:
    _setup()
    from backsoon.demo import FULL, SMALL, demo_load, demo_reset, demo_reset_plan

    scale = SMALL if args.small else FULL
    if not args.reset:
        demo_load(seed=args.seed, quiet=args.quiet, scale=scale)
        return 0
    plan = demo_reset_plan()
    if not plan.only_demo:
        print(
            f"error: the database holds {plan.others:,} member(s) who are not the demo's "
            "(staff, or an address outside example.com); --reset would delete them too. "
            "Nothing was deleted.",
            file=sys.stderr,
        )
        return 2
    if not args.yes:
        question = (
            f"This deletes everything in the database ({plan.members:,} demo members, their "
            "posts, messages and invitations, sessions and queued jobs) and loads the demo "
            "again. Continue? [y/N] "
        )
        try:
            answer = input(question)
        except EOFError:
            answer = ""
        if answer.strip().lower() not in {"y", "yes"}:
            print("Nothing was deleted (pass --yes to reset without asking).", file=sys.stderr)
            return 1
    demo_reset(seed=args.seed, quiet=args.quiet, scale=scale)
    return 0


def _createadmin(args: argparse.Namespace) -> int:
    _setup()
    import getpass

    from backsoon.accounts.actions import member_create
    from backsoon.errors import DomainError

    password = os.environ.get("BACKSOON_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    try:
        member = member_create(
            username=args.username,
            email=args.email,
            password=password,
            display_name=args.display_name or args.username,
            is_staff=True,
        )
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    member.is_superuser = True
    member.save(update_fields=["is_superuser"])
    print(f"Created admin {member.username}; log in at /admin/.")
    return 0


def _manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["backsoon manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backsoon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the site under granian (WSGI)")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "0")),
        help="server processes (default: two per CPU with Redis or PostgreSQL, else one)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=0,
        help=f"request threads per process (default: BACKSOON_THREADS or {DEFAULT_THREADS})",
    )
    serve.add_argument(
        "--jobs",
        choices=["auto", "yes", "no"],
        default="auto",
        help="run the background jobs in the server process (auto: when live updates "
        "can not pass between processes, i.e. SQLite without Redis)",
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(func=_serve)

    prepare = sub.add_parser(
        "prepare", help="apply migrations, compile translations, collect static files"
    )
    prepare.add_argument("--no-migrate", action="store_true")
    prepare.add_argument(
        "--demo-login",
        action="store_true",
        help="print how to log in to the demo when it is loaded (what `serve` shows when ready)",
    )
    prepare.set_defaults(func=_prepare)

    worker = sub.add_parser("worker", help="run background jobs and the periodic schedule")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(func=_worker)

    demo = sub.add_parser("demo", help="load the demo network (idempotent), or --reset it")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument(
        "--small", action="store_true", help="the same story with fewer rows (for tests)"
    )
    demo.add_argument(
        "--reset",
        action="store_true",
        help="replay the story from the start: empty the database (only when it holds "
        "nothing but the demo) and load the demo again; asks first",
    )
    demo.add_argument("--yes", action="store_true", help="with --reset: do not ask")
    demo.set_defaults(func=_demo)

    admin = sub.add_parser(
        "createadmin",
        help="create a staff member (password from BACKSOON_ADMIN_PASSWORD or a prompt)",
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--display-name", default="")
    admin.set_defaults(func=_createadmin)

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
