"""The feed: candidates, reasons, ranking by relative engagement, paging, query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.network.actions import block_create, follow_create
from backsoon.posts.models import Post
from tests.conftest import Api, assert_error
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def post(member: Member, body: str, **counts) -> int:
    post_id = Api(member).post("/posts", {"body": body}).json()["id"]
    if counts:
        Post.objects.filter(pk=post_id).update(**counts)
    return post_id


def feed(member: Member, **params) -> dict:
    response = Api(member).get("/feed", **params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


@pytest.fixture
def viewer(db) -> Member:
    return make_member("viewer")


@pytest.fixture
def followed(viewer) -> Member:
    member = make_member("followed")
    follow_create(member=viewer, username="followed")
    return member


@pytest.fixture
def stranger(db) -> Member:
    return make_member("stranger")


def test_candidates_are_follows_own_posts_and_what_follows_engaged_with(viewer, followed, stranger):
    by_followed = post(followed, "by a followed member")
    mine = post(viewer, "my own")
    commented = post(stranger, "commented by followed")
    reacted = post(stranger, "reacted to by followed")
    shared = post(stranger, "shared by followed")
    unseen = post(stranger, "nobody I follow touched this")
    Api(followed).post(f"/posts/{commented}/comments", {"body": "good"})
    Api(followed).post(f"/posts/{commented}/reactions", {"type": "like"})
    Api(followed).post(f"/posts/{reacted}/reactions", {"type": "like"})
    plain_share = Api(followed).post(f"/posts/{shared}/shares", {}).json()["id"]

    items = {item["id"]: item for item in feed(viewer)["items"]}
    assert set(items) == {by_followed, mine, commented, reacted, shared}
    assert unseen not in items and plain_share not in items
    assert items[by_followed]["reason"] is None
    assert items[mine]["reason"] is None
    assert items[commented]["reason"] == {"type": "commented", "by": "followed"}
    assert items[reacted]["reason"] == {"type": "reacted", "by": "followed"}
    assert items[shared]["reason"] == {"type": "shared", "by": "followed"}


def test_a_share_with_a_comment_is_shown_as_the_share(viewer, followed, stranger):
    original = post(stranger, "original")
    share = Api(followed).post(f"/posts/{original}/shares", {"comment": "Read this"}).json()["id"]
    items = {item["id"]: item for item in feed(viewer)["items"]}
    assert share in items
    assert items[share]["shared_post"]["id"] == original
    assert items[share]["reason"] is None


def test_only_the_last_14_days(viewer, followed, stranger):
    old = post(followed, "old")
    Post.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=15))
    fresh = post(followed, "fresh")
    old_stranger = post(stranger, "old but commented today")
    Post.objects.filter(pk=old_stranger).update(created_at=timezone.now() - timedelta(days=20))
    Api(followed).post(f"/posts/{old_stranger}/comments", {"body": "late reply"})
    assert ids(feed(viewer)) == [fresh]


def test_blocked_authors_never_appear(viewer, followed, stranger):
    hidden = post(stranger, "blocked author")
    Api(followed).post(f"/posts/{hidden}/comments", {"body": "hi"})
    block_create(member=stranger, username="viewer")
    assert hidden not in ids(feed(viewer))


def test_relative_engagement_beats_raw_numbers(viewer):
    small = make_member("small")
    big = make_member("big")
    for author in ("small", "big"):
        follow_create(member=viewer, username=author)
    Member.objects.filter(pk=small.pk).update(followers_count=200)
    Member.objects.filter(pk=big.pk).update(followers_count=50_000)
    big_post = post(big, "400 reactions from 50,000 followers", reactions_count=400)
    small_post = post(small, "40 reactions from 200 followers", reactions_count=40)
    same_time = timezone.now() - timedelta(hours=2)
    Post.objects.filter(pk__in=[big_post, small_post]).update(created_at=same_time)
    assert ids(feed(viewer)) == [small_post, big_post]


def test_recency_and_connections_count(viewer):
    friend = make_member("friend")
    followee = make_member("followee")
    connect(viewer, friend)
    follow_create(member=viewer, username="followee")
    yesterday = post(followee, "yesterday")
    Post.objects.filter(pk=yesterday).update(created_at=timezone.now() - timedelta(days=1))
    from_followee = post(followee, "now, followed")
    from_friend = post(friend, "now, connection")
    Post.objects.filter(pk__in=[from_followee, from_friend]).update(created_at=timezone.now())
    Member.objects.filter(pk__in=[friend.pk, followee.pk]).update(followers_count=1)
    assert ids(feed(viewer)) == [from_friend, from_followee, yesterday]


def test_pages_cover_everything_once_and_ignore_newer_posts(viewer, followed):
    made = [post(followed, f"post {i}") for i in range(25)]
    first = feed(viewer, limit=10)
    assert len(first["items"]) == 10
    post(followed, "made after the first page")
    second = feed(viewer, limit=10, cursor=first["next_cursor"])
    third = feed(viewer, limit=10, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    seen = ids(first) + ids(second) + ids(third)
    assert sorted(seen) == sorted(made)


def test_bad_cursor_and_limit_are_422(viewer):
    assert_error(Api(viewer).get("/feed", cursor="not-a-cursor"), 422, "bad_cursor")
    assert_error(Api(viewer).get("/feed", cursor="eyJvIjotMSwidCI6MS4wfQ"), 422, "bad_cursor")
    assert_error(Api(viewer).get("/feed", limit=0), 422)
    assert_error(Api(viewer).get("/feed", limit=101), 422)


def test_feed_query_count_does_not_grow_with_posts(viewer, django_assert_max_num_queries):
    authors = [make_member(f"author{i}") for i in range(3)]
    for author in authors:
        follow_create(member=viewer, username=author.username)
        post(author, f"hello from @{author.username}")
    with django_assert_max_num_queries(16):
        assert len(feed(viewer)["items"]) == 3
    more = [make_member(f"extra{i}") for i in range(12)]
    for author in more:
        follow_create(member=viewer, username=author.username)
        original = post(author, f"by @{author.username} for @viewer")
        Api(author).post(f"/posts/{original}/shares", {"comment": "again"})
        Api(authors[0]).post(f"/posts/{original}/comments", {"body": "nice"})
    with django_assert_max_num_queries(16):
        assert len(feed(viewer)["items"]) == 20
