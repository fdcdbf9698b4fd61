"""Browser journey: two members connect through the UI, then a message arrives live.

Alice invites Bob from "People you may know" while Bob looks at his network page:
the invitation appears for him without reloading; he accepts it. Bob waits on
his messaging page; Alice writes; the conversation and then every new message
show up on Bob's page without reloading. The site runs on the ``wsgi_server``
fixture: backsoon.wsgi on a threaded WSGI server, a thread per live stream, as
``backsoon serve`` runs it under granian.
"""

from __future__ import annotations

import pytest

from backsoon.network.actions import connection_create
from tests.browser.conftest import Shots
from tests.factories import PASSWORD, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


def sign_in(browser, base: str, username: str, viewport: str):
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], locale="en-GB", timezone_id="Europe/Amsterdam"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")
    return context, page


def mark_page(page) -> None:
    """Leave a mark in the page: it survives only as long as the page is not reloaded."""
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_connect_then_message_arrives_without_reloading(browser, wsgi_server, viewport, request):
    from playwright.sync_api import expect

    base = wsgi_server
    alice = make_member("alice", display_name="Alice Smit", headline="Designer in Utrecht")
    bob = make_member("bob", display_name="Bob de Boer", headline="Engineer at Noordzee Energie")
    carol = make_member("carol", display_name="Carol Jansen", headline="Recruiter")
    connection_create(a_id=alice.pk, b_id=carol.pk)
    connection_create(a_id=carol.pk, b_id=bob.pk)  # Bob is someone Alice may know

    name = request.node.name.replace("[", "-").replace("]", "")
    context_a, alice_page = sign_in(browser, base, "alice", viewport)
    context_b, bob_page = sign_in(browser, base, "bob", viewport)
    shot_a = Shots(alice_page, name + "-alice")
    shot_b = Shots(bob_page, name + "-bob")
    try:
        # Bob looks at his network: nothing pending yet.
        bob_page.goto(base + "/network/")
        expect(bob_page.get_by_text("No pending invitations.")).to_be_visible()
        mark_page(bob_page)
        shot_b("network-before")

        # Alice invites Bob, with a note, from "People you may know".
        alice_page.goto(base + "/network/")
        suggestion = alice_page.get_by_test_id("suggestion-bob")
        expect(suggestion).to_contain_text("1 mutual connection")
        suggestion.get_by_text("Add a note", exact=True).click()
        suggestion.get_by_role("textbox").fill("Hi Bob, Carol says we should talk about wind.")
        shot_a("invite-with-note")
        suggestion.get_by_role("button", name="Connect with Bob de Boer").click()
        expect(alice_page.get_by_test_id("invitation-sent")).to_contain_text(
            "Invitation sent to Bob de Boer."
        )
        shot_a("invitation-sent")

        # The invitation appears on Bob's page without a reload; he accepts it.
        received = bob_page.get_by_test_id("invitations-received")
        expect(received).to_contain_text("Alice Smit")
        expect(received).to_contain_text("Carol says we should talk about wind.")
        expect(bob_page.get_by_test_id("count-notifications")).to_have_text("1")
        assert not_reloaded(bob_page)
        shot_b("invitation-arrived-live")
        bob_page.get_by_role("button", name="Accept invitation from Alice Smit").click()
        expect(bob_page.get_by_text("You are now connected with Alice Smit.")).to_be_visible()
        shot_b("accepted")

        # Bob waits on his messaging page.
        bob_page.goto(base + "/messaging/")
        expect(bob_page.get_by_text("No conversations yet.")).to_be_visible()
        mark_page(bob_page)
        shot_b("messaging-empty")

        # Alice writes to her new connection.
        alice_page.goto(base + "/messaging/new/?to=bob")
        expect(alice_page.locator('input[name="connections"][value="bob"]')).to_be_checked()
        alice_page.locator("textarea[name=body]").fill("Hi Bob! Thanks for accepting.")
        shot_a("new-message")
        alice_page.get_by_role("button", name="Send").click()
        expect(alice_page.get_by_test_id("messages")).to_contain_text("Thanks for accepting.")
        shot_a("conversation-started")

        # The conversation appears in Bob's list, unread, without a reload.
        conversations = bob_page.get_by_test_id("conversation-list")
        expect(conversations).to_contain_text("Alice Smit")
        expect(conversations).to_contain_text("Thanks for accepting.")
        expect(bob_page.get_by_test_id("count-messages")).to_have_text("1")
        assert not_reloaded(bob_page)
        shot_b("conversation-arrived-live")

        # Bob opens it; reading it clears the count.
        conversations.get_by_text("Alice Smit").click()
        expect(bob_page.get_by_test_id("messages")).to_contain_text("Thanks for accepting.")
        expect(bob_page.get_by_test_id("count-messages")).to_have_text("")
        mark_page(bob_page)
        shot_b("conversation-open")

        # Alice writes again: the message arrives in Bob's open conversation.
        alice_page.locator("textarea[name=body]").fill("Are you free for a call on Friday?")
        alice_page.get_by_role("button", name="Send").click()
        expect(alice_page.get_by_test_id("messages")).to_contain_text("free for a call")
        messages = bob_page.get_by_test_id("messages")
        expect(messages).to_contain_text("Are you free for a call on Friday?")
        expect(messages.get_by_test_id("message")).to_have_count(2)
        assert not_reloaded(bob_page)
        # It is read at once (Bob is looking at it), so no unread count stays behind.
        expect(bob_page.get_by_test_id("count-messages")).to_have_text("")
        shot_b("message-arrived-live")

        # And back: Bob answers, Alice sees it arrive without a reload.
        mark_page(alice_page)
        bob_page.locator("textarea[name=body]").fill("Friday works. 10:00?")
        bob_page.get_by_role("button", name="Send").click()
        expect(alice_page.get_by_test_id("messages")).to_contain_text("Friday works. 10:00?")
        assert not_reloaded(alice_page)
        shot_a("reply-arrived-live")
    finally:
        context_a.close()
        context_b.close()
    assert alice.pk and bob.pk
