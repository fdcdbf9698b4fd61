"""Conversations and messages through the API (issue 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.messaging.models import Conversation, Introduction, Message
from backsoon.notifications.models import Notification
from tests.conftest import Api, assert_error
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def start(api: Api, *usernames: str, subject: str = ""):
    return api.post("/conversations", {"participants": list(usernames), "subject": subject})


def send(api: Api, conversation_id: int, body: str):
    return api.post(f"/conversations/{conversation_id}/messages", {"body": body})


def test_direct_conversation_is_returned_not_duplicated(alice, bob):
    first = start(Api(alice), "bob")
    assert first.status_code == 201
    again = start(Api(alice), "BOB")
    assert again.status_code == 200
    reverse = start(Api(bob), "alice")
    assert reverse.status_code == 200
    assert first.json()["id"] == again.json()["id"] == reverse.json()["id"]
    assert Conversation.objects.count() == 1
    body = first.json()
    assert [p["username"] for p in body["participants"]] == ["alice", "bob"]
    assert body["away"] == [] and body["last_message"] is None and body["unread_count"] == 0


def test_send_and_list_oldest_first_with_after_paging(alice, bob):
    conv = start(Api(alice), "bob").json()["id"]
    ids = [send(Api(alice), conv, f"m{i}").json()["id"] for i in range(5)]
    listing = Api(bob).get(f"/conversations/{conv}/messages", limit=2).json()
    assert [m["body"] for m in listing["items"]] == ["m0", "m1"]
    assert listing["next_cursor"]
    after = Api(bob).get(f"/conversations/{conv}/messages", after=ids[2]).json()
    assert [m["body"] for m in after["items"]] == ["m3", "m4"]
    msg = after["items"][0]
    assert msg["sender"] == "alice" and msg["auto_reply"] is False and msg["kind"] == "normal"
    assert msg["conversation"] == conv


@pytest.mark.parametrize("body", ["", "x" * 8001])
def test_message_length_limits_are_422(alice, bob, body):
    conv = start(Api(alice), "bob").json()["id"]
    assert_error(send(Api(alice), conv, body), 422)
    assert not Message.objects.exists()


def test_whitespace_only_message_is_422(alice, bob):
    conv = start(Api(alice), "bob").json()["id"]
    assert_error(send(Api(alice), conv, "   \n "), 422, "empty_message")


def test_8000_characters_is_fine(alice, bob):
    conv = start(Api(alice), "bob").json()["id"]
    assert send(Api(alice), conv, "x" * 8000).status_code == 201


def test_unread_counts_and_mark_read(alice, bob):
    connect(alice, bob)
    conv = start(Api(alice), "bob").json()["id"]
    for i in range(3):
        send(Api(alice), conv, f"m{i}")
    listed = Api(bob).get("/conversations").json()["items"][0]
    assert listed["unread_count"] == 3
    assert listed["last_message"]["body"] == "m2"
    assert Api(bob).get("/conversations/unread").json() == {"unread": 3}
    assert Api(alice).get("/conversations/unread").json() == {"unread": 0}
    assert Api(bob).post(f"/conversations/{conv}/read").status_code == 204
    assert Api(bob).get(f"/conversations/{conv}").json()["unread_count"] == 0


def test_one_message_notification_per_conversation_until_read(alice, bob):
    connect(alice, bob)  # not a request (TRIAGE S1-S2)
    conv = start(Api(alice), "bob").json()["id"]
    for i in range(3):
        send(Api(alice), conv, f"m{i}")
    rows = Notification.objects.filter(recipient=bob, type="message")
    assert rows.count() == 1
    assert rows.get().count == 3
    Api(bob).post(f"/conversations/{conv}/read")
    assert rows.get().read_at is not None
    send(Api(alice), conv, "again")
    assert rows.filter(read_at__isnull=True).count() == 1
    items = Api(bob).get("/notifications").json()["items"]
    assert items[0]["type"] == "message" and items[0]["actor"] == "alice"
    assert items[0]["subject_type"] == "conversation" and items[0]["subject_id"] == conv


def test_conversation_list_newest_activity_first(alice, bob):
    carol = make_member("carol")
    c1 = start(Api(alice), "bob").json()["id"]
    c2 = start(Api(alice), "carol").json()["id"]
    send(Api(alice), c2, "to carol")
    send(Api(alice), c1, "to bob")
    ids = [c["id"] for c in Api(alice).get("/conversations").json()["items"]]
    assert ids == [c1, c2]
    assert carol.pk


def test_group_conversation_sizes_subject_add_and_leave(alice, bob):
    members = [make_member(f"grp{i}") for i in range(51)]
    assert_error(start(Api(alice), *[m.username for m in members]), 422, "too_many_participants")
    group = start(Api(alice), "bob", "grp0", subject="Offsite").json()
    assert group["kind"] == "group" and group["subject"] == "Offsite"
    again = start(Api(alice), "bob", "grp0")
    assert again.status_code == 201  # groups are never deduplicated
    added = Api(alice).post(
        f"/conversations/{group['id']}/participants", {"participants": ["grp1"]}
    )
    assert [p["username"] for p in added.json()["participants"]] == ["alice", "bob", "grp0", "grp1"]
    assert Api(bob).post(f"/conversations/{group['id']}/leave").status_code == 204
    assert_error(Api(bob).get(f"/conversations/{group['id']}"), 404)
    assert send(Api(alice), group["id"], "still here").status_code == 201
    direct = start(Api(alice), "bob").json()["id"]
    assert_error(Api(alice).post(f"/conversations/{direct}/leave"), 422)


def test_conversation_with_yourself_only_is_422(alice):
    assert_error(start(Api(alice), "alice"), 422, "no_participants")


def test_unknown_participant_is_404(alice):
    assert_error(start(Api(alice), "ghost"), 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/conversations/{id}", None),
        ("get", "/conversations/{id}/messages", None),
        ("post", "/conversations/{id}/messages", {"body": "sneaky"}),
        ("post", "/conversations/{id}/read", {}),
        ("post", "/conversations/{id}/participants", {"participants": ["carol"]}),
        ("post", "/conversations/{id}/leave", {}),
    ],
)
def test_every_conversation_endpoint_is_404_for_a_non_participant(alice, bob, method, path, body):
    carol = make_member("carol")
    conv = start(Api(alice), "bob").json()["id"]
    send(Api(alice), conv, "private")
    api = Api(carol)
    url = path.format(id=conv)
    response = api.get(url) if method == "get" else api.post(url, body)
    assert_error(response, 404, "conversation_not_found")
    assert Message.objects.count() == 1
    # The same answer as for a conversation that does not exist.
    missing = path.format(id=999999)
    other = api.get(missing) if method == "get" else api.post(missing, body)
    assert other.status_code == 404


def test_50_new_conversations_with_non_connections_per_day(alice):
    strangers = [make_member(f"str{i}") for i in range(51)]
    friend = make_member("friend")
    connect(alice, friend)
    api = Api(alice)
    for m in strangers[:50]:
        assert start(api, m.username).status_code == 201
    response = start(api, strangers[50].username)
    assert_error(response, 429, "conversation_rate_limited")
    assert int(response["Retry-After"]) > 0
    # Connections are not limited, and existing conversations still open.
    assert start(api, "friend").status_code == 201
    assert start(api, strangers[0].username).status_code == 200
    Introduction.objects.update(at=timezone.now() - timedelta(days=2))
    assert start(api, strangers[50].username).status_code == 201


def test_client_key_makes_a_retry_idempotent(alice, bob):
    conv = start(Api(alice), "bob").json()["id"]
    api = Api(alice)
    first = api.post(f"/conversations/{conv}/messages", {"body": "once", "client_key": "k-1"})
    again = api.post(f"/conversations/{conv}/messages", {"body": "once", "client_key": "k-1"})
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.count() == 1


def test_bot_bulk_announcement_each_in_own_conversation(alice, bob):
    from backsoon.messaging.actions import bulk_announce

    bot = make_member("backsoon.bot", is_bot=True)
    assert bulk_announce(bot=bot, usernames=None, body="Maintenance tonight") == 2
    for member in (alice, bob):
        items = Api(member).get("/conversations").json()["items"]
        assert len(items) == 1
        assert items[0]["last_message"]["kind"] == "bulk"
        assert [p["username"] for p in items[0]["participants"]] == [
            "backsoon.bot",
            member.username,
        ]


def test_bulk_announcement_needs_a_bot(alice, bob):
    from backsoon.errors import Forbidden
    from backsoon.messaging.actions import bulk_announce

    with pytest.raises(Forbidden):
        bulk_announce(bot=alice, usernames=["bob"], body="spam")


def test_conversation_list_query_count_is_fixed(alice, django_assert_max_num_queries):
    for i in range(6):
        m = make_member(f"peer{i}")
        connect(alice, m)
        conv = start(Api(m), "alice").json()["id"]
        send(Api(m), conv, "hello")
    api = Api(alice)
    api.get("/me")  # a token's last use is written on its first request (then once a minute)
    with django_assert_max_num_queries(6):
        response = api.get("/conversations")
    assert len(response.json()["items"]) == 6


def test_request_list_query_count_is_fixed(alice, django_assert_max_num_queries):
    """Strangers' similar texts are grouped (TRIAGE L6): one more query for the counts."""
    for i in range(6):
        m = make_member(f"peer{i}")
        conv = start(Api(m), "alice").json()["id"]
        send(Api(m), conv, "hello")
    api = Api(alice)
    api.get("/me")
    with django_assert_max_num_queries(7):
        response = api.get("/conversations", folder="requests")
    items = response.json()["items"]
    assert len(items) == 6
    assert {item["similar"]["count"] for item in items} == {6}


def test_message_list_query_count_is_fixed(alice, bob, django_assert_max_num_queries):
    conv = start(Api(alice), "bob").json()["id"]
    for i in range(10):
        send(Api(alice), conv, f"m{i}")
    api = Api(bob)
    api.get("/me")  # a token's last use is written on its first request (then once a minute)
    with django_assert_max_num_queries(3):
        response = api.get(f"/conversations/{conv}/messages")
    assert len(response.json()["items"]) == 10


def test_at_most_30_messages_a_minute_per_member(alice, bob):
    conv = start(Api(alice), "bob").json()["id"]
    api = Api(alice)
    for i in range(30):
        assert send(api, conv, f"m{i}").status_code == 201
    response = send(api, conv, "one too many")
    assert_error(response, 429, "message_rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Message.objects.count() == 30
    Message.objects.update(sent_at=timezone.now() - timedelta(minutes=2))
    assert send(api, conv, "later").status_code == 201
