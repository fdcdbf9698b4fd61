"""Saved replies and the bulk reply (TRIAGE C3), through the API."""

from __future__ import annotations

import pytest

from backsoon.accounts.models import Member
from backsoon.messaging import actions
from backsoon.messaging.models import Conversation, Message, Participant, SavedReply
from backsoon.network.actions import block_create
from tests.conftest import Api, assert_error
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db

THANKS = "Hi {first_name}, thanks for writing! I'll answer properly by {day}. {0}"


def write(sender: Member, to: Member, body: str = "Hello?") -> Conversation:
    conversation, _ = actions.conversation_start(creator=sender, usernames=[to.username])
    actions.message_send(sender=sender, conversation_id=conversation.pk, body=body)
    return conversation


def last_body(conversation: Conversation, sender: Member) -> str:
    return Message.objects.filter(conversation=conversation, sender=sender).latest("id").body


@pytest.fixture
def writers(alice, bob) -> list[Member]:
    """Three connections of alice who each wrote to her: bob, carol and dirk."""
    out = []
    for username, name in [("bob", None), ("carol", "Carol Jansen"), ("dirk", "Dirk")]:
        member = bob if name is None else make_member(username, display_name=name)
        connect(alice, member)
        write(member, alice)
        out.append(member)
    return out


def test_C3_create_list_edit_and_delete_a_template(alice):
    api = Api(alice)
    created = api.post("/me/templates", {"name": "Thanks", "body": THANKS})
    assert created.status_code == 201, created.content
    template = created.json()
    assert template["name"] == "Thanks" and template["body"] == THANKS
    assert set(template) == {"id", "name", "body", "created_at", "updated_at"}
    api.post("/me/templates", {"name": "Agenda", "body": "Let's plan a call."})

    assert [t["name"] for t in api.get("/me/templates").json()] == ["Agenda", "Thanks"]

    patched = api.patch(f"/me/templates/{template['id']}", {"body": "Thank you {first_name}!"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Thanks"
    assert patched.json()["body"] == "Thank you {first_name}!"
    assert patched.json()["updated_at"] > template["updated_at"]

    assert api.delete(f"/me/templates/{template['id']}").status_code == 204
    assert [t["name"] for t in api.get("/me/templates").json()] == ["Agenda"]
    assert_error(api.delete(f"/me/templates/{template['id']}"), 404, "template_not_found")


def test_C3_another_members_template_is_not_found(alice, bob):
    mine = actions.saved_reply_create(member=alice, name="Thanks", body="Thanks!")
    theirs = Api(bob)
    missing = theirs.patch("/me/templates/987654321", {"name": "x"}).json()
    assert theirs.patch(f"/me/templates/{mine.pk}", {"name": "x"}).json() == missing
    assert_error(theirs.patch(f"/me/templates/{mine.pk}", {"name": "x"}), 404)
    assert_error(theirs.delete(f"/me/templates/{mine.pk}"), 404)
    assert theirs.get("/me/templates").json() == []
    assert SavedReply.objects.get(pk=mine.pk).name == "Thanks"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": " ", "body": "x"}, 422, "template_name_empty"),
        ({"name": "x" * 101, "body": "x"}, 422, None),
        ({"name": "Evil\u202eeman", "body": "x"}, 422, "invalid_template_name"),
        ({"name": "Bell\x07", "body": "x"}, 422, "invalid_template_name"),
        ({"name": "Ok", "body": "   "}, 422, "empty_message"),
        ({"name": "Ok", "body": "x" * 8001}, 422, None),
        ({"name": "Ok"}, 422, None),
    ],
)
def test_C3_template_validation(alice, body, status, code):
    response = Api(alice).post("/me/templates", body)
    assert_error(response, status, code) if code else assert_error(response, status)
    assert not SavedReply.objects.exists()


def test_C3_template_names_are_unique_per_member_whatever_the_case(alice, bob):
    api = Api(alice)
    first = api.post("/me/templates", {"name": "Thanks", "body": "a"}).json()
    other = api.post("/me/templates", {"name": "Later", "body": "b"}).json()
    assert_error(
        api.post("/me/templates", {"name": "thanks ", "body": "c"}), 409, "template_name_taken"
    )
    assert_error(
        api.patch(f"/me/templates/{other['id']}", {"name": "THANKS"}), 409, "template_name_taken"
    )
    # Another member may use the same name; renaming to its own name is fine.
    assert Api(bob).post("/me/templates", {"name": "Thanks", "body": "a"}).status_code == 201
    assert api.patch(f"/me/templates/{first['id']}", {"name": "thanks"}).status_code == 200


def test_C3_at_most_100_templates_per_member(alice, monkeypatch):
    monkeypatch.setattr(actions, "SAVED_REPLIES_MAX", 3)
    api = Api(alice)
    for n in range(3):
        assert api.post("/me/templates", {"name": f"T{n}", "body": "x"}).status_code == 201
    assert_error(api.post("/me/templates", {"name": "T3", "body": "x"}), 409, "too_many_templates")
    assert SavedReply.objects.filter(member=alice).count() == 3


def test_C3_placeholders_filled_per_recipient_other_braces_kept(alice, writers):
    template = actions.saved_reply_create(member=alice, name="Thanks", body=THANKS)
    ids = list(Participant.objects.filter(member=alice).values_list("conversation_id", flat=True))

    response = Api(alice).post(
        "/conversations/bulk", {"action": "reply", "ids": ids, "template": template.pk}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"sent": 3}
    for member in writers:
        conversation = Conversation.objects.get(participants__member=member)
        first = member.display_name.split()[0]
        assert last_body(conversation, alice) == (
            f"Hi {first}, thanks for writing! I'll answer properly by {{day}}. {{0}}"
        )


def test_C3_bulk_reply_by_filter_with_a_body_never_to_declined(alice, writers):
    stranger = make_member("eve", display_name="Eve Stranger")
    declined = write(stranger, alice, "Buy my course")
    actions.conversation_decline(member=alice, conversation_id=declined.pk)
    archived = Conversation.objects.get(participants__member=writers[0])
    actions.conversation_archive(member=alice, conversation_id=archived.pk)

    response = Api(alice).post(
        "/conversations/bulk",
        {"action": "reply", "filter": {"folder": "archived"}, "body": "On it, {first_name}."},
    )

    assert response.json() == {"sent": 1}
    assert not Message.objects.filter(conversation=declined, sender=alice).exists()
    assert last_body(archived, alice) == "On it, Bob."


def test_C3_bulk_reply_by_filter_of_a_folder(alice, writers):
    stranger = make_member("eve", display_name="Eve Stranger")
    request = write(stranger, alice, "May I ask something?")
    response = Api(alice).post(
        "/conversations/bulk",
        {"action": "reply", "filter": {"folder": "requests"}, "body": "Sure {first_name}"},
    )
    assert response.json() == {"sent": 1}
    assert last_body(request, alice) == "Sure Eve"
    # Writing in your own request accepts it (S3).
    assert Participant.objects.get(conversation=request, member=alice).folder == "inbox"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({}, "template_or_body"),
        ({"template": 1, "body": "x"}, "template_or_body"),
    ],
)
def test_C3_bulk_reply_needs_exactly_one_of_template_and_body(alice, writers, extra, code):
    ids = list(Participant.objects.filter(member=alice).values_list("conversation_id", flat=True))
    response = Api(alice).post("/conversations/bulk", {"action": "reply", "ids": ids, **extra})
    assert_error(response, 422, code)


def test_C3_template_or_body_only_with_reply(alice, writers):
    response = Api(alice).post(
        "/conversations/bulk", {"action": "archive", "filter": {"folder": "inbox"}, "body": "x"}
    )
    assert_error(response, 422, "template_or_body")


def test_C3_bulk_reply_with_another_members_template_is_not_found(alice, bob, writers):
    theirs = actions.saved_reply_create(member=bob, name="Mine", body="Bob's text")
    response = Api(alice).post(
        "/conversations/bulk",
        {"action": "reply", "filter": {"folder": "inbox"}, "template": theirs.pk},
    )
    assert_error(response, 404, "template_not_found")
    assert not Message.objects.filter(sender=alice).exists()


def test_C3_bulk_reply_to_others_ids_sends_nothing(alice, bob, writers):
    carol_conversation = Conversation.objects.get(participants__member=writers[1])
    response = Api(make_member("mallory")).post(
        "/conversations/bulk", {"action": "reply", "ids": [carol_conversation.pk], "body": "hi"}
    )
    assert response.json() == {"sent": 0}
    assert Message.objects.filter(conversation=carol_conversation).count() == 1


def test_C3_at_most_200_conversations(alice, monkeypatch, writers):
    api = Api(alice)
    too_many = api.post(
        "/conversations/bulk", {"action": "reply", "ids": list(range(1, 202)), "body": "x"}
    )
    assert_error(too_many, 422, "too_many")
    monkeypatch.setattr(actions, "BULK_REPLY_MAX", 2)
    by_filter = api.post(
        "/conversations/bulk", {"action": "reply", "filter": {"folder": "inbox"}, "body": "x"}
    )
    assert_error(by_filter, 422, "too_many")
    assert not Message.objects.filter(sender=alice).exists()


def test_C3_a_bulk_of_200_is_not_stopped_by_the_per_minute_limit(alice, monkeypatch, writers):
    """Bulk replies have their own budget; their messages count for later sends."""
    monkeypatch.setattr(actions, "MESSAGES_PER_MINUTE", 2)
    api = Api(alice)
    assert api.post(
        "/conversations/bulk", {"action": "reply", "filter": {"folder": "inbox"}, "body": "x"}
    ).json() == {"sent": 3}
    conversation = Conversation.objects.get(participants__member=writers[0])
    assert_error(
        api.post(f"/conversations/{conversation.pk}/messages", {"body": "one more"}),
        429,
        "message_rate_limited",
    )


def test_C3_bulk_reply_hourly_budget(alice, monkeypatch, writers):
    monkeypatch.setattr(actions, "BULK_REPLY_MESSAGES_PER_HOUR", 4)
    api = Api(alice)
    assert api.post(
        "/conversations/bulk", {"action": "reply", "filter": {"folder": "inbox"}, "body": "x"}
    ).json() == {"sent": 3}
    again = api.post(
        "/conversations/bulk", {"action": "reply", "filter": {"folder": "inbox"}, "body": "y"}
    )
    assert_error(again, 429, "bulk_reply_rate_limited")
    assert int(again["Retry-After"]) > 0
    assert Message.objects.filter(sender=alice).count() == 3


def test_C3_each_reply_is_a_real_message_and_triggers_an_automatic_reply_once(alice, writers):
    bob = writers[0]
    make_absence(bob, message="Away, {first_name}.")
    conversation = Conversation.objects.get(participants__member=bob)
    api = Api(alice)

    for _ in range(2):
        api.post("/conversations/bulk", {"action": "reply", "ids": [conversation.pk], "body": "Hi"})

    sent = Message.objects.filter(conversation=conversation, sender=alice)
    assert [m.kind for m in sent] == ["normal", "normal"]
    replies = Message.objects.filter(conversation=conversation, sender=bob, kind="auto_reply")
    assert [m.body for m in replies] == ["Away, Alice."]
    # bob has the replies unread, as any message.
    assert Participant.objects.get(conversation=conversation, member=bob).unread_count == 2


def test_C3_skipped_conversations_are_not_counted(alice, writers):
    bob, carol, _ = writers
    block_create(member=bob, username="alice")
    group, _ = actions.conversation_start(creator=alice, usernames=["carol", "dirk"])
    actions.conversation_leave(member=carol, conversation_id=group.pk)
    actions.conversation_leave(member=writers[2], conversation_id=group.pk)

    response = Api(alice).post(
        "/conversations/bulk", {"action": "reply", "filter": {"folder": "inbox"}, "body": "x"}
    )

    assert response.json() == {"sent": 2}  # carol's and dirk's 1:1 conversations
    assert not Message.objects.filter(sender=alice, conversation__participants__member=bob).exists()


def test_C3_in_a_group_first_name_is_the_member_being_answered(alice, writers):
    carol = writers[1]
    group, _ = actions.conversation_start(creator=alice, usernames=["bob", "carol", "dirk"])
    assert actions.saved_reply_text("Hi {first_name}", first_name="X") == "Hi X"
    api = Api(alice)
    api.post(
        "/conversations/bulk", {"action": "reply", "ids": [group.pk], "body": "Hi {first_name}"}
    )
    assert last_body(group, alice) == "Hi Bob"  # nobody wrote yet: the first who joined
    actions.message_send(sender=carol, conversation_id=group.pk, body="Question")
    api.post(
        "/conversations/bulk", {"action": "reply", "ids": [group.pk], "body": "Yes {first_name}"}
    )
    assert last_body(group, alice) == "Yes Carol"
