"""Issue 14, finding 4: the daily stranger limit holds for groups too.

Each member put in front of someone they are not connected to counts one, whichever
way: a new 1:1 conversation, a new group, or added to a group.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.messaging.actions import STRANGER_INTRODUCTIONS_PER_DAY, stranger_retry_after
from backsoon.messaging.models import Conversation, Introduction, Participant
from tests.conftest import Api, assert_error
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def _members(prefix: str, n: int) -> list[str]:
    return [make_member(f"{prefix}-{i}").username for i in range(n)]


def _group(api: Api, usernames: list[str]):
    return api.post("/conversations", {"participants": usernames, "subject": "hi"})


def _add(api: Api, conversation_id: int, usernames: list[str]):
    return api.post(f"/conversations/{conversation_id}/participants", {"participants": usernames})


def test_finding4_adding_strangers_to_a_group_is_limited(alice):
    friends = [make_member(f"fr{i}") for i in range(2)]
    for friend in friends:
        connect(alice, friend)
    strangers = _members("st", 51)
    api = Api(alice)
    group = _group(api, [f.username for f in friends]).json()["id"]
    other = _group(api, [f.username for f in friends]).json()["id"]
    for i in range(0, 40, 10):
        assert _add(api, group, strangers[i : i + 10]).status_code == 200
    assert _add(api, other, strangers[40:50]).status_code == 200
    response = _add(api, group, [strangers[50]])
    body = assert_error(response, 429, "conversation_rate_limited")
    assert "50" in body["detail"]
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    # Nothing changed: the refused member is not in the group.
    assert not Participant.objects.filter(
        conversation_id=group, member__username=strangers[50]
    ).exists()


def test_finding4_a_group_with_strangers_counts_each_of_them(alice):
    api = Api(alice)
    assert _group(api, _members("a", 30)).status_code == 201
    assert _group(api, _members("b", 20)).status_code == 201
    before = Conversation.objects.count()
    response = _group(api, _members("c", 2))
    assert_error(response, 429, "conversation_rate_limited")
    assert Conversation.objects.count() == before
    # A 1:1 with a stranger draws on the same budget.
    assert_error(api.post("/conversations", {"participants": ["c-0"]}), 429)


def test_finding4_many_groups_no_longer_bypass_the_limit(alice):
    """The attack: 1 group a stranger at a time, or one big group, then adding more."""
    api = Api(alice)
    strangers = _members("s", 60)
    groups = 0
    for i in range(0, 60, 2):
        if _group(api, strangers[i : i + 2]).status_code == 201:
            groups += 1
    assert groups == STRANGER_INTRODUCTIONS_PER_DAY // 2
    assert Introduction.objects.filter(by=alice).count() == STRANGER_INTRODUCTIONS_PER_DAY


def test_finding4_connections_and_members_already_in_the_group_do_not_count(alice, bob):
    connect(alice, bob)
    api = Api(alice)
    strangers = _members("s", 50)
    group = _group(api, ["bob", strangers[0]]).json()["id"]
    assert _add(api, group, strangers[1:48]).status_code == 200  # 48 strangers in all
    # Re-adding someone already in it, or a connection, costs nothing.
    assert _add(api, group, [strangers[3], "bob"]).status_code == 200
    friend = make_member("friend")
    connect(alice, friend)
    assert _add(api, group, ["friend"]).status_code == 200
    assert Introduction.objects.filter(by=alice).count() == 48
    # Two left today.
    assert _group(api, ["bob", *strangers[48:50]]).status_code == 201
    assert_error(_group(api, ["bob", make_member("one-more").username]), 429)


def test_finding4_the_budget_frees_after_a_day(alice):
    api = Api(alice)
    assert _group(api, _members("a", 50)).status_code == 201
    assert_error(_group(api, _members("b", 2)), 429)
    Introduction.objects.update(at=timezone.now() - timedelta(hours=25))
    assert _group(api, ["b-0", "b-1"]).status_code == 201


def test_finding4_strangers_added_by_another_member_count_for_that_member(alice, bob):
    connect(alice, bob)
    group = _group(Api(alice), ["bob", make_member("xyz").username]).json()["id"]
    assert _add(Api(bob), group, _members("b", 48)).status_code == 200
    assert Introduction.objects.filter(by=bob).count() == 48
    assert Introduction.objects.filter(by=alice).count() == 1
    assert_error(_group(Api(bob), _members("c", 3)), 429, "conversation_rate_limited")
    assert _group(Api(bob), ["c-0", "c-1"]).status_code == 201


def test_finding4_web_add_members_is_limited_too(alice, client):
    api = Api(alice)
    _group(api, _members("a", 30))
    group = _group(api, _members("b", 20)).json()["id"]
    make_member("late")
    client.force_login(alice)
    response = client.post(f"/messaging/{group}/add/", {"to": "late"})
    assert response.status_code == 429
    assert response["Retry-After"]


def test_finding4_retry_after_is_when_enough_leave_the_window():
    now = timezone.now()
    recent = [now - timedelta(minutes=m) for m in range(50)]  # newest first
    assert stranger_retry_after(recent[:48], adding=2, limit=50, now=now) is None
    # 50 in the window and 3 to add: the 3 oldest must leave; the oldest of the
    # 47 newest (47 minutes old) leaves the 24 hours last.
    assert stranger_retry_after(recent, adding=3, limit=50, now=now) == 24 * 3600 - 47 * 60 + 1
    assert stranger_retry_after(recent, adding=1, limit=50, now=now) == 24 * 3600 - 49 * 60 + 1
