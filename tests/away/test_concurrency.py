"""R6 under real concurrency: 20 threads, one sender, one away member (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from backsoon.away.models import AutoReplyRecord
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Message
from tests.factories import make_absence, make_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")


def test_R6_twenty_simultaneous_messages_yield_exactly_one_reply():
    sender = make_member("sender")
    away = make_member("away")
    make_absence(away, message="Away")
    conv, _ = conversation_start(creator=sender, usernames=["away"])
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            message_send(sender=sender, conversation_id=conv.pk, body=f"message {i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Message.objects.filter(conversation=conv, kind="normal").count() == 20
    assert Message.objects.filter(conversation=conv, kind="auto_reply").count() == 1
    assert AutoReplyRecord.objects.count() == 1
