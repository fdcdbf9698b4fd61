"""Issue 14, finding 6: a block holds in a group someone else started.

A blocked member's messages reached the blocker in a third party's group. Now, as on
LinkedIn and Slack, they are hidden from the blocker (and the blocker's from them):
not listed (API and site), not counted unread, no notification, no live event, not
shown as the conversation's last message.
"""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.notifications.models import Notification
from tests.conftest import Api
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(alice, bob):
    """carol's group with alice, bob and mallory; alice blocked mallory. carol is a
    connection of all three (a team: nothing here is a request, TRIAGE S1)."""
    carol = make_member("carol")
    mallory = make_member("mallory")
    for member in (alice, bob, mallory):
        connect(carol, member)
    conversation = Api_for("carol").post(
        "/conversations", {"participants": ["alice", "bob", "mallory"], "subject": "Team"}
    )
    assert conversation.status_code == 201
    assert Api(alice).post("/members/mallory/block").status_code == 204
    return conversation.json()["id"]


def Api_for(username: str) -> Api:
    from backsoon.accounts.models import Member

    return Api(Member.objects.get(username=username))


def _send(username: str, conversation_id: int, body: str) -> int:
    response = Api_for(username).post(f"/conversations/{conversation_id}/messages", {"body": body})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _bodies(username: str, conversation_id: int) -> list[str]:
    items = Api_for(username).get(f"/conversations/{conversation_id}/messages").json()["items"]
    return [m["body"] for m in items]


def test_finding6_the_blocked_members_messages_are_hidden_from_the_blocker(group):
    _send("carol", group, "hello team")
    _send("mallory", group, "from mallory")
    assert _bodies("alice", group) == ["hello team"]
    assert _bodies("bob", group) == ["hello team", "from mallory"]
    assert _bodies("carol", group) == ["hello team", "from mallory"]


def test_finding6_and_the_blockers_from_the_blocked_member(group):
    _send("alice", group, "from alice")
    assert _bodies("mallory", group) == []
    assert _bodies("bob", group) == ["from alice"]


def test_finding6_they_are_not_unread_and_not_notified(group):
    _send("mallory", group, "from mallory")
    assert Api_for("alice").get("/conversations/unread").json() == {"unread": 0}
    assert Api_for("bob").get("/conversations/unread").json() == {"unread": 1}
    listed = Api_for("alice").get("/conversations").json()["items"]
    assert [c["unread_count"] for c in listed if c["id"] == group] == [0]
    assert not Notification.objects.filter(
        recipient__username="alice", type=Notification.Type.MESSAGE
    ).exists()
    assert Notification.objects.filter(
        recipient__username="bob", type=Notification.Type.MESSAGE
    ).exists()


def test_finding6_the_last_message_shown_is_the_last_one_you_may_read(group):
    _send("carol", group, "hello team")
    _send("mallory", group, "from mallory")
    listed = Api_for("alice").get("/conversations").json()["items"]
    assert [c["last_message"]["body"] for c in listed if c["id"] == group] == ["hello team"]
    detail = Api_for("alice").get(f"/conversations/{group}").json()
    assert detail["last_message"]["body"] == "hello team"
    assert Api_for("bob").get(f"/conversations/{group}").json()["last_message"]["body"] == (
        "from mallory"
    )


def test_finding6_no_live_event_reaches_the_blocker(group, monkeypatch):
    from backsoon.messaging import actions

    published: list[list[int]] = []
    monkeypatch.setattr(
        actions, "publish_on_commit", lambda ids, event: published.append(sorted(ids))
    )
    _send("mallory", group, "from mallory")
    alice_id = Api_for("alice").member.pk
    assert published and all(alice_id not in ids for ids in published)


def test_finding6_the_site_hides_them_too(alice, group):
    _send("carol", group, "hello team")
    mallory_message = _send("mallory", group, "from mallory")
    client = Client()
    client.force_login(alice)
    page = client.get(f"/messaging/{group}/").content.decode()
    assert "hello team" in page and "from mallory" not in page
    fragment = client.get(f"/messaging/{group}/messages/?after=0").content.decode()
    assert "hello team" in fragment and "from mallory" not in fragment
    inbox = client.get("/messaging/").content.decode()
    assert "from mallory" not in inbox
    assert mallory_message


def test_finding6_unblocking_shows_them_again(alice, group):
    _send("mallory", group, "from mallory")
    assert Api(alice).delete("/members/mallory/block").status_code == 204
    assert _bodies("alice", group) == ["from mallory"]
