"""Two sends to one conversation that commit in the other order than their ids.

A message's id comes from a sequence when it is inserted; the conversation row is
locked only afterwards. When the first insert's transaction is delayed there, the
second message commits first, and the first must not then make an older message the
conversation's last one (nor move its time backwards). Found by the burst test of
test_cross_process.py; forced here with a pause (PostgreSQL only: SQLite lets one
writer in at a time, so the two can not interleave).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from backsoon.messaging import actions
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Conversation, Message, Participant
from tests.factories import make_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def test_the_newest_message_stays_last_whatever_the_commit_order(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    alice = make_member("alice")
    make_member("bob")
    conversation, _ = conversation_start(creator=alice, usernames=["bob"])
    insert = actions.message_row_insert
    inserted = threading.Event()

    def slow_insert(**fields):
        message = insert(**fields)
        if threading.current_thread().name == "slow":
            inserted.set()
            time.sleep(0.5)  # holds its id, not yet the conversation's row lock
        return message

    monkeypatch.setattr(actions, "message_row_insert", slow_insert)
    errors: list[BaseException] = []

    def send(body: str) -> None:
        try:
            message_send(sender=alice, conversation_id=conversation.pk, body=body)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    slow = threading.Thread(target=send, args=("first",), name="slow")
    slow.start()
    assert inserted.wait(5)
    fast = threading.Thread(target=send, args=("second",), name="fast")
    fast.start()
    fast.join(10)
    slow.join(10)
    assert errors == []
    newest = Message.objects.filter(conversation=conversation).order_by("-id").first()
    assert newest is not None and newest.body == "second"
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.last_message_id == newest.pk
    assert stored.last_message_at == max(
        Message.objects.filter(conversation=conversation).values_list("sent_at", flat=True)
    )
    mine = Participant.objects.get(conversation=conversation, member=alice)
    assert mine.last_read_message_id == newest.pk
