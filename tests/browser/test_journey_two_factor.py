"""Browser journey (issue 14, item 11): set up two-factor authentication on the security
page with a code computed by pyotp, make an API token, then sign in again with a code.
In English and in Dutch, on a laptop and a phone (screenshots in var/screenshots/)."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.factories import PASSWORD, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _submit(page, form_testid: str) -> None:
    page.locator(f"form[data-testid={form_testid}] button[type=submit]").click()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_enable_two_factor_and_log_in_with_a_code(page, shots, language):
    base = page.base_url
    make_member("eva", display_name="Eva Kuipers", language=language)
    page.goto(base + "/login/")
    page.get_by_label("Username").fill("eva")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")

    page.goto(base + "/settings/security/")
    assert page.get_by_test_id("two-factor-status").inner_text() == (
        "Off" if language == "en" else "Uit"
    )
    shots("security-off")
    page.get_by_test_id("two-factor-setup").click()
    page.wait_for_url(base + "/settings/security/two-factor/")
    assert page.get_by_test_id("two-factor-qr").is_visible()
    secret = page.get_by_test_id("two-factor-secret").text_content().replace(" ", "")
    shots("setup")
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    _submit(page, "two-factor-setup-form")
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    shots("recovery-codes")
    page.get_by_role("link", name="Continue" if language == "en" else "Verder").click()
    page.wait_for_url(base + "/settings/security/")
    assert page.get_by_test_id("two-factor-status").inner_text() == (
        "On" if language == "en" else "Aan"
    )

    page.locator("form[data-testid=token-form] input[name=name]").fill("Laptop script")
    _submit(page, "token-form")
    token = page.get_by_test_id("new-token-value").inner_text()
    assert token.startswith("bs_")
    assert "Laptop script" in page.get_by_test_id("tokens").inner_text()
    shots("token-made")

    # Sign out and in again: the password is not enough any more.
    page.locator("header form[action='/logout/'] button").click()
    page.wait_for_url(base + "/login/")
    page.get_by_label("Username").fill("eva")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/login/code/")
    page.locator("input[name=code]").fill("000000")
    _submit(page, "login-code-form")
    assert page.get_by_role("alert").count() or page.locator(".error").count()
    assert page.url == base + "/login/code/"
    shots("wrong-code")
    # The code of the next 30-second step (the set-up used this one; codes are single use).
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30))
    _submit(page, "login-code-form")
    page.wait_for_url(base + "/")
    page.goto(base + "/settings/security/")
    shots("security-on")
