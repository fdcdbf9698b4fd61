"""Which database errors mean "the database can not take this now" (pure, no I/O).

A full disk or a read-only database is not a bug in the request: the API answers
503 with ``Retry-After`` and the site a friendly page (``backsoon.web.errors``), and
nothing is lost, as every write runs in a transaction that is rolled back.
"""

from __future__ import annotations

import sqlite3

from django.db import DatabaseError

# SQLSTATEs of PostgreSQL for a database that can not take writes or be reached now:
# read-only transaction (hot standby, default_transaction_read_only), disk full, out
# of memory or connections, shutting down or starting, connection failures.
UNAVAILABLE_SQLSTATES = frozenset(
    {
        "25006",  # read_only_sql_transaction
        "53000",  # insufficient_resources
        "53100",  # disk_full
        "53200",  # out_of_memory
        "53300",  # too_many_connections
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now
        "08000",  # connection_exception
        "08001",  # sqlclient_unable_to_establish_sqlconnection
        "08003",  # connection_does_not_exist
        "08004",  # sqlserver_rejected_establishment_of_sqlconnection
        "08006",  # connection_failure
    }
)
# The messages of SQLite's errors for the same situations (it has no SQLSTATE).
UNAVAILABLE_SQLITE_MESSAGES = (
    "attempt to write a readonly database",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
    "database is locked",
)
RETRY_AFTER_SECONDS = 60


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or the driver error it wraps) says the database is full,
    read-only or unreachable for now, rather than that the request is wrong."""
    seen = 0
    while exc is not None and seen < 4:
        if isinstance(exc, DatabaseError | sqlite3.Error) or hasattr(exc, "sqlstate"):
            sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
            if sqlstate in UNAVAILABLE_SQLSTATES:
                return True
            message = str(exc).lower()
            if any(text in message for text in UNAVAILABLE_SQLITE_MESSAGES):
                return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
