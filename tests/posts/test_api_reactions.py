"""Reactions: six types, one per member and post, changeable and removable; grouped
notifications to the author."""

from __future__ import annotations

import pytest

from backsoon.notifications.actions import notifications_mark_read
from backsoon.notifications.models import Notification
from backsoon.posts.models import Post, Reaction
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_id(alice) -> int:
    return Api(alice).post("/posts", {"body": "React to me"}).json()["id"]


def test_new_reaction_is_201_and_changing_it_is_200(alice, bob, post_id):
    api = Api(bob)
    first = api.post(f"/posts/{post_id}/reactions", {"type": "like"})
    assert first.status_code == 201, first.content
    assert first.json()["counts"]["reactions"] == 1
    changed = api.post(f"/posts/{post_id}/reactions", {"type": "insightful"})
    assert changed.status_code == 200
    assert changed.json() == {
        "post": post_id,
        "type": "insightful",
        "counts": {"impressions": 0, "reactions": 1, "comments": 0, "shares": 0},
    }
    same = api.post(f"/posts/{post_id}/reactions", {"type": "insightful"})
    assert same.status_code == 200
    assert Reaction.objects.filter(post_id=post_id).count() == 1
    assert api.get(f"/posts/{post_id}").json()["my_reaction"] == "insightful"
    assert Api(alice).get(f"/posts/{post_id}").json()["my_reaction"] is None


@pytest.mark.parametrize("kind", ["like", "celebrate", "support", "love", "insightful", "funny"])
def test_all_six_types(bob, post_id, kind):
    assert Api(bob).post(f"/posts/{post_id}/reactions", {"type": kind}).status_code == 201


def test_unknown_type_is_422(bob, post_id):
    assert_error(
        Api(bob).post(f"/posts/{post_id}/reactions", {"type": "angry"}), 422, "invalid_reaction"
    )
    assert_error(Api(bob).post(f"/posts/{post_id}/reactions", {}), 422)
    assert Post.objects.get(pk=post_id).reactions_count == 0


def test_removing_lowers_the_count_and_is_idempotent(bob, post_id):
    api = Api(bob)
    api.post(f"/posts/{post_id}/reactions", {"type": "love"})
    assert api.delete(f"/posts/{post_id}/reactions").status_code == 204
    assert api.delete(f"/posts/{post_id}/reactions").status_code == 204
    body = api.get(f"/posts/{post_id}").json()
    assert body["counts"]["reactions"] == 0
    assert body["my_reaction"] is None


def test_counts_are_stored_not_counted(alice, bob, post_id):
    for member in (bob, make_member("carol"), make_member("dave")):
        Api(member).post(f"/posts/{post_id}/reactions", {"type": "like"})
    assert Post.objects.get(pk=post_id).reactions_count == 3
    # The payload reads the stored counter (a drifted counter shows as stored).
    Post.objects.filter(pk=post_id).update(reactions_count=42)
    assert Api(alice).get(f"/posts/{post_id}").json()["counts"]["reactions"] == 42


def test_reactions_are_grouped_in_one_unread_notification_per_post(alice, bob, post_id):
    carol = make_member("carol")
    Api(bob).post(f"/posts/{post_id}/reactions", {"type": "like"})
    Api(carol).post(f"/posts/{post_id}/reactions", {"type": "love"})
    Api(carol).post(f"/posts/{post_id}/reactions", {"type": "funny"})  # a change: no new event
    rows = Notification.objects.filter(recipient=alice, type=Notification.Type.REACTION)
    assert rows.count() == 1
    row = rows.get()
    assert (row.count, row.actor_id, row.subject_type, row.subject_id) == (
        2,
        carol.pk,
        "post",
        post_id,
    )
    assert row.group_key == f"post:{post_id}:reaction"
    # Once read, the next reaction starts a new group.
    notifications_mark_read(member=alice)
    Api(make_member("dave")).post(f"/posts/{post_id}/reactions", {"type": "like"})
    assert rows.filter(read_at__isnull=True).get().count == 1


def test_groups_are_per_post_and_type(alice, bob, post_id):
    other = Api(alice).post("/posts", {"body": "another"}).json()["id"]
    Api(bob).post(f"/posts/{post_id}/reactions", {"type": "like"})
    Api(bob).post(f"/posts/{other}/reactions", {"type": "like"})
    Api(bob).post(f"/posts/{post_id}/comments", {"body": "hi"})
    keys = set(Notification.objects.filter(recipient=alice).values_list("group_key", flat=True))
    assert keys == {
        f"post:{post_id}:reaction",
        f"post:{other}:reaction",
        f"post:{post_id}:comment",
    }


def test_reacting_to_your_own_post_notifies_nobody(alice, post_id):
    Api(alice).post(f"/posts/{post_id}/reactions", {"type": "like"})
    assert not Notification.objects.exists()
