"""Automatic replies end to end through the API (R1-R9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from backsoon.away import queries
from backsoon.away.models import Absence, AutoReplyRecord
from backsoon.messaging.models import Conversation, Message, Participant
from tests.conftest import Api
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def conversation(sender, *others) -> int:
    return (
        Api(sender)
        .post("/conversations", {"participants": [o.username for o in others]})
        .json()["id"]
    )


def send(sender, conv: int, body: str = "hello"):
    response = Api(sender).post(f"/conversations/{conv}/messages", {"body": body})
    assert response.status_code == 201, response.content
    return response.json()


def auto_replies(conv: int) -> list[Message]:
    return list(Message.objects.filter(conversation_id=conv, kind="auto_reply").order_by("id"))


def test_R1_direct_message_gets_reply_group_does_not(alice, bob):
    carol = make_member("carol")
    make_absence(bob, message="Away")
    direct = conversation(alice, bob)
    send(alice, direct)
    assert [m.body for m in auto_replies(direct)] == ["Away"]
    group = conversation(alice, bob, carol)
    send(alice, group)
    assert auto_replies(group) == []
    # ...but the group shows the away notice before writing.
    assert Api(alice).get(f"/conversations/{group}").json()["away"][0]["username"] == "bob"


def test_R2_two_away_members_get_one_reply_each_and_no_loop(alice, bob):
    make_absence(alice, message="Alice is away")
    make_absence(bob, message="Bob is away")
    conv = conversation(alice, bob)
    send(alice, conv, "ping")
    send(bob, conv, "pong")
    send(alice, conv, "ping again")
    bodies = [
        (m.sender.username, m.body, m.kind)
        for m in Message.objects.filter(conversation_id=conv).order_by("id")
    ]
    assert bodies == [
        ("alice", "ping", "normal"),
        ("bob", "Bob is away", "auto_reply"),
        ("bob", "pong", "normal"),
        ("alice", "Alice is away", "auto_reply"),
        ("alice", "ping again", "normal"),
    ]


def test_R2_no_reply_to_auto_reply_message(alice, bob):
    from backsoon.messaging.actions import message_send

    make_absence(bob)
    conv = conversation(alice, bob)
    message_send(sender=alice, conversation_id=conv, body="robot", kind="auto_reply")
    assert auto_replies(conv) == [Message.objects.get(conversation_id=conv)]


def test_R2_no_reply_to_bots_or_bulk(alice):
    from backsoon.messaging.actions import bulk_announce

    bot = make_member("system.bot", is_bot=True)
    make_absence(alice)
    assert bulk_announce(bot=bot, usernames=["alice"], body="News") == 1
    assert not Message.objects.filter(kind="auto_reply").exists()
    conv = conversation(bot, alice)
    send(bot, conv, "a normal message from a bot")
    assert not Message.objects.filter(kind="auto_reply").exists()


def test_R2_no_reply_to_a_blocked_member(alice, bob):
    from backsoon.network.actions import block_create

    make_absence(bob)
    conv = conversation(alice, bob)
    block_create(member=bob, username="alice")
    response = Api(alice).post(f"/conversations/{conv}/messages", {"body": "hi"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_R3_one_reply_per_sender_per_absence(alice, bob):
    make_absence(bob)
    conv = conversation(alice, bob)
    for _ in range(4):
        send(alice, conv)
    assert len(auto_replies(conv)) == 1


def test_R3_repeat_after_days(alice, bob):
    make_absence(bob, hours=24 * 10, repeat_after_days=2)
    conv = conversation(alice, bob)
    send(alice, conv)
    AutoReplyRecord.objects.update(last_sent_at=timezone.now() - timedelta(days=1))
    send(alice, conv)
    assert len(auto_replies(conv)) == 1
    AutoReplyRecord.objects.update(last_sent_at=timezone.now() - timedelta(days=2, seconds=1))
    send(alice, conv)
    assert len(auto_replies(conv)) == 2
    send(alice, conv)
    assert len(auto_replies(conv)) == 2


def test_R3_editing_the_text_starts_over(alice, bob):
    absence = make_absence(bob, message="First text")
    conv = conversation(alice, bob)
    send(alice, conv)
    Api(bob).patch(f"/me/absences/{absence.pk}", {"message": "New text"})
    send(alice, conv)
    send(alice, conv)
    assert [m.body for m in auto_replies(conv)] == ["First text", "New text"]


def test_R3_record_is_per_absence(alice, bob):
    first = make_absence(bob, hours_from_now=-2, hours=1, message="one")
    conv = conversation(alice, bob)
    AutoReplyRecord.objects.create(
        absence=first, sender=alice, message_version=1, last_sent_at=timezone.now()
    )
    make_absence(bob, message="two")
    send(alice, conv)
    assert [m.body for m in auto_replies(conv)] == ["two"]


def test_R4_audience_connections_with_others_message(alice, bob):
    carol = make_member("carol")
    connect(alice, bob)
    make_absence(bob, audience="connections", message="For friends", others_message="Out of office")
    send(alice, conversation(alice, bob))
    send(carol, conversation(carol, bob))
    assert [m.body for m in Message.objects.filter(kind="auto_reply").order_by("id")] == [
        "For friends",
        "Out of office",
    ]


def test_R4_audience_connections_without_others_message_skips_strangers(alice, bob):
    make_absence(bob, audience="connections", message="For friends")
    send(alice, conversation(alice, bob))
    assert not Message.objects.filter(kind="auto_reply").exists()


def test_R4_connection_status_is_taken_when_the_message_arrives(alice, bob):
    make_absence(bob, audience="connections", message="For friends", repeat_after_days=1)
    conv = conversation(alice, bob)
    send(alice, conv)
    assert auto_replies(conv) == []
    connect(alice, bob)
    send(alice, conv)
    assert [m.body for m in auto_replies(conv)] == ["For friends"]


def test_R4_audience_nobody_sends_nothing_but_badge_shows(alice, bob):
    connect(alice, bob)
    make_absence(bob, audience="nobody", message="Gone fishing")
    send(alice, conversation(alice, bob))
    assert not Message.objects.filter(kind="auto_reply").exists()
    assert Api(alice).get("/members/bob").json()["away"]["message"] == "Gone fishing"


def test_R5_reply_is_an_ordinary_message_in_the_same_transaction_marking_nothing_read(alice, bob):
    make_absence(bob, message="Away")
    conv = conversation(alice, bob)
    send(alice, conv)
    reply = auto_replies(conv)[0]
    assert reply.sender == bob and reply.conversation_id == conv
    listed = Api(alice).get(f"/conversations/{conv}/messages").json()["items"]
    assert listed[1]["auto_reply"] is True and listed[1]["sender"] == "bob"
    bob_part = Participant.objects.get(conversation_id=conv, member=bob)
    assert bob_part.unread_count == 1 and bob_part.last_read_message_id == 0
    alice_part = Participant.objects.get(conversation_id=conv, member=alice)
    assert alice_part.unread_count == 1
    # Alice has read her own message, not the reply; the reply is the newest.
    mine = Message.objects.get(conversation_id=conv, sender=alice)
    assert alice_part.last_read_message_id == mine.pk
    assert Conversation.objects.get(pk=conv).last_message_id == reply.pk


def test_R5_a_reply_failing_in_its_savepoint_leaves_the_counters_of_the_message(alice, bob):
    """The reply is claimed, then its insert fails: the message stands, and the counters
    are those of the message alone (nothing unread for Alice, the message is the last)."""
    from backsoon.messaging import storage

    real = storage.message_deliver

    def failing_for_replies(message, **kwargs):
        if message.kind == Message.Kind.AUTO_REPLY:
            raise RuntimeError("disk trouble")
        return real(message, **kwargs)

    make_absence(bob)
    conv = conversation(alice, bob)
    with mock.patch.object(storage, "message_deliver", side_effect=failing_for_replies):
        send(alice, conv, "still delivered")
    mine = Message.objects.get(conversation_id=conv)
    assert mine.body == "still delivered"
    assert not AutoReplyRecord.objects.exists()  # the claim rolled back with the reply
    assert Conversation.objects.get(pk=conv).last_message_id == mine.pk
    alice_part = Participant.objects.get(conversation_id=conv, member=alice)
    assert (alice_part.unread_count, alice_part.last_read_message_id) == (0, mine.pk)
    assert Participant.objects.get(conversation_id=conv, member=bob).unread_count == 1


def test_R5_a_failing_reply_never_fails_the_delivery(alice, bob):
    make_absence(bob)
    conv = conversation(alice, bob)
    with mock.patch("backsoon.away.rules.fill_placeholders", side_effect=RuntimeError("boom")):
        send(alice, conv, "still delivered")
    assert [m.body for m in Message.objects.filter(conversation_id=conv)] == ["still delivered"]
    assert (
        not AutoReplyRecord.objects.exists()
    )  # rolled back with the reply: a later try may answer


def test_R5_reply_rolls_back_with_the_message(alice, bob):
    from django.db import transaction

    from backsoon.messaging.actions import message_send

    make_absence(bob)
    conv = conversation(alice, bob)
    with pytest.raises(RuntimeError), transaction.atomic():
        message_send(sender=alice, conversation_id=conv, body="hi")
        raise RuntimeError("the request failed after sending")
    assert not Message.objects.exists()
    assert not AutoReplyRecord.objects.exists()


def test_R6_unique_constraint_enforces_one_reply_record(alice, bob):
    from django.db import IntegrityError, transaction

    absence = make_absence(bob)
    AutoReplyRecord.objects.create(
        absence=absence, sender=alice, message_version=1, last_sent_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoReplyRecord.objects.create(
            absence=absence, sender=alice, message_version=1, last_sent_at=timezone.now()
        )


def test_R6_a_lost_race_sends_no_second_reply(alice, bob):
    """Another process inserted the record after our read: our insert fails, no reply."""
    absence = make_absence(bob)
    conv = conversation(alice, bob)
    AutoReplyRecord.objects.create(
        absence=absence, sender=alice, message_version=1, last_sent_at=timezone.now()
    )

    # The read of the record is stale: it finds none, as if it ran before the insert.
    real = queries.absences_for_send

    def stale(members, sender_id, at):
        return {k: replace(v, record=None) for k, v in real(members, sender_id, at).items()}

    with mock.patch.object(queries, "absences_for_send", side_effect=stale):
        send(alice, conv)
    assert auto_replies(conv) == []
    assert Message.objects.filter(conversation_id=conv).count() == 1


def test_R7_language_and_placeholders(alice, bob):
    backup = make_member("backup.bo", display_name="Bo Backer")
    alice.language = "nl"
    alice.save(update_fields=["language"])
    bob.timezone = "Europe/Amsterdam"
    bob.save(update_fields=["timezone"])
    start = timezone.now() - timedelta(hours=1)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    end = datetime(2099, 1, 3, 0, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    Absence.objects.create(
        member=bob,
        starts_at=start,
        ends_at=end,
        message="Hi {first_name}, back {return_date}. Ask {backup}. {weird}",
        translations={"nl": "Hoi {first_name}, terug op {return_date}. Vraag {backup}. {0}"},
        backup=backup,
    )
    send(alice, conversation(alice, bob))
    reply = Message.objects.get(kind="auto_reply").body
    # A6: the absence ends on Saturday: back on Monday.
    assert reply == "Hoi Alice, terug op maandag 5 januari 2099. Vraag Bo Backer (@backup.bo). {0}"


def test_R7_english_sender_gets_message_and_english_date(alice, bob):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    Absence.objects.create(
        member=bob,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=datetime(2099, 1, 3, 0, 0, tzinfo=ZoneInfo("Europe/Amsterdam")),
        message="Back {return_date}{backup}",
        translations={"nl": "Terug {return_date}"},
    )
    send(alice, conversation(alice, bob))
    # A6: the absence ends on Saturday: back on Monday.
    assert Message.objects.get(kind="auto_reply").body == "Back Monday 5 January 2099"


def test_R8_badge_for_non_connection_reveals_only_others_message(alice, bob):
    carol = make_member("carol")
    connect(alice, bob)
    backup = make_member("deputy")
    make_absence(
        bob,
        audience="connections",
        message="Surgery, back Monday",
        others_message="",
        backup=backup,
    )
    assert Api(alice).get("/members/bob").json()["away"]["message"] == "Surgery, back Monday"
    stranger_view = Api(carol).get("/members/bob").json()["away"]
    assert stranger_view["message"] == "" and stranger_view["backup"] is None
    assert stranger_view["until"]


def test_R9_message_exactly_at_the_end_gets_none(alice, bob):
    from backsoon.messaging.actions import message_send

    absence = make_absence(bob)
    conv = conversation(alice, bob)
    with mock.patch("backsoon.messaging.actions.timezone.now", return_value=absence.ends_at):
        message_send(sender=alice, conversation_id=conv, body="at the end")
    assert auto_replies(conv) == []


def test_R9_empty_message_sends_nothing_after_end_nothing(alice, bob):
    absence = make_absence(bob, message="")
    conv = conversation(alice, bob)
    send(alice, conv)
    assert auto_replies(conv) == []
    Absence.objects.filter(pk=absence.pk).update(message="Now with text")
    Api(bob).post(f"/me/absences/{absence.pk}/end")
    send(alice, conv)
    assert auto_replies(conv) == []
