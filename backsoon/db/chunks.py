"""Bulk changes in bounded chunks (TRIAGE C2): an action by filter may match 10,000
rows; each chunk is its own short transaction, so none holds the database's write
lock for long and a request never waits on one huge statement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

CHUNK = 500
M = TypeVar("M", bound=Model)


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
        with transaction.atomic():
            changed += rows.filter(pk__in=ids).update(**values)
    return changed


def each_in_chunks(
    rows: QuerySet[M], handle: Callable[[list[Any]], int], *, chunk: int = CHUNK
) -> int:
    """Call ``handle`` with each chunk of primary keys of ``rows`` (in its own
    transaction); the sum of what it returns."""
    total = 0
    for ids in chunked_ids(rows, chunk=chunk):
        with transaction.atomic():
            total += handle(ids)
    return total
