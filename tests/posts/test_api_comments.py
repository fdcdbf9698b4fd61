"""Comments: limits, replies one level deep, deletion rights, grouped notifications."""

from __future__ import annotations

import pytest

from backsoon.notifications.models import Notification
from backsoon.posts.models import Comment, Post
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_id(alice) -> int:
    return Api(alice).post("/posts", {"body": "Comment on me"}).json()["id"]


def test_comment_is_201_with_the_comment(alice, bob, post_id):
    response = Api(bob).post(f"/posts/{post_id}/comments", {"body": "Nice one, @alice"})
    assert response.status_code == 201, response.content
    comment = response.json()
    assert comment["post"] == post_id
    assert comment["parent"] is None
    assert comment["author"]["username"] == "bob"
    assert comment["mentions"] == ["alice"]
    assert comment["mentioned_away"] == []
    assert Post.objects.get(pk=post_id).comments_count == 1


def test_comment_limits(bob, post_id):
    api = Api(bob)
    assert api.post(f"/posts/{post_id}/comments", {"body": "c" * 1250}).status_code == 201
    assert_error(api.post(f"/posts/{post_id}/comments", {"body": "c" * 1251}), 422, "body_too_long")
    assert_error(api.post(f"/posts/{post_id}/comments", {"body": " "}), 422, "empty_body")
    assert Comment.objects.count() == 1
    assert Post.objects.get(pk=post_id).comments_count == 1


def test_replies_are_one_level_deep(alice, bob, post_id):
    top = Api(bob).post(f"/posts/{post_id}/comments", {"body": "top"}).json()["id"]
    reply = Api(alice).post(f"/posts/{post_id}/comments", {"body": "reply", "parent": top}).json()
    assert reply["parent"] == top
    deeper = (
        Api(bob)
        .post(f"/posts/{post_id}/comments", {"body": "reply to reply", "parent": reply["id"]})
        .json()
    )
    assert deeper["parent"] == top


def test_a_parent_on_another_post_is_422(alice, bob, post_id):
    other = Api(alice).post("/posts", {"body": "other"}).json()["id"]
    foreign = Api(bob).post(f"/posts/{other}/comments", {"body": "there"}).json()["id"]
    response = Api(bob).post(f"/posts/{post_id}/comments", {"body": "x", "parent": foreign})
    assert_error(response, 422, "invalid_parent")
    assert_error(
        Api(bob).post(f"/posts/{post_id}/comments", {"body": "x", "parent": 999999}),
        422,
        "invalid_parent",
    )
    assert Post.objects.get(pk=post_id).comments_count == 0


def test_list_is_oldest_first_and_paged(alice, bob, post_id):
    ids = [
        Api(bob).post(f"/posts/{post_id}/comments", {"body": f"c{i}"}).json()["id"]
        for i in range(5)
    ]
    first = Api(alice).get(f"/posts/{post_id}/comments", limit=3).json()
    assert [c["id"] for c in first["items"]] == ids[:3]
    second = (
        Api(alice).get(f"/posts/{post_id}/comments", limit=3, cursor=first["next_cursor"]).json()
    )
    assert [c["id"] for c in second["items"]] == ids[3:]
    assert second["next_cursor"] is None
    assert_error(Api(alice).get(f"/posts/{post_id}/comments", cursor="!!"), 422)


def test_comment_author_or_post_author_may_delete_nobody_else(alice, bob, post_id):
    carol = make_member("carol")
    by_bob = Api(bob).post(f"/posts/{post_id}/comments", {"body": "bob's"}).json()["id"]
    by_carol = Api(carol).post(f"/posts/{post_id}/comments", {"body": "carol's"}).json()["id"]
    assert_error(Api(carol).delete(f"/posts/{post_id}/comments/{by_bob}"), 403, "not_author")
    assert Api(bob).delete(f"/posts/{post_id}/comments/{by_bob}").status_code == 204
    assert Api(alice).delete(f"/posts/{post_id}/comments/{by_carol}").status_code == 204
    assert Post.objects.get(pk=post_id).comments_count == 0
    assert_error(
        Api(alice).delete(f"/posts/{post_id}/comments/{by_carol}"), 404, "comment_not_found"
    )


def test_a_comment_is_deleted_with_its_replies(alice, bob, post_id):
    top = Api(bob).post(f"/posts/{post_id}/comments", {"body": "top"}).json()["id"]
    for i in range(2):
        Api(alice).post(f"/posts/{post_id}/comments", {"body": f"r{i}", "parent": top})
    assert Post.objects.get(pk=post_id).comments_count == 3
    assert Api(bob).delete(f"/posts/{post_id}/comments/{top}").status_code == 204
    assert Post.objects.get(pk=post_id).comments_count == 0
    assert not Comment.objects.exists()


def test_deleting_a_comment_through_another_post_is_404(alice, bob, post_id):
    other = Api(alice).post("/posts", {"body": "other"}).json()["id"]
    comment = Api(bob).post(f"/posts/{post_id}/comments", {"body": "hi"}).json()["id"]
    assert_error(Api(bob).delete(f"/posts/{other}/comments/{comment}"), 404, "comment_not_found")


def test_comments_notify_the_author_grouped_and_the_replied_to(alice, bob, post_id):
    carol = make_member("carol")
    top = Api(bob).post(f"/posts/{post_id}/comments", {"body": "one"}).json()["id"]
    Api(carol).post(f"/posts/{post_id}/comments", {"body": "two", "parent": top})
    Api(carol).post(f"/posts/{post_id}/comments", {"body": "three"})
    to_alice = Notification.objects.get(recipient=alice, type=Notification.Type.COMMENT)
    assert (to_alice.count, to_alice.actor_id, to_alice.group_key) == (
        3,
        carol.pk,
        f"post:{post_id}:comment",
    )
    to_bob = Notification.objects.get(recipient=bob, type=Notification.Type.COMMENT)
    assert (to_bob.count, to_bob.group_key) == (1, f"post:{post_id}:reply")


def test_comment_list_query_count_does_not_grow(alice, bob, post_id, django_assert_max_num_queries):
    carol = make_member("carol")
    for i in range(3):
        Api(bob).post(f"/posts/{post_id}/comments", {"body": f"@carol c{i}"})
    api = Api(alice)
    api.get("/me")  # a token's last use is written on its first request (then once a minute)
    with django_assert_max_num_queries(7):
        small = api.get(f"/posts/{post_id}/comments")
    assert len(small.json()["items"]) == 3
    for i in range(20):
        Api(make_member(f"writer{i}")).post(
            f"/posts/{post_id}/comments", {"body": f"@{carol.username} {i}"}
        )
    with django_assert_max_num_queries(7):
        big = api.get(f"/posts/{post_id}/comments")
    assert len(big.json()["items"]) == 20
