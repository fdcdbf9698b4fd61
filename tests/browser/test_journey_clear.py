"""Browser journey (TRIAGE C5): the trainer comes back to the SMALL demo's flood and
clears it from the digest on a phone (375 px), in at most 1/20 of the actions that
one-by-one handling needs, without archiving or declining a known contact."""

from __future__ import annotations

import re

import pytest

from tests.browser.clearing import Clicks, clear_return_inbox, one_by_one_count
from tests.browser.conftest import Shots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_C5_the_return_inbox_clears_in_a_twentieth_of_the_actions(browser, wsgi_server):
    from playwright.sync_api import expect

    from backsoon.accounts.models import Member
    from backsoon.away.digest import digest_for
    from backsoon.away.models import Absence
    from backsoon.demo import DEMO_LOGIN, DEMO_PASSWORD, SMALL, demo_load
    from backsoon.messaging.models import Participant
    from backsoon.network.models import Invitation
    from backsoon.notifications.models import Notification

    demo_load(scale=SMALL, quiet=True)
    trainer = Member.objects.get(username=DEMO_LOGIN)
    absence = Absence.objects.get(member=trainer)
    before = digest_for(trainer, absence)
    one_by_one = one_by_one_count(trainer, absence)
    known = {c.conversation_id for c in before.messages_from_connections} | {
        c.conversation_id for c in before.messages_from_others if c.known
    }
    requests = {c.conversation_id for c in before.messages_from_others if c.request}
    wanted = {
        i["id"]: i["mutual_connections"] >= 1 or "note" in i["labels"] for i in before.invitations
    }
    assert known and requests and any(wanted.values()) and not all(wanted.values())

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    base = wsgi_server
    shot = Shots(page, "test_C5_clear_return_inbox-phone")
    page.goto(base + "/login/")
    page.get_by_label("Username").fill(DEMO_LOGIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()  # signing in is not clearing
    page.wait_for_url(base + "/")

    clicks = Clicks()
    clear_return_inbox(page, base, clicks)
    # The last step's flash, in the trainer's language.
    expect(page.get_by_text(re.compile(r"^\d+ (handled|afgehandeld)\.$")).first).to_be_visible()
    shot("cleared")
    context.close()

    assert clicks.count <= one_by_one["total"] / 20, (clicks.done, one_by_one)
    statuses = dict(Invitation.objects.filter(pk__in=wanted).values_list("pk", "status"))
    assert statuses == {pk: "accepted" if yes else "ignored" for pk, yes in wanted.items()}
    mine = {
        p.conversation_id: p
        for p in Participant.objects.filter(member=trainer, conversation_id__in=known | requests)
    }
    for conversation_id in known:
        assert mine[conversation_id].folder == Participant.Folder.INBOX
        assert not mine[conversation_id].declined
    assert all(mine[c].declined for c in requests - known)
    after = digest_for(trainer, absence)
    assert all("replied" in c.handled for c in after.messages_from_connections)
    assert not Notification.objects.filter(
        recipient=trainer, read_at__isnull=True, created_at__gte=absence.starts_at
    ).exists()
