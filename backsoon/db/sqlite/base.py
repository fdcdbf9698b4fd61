"""Django's SQLite backend, with the write transactions of one process taking turns
on a lock with a deadline instead of in SQLite's busy handler.

Django's own options do the rest (``settings.DATABASES``): ``transaction_mode``
``IMMEDIATE`` takes SQLite's write lock at ``BEGIN``, ``timeout`` bounds the wait for
it, WAL lets readers run beside the writer. What they can not do is hand the write
lock over quickly: a writer that finds it taken sleeps in SQLite's busy handler in
growing steps (1, 2, 5, 10 ... 100 ms) between tries, while the send path's
transactions last well under a millisecond. With the threads of one ``backsoon
serve`` process (the embedded default) that cost a fifth of message sends and put
p99 at 340 ms against 80 ms (``bench/README.md``, "SQLite writers").

So a thread that opens a transaction (Django's public ``set_autocommit(False)``,
which every outermost ``atomic()`` calls) first takes this process's lock for the
database, and gives it back when the transaction ends (``set_autocommit(True)``,
or ``close()`` when the connection is dropped in the middle). The next thread starts
the moment the one before it commits. The wait has the same deadline as SQLite's
busy timeout (``OPTIONS["timeout"]``) and ends with the same error, "database is
locked". Other processes (a ``backsoon worker``, the ``sqlite3`` shell) are kept out
by SQLite itself, as before.

Only public methods of Django's backend are overridden; no file lock, no sleeps.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def writer_lock(name: str) -> threading.Lock:
    """This process's lock for the writers of database ``name``."""
    with _guard:
        return _locks.setdefault(name, threading.Lock())


def _forget_locks() -> None:
    # A forked child starts with no transaction: a lock held by a parent's thread at
    # the fork would never be released in the child.
    global _guard
    _locks.clear()
    _guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks)


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def _writer_lock(self) -> threading.Lock:
        return writer_lock(str(self.settings_dict["NAME"]))

    def set_autocommit(
        self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False
    ) -> None:
        if autocommit:
            try:
                super().set_autocommit(True, force_begin_transaction_with_broken_autocommit)
            finally:
                self._release_writer_lock()
            return
        # Connect first: connecting turns autocommit on, which would give the lock back.
        self.ensure_connection()
        if not self._holds_writer_lock:
            deadline = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            if not self._writer_lock().acquire(timeout=deadline):
                raise OperationalError("database is locked")
            self._holds_writer_lock = True
        try:
            super().set_autocommit(False, force_begin_transaction_with_broken_autocommit)
        except BaseException:
            self._release_writer_lock()
            raise

    def close(self) -> Any:
        try:
            return super().close()
        finally:
            if self.connection is None:
                self._release_writer_lock()

    def _release_writer_lock(self) -> None:
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            self._writer_lock().release()
