"""The statements of labelling a stranger's first message (TRIAGE L7): pinned."""

from __future__ import annotations

import pytest
from django.db import connection

from backsoon.messaging.actions import conversation_start, message_send
from tests.factories import make_member

pytestmark = pytest.mark.django_db

# A known sender: READS + WRITE of tests/messaging/test_send_path.py. A stranger's
# first message adds: the contact ("you wrote to them"), the candidates, the print, the
# count and the label (5), and on PostgreSQL the sender's print lock (1); a new
# variant of a text adds its band keys (1). Follow-ups in the conversation add nothing.
READS = 3
# A request raises no notification (S2): on SQLite one statement fewer.
WRITE = {"postgresql": 1, "sqlite": 3}
TRANSACTION = 2  # the message's savepoint (tests run in a transaction)


def _vendor() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def test_L7_a_strangers_first_message_takes_pinned_statements(django_assert_num_queries):
    from tests.conftest import Api

    target = make_member("target")
    senders = [make_member(f"sender{i}") for i in range(3)]
    conversations = [conversation_start(creator=s, usernames=["target"])[0].pk for s in senders]
    message_send(sender=senders[0], conversation_id=conversations[0], body="Hello! Free next week?")
    api = Api(senders[1])
    api.get("/me")  # the token's first use is written once
    lock = 1 if _vendor() == "postgresql" else 0
    with django_assert_num_queries(READS + WRITE[_vendor()] + TRANSACTION + 5 + lock):
        response = api.post(
            f"/conversations/{conversations[1]}/messages", {"body": "Hello! Free next week?"}
        )
    assert response.status_code == 201
    # A follow-up: as many statements as a known sender's.
    plain = 0 if _vendor() == "postgresql" else TRANSACTION
    with django_assert_num_queries(READS + WRITE[_vendor()] + plain):
        api.post(f"/conversations/{conversations[1]}/messages", {"body": "Any thoughts?"})
    assert target.pk
