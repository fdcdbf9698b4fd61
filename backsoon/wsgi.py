"""The WSGI application that ``backsoon serve`` runs under granian (or any WSGI server).

Django's WSGI handler, with four things around it:

- **Proxies.** With ``FORWARDED_ALLOW_IPS`` set (the proxy's addresses), the client's
  address and scheme come from the proxy's ``X-Forwarded-*`` headers (granian's
  ``wrap_wsgi_with_proxy_headers``); from anyone else they are ignored.
- **Chunked request bodies.** A body sent with ``Transfer-Encoding: chunked`` has no
  ``Content-Length``, and Django reads no body without one. granian hands the whole
  decoded body to ``wsgi.input`` (``wsgi.input_terminated``), so such a body is read
  here, at most one byte past the largest limit, and given its length: the
  ``RequestLimitsMiddleware`` then answers 413 for one over the limit, as it does for a
  declared length.
- **Stopping.** An open live-update stream (``/live/``) holds a server thread until
  its client goes away, and granian waits for every response before a worker stops.
  So when the worker process is told to stop (SIGTERM or SIGINT), the streams end
  first (EventSource reconnects), the background jobs of the embedded default stop,
  and the impressions buffered in memory are written when the process ends.
- **Background jobs in the embedded default.** Without Redis and PostgreSQL live
  updates stay inside one process; ``backsoon serve`` then runs one process and sets
  ``BACKSOON_JOBS_IN_PROCESS=1``, and the jobs (django-tasks' database queue and the
  periodic schedule) run on threads here, so that what they publish (a welcome back)
  reaches the open pages.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backsoon.settings")

from django.core.wsgi import get_wsgi_application

log = logging.getLogger(__name__)

django_application = get_wsgi_application()

from backsoon.web.middleware import LARGE_BODY_LIMIT  # noqa: E402 (after django.setup)


def read_chunked_body(environ: dict[str, Any], limit: int = LARGE_BODY_LIMIT) -> None:
    """Give a body without ``Content-Length`` (chunked) its length, reading at most
    ``limit + 1`` bytes of it (one past the limit is enough for the 413)."""
    if (
        environ.get("CONTENT_LENGTH")
        or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        return
    body = environ["wsgi.input"].read(limit + 1)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    read_chunked_body(environ)
    return django_application(environ, start_response)


def behind_proxies(app: Callable[..., Any], trusted: str) -> Callable[..., Any]:
    """``app`` taking the client's address (``X-Forwarded-For``) and scheme
    (``X-Forwarded-Proto``) from the proxies at the comma-separated addresses
    ``trusted`` only (``FORWARDED_ALLOW_IPS``; ``*`` trusts any): anyone else could
    set them, and the login throttle counts by address."""
    from granian.utils.proxies import wrap_wsgi_with_proxy_headers

    hosts = [host.strip() for host in trusted.split(",") if host.strip()]
    return wrap_wsgi_with_proxy_headers(app, trusted_hosts=hosts)


application = (
    behind_proxies(_application, os.environ["FORWARDED_ALLOW_IPS"])
    if os.environ.get("FORWARDED_ALLOW_IPS")
    else _application
)


# --- stopping -----------------------------------------------------------------------

_stop_hooks: list[Callable[[], None]] = []
_stopped = threading.Event()


def stop() -> None:
    """End the open streams and the in-process jobs; idempotent."""
    if _stopped.is_set():
        return
    _stopped.set()
    from backsoon.live import stop_streams

    stop_streams()
    for hook in _stop_hooks:
        try:
            hook()
        except Exception:
            log.warning("a stop hook failed", exc_info=True)


def _wrap_stop_signals(*_: Any) -> None:
    """Run :func:`stop` before whatever now handles SIGTERM and SIGINT (the server's
    own handlers). Runs in the main thread, as a handler of SIGUSR1 (see below)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if getattr(previous, "backsoon_stop", False):
            continue

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            stop()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        handler.backsoon_stop = True  # type: ignore[attr-defined]
        signal.signal(signum, handler)


def _watch_for_server_signals(seen: Any, timeout: float = 60.0) -> None:
    """granian installs its SIGTERM/SIGINT handlers in a worker after loading this
    module, and only the main thread may change handlers: wait until they are in
    place, then have the main thread wrap them (a SIGUSR1 to this process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if signal.getsignal(signal.SIGTERM) != seen:
            os.kill(os.getpid(), signal.SIGUSR1)
            return
        time.sleep(0.05)


def _install_stop() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGUSR1, _wrap_stop_signals)
    threading.Thread(
        target=_watch_for_server_signals,
        args=(signal.getsignal(signal.SIGTERM),),
        name="stop-signals",
        daemon=True,
    ).start()
    import multiprocessing.util

    # granian's workers are multiprocessing processes: they end without running
    # atexit, but with multiprocessing's finalizers.
    multiprocessing.util.Finalize(None, _flush_impressions, exitpriority=10)


def _flush_impressions() -> None:
    from backsoon.posts.impressions import autoflush_enabled, impressions_flush

    if not autoflush_enabled():
        return
    try:
        impressions_flush()
    except Exception:
        log.warning("impressions lost at exit: the final flush failed", exc_info=True)


# --- background jobs in the embedded default ---------------------------------------


def start_jobs_in_process(interval: float = 1.0) -> None:
    """Run the background jobs and the periodic schedule on two daemon threads."""
    from django_tasks_db.management.commands.db_worker import Worker

    from backsoon.tasks import job_log_one_line, run_scheduler

    job_log_one_line()
    worker = Worker(
        queue_names=["default"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"serve-{os.getpid()}",
        excluded_queue_names=[],
    )
    schedule_stop = threading.Event()

    def stop_jobs() -> None:
        worker.running = False
        schedule_stop.set()

    _stop_hooks.append(stop_jobs)
    threading.Thread(target=worker.run, name="jobs", daemon=True).start()
    threading.Thread(
        target=run_scheduler, args=(schedule_stop,), name="scheduler", daemon=True
    ).start()


if os.environ.get("BACKSOON_SERVE") == "1":  # a worker process of `backsoon serve`
    _install_stop()
    if os.environ.get("BACKSOON_JOBS_IN_PROCESS") == "1":
        start_jobs_in_process()
