"""Saved replies on the web (TRIAGE C3): their page, the compose box and the bulk bar."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from backsoon.messaging import actions
from backsoon.messaging.models import Conversation, Message, SavedReply
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def write(sender: Member, to: Member, body: str = "Hello?") -> Conversation:
    conversation, _ = actions.conversation_start(creator=sender, usernames=[to.username])
    actions.message_send(sender=sender, conversation_id=conversation.pk, body=body)
    return conversation


def test_C3_web_create_edit_and_delete_a_saved_reply(alice):
    client = logged_in(alice)
    page = client.get("/messaging/replies/")
    assert page.status_code == 200
    assert "No saved replies yet." in page.content.decode()

    created = client.post(
        "/messaging/replies/", {"name": "Thanks", "body": "Thanks {first_name}!"}, follow=True
    )
    assert "Saved reply added." in created.content.decode()
    reply = SavedReply.objects.get(member=alice)
    assert "Thanks {first_name}!" in created.content.decode()

    edited = client.post(
        f"/messaging/replies/{reply.pk}/", {"name": "Thanks", "body": "Cheers {first_name}"}
    )
    assert edited.status_code == 302
    assert SavedReply.objects.get(pk=reply.pk).body == "Cheers {first_name}"

    deleted = client.post(f"/messaging/replies/{reply.pk}/delete/", follow=True)
    assert "Saved reply deleted." in deleted.content.decode()
    assert not SavedReply.objects.exists()


def test_C3_web_validation_is_shown_on_the_form(alice):
    client = logged_in(alice)
    actions.saved_reply_create(member=alice, name="Thanks", body="x")
    taken = client.post("/messaging/replies/", {"name": "THANKS", "body": "y"})
    assert taken.status_code == 409
    assert "You already have a saved reply with this name." in taken.content.decode()
    bidi = client.post("/messaging/replies/", {"name": "a\u202eb", "body": "y"})
    assert bidi.status_code == 422
    assert SavedReply.objects.count() == 1


def test_C3_web_another_members_saved_reply_is_not_found(alice, bob):
    reply = actions.saved_reply_create(member=alice, name="Thanks", body="x")
    client = logged_in(bob)
    assert client.get(f"/messaging/replies/{reply.pk}/").status_code == 404
    assert (
        client.post(f"/messaging/replies/{reply.pk}/", {"name": "y", "body": "y"}).status_code
        == 404
    )
    assert client.post(f"/messaging/replies/{reply.pk}/delete/").status_code == 404
    assert SavedReply.objects.get(pk=reply.pk).name == "Thanks"


def test_C3_insert_saved_reply_fills_the_compose_box_without_javascript(alice, bob):
    connect(alice, bob)
    conversation = write(bob, alice)
    reply = actions.saved_reply_create(member=alice, name="Thanks", body="Hi {first_name}, {x}")
    client = logged_in(alice)

    page = client.get(f"/messaging/{conversation.pk}/").content.decode()
    assert 'data-testid="insert-reply"' in page
    assert 'data-text="Hi Bob, {x}"' in page

    filled = client.get(f"/messaging/{conversation.pk}/?reply={reply.pk}")
    assert filled.context["form"].initial["body"] == "Hi Bob, {x}"
    assert "Hi Bob, {x}</textarea>" in filled.content.decode()
    # Another member's id (or nonsense) leaves the box empty.
    other = actions.saved_reply_create(member=bob, name="Mine", body="Secret of bob")
    for value in (other.pk, "x"):
        page = client.get(f"/messaging/{conversation.pk}/?reply={value}").content.decode()
        assert "Secret of bob" not in page


def test_C3_bulk_bar_replies_with_a_saved_reply(alice, bob):
    connect(alice, bob)
    carol = make_member("carol", display_name="Carol Jansen")
    connect(alice, carol)
    first, second = write(bob, alice), write(carol, alice)
    reply = actions.saved_reply_create(member=alice, name="Thanks", body="Thanks {first_name}")
    client = logged_in(alice)
    assert f'value="reply:{reply.pk}"' in client.get("/messaging/").content.decode()

    done = client.post(
        "/messaging/bulk/",
        {"folder": "inbox", "action": f"reply:{reply.pk}", "ids": [first.pk, second.pk]},
        follow=True,
    )

    assert "2 replies sent." in done.content.decode()
    bodies = sorted(Message.objects.filter(sender=alice).values_list("body", flat=True))
    assert bodies == ["Thanks Bob", "Thanks Carol"]
    other = actions.saved_reply_create(member=bob, name="Mine", body="x")
    refused = client.post(
        "/messaging/bulk/", {"folder": "inbox", "action": f"reply:{other.pk}", "ids": [first.pk]}
    )
    assert refused.status_code == 404
    assert Message.objects.filter(sender=alice).count() == 2


def test_C3_saved_replies_are_linked_from_settings_and_messaging(alice):
    client = logged_in(alice)
    for url in ("/settings/profile/", "/messaging/"):
        assert 'href="/messaging/replies/"' in client.get(url).content.decode()
