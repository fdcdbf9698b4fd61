"""@mentions through the API: resolved, notified, and the author told who is away (P3)."""

from __future__ import annotations

import pytest

from backsoon.network.actions import block_create
from backsoon.notifications.models import Notification
from backsoon.posts.models import PostMention
from tests.conftest import Api
from tests.factories import make_absence, make_member

pytestmark = pytest.mark.django_db


def mentions_of(member):
    return Notification.objects.filter(recipient=member, type=Notification.Type.MENTION)


def test_mentions_resolve_case_insensitively_and_notify(alice, bob):
    post = Api(alice).post("/posts", {"body": "Thanks @BOB and @nobody_here"}).json()
    assert post["mentions"] == ["bob"]
    note = mentions_of(bob).get()
    assert (note.actor_id, note.subject_type, note.subject_id) == (alice.pk, "post", post["id"])
    assert note.group_key is None


def test_mentioning_yourself_links_but_does_not_notify(alice):
    post = Api(alice).post("/posts", {"body": "note to self @alice"}).json()
    assert post["mentions"] == ["alice"]
    assert not Notification.objects.exists()


def test_a_blocked_member_is_not_mentioned(alice, bob):
    block_create(member=bob, username="alice")
    post = Api(alice).post("/posts", {"body": "hi @bob"}).json()
    assert post["mentions"] == []
    assert not mentions_of(bob).exists()


def test_P3_the_author_learns_that_a_mentioned_member_is_away(alice, bob):
    make_absence(bob, message="Skiing until the 5th.")
    carol = make_member("carol")
    response = Api(alice).post("/posts", {"body": "cc @bob @carol"})
    away = response.json()["mentioned_away"]
    assert [a["username"] for a in away] == ["bob"]
    assert away[0]["away"]["message"] == "Skiing until the 5th."
    assert set(away[0]["away"]) >= {"until", "until_date", "message", "backup"}
    # Both are still told; the away member's notification waits like any other.
    assert mentions_of(bob).count() == 1
    assert mentions_of(carol).count() == 1


def test_P3_away_notice_in_comments_shares_and_edits(alice, bob):
    make_absence(bob)
    post_id = Api(alice).post("/posts", {"body": "plain"}).json()["id"]
    comment = Api(alice).post(f"/posts/{post_id}/comments", {"body": "@bob?"}).json()
    assert [a["username"] for a in comment["mentioned_away"]] == ["bob"]
    assert mentions_of(bob).get().subject_id == post_id
    edited = Api(alice).patch(f"/posts/{post_id}", {"body": "now with @bob"}).json()
    assert [a["username"] for a in edited["mentioned_away"]] == ["bob"]
    share = Api(alice).post(f"/posts/{post_id}/shares", {"comment": "see @bob"}).json()
    assert [a["username"] for a in share["mentioned_away"]] == ["bob"]
    # A member who is back (absence over) is not reported.
    later = Api(bob).post("/posts", {"body": "hello @alice"}).json()
    assert later["mentioned_away"] == []


def test_editing_notifies_only_newly_mentioned_members(alice, bob):
    carol = make_member("carol")
    post_id = Api(alice).post("/posts", {"body": "hi @bob"}).json()["id"]
    edited = Api(alice).patch(f"/posts/{post_id}", {"body": "hi @bob and @carol"}).json()
    assert edited["mentions"] == ["bob", "carol"]
    assert mentions_of(bob).count() == 1
    assert mentions_of(carol).count() == 1
    Api(alice).patch(f"/posts/{post_id}", {"body": "just @carol"})
    assert list(
        PostMention.objects.filter(post_id=post_id).values_list("member_id", flat=True)
    ) == [carol.pk]
