"""Browser: the away page and the editor say one return day one way (AWAY-SPEC A6), in
English and Dutch, at laptop (1280x800) and phone (375x812) size; the editor has one
box per language, the member's own first, and refuses {backup} without a backup.

Screenshots: var/screenshots/away-return-day/<language>-<size>-<step>.png
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backsoon.away.models import Absence
from tests.browser.conftest import SCREENSHOTS
from tests.factories import PASSWORD, connect, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMS = ZoneInfo("Europe/Amsterdam")
SIZES = {"laptop": (1280, 800), "phone": (375, 812)}
WORDS = {
    "en": {
        "login": "Log in",
        "back": "You are away, back on Monday",
        "badge": "Away, back on Monday",
        "first_box": "Automatic reply in English",
        "second_box": "In Dutch",
        "save": "Save",
        "backup_error": "you chose no backup contact",
    },
    "nl": {
        "login": "Inloggen",
        "back": "Je bent afwezig, terug op maandag",
        "badge": "Afwezig, terug op maandag",
        "first_box": "Automatisch antwoord in het Nederlands",
        "second_box": "In het Engels",
        "save": "Opslaan",
        "backup_error": "je koos geen vervanger",
    },
}


@pytest.mark.parametrize("size", ["laptop", "phone"])
@pytest.mark.parametrize("language", ["en", "nl"])
def test_A6_away_page_and_editor_in_both_languages(browser, live_server, language, size):
    words = WORDS[language]
    member = make_member("pieter", display_name="Pieter Bakker", language=language)
    member.timezone = "Europe/Amsterdam"
    member.save(update_fields=["timezone"])
    friend = make_member("sanne", display_name="Sanne Visser", language=language)
    connect(member, friend)
    today = timezone.now().astimezone(AMS).date()
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    end = datetime.combine(friday + timedelta(days=1), time(0), tzinfo=AMS)
    absence = Absence.objects.create(
        member=member,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=end,
        message={"en": "Back on {return_date}.", "nl": "Terug op {return_date}."}[language],
        translations={
            "en" if language == "nl" else "nl": {
                "en": "Terug op {return_date}.",
                "nl": "Back on {return_date}.",
            }[language]
        },
    )
    out = SCREENSHOTS / "away-return-day"
    out.mkdir(parents=True, exist_ok=True)
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:

        def shot(step: str) -> None:
            page.screenshot(path=str(out / f"{language}-{size}-{step}.png"), full_page=True)

        page.goto(live_server.url + "/login/")
        page.locator("input[name=username]").fill("pieter")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(live_server.url + "/")

        page.goto(live_server.url + "/away/")
        expect(page.get_by_test_id("away-banner")).to_contain_text(words["back"])
        expect(page.get_by_test_id("away-current")).to_contain_text(words["back"])
        shot("away-page")

        page.goto(live_server.url + f"/away/{absence.pk}/edit/")
        boxes = page.locator(".away-text textarea")
        expect(boxes).to_have_count(2)
        first_label = page.locator(".away-text label").first
        expect(first_label).to_have_text(words["first_box"])
        expect(page.locator(".away-text label").nth(1)).to_have_text(words["second_box"])
        shot("editor")

        boxes.first.fill("Contact {backup}.")
        page.locator("[data-testid=away-save]").click()
        expect(page.locator(".away-backup .error")).to_contain_text(words["backup_error"])
        shot("editor-backup-error")
        absence.refresh_from_db()
        assert "{backup}" not in absence.message  # nothing saved

        page.goto(live_server.url + "/in/pieter/")
        shot("own-profile")
    finally:
        context.close()

    # What a connection sees: the badge with the same day.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login/")
        page.locator("input[name=username]").fill("sanne")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(live_server.url + "/")
        page.goto(live_server.url + "/in/pieter/")
        expect(page.get_by_test_id("away-badge")).to_contain_text(words["badge"])
        page.screenshot(path=str(out / f"{language}-{size}-badge.png"), full_page=True)
    finally:
        context.close()
