"""TRIAGE-SPEC L1, L2, L5-L7 for messages (invitation labels: test_invitation_labels.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Participant
from backsoon.triage import rules, similar
from backsoon.triage.models import Print
from tests.conftest import Api
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db

PITCH = (
    "Hi {name}, I help coaches like you win {n} new clients a month with our proven "
    "LinkedIn system. Can I send you a short video?"
)


def _write(sender, recipient, body: str, *, at=None) -> int:
    conversation, _ = conversation_start(creator=sender, usernames=[recipient.username], at=at)
    message_send(sender=sender, conversation_id=conversation.pk, body=body, at=at)
    return conversation.pk


def _labels(member, conversation_id: int) -> list[str]:
    row = Participant.objects.get(conversation_id=conversation_id, member=member)
    return [label["code"] for label in row.labels]


def _recipients(n: int, prefix: str = "person") -> list:
    return [make_member(f"{prefix}{i}", display_name=f"Person{i} Lastname{i}") for i in range(n)]


def test_L1_a_known_sender_is_labelled_known_even_sending_one_text_to_many():
    sender = make_member("coach")
    people = _recipients(12)
    conversations = []
    for person in people:
        connect(sender, person)
        conversations.append(_write(sender, person, PITCH.format(name=person.first_name, n=10)))
    for person, conversation in zip(people, conversations, strict=True):
        row = Participant.objects.get(conversation_id=conversation, member=person)
        assert row.folder == "inbox"
        assert [label["code"] for label in row.labels] == ["known"]
    assert not Print.objects.exists()  # nothing of a known sender is printed (L7)


def test_L1_a_known_conversation_is_never_archived_by_a_filter(alice, bob):
    connect(alice, bob)
    known = _write(bob, alice, "Lunch on Friday?")
    stranger = make_member("stranger")
    api = Api(alice)
    Api(alice).patch("/me", {"inbox_policy": "everyone"})
    other = _write(stranger, alice, "Buy my course")
    response = api.post("/conversations/bulk", {"action": "archive", "filter": {"folder": "inbox"}})
    assert response.json() == {"changed": 1}
    assert Participant.objects.get(conversation_id=known, member=alice).folder == "inbox"
    assert Participant.objects.get(conversation_id=other, member=alice).folder == "archived"
    # Aimed at by id, it is archived.
    response = api.post("/conversations/bulk", {"action": "archive", "ids": [known]})
    assert response.json() == {"changed": 1}


def test_L2_the_10th_copy_labels_the_first_nine(django_capture_on_commit_callbacks):
    sender = make_member("growth")
    people = _recipients(10)
    start = timezone.now() - timedelta(hours=5)
    conversations = []
    with django_capture_on_commit_callbacks(execute=True):
        for i, person in enumerate(people):
            body = PITCH.format(name=person.first_name, n=10 + i)  # names and digits differ
            conversations.append(_write(sender, person, body, at=start + timedelta(minutes=i)))
            if i == 8:
                assert all(
                    _labels(p, c) == ["first_contact"]
                    for p, c in zip(people[:9], conversations, strict=True)
                )
    for person, conversation in zip(people, conversations, strict=True):
        row = Participant.objects.get(conversation_id=conversation, member=person)
        assert row.labels == [{"code": "mass", "count": 10}], person.username
        assert row.folder == "requests"
    with override("en"):
        assert rules.reason(row.labels[0]) == "Sent a similar message to 10 members"
    with override("nl"):
        assert rules.reason(row.labels[0]) == "Stuurde een vergelijkbaar bericht naar 10 leden"


def test_L2_near_equal_texts_count_and_different_ones_do_not(django_capture_on_commit_callbacks):
    sender = make_member("growth")
    people = _recipients(11)
    variants = [
        PITCH.format(name="{name}", n=10),
        "Hi {name}, I help coaches like you win 10 new clients a month with our proven "
        "LinkedIn system!! Could I send you a short video?",
        "Hi {name}, I help coaches like you win 10 new clients every month with our proven "
        "LinkedIn system. Can I send you a short video?",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for i, person in enumerate(people[:10]):
            _write(sender, person, variants[i % 3].format(name=person.display_name))
        unrelated = _write(sender, people[10], "Congratulations on the new job, well deserved!")
    assert Print.objects.filter(sender=sender).values("cluster").distinct().count() == 2
    assert _labels(
        people[0], Participant.objects.filter(member=people[0]).get().conversation_id
    ) == ["mass"]
    assert _labels(people[10], unrelated) == ["first_contact"]


def test_L2_copies_older_than_a_week_do_not_count(django_capture_on_commit_callbacks):
    sender = make_member("growth")
    people = _recipients(10)
    old = timezone.now() - timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        for i, person in enumerate(people[:9]):
            _write(sender, person, PITCH.format(name="x", n=1), at=old + timedelta(minutes=i))
        last = _write(sender, people[9], PITCH.format(name="x", n=1))
    assert _labels(people[9], last) == ["first_contact"]


def test_L5_first_contact_and_L6_similar_texts_from_different_senders_are_grouped(alice):
    senders = [make_member(f"fan{i}") for i in range(4)]
    ids = [_write(s, alice, "Congratulations on your viral post! Let's connect.") for s in senders]
    ids.append(_write(make_member("other"), alice, "Are you free to speak at our event in May?"))
    items = Api(alice).get("/conversations", folder="requests").json()["items"]
    by_id = {item["id"]: item for item in items}
    assert all(by_id[i]["labels"][0]["code"] == "first_contact" for i in ids)
    groups = {by_id[i]["similar"]["key"] for i in ids[:4]}
    assert len(groups) == 1 and by_id[ids[0]]["similar"]["count"] == 4
    assert by_id[ids[4]]["similar"] is None
    # One decision covers the group.
    key = groups.pop()
    listed = Api(alice).get("/conversations", folder="requests", similar=key).json()["items"]
    assert sorted(item["id"] for item in listed) == sorted(ids[:4])
    response = Api(alice).post(
        "/conversations/bulk", {"action": "decline", "filter": {"similar": key}}
    )
    assert response.json() == {"changed": 4}
    assert [
        i["id"] for i in Api(alice).get("/conversations", folder="requests").json()["items"]
    ] == [ids[4]]


def test_L6_labels_are_shown_only_to_their_recipient(alice, bob):
    conv = _write(alice, bob, "Hello there")
    mine = Api(alice).get(f"/conversations/{conv}").json()
    theirs = Api(bob).get(f"/conversations/{conv}").json()
    assert mine["labels"] == [] and mine["folder"] == "inbox"
    assert theirs["labels"][0]["code"] == "first_contact"


def test_L7_a_known_senders_send_writes_no_label_print_or_contact(alice, bob):
    """The common case costs nothing more: pinned in tests/messaging/test_send_path.py;
    here: after the first message nothing of triage is written again."""
    connect(alice, bob)
    conv = _write(alice, bob, "first")
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        message_send(sender=alice, conversation_id=conv, body="second")
    joined = "\n".join(seen)
    assert "triage_print" not in joined
    assert 'INSERT INTO "triage_contact"' not in joined
    assert not any(sql.startswith("UPDATE") and "labels" in sql for sql in seen)


def test_L7_labels_never_change_delivery_beyond_S1(alice, bob):
    conv = _write(alice, bob, "Hello")
    listed = Api(bob).get(f"/conversations/{conv}/messages").json()["items"]
    assert [m["body"] for m in listed] == ["Hello"]


def test_L2_similarity_is_word_shingle_jaccard_over_normalised_text():
    a = similar.fingerprint("Hi Anna,  I help   coaches (10 clients)!", ["Anna Jansen"])
    b = similar.fingerprint("hi BOB, i help coaches (12 clients)", ["Bob"])
    assert a.digest == b.digest  # case, white space, digits, punctuation, names
    c = similar.fingerprint("Completely different words about gardening and tomatoes", [])
    assert similar.similarity(a.signature, c.signature) < 0.2
    assert similar.unpack(similar.pack(a.signature)) == a.signature
    nfkc = similar.fingerprint("\uff28\uff25\uff2c\uff2c\uff2f wörld", [])  # full width
    assert nfkc.digest == similar.fingerprint("hello wörld", []).digest
