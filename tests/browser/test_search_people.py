"""People search in the browser (issue 18, item 5), laptop and phone, English and Dutch:
exact name matches first, the number of results shown. Screenshots go to
var/screenshots/<test>/."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import Shots
from tests.factories import connect, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (375, 812), "laptop": (1280, 800)}
COUNT = {"en": re.compile(r"\b4 people\b"), "nl": re.compile(r"\b4 mensen\b")}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["en", "nl"])
def test_search_finds_pieter_first_and_counts(browser, wsgi_server, request, size, language):
    me = make_member("sanne", display_name="Sanne Visser", language=language)
    for i, name in enumerate(["Pieterjan Bos", "Anna Pieters", "Pieter Smit", "Pietro Rossi"]):
        other = make_member(f"other{i}", display_name=name, headline="Consultant")
        if name == "Pieter Smit":
            connect(me, other)
    make_member("pieter", display_name="Pieter", headline="LinkedIn trainer")
    client = Client()
    client.force_login(me)
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="nl-NL" if language == "nl" else "en-GB",
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": wsgi_server}]
    )
    page = context.new_page()
    shots = Shots(page, request.node.name.replace("[", "-").replace("]", ""))
    page.goto(wsgi_server + "/search/?q=Pieter")
    main = page.locator("main")
    expect(main).to_contain_text(COUNT[language])
    names = main.locator(".member-name").all_inner_texts()
    # The whole name first, then a first name (a connection); Pietro is no Pieter.
    assert names[0] == "Pieter", names
    assert names[1] == "Pieter Smit", names
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shots("results")
    context.close()
