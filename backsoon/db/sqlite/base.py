"""Django's SQLite backend, tuned for one writer shared by threads and processes.

SQLite has one writer. When several threads of one process begin write
transactions at once (``BEGIN IMMEDIATE``), all but one land in SQLite's busy
handler, which sleeps in growing steps (1, 2, 5, 10 ... 100 ms) before it
retries: throughput collapses and the slowest requests wait for seconds. Here the
threads of a process queue on a Python lock instead, and are woken the moment
the writer commits. Other processes are still kept out by ``BEGIN IMMEDIATE``
and the busy timeout, as before.

Between processes, ``BEGIN IMMEDIATE`` is retried here in short, jittered steps
(0.2 ms growing to 2 ms) instead of SQLite's busy handler, whose sleeps grow to
100 ms: a write transaction lasts a millisecond or two, so the waiter gets in soon
after the writer is done. Statements other than BEGIN keep the normal busy timeout.

The lock is held from ``BEGIN`` to ``COMMIT``/``ROLLBACK`` (or close), never longer;
acquiring either lock times out like SQLite's own busy timeout does, with the same
error.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def _write_lock(self) -> threading.Lock:
        return _lock_for(str(self.settings_dict["NAME"]))

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))
        lock = self._write_lock()
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        self._holds_write_lock = True
        try:
            mode = getattr(self, "transaction_mode", None)
            if mode is None:
                super()._start_transaction_under_autocommit()  # type: ignore[misc]
            else:
                self._begin_with_retry(f"BEGIN {mode}", timeout)
        except BaseException:
            self._release_write_lock()
            raise

    def _begin_with_retry(self, statement: str, timeout: float) -> None:
        raw = self.connection.cursor()
        raw.execute("PRAGMA busy_timeout = 0")
        deadline = time.monotonic() + timeout
        delay = 0.0002
        try:
            while True:
                try:
                    with self.wrap_database_errors:
                        raw.execute(statement)
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() >= deadline:
                        raise
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 1.5, 0.002)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            raw.close()

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self._write_lock().release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
