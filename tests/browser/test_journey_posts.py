"""Browser journey: post, react, comment, see the counts, the notification and the analytics."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, connect, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(page.base_url + "/")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(page.base_url + "/login/")


def test_post_react_comment_and_see_it(page, shots):
    alice = make_member("alice", display_name="Alice Smit", headline="Designer in Utrecht")
    bob = make_member("bob", display_name="Bob de Boer", headline="Engineer at a bridge builder")
    connect(alice, bob)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))

    log_in(page, alice.username)
    shots("home-empty")
    page.get_by_label("Start a post").fill(
        "Looking for tips on accessible forms, @bob?\n"
        "Notes so far: https://example.com/forms <b>not bold</b>"
    )
    page.get_by_role("button", name="Post", exact=True).click()
    page.wait_for_url(page.base_url + "/")
    post = page.get_by_test_id("post").first
    assert "Your post is published." in page.get_by_role("list").first.inner_text()
    body = post.get_by_test_id("post-body")
    assert "<b>not bold</b>" in body.inner_text()
    assert body.get_by_role("link", name="@bob").get_attribute("href") == "/in/bob/"
    assert body.get_by_role("link", name="https://example.com/forms").count() == 1
    shots("posted")
    log_out(page)

    log_in(page, bob.username)
    post = page.get_by_test_id("post").first
    assert "Looking for tips" in post.inner_text()
    post.get_by_role("button", name="Celebrate").click()
    page.wait_for_url("**/#post-*")
    post = page.get_by_test_id("post").first
    assert post.get_by_test_id("reaction-count").inner_text() == "1 reaction"
    assert post.get_by_role("button", name="Celebrate").get_attribute("aria-pressed") == "true"
    shots("reacted")
    post.get_by_role("link", name="Comment", exact=True).click()
    page.get_by_label("Add a comment").fill("Label every field, and try it with a screen reader.")
    page.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_url("**/posts/*/#comment-*")
    comment = page.get_by_test_id("comment").first
    assert "screen reader" in comment.get_by_test_id("comment-body").inner_text()
    assert page.get_by_test_id("comment-count").first.inner_text() == "1 comment"
    shots("commented")
    log_out(page)

    log_in(page, alice.username)
    activity = page.get_by_test_id("post-activity")
    text = activity.inner_text()
    assert "Bob de Boer commented on your post" in text
    assert "Bob de Boer reacted to your post" in text
    post = page.get_by_test_id("post").first
    assert post.get_by_test_id("reaction-count").inner_text() == "1 reaction"
    assert post.get_by_test_id("comment-count").inner_text() == "1 comment"
    shots("author-sees-activity")

    post.locator("summary").click()
    shots("post-menu")
    post.get_by_role("link", name="Analytics").click()
    page.wait_for_url("**/analytics/")
    assert page.get_by_test_id("stat-reactions").inner_text() == "1"
    page.wait_for_function(
        "() => document.getElementById('chart-hour').getBoundingClientRect().height > 100"
    )
    # The first three days per hour, and the reactions by type.
    assert page.evaluate("() => window.Chart && Object.keys(window.Chart.instances).length") == 2
    shots("analytics")
    assert problems == []  # no script errors, no Content Security Policy violations
