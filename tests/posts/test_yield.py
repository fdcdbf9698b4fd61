"""What a post yielded (TRIAGE-SPEC Y1-Y5), through the API and the real actions.

The actions stamp "now"; a test that needs a history moves rows back in time
afterwards (``_at``), as if they had happened then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.network.actions import (
    block_create,
    connection_create,
    follow_create,
    invitation_accept,
    invitation_send,
)
from backsoon.network.models import Connection, Follow, Invitation
from backsoon.posts import actions as post_actions
from backsoon.posts.models import Comment, Post, Reaction
from backsoon.posts.yields import yield_score
from tests.conftest import Api, assert_error
from tests.factories import make_absence, make_member

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
T0 = timezone.now().replace(microsecond=123456) - 120 * DAY  # when the post was made
E = T0 + timedelta(hours=2)  # when the member engaged


def _post(author, body="What does a post bring?", at=T0) -> Post:
    post = post_actions.post_create(author=author, body=body).post
    Post.objects.filter(pk=post.pk).update(created_at=at)
    return post


def _react(member, post, at=E, type="like") -> None:
    post_actions.reaction_set(member=member, post_id=post.pk, type=type)
    Reaction.objects.filter(member=member, post=post).update(created_at=at)


def _connect_by_invitation(inviter, invitee, *, sent: datetime, accepted: datetime) -> None:
    """``inviter`` invites, ``invitee`` accepts; then both moments are moved back."""
    invitation = invitation_send(sender=inviter, to_username=invitee.username)
    invitation_accept(member=invitee, invitation_id=invitation.pk)
    Invitation.objects.filter(pk=invitation.pk).update(created_at=sent, responded_at=accepted)
    pair = [inviter.pk, invitee.pk]
    Connection.objects.filter(member__in=pair, other__in=pair).update(created_at=accepted)
    Follow.objects.filter(follower__in=pair, followee__in=pair).update(created_at=accepted)


def _yield(author, post) -> dict:
    response = Api(author).get(f"/posts/{post.pk}/yield")
    assert response.status_code == 200, response.content
    return response.json()


def _names(members: list[dict]) -> list[str]:
    return sorted(m["username"] for m in members)


# --- Y1: engaged ----------------------------------------------------------------------


def test_Y1_reacting_commenting_sharing_and_being_mentioned_engage(alice, bob):
    carol, dave = make_member("carol"), make_member("dave")
    make_member("erin")
    post = post_actions.post_create(author=alice, body="Thanks @erin for the idea").post
    post_actions.reaction_set(member=bob, post_id=post.pk, type="like")
    post_actions.comment_create(author=bob, post_id=post.pk, body="and a comment")
    post_actions.comment_create(author=carol, post_id=post.pk, body="me too")
    post_actions.post_share(member=dave, post_id=post.pk)
    post_actions.reaction_set(member=alice, post_id=post.pk, type="like")  # the author: not
    data = _yield(alice, post)
    assert data["engaged"] == 4  # bob once, carol, dave, erin
    people = Api(alice).get(f"/posts/{post.pk}/yield/people", step="engaged").json()["items"]
    how = {p["member"]["username"]: p["how"] for p in people}
    assert how == {
        "bob": ["reacted", "commented"],
        "carol": ["commented"],
        "dave": ["shared"],
        "erin": ["mentioned"],
    }


def test_Y1_a_closed_account_is_not_engaged(alice, bob):
    carol = make_member("carol")
    post = _post(alice)
    _react(bob, post)
    _react(carol, post)
    Member.objects.filter(pk=carol.pk).update(is_active=False)  # closed by an admin
    assert _yield(alice, post)["engaged"] == 1


# --- Y2: connections ----------------------------------------------------------------------


def test_Y2_engaged_on_day_0_and_connected_on_day_30_counts(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _connect_by_invitation(alice, bob, sent=E + 29 * DAY, accepted=E + 30 * DAY)
    data = _yield(alice, post)
    assert _names(data["connections"]) == ["bob"]
    assert data["yield"] == 1


def test_Y2_connected_on_day_31_does_not_count(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _connect_by_invitation(alice, bob, sent=E + 31 * DAY, accepted=E + 31 * DAY)
    data = _yield(alice, post)
    assert data["connections"] == []
    assert data["followers"] == []  # accepting made them follow each other, also on day 31
    assert data["yield"] == 0


def test_Y2_a_microsecond_after_day_30_does_not_count(alice, bob):
    post = _post(alice)
    _react(bob, post)
    late = E + 30 * DAY + timedelta(microseconds=1)
    _connect_by_invitation(alice, bob, sent=late, accepted=late)
    assert _yield(alice, post)["connections"] == []


def test_Y2_an_invitation_sent_within_the_window_and_accepted_later_counts(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _connect_by_invitation(bob, alice, sent=E + 3 * DAY, accepted=E + 45 * DAY)
    assert _names(_yield(alice, post)["connections"]) == ["bob"]


def test_Y2_an_invitation_accepted_before_the_engagement_does_not_count(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _connect_by_invitation(alice, bob, sent=E - 3 * DAY, accepted=E - DAY)
    assert _yield(alice, post)["connections"] == []


def test_Y2_a_pending_invitation_is_no_connection(alice, bob):
    post = _post(alice)
    _react(bob, post, at=timezone.now() - DAY)
    invitation_send(sender=alice, to_username=bob.username)
    assert _yield(alice, post)["connections"] == []


def test_Y2_someone_already_connected_before_is_not_a_yield(alice, bob):
    post = _post(alice)
    _react(bob, post)
    connection_create(a_id=alice.pk, b_id=bob.pk, at=E - 10 * DAY)
    # Even an accepted invitation stamped inside the window (an import, say) does not
    # make an old contact a new one.
    Invitation.objects.create(
        from_member=alice,
        to_member=bob,
        pair_low=min(alice.pk, bob.pk),
        pair_high=max(alice.pk, bob.pk),
        status=Invitation.Status.ACCEPTED,
        created_at=E + DAY,
        responded_at=E + DAY,
    )
    data = _yield(alice, post)
    assert data["connections"] == []
    assert data["yield"] == 0


# --- Y3: conversations ----------------------------------------------------------------------


def _conversation(author, member, *, started: datetime, writers: list[tuple[object, datetime]]):
    conversation, _ = conversation_start(creator=member, usernames=[author.username], at=started)
    for sender, at in writers:
        message_send(sender=sender, conversation_id=conversation.pk, body="hello", at=at)
    return conversation


def test_Y3_a_conversation_started_within_30_days_counts(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _conversation(alice, bob, started=E + 30 * DAY, writers=[(bob, E + 30 * DAY)])
    data = _yield(alice, post)
    assert (data["conversations"], data["two_way"], data["yield"]) == (1, 0, 0)


def test_Y3_a_conversation_started_on_day_31_does_not_count(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _conversation(alice, bob, started=E + 31 * DAY, writers=[(bob, E + 31 * DAY)])
    assert _yield(alice, post)["conversations"] == 0


def test_Y3_a_conversation_from_before_the_engagement_does_not_count(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _conversation(alice, bob, started=E - DAY, writers=[(bob, E - DAY), (alice, E + DAY)])
    data = _yield(alice, post)
    assert (data["conversations"], data["two_way"]) == (0, 0)


def test_Y3_an_automatic_reply_never_makes_a_conversation_two_way(alice, bob):
    post = post_actions.post_create(author=alice, body="off soon").post
    post_actions.reaction_set(member=bob, post_id=post.pk, type="like")
    make_absence(alice)
    _conversation(alice, bob, started=timezone.now(), writers=[(bob, timezone.now())])
    from backsoon.messaging.models import Message

    assert Message.objects.filter(sender=alice, kind=Message.Kind.AUTO_REPLY).count() == 1
    data = _yield(alice, post)
    assert (data["conversations"], data["two_way"], data["yield"]) == (1, 0, 0)


def test_Y3_two_way_when_both_wrote(alice, bob):
    post = _post(alice)
    _react(bob, post)
    _conversation(alice, bob, started=E + DAY, writers=[(bob, E + DAY), (alice, E + 2 * DAY)])
    data = _yield(alice, post)
    assert (data["conversations"], data["two_way"], data["yield"]) == (1, 1, 1)
    assert data["lasting"] == []


def test_Y3_lasting_when_both_still_write_30_days_after_the_first_message(alice, bob):
    post = _post(alice)
    _react(bob, post)
    first = E + DAY
    _conversation(
        alice,
        bob,
        started=first,
        writers=[
            (bob, first),
            (alice, first + DAY),
            (bob, first + 30 * DAY),
            (alice, first + 31 * DAY),
        ],
    )
    assert _names(_yield(alice, post)["lasting"]) == ["bob"]


def test_Y3_not_lasting_when_only_one_writes_later(alice, bob):
    post = _post(alice)
    _react(bob, post)
    first = E + DAY
    _conversation(
        alice,
        bob,
        started=first,
        writers=[(bob, first), (alice, first + DAY), (bob, first + 40 * DAY)],
    )
    data = _yield(alice, post)
    assert (data["two_way"], data["lasting"]) == (1, [])


# --- Y4: followers ----------------------------------------------------------------------


def test_Y4_following_within_30_days_counts(alice, bob):
    post = _post(alice)
    _react(bob, post)
    follow_create(member=bob, username=alice.username)
    Follow.objects.filter(follower=bob).update(created_at=E + 30 * DAY)
    data = _yield(alice, post)
    assert _names(data["followers"]) == ["bob"]
    assert data["yield"] == 1


@pytest.mark.parametrize("when", [E + 31 * DAY, E - DAY])
def test_Y4_following_on_day_31_or_before_engaging_does_not_count(alice, bob, when):
    post = _post(alice)
    _react(bob, post)
    follow_create(member=bob, username=alice.username)
    Follow.objects.filter(follower=bob).update(created_at=when)
    assert _yield(alice, post)["followers"] == []


def test_Y4_the_window_starts_at_the_first_engagement(alice, bob):
    post = _post(alice)
    _react(bob, post, at=E)
    post_actions.comment_create(author=bob, post_id=post.pk, body="later")
    Comment.objects.filter(author=bob).update(created_at=E + 20 * DAY)
    follow_create(member=bob, username=alice.username)
    Follow.objects.filter(follower=bob).update(created_at=E + 35 * DAY)
    assert _yield(alice, post)["followers"] == []


# --- Y5: the funnel, the people, all posts side by side -----------------------------------


def test_Y5_yield_counts_each_person_once():
    assert yield_score(connected=True, two_way=True, follower=True) is True
    assert yield_score(connected=False, two_way=False, follower=False) is False


def test_Y5_the_funnel_shows_reach_beside_yield(alice, bob):
    post = _post(alice)
    _react(bob, post)
    Post.objects.filter(pk=post.pk).update(impressions_count=3_000_000, unique_viewers=900_000)
    data = _yield(alice, post)
    assert (data["impressions"], data["unique_viewers"], data["reactions"]) == (
        3_000_000,
        900_000,
        1,
    )


def test_Y5_the_people_behind_each_step_page(alice):
    post = _post(alice)
    fans = [make_member(f"fan{i}") for i in range(5)]
    for i, fan in enumerate(fans):
        _react(fan, post, at=E + i * timedelta(minutes=1))
    _connect_by_invitation(alice, fans[3], sent=E + DAY, accepted=E + 2 * DAY)
    api = Api(alice)
    seen, cursor = [], None
    while True:
        params = {"step": "engaged", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/posts/{post.pk}/yield/people", **params).json()
        seen += [p["member"]["username"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"fan{i}" for i in range(5)]  # first engaged first, each once
    page = api.get(f"/posts/{post.pk}/yield/people", step="connections").json()
    assert [p["member"]["username"] for p in page["items"]] == ["fan3"]
    assert page["items"][0]["connected"] and page["items"][0]["follower"]
    assert_error(api.get(f"/posts/{post.pk}/yield/people", step="reach"), 422)
    assert_error(api.get(f"/posts/{post.pk}/yield/people", cursor="nope"), 422, "bad_cursor")


def test_Y5_my_posts_rank_by_yield_not_by_reach(alice, bob):
    viral = _post(alice, "viral", at=T0)
    ordinary = _post(alice, "ordinary", at=T0 + DAY)
    Post.objects.filter(pk=viral.pk).update(impressions_count=3_000_000)
    _react(bob, viral)
    carol = make_member("carol")
    _react(carol, ordinary, at=T0 + DAY)
    _connect_by_invitation(alice, carol, sent=T0 + 2 * DAY, accepted=T0 + 3 * DAY)
    response = Api(alice).get("/me/yield")
    assert response.status_code == 200
    rows = response.json()["items"]
    assert response.json()["next_cursor"] is None
    assert [r["post"] for r in rows] == [ordinary.pk, viral.pk]
    assert [r["yield"] for r in rows] == [1, 0]
    assert rows[1]["impressions"] == 3_000_000


def test_Y5_the_number_of_queries_does_not_grow_with_reactions(alice, django_assert_num_queries):
    post = _post(alice)
    fans = [make_member(f"fan{i}") for i in range(12)]
    api = Api(alice)
    api.get("/me")  # a token's last use is written on its first request only

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/posts/{post.pk}/yield").status_code == 200
        return len(ctx.captured_queries)

    _react(fans[0], post)
    _connect_by_invitation(alice, fans[0], sent=E + DAY, accepted=E + DAY)
    few = count()
    # The token with its member (one statement), the post, the funnel (one statement),
    # the members behind the listed steps and their away badges.
    assert few == 5
    for fan in fans[1:]:
        _react(fan, post)
        _connect_by_invitation(alice, fan, sent=E + DAY, accepted=E + DAY)
    assert count() == few
    with django_assert_num_queries(5):
        api.get(f"/posts/{post.pk}/yield")
    assert len(_yield(alice, post)["connections"]) == 12


# --- who may see it ------------------------------------------------------------------


def test_yield_is_for_the_author_only(alice, bob):
    post = _post(alice)
    # API.md: author only, else 404: a visible post's yield is never told apart from
    # a post that does not exist.
    assert_error(Api(bob).get(f"/posts/{post.pk}/yield"), 404, "post_not_found")
    assert_error(Api(bob).get(f"/posts/{post.pk}/yield/people"), 404, "post_not_found")
    block_create(member=alice, username=bob.username)
    assert_error(Api(bob).get(f"/posts/{post.pk}/yield"), 404, "post_not_found")
    assert_error(Api(bob).get(f"/posts/{post.pk}/yield/people"), 404, "post_not_found")
    assert_error(Api(alice).get("/posts/999999/yield"), 404, "post_not_found")
    assert Api().get(f"/posts/{post.pk}/yield").status_code == 401
    assert Api().get("/me/yield").status_code == 401


def test_who_reacted_is_a_paged_list_for_whoever_sees_the_post(alice, bob):
    carol = make_member("carol")
    post = post_actions.post_create(author=alice, body="react").post
    post_actions.reaction_set(member=bob, post_id=post.pk, type="like")
    post_actions.reaction_set(member=carol, post_id=post.pk, type="insightful")
    page = Api(bob).get(f"/posts/{post.pk}/reactions", limit=1).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = Api(bob).get(f"/posts/{post.pk}/reactions", cursor=page["next_cursor"]).json()
    got = {i["member"]["username"]: i["type"] for i in page["items"] + rest["items"]}
    assert got == {"bob": "like", "carol": "insightful"}
    block_create(member=carol, username=bob.username)
    names = [
        i["member"]["username"] for i in Api(bob).get(f"/posts/{post.pk}/reactions").json()["items"]
    ]
    assert names == ["bob"]
    block_create(member=alice, username=bob.username)
    assert_error(Api(bob).get(f"/posts/{post.pk}/reactions"), 404, "post_not_found")


@pytest.mark.parametrize(
    "values",
    [
        ["9999-12-31T23:59:59-14:00", 1],
        ["2026-01-01T00:00:00", 1],
        [1.5, 2],
        ["x", 2],
        ["2026-01-01T00:00:00+00:00", True],
    ],
)
def test_a_forged_people_cursor_is_a_422_not_a_500(alice, values):
    from backsoon.pagination import _encode

    post = _post(alice)
    response = Api(alice).get(f"/posts/{post.pk}/yield/people", cursor=_encode(values))
    assert_error(response, 422, "bad_cursor")


def test_Y5_my_yield_takes_the_same_queries_for_2_or_12_posts(alice, bob):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert Api(alice).get("/me/yield").status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        _react(bob, _post(alice, f"post {i}"))
    _connect_by_invitation(alice, bob, sent=E + DAY, accepted=E + DAY)
    few = count()
    carol = make_member("carol")
    for i in range(10):
        post = _post(alice, f"more {i}")
        _react(bob, post)
        _react(carol, post)
    _connect_by_invitation(alice, carol, sent=E + DAY, accepted=E + DAY)
    assert count() == few
    assert len(Api(alice).get("/me/yield").json()["items"]) == 12
    first = Api(alice).get("/me/yield?limit=5").json()
    second = Api(alice).get(f"/me/yield?limit=10&cursor={first['next_cursor']}").json()
    assert len(first["items"]) == 5 and len(second["items"]) == 7
    assert second["next_cursor"] is None
    assert {r["post"] for r in first["items"] + second["items"]} == {
        r["post"] for r in Api(alice).get("/me/yield").json()["items"]
    }
    assert_error(Api(alice).get("/me/yield?cursor=WzEwMDBd"), 422, "bad_cursor")
