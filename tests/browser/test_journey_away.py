"""Browser journey: set an absence with the form and its live preview, be seen away by
someone else, get written to, come back early from the banner."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backsoon.away.models import Absence
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Message
from tests.factories import PASSWORD, connect, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(page.base_url + "/")


def test_set_absence_be_seen_away_and_come_back_early(page, shots):
    base = page.base_url
    alice = make_member("alice", display_name="Alice Smit", headline="Notary in Haarlem")
    bob = make_member("bob", display_name="Bob de Boer", headline="Engineer")
    carol = make_member("carol", display_name="Carol Jansen", headline="Paralegal")
    connect(alice, carol)  # carol is a connection (and the backup); bob is not

    # A signs in and opens the out-of-office page.
    log_in(page, "alice")
    page.goto(base + "/away/")
    expect(page.get_by_test_id("away-current")).to_contain_text("You are not away")
    shots("away-page")

    # A fills in an absence from today; the preview follows the typing.
    today = timezone.now().astimezone(ZoneInfo(alice.timezone)).date()
    last = today + timedelta(days=4)
    page.get_by_label("First day away").fill(today.isoformat())
    page.get_by_label("Last day away").fill(last.isoformat())
    # "Exact times" carries the days over as times (00:00 to 00:00 after the last day).
    page.get_by_label("Exact times").check()
    expect(page.get_by_label("Away from")).to_have_value(f"{today.isoformat()}T00:00")
    expect(page.get_by_label("Back at")).to_have_value(
        f"{(last + timedelta(days=1)).isoformat()}T00:00"
    )
    expect(page.get_by_label("First day away")).to_be_hidden()
    page.get_by_label("Exact times").uncheck()
    expect(page.get_by_label("First day away")).to_be_visible()
    page.get_by_role("textbox", name="Automatic reply").fill(
        "Hi {first_name}, I am walking the Pieterpad and back on {return_date}.\n"
        "For anything urgent, please ask {backup}."
    )
    page.get_by_label("Backup contact (optional)").fill("carol")
    connection = page.get_by_test_id("preview-connection")
    expect(connection).to_contain_text("Hi Sam, I am walking the Pieterpad")
    expect(connection).to_contain_text("Carol Jansen (@carol)")
    shots("form-with-preview")

    # Only connections get the full text; others get a short one (R4, R8).
    page.get_by_role("radio", name="My connections").check()
    page.get_by_label("Text for people who are not your connections").fill(
        "I am out of the office and back on {return_date}."
    )
    expect(page.get_by_test_id("others-warning")).to_contain_text(
        "Anyone who writes to you may see this text"
    )
    expect(page.get_by_test_id("preview-others")).to_contain_text(
        "I am out of the office and back on"
    )
    shots("audience-and-others-preview")

    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url(base + "/away/")
    banner = page.get_by_test_id("away-banner")
    expect(banner).to_contain_text("You are away")
    expect(page.get_by_test_id("away-current")).to_contain_text("Away now")
    shots("away-now-with-banner")
    absence = Absence.objects.get(member=alice)
    assert absence.backup == carol and absence.audience == "connections"

    page.goto(base + "/")
    expect(page.get_by_test_id("away-banner")).to_be_visible()
    shots("banner-on-home")

    # B, in a browser of their own, sees A's away badge on A's profile (P1).
    context_b = page.context.browser.new_context(viewport=page.viewport_size, locale="en-GB")
    try:
        page_b = context_b.new_page()
        page_b.set_default_timeout(15_000)
        page_b.base_url = base
        log_in(page_b, "bob")
        page_b.goto(base + "/in/alice/")
        expect(page_b.get_by_test_id("away-badge")).to_contain_text("Away, back on")
        expect(page_b.get_by_test_id("away-badge")).to_contain_text(
            "I am out of the office and back on"  # not a connection: the text for others (R8)
        )
        expect(page_b.get_by_test_id("away-banner")).to_have_count(0)
        shots.page = page_b  # same numbered series, B's screen
        shots("b-sees-badge")

        # B writes to A and gets the automatic reply for non-connections (R4).
        conversation, _ = conversation_start(creator=bob, usernames=["alice"])
        message_send(sender=bob, conversation_id=conversation.pk, body="Hello Alice!")
        reply = Message.objects.get(conversation=conversation, kind=Message.Kind.AUTO_REPLY)
        assert reply.sender_id == alice.pk
        assert reply.body.startswith("I am out of the office and back on ")
        page_b.goto(base + f"/messaging/{conversation.pk}/")
        expect(
            page_b.get_by_text("I am out of the office and back on").filter(visible=True).first
        ).to_be_visible()
        shots("b-conversation-with-auto-reply")
    finally:
        shots.page = page
        context_b.close()

    # A comes back early from the banner (A4), and lands on the digest (TRIAGE C4).
    page.goto(base + "/in/alice/")
    expect(page.get_by_test_id("away-self")).to_contain_text("You are away, back on")  # issue 18
    shots("own-profile-while-away")
    page.get_by_test_id("banner-end-now").click()
    page.wait_for_url(base + f"/away/{absence.pk}/digest/")
    expect(page.get_by_test_id("away-banner")).to_have_count(0)
    shots("back-early-digest")
    page.goto(base + "/in/alice/")
    expect(page.get_by_test_id("away-self")).to_have_count(0)
    expect(page.get_by_test_id("away-badge")).to_have_count(0)
    shots("back-early")
    absence.refresh_from_db()
    assert absence.ended_at is not None

    page.goto(base + "/away/")
    expect(page.get_by_test_id("away-history")).to_be_visible()
    shots("history")
