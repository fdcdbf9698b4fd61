"""Issue 18, item 6: ``/favicon.ico`` exists (browsers ask for it on every site)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_issue18_favicon_ico_leads_to_the_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/web/favicon")
    assert response["Location"].endswith(".svg")
    icon = finders.find("web/favicon.svg")
    assert icon is not None
    with open(icon, encoding="utf-8") as file:
        assert file.read().startswith("<svg ")


def test_issue18_pages_name_the_icon():
    page = Client().get("/login/")
    assert b'rel="icon"' in page.content
    assert b"/static/web/favicon" in page.content
