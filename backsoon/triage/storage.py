"""The flood rules' hand-written statements, on a stranger's first message and on an
invitation note (TRIAGE L2, L6, L7): the candidates among earlier prints (one
statement through the band index), the print's row, and the count of a sender's
copies. SQL strings built once per vendor, through Django's cursor
(``backsoon.db.rows.run``), columns from the models; ``tests/triage/test_storage.py``
pins how many statements labelling a stranger's message takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from django.db import connection

from backsoon.db.rows import Insert, datetime_param, placeholders, run, table

from .models import Print, PrintBand

PRINT_INSERT = Insert(Print)
BAND_INSERT = Insert(PrintBand)
# The advisory lock space of a sender's copies (PostgreSQL): "tr".
LOCK_SPACE = 0x7472


@cache
def _candidates_sql(keys: int, limit: int) -> str:
    band, print_ = table(PrintBand), table(Print)
    return (
        f"SELECT p.digest, p.signature, p.cluster FROM {print_} p WHERE p.id IN ("  # noqa: S608
        f"SELECT DISTINCT b.print_id FROM {band} b WHERE b.key IN ({placeholders(keys)}) "
        f"AND b.at > %s ORDER BY b.print_id LIMIT {limit}) AND p.kind = %s ORDER BY p.id"
    )


def candidates(
    *, kind: str, keys: Sequence[int], since: datetime, limit: int
) -> list[tuple[int, bytes, int]]:
    """``(digest, signature, cluster)`` of the oldest ``limit`` prints of ``kind`` since
    ``since`` that share a band key with ``keys``: one statement, an index range scan
    per key."""
    rows = run(_candidates_sql(len(keys), limit), [*keys, datetime_param(since), kind]).fetchall()
    return [(digest, bytes(signature), cluster) for digest, signature, cluster in rows]


def print_insert(row: Print) -> Print:
    """Store a print (its id set)."""
    row.id = run(f"{PRINT_INSERT.sql()} RETURNING id", PRINT_INSERT.params(row)).fetchone()[0]
    row._state.adding = False
    return row


def bands_insert(print_id: int, keys: Sequence[int], at: datetime) -> None:
    """Store a print's band keys: one statement."""
    columns = [f.column for f in BAND_INSERT.fields()]
    values: list[object] = []
    for key in keys:
        band = PrintBand(print_id=print_id, key=key, at=at)
        values += BAND_INSERT.params(band)
    row = f"({placeholders(len(columns))})"
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    run(
        f"INSERT INTO {table(PrintBand)} ({names}) VALUES {', '.join([row] * len(keys))}",  # noqa: S608
        values,
    )


@cache
def _copies_sql() -> str:
    return (
        f"SELECT COUNT(DISTINCT member_id) FROM {table(Print)} "  # noqa: S608
        "WHERE sender_id = %s AND kind = %s AND cluster = %s AND at > %s AND at <= %s"
    )


def copies(*, kind: str, sender_id: int, cluster: int, since: datetime, until: datetime) -> int:
    """Members the sender reached with texts of ``cluster`` in ``(since, until]``."""
    params = [sender_id, kind, cluster, datetime_param(since), datetime_param(until)]
    return int(run(_copies_sql(), params).fetchone()[0])


def sender_lock(sender_id: int) -> None:
    """Serialise the prints of one sender until the transaction ends, so each counts
    the copies committed before it (PostgreSQL's transaction-level advisory lock;
    SQLite serialises writing transactions already). Only strangers' first messages
    and invitation notes take it."""
    if connection.vendor == "postgresql":
        run("SELECT pg_advisory_xact_lock(%s)", [(LOCK_SPACE << 40) | sender_id])
