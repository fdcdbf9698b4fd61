"""Browser journey (TRIAGE S1, S3, L5): a stranger's message waits in Requests with
its label; accepting it from the request banner moves it to the inbox."""

from __future__ import annotations

import pytest

from backsoon.messaging import actions
from tests.browser.conftest import Shots
from tests.factories import PASSWORD, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_S3_a_strangers_message_waits_in_requests_until_accepted(page, request):
    from playwright.sync_api import expect

    base = page.base_url
    make_member("alice", display_name="Alice Smit")
    carol = make_member("carol", display_name="Carol Jansen")
    conversation, _ = actions.conversation_start(creator=carol, usernames=["alice"])
    actions.message_send(
        sender=carol, conversation_id=conversation.pk, body="Could I pick your brain?"
    )
    shot = Shots(page, request.node.name.replace("[", "-").replace("]", ""))

    page.goto(base + "/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")

    page.goto(base + "/messaging/")
    expect(page.get_by_test_id("list-empty")).to_be_visible()
    expect(page.get_by_test_id("count-requests")).to_have_text("1")
    page.get_by_test_id("tab-requests").click()
    row = page.get_by_test_id(f"row-{conversation.pk}")
    expect(row).to_contain_text("Could I pick your brain?")
    expect(row.locator('[data-label="first_contact"]')).to_have_text("First contact")
    shot("requests")

    row.get_by_test_id(f"conversation-{conversation.pk}").click()
    banner = page.get_by_test_id("request-banner")
    expect(banner).to_contain_text("Carol Jansen is not in your network.")
    shot("request")
    banner.get_by_test_id("action-accept").click()

    expect(page.get_by_text("Request accepted: the conversation is in your inbox.")).to_be_visible()
    expect(page.get_by_test_id("request-banner")).to_have_count(0)
    shot("accepted")
    page.goto(base + "/messaging/")
    expect(page.get_by_test_id(f"row-{conversation.pk}")).to_be_visible()
    expect(page.get_by_test_id("count-requests")).to_have_text("")
