"""Bulk changes in bounded chunks (TRIAGE C2): an action by filter may match 10,000
rows; each chunk is its own short transaction, so none holds the database's write
lock for long and a request never waits on one huge statement."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

CHUNK = 500
M = TypeVar("M", bound=Model)
# Where chunk_timings() collects how long each chunk's transaction took (benchmarks).
_timings: ContextVar[list[float] | None] = ContextVar("chunk_timings", default=None)


@contextmanager
def chunk_timings() -> Iterator[list[float]]:
    """Collect the seconds each chunk's transaction took (the write lock held) while
    the block runs: ``with chunk_timings() as took: ...; max(took)``."""
    took: list[float] = []
    token = _timings.set(took)
    try:
        yield took
    finally:
        _timings.reset(token)


@contextmanager
def _chunk() -> Iterator[None]:
    """One chunk's transaction, timed when ``chunk_timings`` is on."""
    took = _timings.get()
    start = time.perf_counter()
    with transaction.atomic():
        yield
    if took is not None:
        took.append(time.perf_counter() - start)


def chunked_ids(rows: QuerySet[M], *, chunk: int = CHUNK) -> Iterator[list[Any]]:
    """The primary keys of ``rows`` in ascending chunks of at most ``chunk``; each chunk
    is read when the one before has been handled (keyset paging, no OFFSET)."""
    last = None
    while True:
        page = rows.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:chunk])
        if not ids:
            return
        yield ids
        last = ids[-1]


def update_in_chunks(rows: QuerySet[M], *, chunk: int = CHUNK, **values: Any) -> int:
    """``rows.update(**values)`` in chunks, each in its own transaction; ``rows``'
    conditions are applied again in each chunk's UPDATE, so a row that stopped
    matching meanwhile is left alone. Returns how many rows changed."""
    changed = 0
    for ids in chunked_ids(rows, chunk=chunk):
        with _chunk():
            changed += rows.filter(pk__in=ids).update(**values)
    return changed


def each_in_chunks(
    rows: QuerySet[M], handle: Callable[[list[Any]], int], *, chunk: int = CHUNK
) -> int:
    """Call ``handle`` with each chunk of primary keys of ``rows`` (in its own
    transaction); the sum of what it returns."""
    total = 0
    for ids in chunked_ids(rows, chunk=chunk):
        with _chunk():
            total += handle(ids)
    return total
