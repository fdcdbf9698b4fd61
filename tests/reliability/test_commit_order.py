"""Two sends to one conversation that commit in the other order than their ids.

A message's id comes from a sequence when it is inserted; the conversation's row is
locked only afterwards (on PostgreSQL even within the one statement that delivers a
message, whose parts run in no fixed order). When the first message's transaction is
delayed there, the second commits first, and the first must not then make an older
message the conversation's last one, nor move a time or a read position backwards.
Found by the burst test of test_cross_process.py.

The send path writes a message and its counters in one statement on PostgreSQL, so
no pause can be put between them from Python: the late move of the older message's
counters is applied explicitly, through the same statement text the send path uses
(``backsoon.messaging.storage``), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import pytest

from backsoon.messaging import storage
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Conversation, Participant
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_the_newest_message_stays_last_whatever_the_commit_order():
    alice, bob = make_member("alice"), make_member("bob")
    conversation, _ = conversation_start(creator=alice, usernames=["bob"])
    first = message_send(sender=alice, conversation_id=conversation.pk, body="first")
    second = message_send(sender=alice, conversation_id=conversation.pk, body="second")
    # The first message's counters, moved after the second's had been.
    storage.counters_move(
        conversation_id=conversation.pk,
        message_id=first.pk,
        sent_at=first.sent_at,
        unread_ids=[bob.pk],
        reader_id=alice.pk,
    )
    stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.last_message_id == second.pk
    assert stored.last_message_at == second.sent_at
    mine = Participant.objects.get(conversation=conversation, member=alice)
    assert mine.last_read_message_id == second.pk
    assert mine.last_message_at == second.sent_at
