"""Issue 18, item 4: the API docs page linked in every footer renders in Chromium,
with no error and the operations listed, at laptop and phone size."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_issue18_api_docs_render_the_operations(page, shots):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page.base_url + "/login/")
    page.get_by_role("link", name="API").click()
    page.wait_for_url("**/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Backsoon API")
    shots("docs")
    assert page.locator(".opblock").count() > 30
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/auth/signup")).to_have_count(1)
    # Swagger UI shows its parser's errors ("duplicated mapping key") in an errors box.
    expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)
    expect(page.get_by_text("duplicated mapping key")).to_have_count(0)
    assert errors == []
