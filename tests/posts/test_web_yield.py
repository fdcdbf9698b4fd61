"""The yield pages (TRIAGE-SPEC Y5): the funnel first on the author's post and analytics,
the people behind each step with a message link, who reacted, all my posts by yield."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.network.actions import block_create, invitation_accept, invitation_send
from backsoon.posts import actions as post_actions
from backsoon.posts.models import Post
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def _story(alice: Member, bob: Member) -> Post:
    """Bob reacts to Alice's post, then they connect (a yield of one)."""
    post = post_actions.post_create(author=alice, body="What does a post bring?").post
    post_actions.reaction_set(member=bob, post_id=post.pk, type="insightful")
    invitation = invitation_send(sender=alice, to_username=bob.username)
    invitation_accept(member=bob, invitation_id=invitation.pk)
    Post.objects.filter(pk=post.pk).update(impressions_count=3_000_015, unique_viewers=100_000)
    return post


def test_the_author_sees_the_yield_first_on_the_post_and_its_analytics(alice, bob):
    post = _story(alice, bob)
    client = logged_in(alice)
    for url, shown in (
        (f"/posts/{post.pk}/", 'data-testid="post-body"'),
        (f"/posts/{post.pk}/analytics/", 'data-testid="analytics-post"'),
    ):
        html = page(client, url)
        assert html.index('data-testid="yield-funnel"') < html.index(shown)
        assert re.search(r'data-testid="yield-value">1<', html)
        assert 'data-testid="funnel-connections">1<' in html
        assert f'href="/posts/{post.pk}/yield/connections/"' in html
    # Others see the post without its yield.
    assert 'data-testid="yield-funnel"' not in page(logged_in(bob), f"/posts/{post.pk}/")


def test_dutch_numbers_have_one_format_on_cards_and_funnel(alice, bob):
    post = _story(alice, bob)
    Member.objects.filter(pk=alice.pk).update(language="nl")
    client = logged_in(alice)
    client.cookies["django_language"] = "nl"
    html = page(client, f"/posts/{post.pk}/analytics/", 200)
    assert "3.000.015" in html and "3,000,015" not in html
    assert "Wat dit bericht opleverde" in html


def test_the_people_behind_a_step_each_with_a_message_link(alice, bob):
    post = _story(alice, bob)
    html = page(logged_in(alice), f"/posts/{post.pk}/yield/connections/")
    assert "@bob" in html
    assert '/messaging/new/?to=bob"' in html
    assert 'aria-current="page"' in html


def test_long_lists_of_people_page(alice):
    post = post_actions.post_create(author=alice, body="popular").post
    fans = [make_member(f"fan{i:02d}") for i in range(30)]
    for fan in fans:
        post_actions.reaction_set(member=fan, post_id=post.pk, type="like")
    client = logged_in(alice)
    first = page(client, f"/posts/{post.pk}/yield/engaged/")
    assert first.count('data-testid="message-link"') == 25
    cursor = re.search(r'href="\?cursor=([^"]+)" data-testid="next-page"', first).group(1)
    second = page(client, f"/posts/{post.pk}/yield/engaged/?cursor={cursor}")
    assert second.count('data-testid="message-link"') == 5
    assert 'data-testid="next-page"' not in second
    # A forged cursor starts over rather than failing.
    assert client.get(f"/posts/{post.pk}/yield/engaged/?cursor=bad").status_code == 302


def test_the_yield_pages_are_for_the_author_only(alice, bob):
    post = _story(alice, bob)
    carol = make_member("carol")
    # Someone else's post: a 404, as in the API (API.md: author only, else 404).
    assert logged_in(carol).get(f"/posts/{post.pk}/yield/engaged/").status_code == 404
    assert logged_in(alice).get(f"/posts/{post.pk}/yield/reach/").status_code == 404
    block_create(member=alice, username=carol.username)
    assert logged_in(carol).get(f"/posts/{post.pk}/yield/engaged/").status_code == 404
    assert Client().get(f"/posts/{post.pk}/yield/engaged/").status_code == 302  # to log in
    assert Client().get("/posts/yield/").status_code == 302


def test_the_reaction_count_links_to_who_reacted(alice, bob):
    post = _story(alice, bob)
    carol = make_member("carol")
    html = page(logged_in(carol), f"/posts/{post.pk}/")
    assert f'href="/posts/{post.pk}/reactions/" data-testid="reaction-count"' in html
    html = page(logged_in(carol), f"/posts/{post.pk}/reactions/")
    assert "@bob" in html and '/messaging/new/?to=bob"' in html


def test_my_posts_side_by_side_ranked_by_yield_with_reach(alice, bob):
    viral = post_actions.post_create(author=alice, body="The viral one").post
    Post.objects.filter(pk=viral.pk).update(impressions_count=3_000_000)
    ordinary = _story(alice, bob)
    Post.objects.filter(pk=ordinary.pk).update(
        impressions_count=800, created_at=timezone.now() - timedelta(days=2)
    )
    html = page(logged_in(alice), "/posts/yield/")
    rows = re.findall(r'<tr data-post-id="(\d+)">', html)
    assert rows == [str(ordinary.pk), str(viral.pk)]
    assert "3,000,000" in html
    assert '<script id="yield-data" type="application/json">' in html
    assert "/static/posts/yield.js" in html


def test_my_posts_page_pages(alice):
    for i in range(30):
        post_actions.post_create(author=alice, body=f"post {i}")
    client = logged_in(alice)
    html = page(client, "/posts/yield/")
    assert len(re.findall(r"<tr data-post-id=", html)) == 25
    assert 'data-testid="next-page"' in html
    assert len(re.findall(r"<tr data-post-id=", page(client, "/posts/yield/?page=2"))) == 5


def test_analytics_chart_has_axis_titles_reaction_types_and_the_member_time_zone(alice, bob):
    post = _story(alice, bob)
    html = page(logged_in(alice), f"/posts/{post.pk}/analytics/")
    assert "data-types-chart" in html
    assert '"hour_axis": "Hour (your time zone: Europe/Amsterdam)"' in html
    assert '"timezone": "Europe/Amsterdam"' in html
    assert f'href="/posts/{post.pk}/reactions/"' in html
