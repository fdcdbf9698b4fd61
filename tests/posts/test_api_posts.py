"""Posts through the API: create, read, edit, delete, permissions and limits."""

from __future__ import annotations

import pytest

from backsoon.network.actions import block_create
from backsoon.posts.models import Post
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_create_returns_the_post_with_counts_and_mentions(alice, bob):
    response = Api(alice).post("/posts", {"body": "  Hello @Bob, see https://example.com  "})
    assert response.status_code == 201, response.content
    post = response.json()
    assert post["body"] == "Hello @Bob, see https://example.com"
    assert post["author"]["username"] == "alice"
    assert post["mentions"] == ["bob"]
    assert post["counts"] == {"impressions": 0, "reactions": 0, "comments": 0, "shares": 0}
    assert post["my_reaction"] is None
    assert post["shared_post"] is None
    assert post["mentioned_away"] == []
    assert Api(bob).get(f"/posts/{post['id']}").json()["body"] == post["body"]


def test_text_limits_are_422_and_nothing_is_stored(alice):
    api = Api(alice)
    assert api.post("/posts", {"body": "x" * 3000}).status_code == 201
    assert_error(api.post("/posts", {"body": "x" * 3001}), 422, "body_too_long")
    assert_error(api.post("/posts", {"body": "   "}), 422, "empty_body")
    assert_error(api.post("/posts", {"body": "nul \x00 byte"}), 422, "invalid_body")
    assert_error(api.post("/posts", {}), 422, "validation_error")
    assert Post.objects.count() == 1


def test_windows_line_breaks_count_as_one_character(alice):
    body = "ab\r\n" * 750  # 3000 characters once \r\n becomes \n (trailing one trimmed)
    response = Api(alice).post("/posts", {"body": body})
    assert response.status_code == 201, response.content
    assert "\r" not in response.json()["body"]


def test_unknown_posts_are_404(alice):
    api = Api(alice)
    assert_error(api.get("/posts/999999"), 404, "post_not_found")
    assert_error(api.patch("/posts/999999", {"body": "x"}), 404, "post_not_found")
    assert_error(api.delete("/posts/999999"), 404, "post_not_found")
    assert_error(api.post("/posts/999999/reactions", {"type": "like"}), 404, "post_not_found")
    assert_error(api.post("/posts/999999/comments", {"body": "x"}), 404, "post_not_found")
    assert_error(api.get("/posts/999999/comments"), 404, "post_not_found")
    assert_error(api.post("/posts/999999/shares", {}), 404, "post_not_found")
    assert_error(api.get("/posts/999999/analytics"), 404, "post_not_found")


def test_posts_of_members_in_a_block_are_404_both_ways(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "hello"}).json()["id"]
    block_create(member=alice, username="bob")
    assert_error(Api(bob).get(f"/posts/{post_id}"), 404, "post_not_found")
    assert_error(Api(bob).post(f"/posts/{post_id}/reactions", {"type": "like"}), 404)
    bob_post = Api(bob).post("/posts", {"body": "mine"}).json()["id"]
    assert_error(Api(alice).get(f"/posts/{bob_post}"), 404, "post_not_found")


def test_posts_of_closed_accounts_are_404(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "hello"}).json()["id"]
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert_error(Api(bob).get(f"/posts/{post_id}"), 404, "post_not_found")


def test_only_the_author_edits(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "first"}).json()["id"]
    assert_error(Api(bob).patch(f"/posts/{post_id}", {"body": "hacked"}), 403, "not_author")
    response = Api(alice).patch(f"/posts/{post_id}", {"body": "second"})
    assert response.status_code == 200, response.content
    assert response.json()["body"] == "second"
    assert response.json()["edited_at"] is not None
    assert_error(Api(alice).patch(f"/posts/{post_id}", {"body": "y" * 3001}), 422, "body_too_long")
    assert Post.objects.get(pk=post_id).body == "second"


def test_only_the_author_deletes(alice, bob):
    post_id = Api(alice).post("/posts", {"body": "bye"}).json()["id"]
    Api(bob).post(f"/posts/{post_id}/comments", {"body": "a comment"})
    assert_error(Api(bob).delete(f"/posts/{post_id}"), 403, "not_author")
    assert Api(alice).delete(f"/posts/{post_id}").status_code == 204
    assert_error(Api(alice).get(f"/posts/{post_id}"), 404)
    assert not Post.objects.filter(pk=post_id).exists()


def test_shares_embed_the_post_and_count(alice, bob):
    carol = make_member("carol")
    original = Api(alice).post("/posts", {"body": "original"}).json()["id"]
    response = Api(bob).post(f"/posts/{original}/shares", {"comment": "Worth reading, @alice"})
    assert response.status_code == 201, response.content
    share = response.json()
    assert share["author"]["username"] == "bob"
    assert share["is_share"] is True
    assert share["body"] == "Worth reading, @alice"
    assert share["mentions"] == ["alice"]
    assert share["shared_post"]["id"] == original
    assert share["shared_post"]["counts"]["shares"] == 1
    # Sharing a share embeds the original, once.
    again = Api(carol).post(f"/posts/{share['id']}/shares", {}).json()
    assert again["shared_post"]["id"] == original
    assert again["body"] == ""
    assert Api(alice).get(f"/posts/{original}").json()["counts"]["shares"] == 2
    assert_error(Api(bob).post(f"/posts/{original}/shares", {"comment": "z" * 3001}), 422)


def test_deleting_a_share_lowers_the_count_and_deleting_the_original_keeps_shares(alice, bob):
    original = Api(alice).post("/posts", {"body": "original"}).json()["id"]
    share = Api(bob).post(f"/posts/{original}/shares", {"comment": "look"}).json()["id"]
    other = Api(bob).post(f"/posts/{original}/shares", {}).json()["id"]
    assert Api(bob).delete(f"/posts/{other}").status_code == 204
    assert Api(alice).get(f"/posts/{original}").json()["counts"]["shares"] == 1
    assert Api(alice).delete(f"/posts/{original}").status_code == 204
    kept = Api(bob).get(f"/posts/{share}").json()
    assert kept["is_share"] is True
    assert kept["shared_post"] is None
    assert kept["body"] == "look"


def test_a_share_may_lose_its_comment_but_a_post_may_not_lose_its_text(alice, bob):
    original = Api(alice).post("/posts", {"body": "original"}).json()["id"]
    share = Api(bob).post(f"/posts/{original}/shares", {"comment": "look"}).json()["id"]
    assert Api(bob).patch(f"/posts/{share}", {"body": ""}).json()["body"] == ""
    assert_error(Api(alice).patch(f"/posts/{original}", {"body": ""}), 422, "empty_body")


def test_api_needs_a_token():
    assert_error(Api().post("/posts", {"body": "x"}), 401, "not_authenticated")
    assert_error(Api().get("/feed"), 401, "not_authenticated")
