"""Browser journey: sign up, log out, log in, edit your headline, see it on your profile."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signup_login_edit_headline(page, shots):
    base = page.base_url
    page.goto(base + "/")
    shots("landing")
    page.get_by_role("link", name="Join now").first.click()
    page.get_by_label("Full name").fill("Eva Kuipers")
    page.get_by_label("Username").fill("eva")
    page.get_by_label("Email").fill("eva@example.com")
    page.get_by_label("Password").fill("a-very-private-passphrase")
    shots("signup-form")
    page.get_by_role("button", name="Agree and join").click()
    page.wait_for_url(base + "/")
    shots("home-after-signup")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(base + "/login/")
    page.get_by_label("Username").fill("eva")
    page.get_by_label("Password").fill("a-very-private-passphrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")

    page.goto(base + "/settings/profile/")
    page.get_by_label("Headline").fill("Notary in Haarlem")
    shots("edit-profile")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(base + "/in/eva/")
    assert page.get_by_test_id("profile-headline").inner_text() == "Notary in Haarlem"
    shots("profile")
