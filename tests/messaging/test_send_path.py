"""The send path's storage (issue 13, items 2 and 3; issue 14, finding 6).

- every statement of a send goes through Django's cursor, and each hot path's
  number of statements is pinned (as Zulip pins its send path);
- the message INSERT takes its columns from ``Message._meta``: adding a field with a
  default does not break sending;
- a ``client_key`` is keyed by conversation.
"""

from __future__ import annotations

import pytest
from django.db import connection, models

from backsoon.messaging import storage
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Message, Participant
from backsoon.notifications.models import Notification
from tests.conftest import Api
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def _conversation(api: Api, *usernames: str) -> int:
    response = api.post("/conversations", {"participants": list(usernames)})
    assert response.status_code in (200, 201), response.content
    return int(response.json()["id"])


def _send(api: Api, conversation_id: int, body: str = "hello", **extra) -> dict:
    response = api.post(f"/conversations/{conversation_id}/messages", {"body": body, **extra})
    assert response.status_code == 201, response.content
    return response.json()


# Statements of one POST /conversations/{id}/messages. The reads: the API token's
# member (backsoon.accounts.queries.member_for_token), the send context
# (backsoon.messaging.storage.send_context: conversation, participants, blocks, the
# rate and the client_key in one) and who is away (backsoon.away.storage). The write
# of a message (backsoon.messaging.storage.message_deliver): one statement on
# PostgreSQL; on SQLite the message, the notification and the two counter updates.
# Tests run inside a transaction, so a transaction of message_send shows up here as a
# SAVEPOINT and its RELEASE.
READS = 3
WRITE = {"postgresql": 1, "sqlite": 4}
REPLY_WRITE = {"postgresql": 1, "sqlite": 3}  # no notification for a reply
# The first message of someone the recipient knows labels the conversation `known`
# (TRIAGE L1): one UPDATE of the participant, then nothing more (L7).
LABEL_WRITE = 1


def _vendor() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def test_send_to_a_present_member_takes_pinned_statements(django_assert_num_queries, alice, bob):
    connect(alice, bob)
    api = Api(alice)
    conv = _conversation(api, "bob")
    _send(api, conv, "warm up")
    # PostgreSQL: no transaction at all (one statement is atomic); SQLite: one.
    transaction = {"postgresql": 0, "sqlite": 2}[_vendor()]
    with django_assert_num_queries(READS + WRITE[_vendor()] + transaction):
        _send(api, conv)


def test_send_in_a_group_takes_pinned_statements(django_assert_num_queries, alice, bob):
    for other in (bob, make_member("carol"), make_member("dave")):
        connect(alice, other)
    api = Api(alice)
    conv = _conversation(api, "bob", "carol", "dave")
    _send(api, conv, "warm up")
    Notification.objects.all().delete()
    transaction = {"postgresql": 0, "sqlite": 2}[_vendor()]
    with django_assert_num_queries(READS + WRITE[_vendor()] + transaction):
        _send(api, conv)
    assert Notification.objects.filter(type="message").count() == 3


def test_send_to_an_away_member_with_a_reply_due_takes_pinned_statements(
    django_assert_num_queries, alice, bob
):
    connect(alice, bob)
    make_absence(bob, message="Away")
    api = Api(alice)
    conv = _conversation(api, "bob")
    # The message's transaction (2), its label (1), the reply's savepoint (2), the
    # claim (1) and the reply's write.
    expected = READS + WRITE[_vendor()] + 2 + LABEL_WRITE + 2 + 1 + REPLY_WRITE[_vendor()]
    with django_assert_num_queries(expected):
        _send(api, conv)
    assert Message.objects.filter(conversation_id=conv, kind="auto_reply").count() == 1
    # Answered already (R3): as many statements as to a present member.
    transaction = {"postgresql": 0, "sqlite": 2}[_vendor()]
    with django_assert_num_queries(READS + WRITE[_vendor()] + transaction):
        _send(api, conv)


def test_the_send_path_statements_go_through_djangos_cursor(alice, bob):
    """Every statement shows up in connection.queries-style capture and in
    execute_wrapper hooks (monitoring), including on SQLite."""
    connect(alice, bob)
    make_absence(bob, message="Away")
    api = Api(alice)
    conv = _conversation(api, "bob")
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        _send(api, conv)
    joined = "\n".join(seen)
    for table in ("messaging_message", "messaging_participant", "away_autoreplyrecord"):
        assert table in joined, table
    assert "notifications_notification" in joined


def test_the_message_insert_takes_its_columns_from_the_model():
    """The INSERT's columns are Message's concrete fields but the automatic key."""
    expected = [f.column for f in Message._meta.concrete_fields if not f.primary_key]
    assert [f.column for f in storage.MESSAGE_INSERT.fields()] == expected
    sql = storage.MESSAGE_INSERT.sql()
    for column in expected:
        assert connection.ops.quote_name(column) in sql


@pytest.mark.django_db(transaction=True)
def test_a_field_with_a_default_added_to_message_does_not_break_sending():
    """Issue 13: "adding a field with a default to Message must not break sending".

    The field is added to the model and to its table at run time (as a migration
    would), then a message is sent through message_send, with an automatic reply."""
    alice, bob = make_member("alice"), make_member("bob")
    make_absence(bob, message="Away")
    conversation, _ = conversation_start(creator=alice, usernames=["bob"])
    field = models.CharField(max_length=12, default="plain")
    field.set_attributes_from_name("flavour")
    field.contribute_to_class(Message, "flavour")
    try:
        with connection.schema_editor() as editor:
            editor.add_field(Message, field)
        try:
            message = message_send(sender=alice, conversation_id=conversation.pk, body="hi")
            assert "flavour" in [f.name for f in storage.MESSAGE_INSERT.fields()]
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT body, kind, flavour FROM messaging_message WHERE conversation_id = %s "
                    "ORDER BY id",
                    [conversation.pk],
                )
                rows = cursor.fetchall()
            assert rows == [("hi", "normal", "plain"), ("Away", "auto_reply", "plain")]
            assert message.pk is not None
        finally:
            with connection.schema_editor() as editor:
                editor.remove_field(Message, field)
    finally:
        Message._meta.local_fields.remove(field)
        Message._meta._expire_cache()
        delattr(Message, "flavour")
    assert "flavour" not in [f.name for f in storage.MESSAGE_INSERT.fields()]


def test_issue14_finding6_client_key_is_keyed_by_conversation(alice, bob):
    """A retry with the same client_key in the same conversation returns the first
    message; the same key in another conversation is a new message."""
    make_member("carol")
    api = Api(alice)
    with_bob = _conversation(api, "bob")
    with_carol = _conversation(api, "carol")
    first = _send(api, with_bob, "first", client_key="key-1")
    retry = _send(api, with_bob, "first, again", client_key="key-1")
    assert retry["id"] == first["id"]
    elsewhere = _send(api, with_carol, "to carol", client_key="key-1")
    assert elsewhere["id"] != first["id"]
    assert Message.objects.get(pk=elsewhere["id"]).conversation_id == with_carol
    assert Message.objects.filter(sender=alice, client_key="key-1").count() == 2
    # Counters moved once per stored message.
    carol_part = Participant.objects.get(conversation_id=with_carol, member__username="carol")
    bob_part = Participant.objects.get(conversation_id=with_bob, member__username="bob")
    assert (carol_part.unread_count, bob_part.unread_count) == (1, 1)
