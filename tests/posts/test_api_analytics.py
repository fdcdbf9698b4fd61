"""Post analytics: author only (403 for a visible post of someone else, 404 if invisible)."""

from __future__ import annotations

import pytest

from backsoon.network.actions import block_create
from backsoon.posts.impressions import impressions_flush
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_the_author_sees_the_numbers(alice, bob):
    carol = make_member("carol")
    post_id = Api(alice).post("/posts", {"body": "measure me"}).json()["id"]
    Api(bob).post(f"/posts/{post_id}/reactions", {"type": "like"})
    Api(carol).post(f"/posts/{post_id}/reactions", {"type": "celebrate"})
    Api(bob).post(f"/posts/{post_id}/comments", {"body": "hi"})
    Api(carol).post(f"/posts/{post_id}/shares", {})
    dave, erin = make_member("dave"), make_member("erin")
    for member in (bob, carol, bob, carol, dave, erin):
        # A member counts once an hour (issue 14, finding 6): bob and carol count once.
        Api(member).post("/views", {"post_ids": [post_id]})
    impressions_flush()

    response = Api(alice).get(f"/posts/{post_id}/analytics")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["post"] == post_id
    assert data["impressions"] == 4
    assert data["impressions_estimate"] is True
    assert data["unique_viewers"] == 4
    assert data["reactions"]["total"] == 2
    assert data["reactions"]["by_type"] == {
        "like": 1,
        "celebrate": 1,
        "support": 0,
        "love": 0,
        "insightful": 0,
        "funny": 0,
    }
    assert (data["comments"], data["shares"]) == (1, 1)
    assert data["engagement_rate"] == 1.0  # 4 engagements / 4 impressions
    points = data["series"]["points"]
    assert points[0]["granularity"] == "hour"
    assert sum(p["impressions"] for p in points) == 4
    assert sum(p["reactions"] for p in points) == 2


def test_without_impressions_the_rate_is_null(alice):
    post_id = Api(alice).post("/posts", {"body": "quiet"}).json()["id"]
    assert Api(alice).get(f"/posts/{post_id}/analytics").json()["engagement_rate"] is None


def test_others_get_403_and_those_who_may_not_see_it_404(alice, bob):
    carol = make_member("carol")
    post_id = Api(alice).post("/posts", {"body": "mine"}).json()["id"]
    assert_error(Api(bob).get(f"/posts/{post_id}/analytics"), 403, "not_author")
    block_create(member=alice, username="carol")
    assert_error(Api(carol).get(f"/posts/{post_id}/analytics"), 404, "post_not_found")
