"""The Away badge with its day wherever a name appears, your own status on your own
profile, and the calendar page reached from the Out of office page with its copy
button (issue 18, items 3 and 4), in Chromium on a laptop (1280x800) and a phone
(375x812), in English and Dutch. Screenshots go to var/screenshots/<test>/."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import formats, translation
from playwright.sync_api import expect

from backsoon.accounts.models import Member
from tests.browser.conftest import Shots
from tests.web.test_away_badges import T, World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"laptop": (1280, 800), "phone": (375, 812)}
LOCALES = {"en": "en-GB", "nl": "nl-NL"}


def signed_in(browser, base: str, member: Member, size: str, language: str):
    client = Client()
    client.force_login(member)
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=LOCALES[language]
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def fits(page, size: str) -> None:
    """Nothing sticks out sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]


@pytest.mark.parametrize(
    "size,language",
    [(s, lang) for s in SIZES for lang in LOCALES],
    ids=lambda v: v,
)
def test_badge_with_day_everywhere_own_status_and_calendar(
    browser, live_server, request, size, language
):
    world: World = build_world(language)
    base = live_server.url
    shots_name = request.node.name.replace("[", "-").replace("]", "")
    long_, short = world.said("long"), world.said("short")

    context, page = signed_in(browser, base, world.alice, size, language)
    shots = Shots(page, shots_name)
    visits = [
        ("profile", "/in/bob/", long_),
        ("search", "/search/?q=Bob", long_),
        ("invitations", "/network/", long_),
        ("conversations", "/messaging/", short),
        ("conversation", f"/messaging/{world.direct_id}/", short),
        ("group", f"/messaging/{world.group_id}/", f"Bob de Boer: {short}"),
        ("post", f"/posts/{world.bob_post_id}/", short),
        ("comment", f"/posts/{world.alice_post_id}/", short),
        ("notifications", "/notifications/", short),
    ]
    for step, url, said in visits:
        page.goto(base + url)
        shots(step)
        shown = page.locator(".away-pill:visible, .away-badge:visible").filter(has_text=said)
        expect(shown.first).to_be_visible()
        fits(page, size)
    # Phone: the conversation list is its own page; its group row names who is away.
    page.goto(base + "/messaging/")
    expect(page.get_by_test_id(f"row-{world.group_id}")).to_contain_text(f"Bob de Boer: {short}")
    context.close()

    # Bob on his own profile: his status, with Edit and End now, not his reply.
    t = T[language]
    world.bob.language = language
    world.bob.save(update_fields=["language"])
    context, page = signed_in(browser, base, world.bob, size, language)
    shots = Shots(page, shots_name + "-own")
    page.goto(base + "/in/bob/")
    shots("own-profile")
    with translation.override(language):
        day = formats.date_format(world.back_day, "l j F Y")
    status = page.get_by_test_id("away-self")
    expect(status).to_contain_text(t["you_are_away"].format(date=day))
    expect(status.get_by_role("link", name=t["edit"])).to_be_visible()
    expect(status.get_by_role("button", name=t["end_now"])).to_be_visible()
    expect(page.get_by_text("thanks for your message")).to_have_count(0)
    fits(page, size)

    # The calendar page from the Out of office page, and its copy button.
    page.goto(base + "/away/")
    link = page.get_by_test_id("away-calendar-link")
    link.scroll_into_view_if_needed()
    shots("away-page")
    expect(link).to_have_text(t["calendar_link"])
    link.click()
    page.wait_for_url("**/away/calendar/")
    page.locator("#export form button").first.click()
    copy = page.get_by_test_id("export-url-copy")
    expect(copy).to_be_visible()
    expect(copy).to_have_text(t["copy"])
    address = page.locator("#export-url").input_value()
    assert address.startswith("http") and address.endswith(".ics")
    copy.click()
    expect(copy).to_have_attribute("data-copy-state", "copied")
    assert page.evaluate("navigator.clipboard.readText()") == address
    page.locator("#export-url").focus()
    selected = page.evaluate(
        "(() => { const i = document.getElementById('export-url');"
        " return i.selectionEnd - i.selectionStart; })()"
    )
    assert selected == len(address)  # selected on focus, ready for Ctrl+C
    page.locator("#export").scroll_into_view_if_needed()
    shots("calendar-copied")
    fits(page, size)

    # End now, from the own profile, leads to the digest.
    page.goto(base + "/in/bob/")
    page.get_by_test_id("away-self-end").click()
    page.wait_for_url("**/digest/")
    shots("digest")
    context.close()
