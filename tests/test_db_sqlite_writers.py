"""The writers of one process take turns on a lock with a deadline (backsoon/db/sqlite)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from backsoon.db.sqlite.base import writer_lock


@pytest.fixture
def handler(tmp_path, django_db_blocker):
    # Connections of their own, to a file of their own: not the test database.
    with django_db_blocker.unblock():
        yield from _handler(tmp_path)


def _handler(tmp_path):
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "backsoon.db.sqlite",
                "NAME": str(tmp_path / "writers.sqlite3"),
                "OPTIONS": {"timeout": 0.5, "transaction_mode": "IMMEDIATE"},
            }
        }
    )
    with handler["default"].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (n INTEGER)")
    yield handler
    handler.close_all()


def _insert(handler, n: int, hold: float = 0.0) -> None:
    connection = handler["default"]
    with _atomic(connection):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (%s)", [n])
        time.sleep(hold)


class _atomic:
    """``transaction.atomic`` on a connection of this handler (not django.db's)."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.set_autocommit(False)

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                self.connection.commit()
            else:
                self.connection.rollback()
        finally:
            self.connection.set_autocommit(True)


def test_a_second_writer_starts_when_the_first_commits(handler):
    started = threading.Event()
    order: list[str] = []

    def first() -> None:
        connection = handler["default"]
        with _atomic(connection):
            started.set()
            time.sleep(0.2)
            order.append("first commits")
        connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(5)
    began = time.monotonic()
    _insert(handler, 2)
    order.append("second wrote")
    waited = time.monotonic() - began
    thread.join()
    assert order == ["first commits", "second wrote"]
    assert 0.1 < waited < 0.45  # queued on the lock, not in SQLite's busy handler steps
    assert not writer_lock(handler["default"].settings_dict["NAME"]).locked()


def test_the_wait_has_a_deadline_and_ends_like_sqlites(handler):
    started, done = threading.Event(), threading.Event()

    def holder() -> None:
        connection = handler["default"]
        with _atomic(connection):
            started.set()
            done.wait(5)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    started.wait(5)
    began = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        _insert(handler, 3)
    assert 0.4 < time.monotonic() - began < 2
    done.set()
    thread.join()
    _insert(handler, 4)  # the lock was not left taken by the refused writer


def test_a_rolled_back_or_closed_transaction_gives_the_lock_back(handler):
    connection = handler["default"]
    name = connection.settings_dict["NAME"]
    with pytest.raises(ZeroDivisionError), _atomic(connection):
        assert writer_lock(name).locked()
        1 / 0  # noqa: B018
    assert not writer_lock(name).locked()
    connection.set_autocommit(False)
    assert writer_lock(name).locked()
    connection.close()
    assert not writer_lock(name).locked()
