"""The header on a phone and a laptop, in English and Dutch (issue 16, item 5): search is
reachable, every icon-only item has a name, and the header stays one or two rows. Also
the received invitations' bulk bar on both. Screenshots go to var/screenshots/<test>/."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import Shots
from tests.factories import make_member
from tests.triage.test_bulk_invitations import flood

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (375, 812), "laptop": (1280, 800)}
NAMES = {
    "en": ["Search people", "My network", "Messaging", "Out of office", "Notifications"],
    "nl": ["Mensen zoeken", "Netwerk", "Berichten", "Afwezigheid", "Meldingen"],
}


@pytest.fixture(params=[(s, lang) for s in SIZES for lang in NAMES], ids=lambda p: f"{p[0]}-{p[1]}")
def member_page(request, browser, live_server):
    size, language = request.param
    width, height = SIZES[size]
    member = make_member("alice", display_name="Alice Smit", language=language)
    flood(member, 60, note="We met at the fair in Utrecht last spring.")
    client = Client()
    client.force_login(member)
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="nl-NL" if language == "nl" else "en-GB",
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page, size, language, member, live_server.url
    context.close()


def test_phone_header_search_reachable_and_items_named(member_page, request):
    page, size, language, _member, base = member_page
    shots = Shots(page, request.node.name.replace("[", "-").replace("]", ""))
    page.goto(base + "/network/")
    shots("network")
    page.screenshot(path=str(shots.dir / "00-viewport.png"))
    header = page.locator("header.topbar")
    box = header.bounding_box()
    assert box is not None and box["height"] <= 120, box  # one or two rows
    for name in NAMES[language]:
        item = header.get_by_role("link", name=name)
        if name == NAMES[language][0] and size == "laptop":
            expect(item).to_be_hidden()  # the search form is there instead
            expect(header.get_by_role("searchbox")).to_be_visible()
            continue
        expect(item).to_be_visible()
        assert item.get_attribute("title") == name
    if size == "phone":
        header.get_by_role("link", name=NAMES[language][0]).click()
        page.wait_for_url("**/search/**")
        shots("search")
        expect(page.get_by_role("searchbox").first).to_be_visible()
    # Nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
    page.goto(base + "/network/")
    shots("bulk-bar")
    page.locator("#received-bulk").evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(shots.dir / "00-viewport-bulk.png"))
    page.goto(base + "/notifications/")
    shots("notifications")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
