"""Issue 14, finding 6: 40 parallel wrong passwords, at most 5 evaluated (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import connection, connections

from backsoon.accounts.actions import member_authenticate
from backsoon.errors import RateLimited
from tests.factories import make_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real concurrent connections")


def test_finding6_forty_parallel_wrong_passwords_evaluate_at_most_the_limit(monkeypatch):
    make_member("alice")
    original = ModelBackend.authenticate
    evaluated: list[int] = []
    lock = threading.Lock()

    def slow_check(self, request, username=None, password=None, **kwargs):
        with lock:
            evaluated.append(1)
        time.sleep(0.05)  # a password hash takes time: widen the window a race needs
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", slow_check)
    barrier = threading.Barrier(40)
    results: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            try:
                member = member_authenticate(username="alice", password="wrong", ip="10.0.0.9")
                results.append("ok" if member else "wrong")
            except RateLimited:
                results.append("throttled")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40
    assert len(evaluated) <= settings.LOGIN_FAILURE_LIMIT
    assert results.count("wrong") == len(evaluated)
