"""Django's SQLite backend, tuned for one writer shared by threads and processes.

SQLite has one writer. When several writers begin transactions at once
(``BEGIN IMMEDIATE``), all but one land in SQLite's busy handler, which sleeps in
growing steps (1, 2, 5, 10 ... 100 ms) before it retries: throughput collapses and
the slowest requests wait for seconds. Here writers queue instead, and the next
one starts the moment the writer before it commits:

- the threads of a process queue on a Python lock;
- the processes (``backsoon serve`` runs two per CPU, beside ``backsoon worker``)
  queue on an exclusive ``flock`` of ``<database>-writer.lock``, which the kernel
  hands to the next waiter on release, and releases by itself when a process dies.

Then ``BEGIN IMMEDIATE`` finds the database free. Writers outside Backsoon (the
``sqlite3`` shell, say) are still kept out by ``BEGIN IMMEDIATE`` and SQLite's busy
timeout, as before.

Both locks are held from ``BEGIN`` to ``COMMIT``/``ROLLBACK`` (or close), never
longer. The Python lock times out like SQLite's busy timeout, with the same error;
the ``flock`` wait has no timeout: it lasts as long as the write transaction of
another Backsoon process, which SQLite's busy timeout bounds in turn.

Before, the processes retried ``BEGIN IMMEDIATE`` in short sleeps (0.2 to 2 ms): in
``bench/bench_send.py`` (two processes, 8 clients) each process slept 2.9 s of a
23 s run between attempts, while the database was often free.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_files: dict[str, int] = {}
_guard = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(name, threading.Lock())


def _lock_file_for(name: str) -> int | None:
    """This process's descriptor of the database's writer lock file (None in memory)."""
    if name == ":memory:" or name.startswith("file:") or not name:
        return None
    with _guard:
        fd = _files.get(name)
        if fd is None:
            fd = os.open(f"{name}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            _files[name] = fd
        return fd


def _forget_lock_files() -> None:
    """A forked child opens its own descriptor: flock belongs to the open file, which a
    child shares with its parent, so the parent's lock would count as the child's."""
    for fd in _files.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _files.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_lock_files)


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False
    _holds_file_lock: int | None = None

    def _name(self) -> str:
        return str(self.settings_dict["NAME"])

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))
        lock = _lock_for(self._name())
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        self._holds_write_lock = True
        try:
            fd = _lock_file_for(self._name())
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # waits without the GIL
                self._holds_file_lock = fd
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        fd, self._holds_file_lock = self._holds_file_lock, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        if self._holds_write_lock:
            self._holds_write_lock = False
            _lock_for(self._name()).release()

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
