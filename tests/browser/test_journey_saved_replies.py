"""Browser journey (TRIAGE C3): saved replies, inserted in the compose box and sent
to many conversations from the bulk bar, on a laptop and a phone, in English and
Dutch (screenshots under var/screenshots/)."""

from __future__ import annotations

import pytest

from backsoon.messaging import actions
from backsoon.messaging.models import Message
from tests.browser.conftest import Shots
from tests.factories import PASSWORD, connect, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "username": "Username",
        "password": "Password",
        "login": "Log in",
        "sent": "2 replies sent.",
    },
    "nl": {
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "login": "Inloggen",
        "sent": "2 antwoorden verstuurd.",
    },
}


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("size", [(1280, 800), (375, 812)], ids=["laptop", "phone"])
def test_C3_saved_replies_journey(browser, live_server, request, language, size):
    from playwright.sync_api import expect

    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="nl-NL" if language == "nl" else "en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url
    t = TEXTS[language]
    alice = make_member("alice", display_name="Alice Smit", language=language)
    bob = make_member("bob", display_name="Bob de Boer")
    carol = make_member("carol", display_name="Carol Jansen")
    conversations = []
    for member, text in [(bob, "Lunch on Friday?"), (carol, "Can we talk about the offer?")]:
        connect(alice, member)
        conversation, _ = actions.conversation_start(creator=member, usernames=["alice"])
        actions.message_send(sender=member, conversation_id=conversation.pk, body=text)
        conversations.append(conversation)
    actions.saved_reply_create(
        member=alice,
        name="Back on Monday",
        body="Hi {first_name}, thanks for your message! I'm back on Monday and will answer then.",
    )
    shot = Shots(page, request.node.name.replace("[", "-").replace("]", ""))

    page.goto(base + "/login/")
    page.get_by_label(t["username"]).fill("alice")
    page.get_by_label(t["password"]).fill(PASSWORD)
    page.get_by_role("button", name=t["login"]).click()
    page.wait_for_url(base + "/")

    page.goto(base + "/messaging/replies/")
    form = page.get_by_test_id("saved-reply-form")
    form.locator("input[name=name]").fill("Call me")
    form.locator("textarea[name=body]").fill(
        "{first_name}, can I call you tomorrow? {not a placeholder}"
    )
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("saved-reply-list").locator("li")).to_have_count(2)
    shot("saved-replies")

    page.goto(base + f"/messaging/{conversations[0].pk}/")
    box = page.locator(".compose-form textarea")
    box.fill("")
    page.get_by_test_id("insert-reply").locator("select").select_option(label="Back on Monday")
    page.get_by_test_id("insert-reply").locator("button").click()
    expect(box).to_have_value(
        "Hi Bob, thanks for your message! I'm back on Monday and will answer then."
    )
    shot("compose-inserted")

    page.goto(base + "/messaging/")
    page.locator("input[data-select-all]").check()
    page.locator("#bulk-action").select_option(label="Call me")
    page.get_by_test_id("bulk-apply").click()
    expect(page.get_by_text(t["sent"])).to_be_visible()
    shot("bulk-sent")
    bodies = sorted(Message.objects.filter(sender=alice).values_list("body", flat=True))
    assert bodies == [
        "Bob, can I call you tomorrow? {not a placeholder}",
        "Carol, can I call you tomorrow? {not a placeholder}",
    ]
    context.close()
