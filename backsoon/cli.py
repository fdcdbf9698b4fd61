"""The ``backsoon`` command: serve, demo, createadmin, manage.

Configuration comes from the environment (see backsoon/settings.py).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backsoon.settings")
    import django

    django.setup()


def _serve(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    call_command("compiletranslations", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    workers = args.workers or default_workers()
    host_for_url = "[" + args.host + "]" if ":" in args.host else args.host
    print(f"Backsoon is serving at http://{host_for_url}:{args.port}/", flush=True)
    import uvicorn

    config = uvicorn.Config(
        "backsoon.asgi:application",
        host=args.host,
        port=args.port,
        workers=workers,
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    if workers == 1:
        uvicorn.Server(config).run()
    else:
        from uvicorn.supervisors import Multiprocess

        # uvicorn binds a multi-worker socket without IPPROTO_TCP, so asyncio
        # does not set TCP_NODELAY on accepted connections and every keep-alive
        # response waits ~40 ms for a delayed ACK. Bind it ourselves.
        Multiprocess(config, sockets=[_tcp_socket(args.host, args.port)]).run()
    return 0


def default_workers() -> int:
    """Two server processes per CPU, when the processes can share live updates (Redis,
    or the machine-local bus of ``backsoon.live``); otherwise one.

    Two per CPU, because a keep-alive connection stays with the process that accepted
    it: with one per CPU, one process often held most connections and was bound by its
    one GIL while the other CPU idled (a quarter of the machine, in bench_send)."""
    from backsoon.live import InProcessBus, bus

    if isinstance(bus(), InProcessBus):
        return 1
    if hasattr(os, "sched_getaffinity"):
        return 2 * max(1, len(os.sched_getaffinity(0)))
    return 2 * (os.cpu_count() or 1)


def _worker(args: argparse.Namespace) -> int:
    _setup()
    import threading

    from django.core.management import call_command

    from backsoon.tasks import run_scheduler

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(stop,), daemon=True, name="scheduler")
    scheduler.start()
    print("Backsoon worker: running background jobs (Ctrl+C stops).", flush=True)
    try:
        call_command("db_worker", interval=args.interval)
    finally:
        stop.set()
    return 0


def _tcp_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _demo(args: argparse.Namespace) -> int:
    _setup()
    from backsoon.demo import FULL, SMALL, demo_load

    demo_load(seed=args.seed, quiet=args.quiet, scale=SMALL if args.small else FULL)
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

    serve = sub.add_parser("serve", help="serve the site with a production ASGI server")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "0")),
        help="server processes (default: two per CPU)",
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run background jobs and the periodic schedule")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(func=_worker)

    demo = sub.add_parser("demo", help="load the demo network (idempotent)")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument(
        "--small", action="store_true", help="the same story with fewer rows (for tests)"
    )
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
