"""The ASGI entry point that ``backsoon serve`` runs under uvicorn.

Django runs every synchronous view of an ASGI request in a fresh single-thread
executor, so each request pays for a new thread and a new database connection.
Backsoon's pages and API are synchronous, so they are served through Django's
WSGI handler on a fixed pool of threads (``backsoon.wsgi_pool``): threads are
reused and each keeps its database connection. Only the live-update stream
(``/live/``), which must hold a connection open without a thread, goes through
Django's ASGI handler.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backsoon.settings")

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from backsoon.web.middleware import LARGE_BODY_LIMIT
from backsoon.wsgi_pool import WSGIPool

ASYNC_PREFIXES = ("/live/",)
# Few threads per process, two processes per CPU (backsoon serve): threads share one
# GIL, and a writer that lets it go for each SQLite statement waits to get it back
# while the other threads run, holding the database's write lock all the while.
# bench/bench_send.py, two processes, 8 clients: with 8 threads each, a message held
# that lock for 3.4 ms; with 2 threads, 1.9 ms.
THREADS = int(os.environ.get("BACKSOON_THREADS", "2"))

django_asgi = get_asgi_application()
django_wsgi = WSGIPool(
    get_wsgi_application(),
    threads=THREADS,
    body_limit=LARGE_BODY_LIMIT,  # the largest body any view takes (calendar imports)
)


async def _lifespan(receive: Any, send: Any) -> None:
    """Startup does nothing; shutdown writes the impressions still buffered in memory,
    in every worker process (uvicorn tells each one through the lifespan protocol)."""
    from asgiref.sync import sync_to_async

    from backsoon.posts.impressions import impressions_flush

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await sync_to_async(impressions_flush, thread_sensitive=False)()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
    elif scope["type"] == "http" and scope["path"].startswith(ASYNC_PREFIXES):
        await django_asgi(scope, receive, send)
    else:
        await django_wsgi(scope, receive, send)
