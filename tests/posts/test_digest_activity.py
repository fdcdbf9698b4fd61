"""What the posts app gives the return digest (AWAY-SPEC D1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.posts.queries import digest_activity
from tests.conftest import Api
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_mentions_comments_and_reaction_counts_in_the_window(alice, bob):
    carol = make_member("carol")
    start = timezone.now() - timedelta(minutes=1)
    mine = Api(alice).post("/posts", {"body": "My post\nsecond line"}).json()["id"]
    Api(bob).post(f"/posts/{mine}/comments", {"body": "one"})
    Api(carol).post(f"/posts/{mine}/comments", {"body": "two, @alice"})
    Api(alice).post(f"/posts/{mine}/comments", {"body": "my own reply"})
    Api(bob).post(f"/posts/{mine}/reactions", {"type": "like"})
    Api(carol).post(f"/posts/{mine}/reactions", {"type": "love"})
    Api(bob).post("/posts", {"body": "Hey @alice"})
    end = timezone.now() + timedelta(minutes=1)

    result = digest_activity(member=alice, start=start, end=end)
    assert [(m["kind"], m["actor"]) for m in result["mentions"]] == [
        ("post", "bob"),
        ("comment", "carol"),
    ]
    assert result["comments"][0]["count"] == 2
    assert result["comments"][0]["excerpt"] == "My post"
    assert result["comments"][0]["link"] == f"/posts/{mine}/"
    assert result["reactions"]["total"] == 2
    assert result["reactions"]["by_type"] == {"like": 1, "love": 1}
    assert result["reactions"]["posts"][0]["count"] == 2

    before = digest_activity(member=alice, start=start - timedelta(days=1), end=start)
    assert before["mentions"] == [] and before["comments"] == []
    assert before["reactions"]["total"] == 0
