"""Browser journey (TRIAGE-SPEC Y5): the author sees what a post brought, opens the people
behind a step, writes to one of them, and compares all posts by yield; on a laptop
and on a phone, with no horizontal scrolling and no script errors."""

from __future__ import annotations

import pytest

from backsoon.network.actions import invitation_accept, invitation_send
from backsoon.posts import actions as post_actions
from backsoon.posts.models import Post
from tests.factories import PASSWORD, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(page.base_url + "/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_see_what_a_post_brought_and_write_to_the_people(page, shots):
    alice = make_member("alice", display_name="Alice Smit", headline="Trainer")
    bob = make_member("bob", display_name="Bob de Boer", headline="HR business partner")
    viral = post_actions.post_create(author=alice, body="A post that went everywhere").post
    Post.objects.filter(pk=viral.pk).update(impressions_count=3_000_000, unique_viewers=900_000)
    post = post_actions.post_create(author=alice, body="Three things I learned").post
    post_actions.reaction_set(member=bob, post_id=post.pk, type="insightful")
    for i in range(30):
        fan = make_member(f"fan{i:02d}", display_name=f"Fan {i:02d}")
        post_actions.reaction_set(member=fan, post_id=post.pk, type="like")
    invitation = invitation_send(sender=alice, to_username=bob.username)
    invitation_accept(member=bob, invitation_id=invitation.pk)
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
    page.goto(f"{page.base_url}/posts/{post.pk}/")
    funnel = page.get_by_test_id("yield-funnel")
    assert funnel.get_by_test_id("yield-value").inner_text() == "1"
    assert funnel.get_by_test_id("funnel-engaged").inner_text() == "31"
    assert _fits(page)
    shots("post-with-yield")

    funnel.get_by_role("link", name="See who: New connections").click()
    people = page.get_by_test_id("yield-people")
    assert "Bob de Boer" in people.inner_text()
    assert _fits(page)
    shots("new-connections")

    page.get_by_role("link", name="Engaged").first.click()
    assert page.get_by_test_id("message-link").count() == 25
    page.get_by_test_id("next-page").click()
    assert page.get_by_test_id("message-link").count() == 6
    shots("engaged-page-2")
    page.get_by_test_id("message-link").first.click()
    page.wait_for_url("**/messaging/new/?to=*")

    page.goto(f"{page.base_url}/posts/{post.pk}/")
    page.get_by_test_id("reaction-count").click()
    assert page.get_by_test_id("reactors").get_by_role("listitem").count() == 25
    shots("who-reacted")

    page.goto(f"{page.base_url}/posts/{post.pk}/analytics/")
    assert page.locator("canvas[data-types-chart]").bounding_box()["height"] > 100
    assert _fits(page)
    shots("analytics")

    page.goto(f"{page.base_url}/posts/yield/")
    rows = page.get_by_test_id("yield-table").locator("tbody tr")
    assert rows.count() == 2
    assert "Three things I learned" in rows.first.inner_text()  # yield ranks, not reach
    assert "3,000,000" in rows.nth(1).inner_text()
    assert page.locator("#yield-chart").bounding_box()["height"] > 200
    assert _fits(page)
    shots("my-posts-by-yield")
    assert problems == []
