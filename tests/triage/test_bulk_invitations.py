"""Invitations and notifications by filter over the API (TRIAGE C2): everything that
matches, not only a page, in chunks, counted, idempotent, and only the caller's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.network.models import Connection, Follow, Invitation
from backsoon.notifications.api import ReadFilter
from backsoon.notifications.models import Notification
from backsoon.triage.models import Contact
from tests.conftest import Api, assert_error
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def flood(to: Member, n: int, *, label: str = "first_contact", note: str = "", days_ago: int = 0):
    """``n`` pending invitations to ``to`` from new members, with their "invited you"
    notifications, written in bulk (fast setup; the rules under test read them)."""
    start = Member.objects.count()
    members = Member.objects.bulk_create(
        [
            Member(username=f"f{start + i}", email=f"f{start + i}@x.test", display_name=f"F {i}")
            for i in range(n)
        ]
    )
    at = timezone.now() - timedelta(days=days_ago)
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                from_member=m,
                to_member=to,
                pair_low=min(m.pk, to.pk),
                pair_high=max(m.pk, to.pk),
                note=note,
                created_at=at,
                labels=[{"code": label, "params": {}}],
                label_codes=f",{label},",
            )
            for m in members
        ]
    )
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=to,
                type=Notification.Type.INVITATION_RECEIVED,
                actor=inv.from_member,
                subject_type="invitation",
                subject_id=inv.pk,
                created_at=at,
            )
            for inv in invitations
        ]
    )
    return invitations


def pending(member: Member) -> int:
    return Invitation.objects.filter(to_member=member, status="pending").count()


def bulk(member: Member, body: dict):
    return Api(member).post("/invitations/bulk", body)


def test_C2_ignore_by_filter_covers_every_match_not_only_a_page(alice):
    flood(alice, 1_100)  # more than two chunks (backsoon.db.chunks.CHUNK)
    assert len(Api(alice).get("/invitations", limit=100).json()["items"]) == 100
    answer = bulk(alice, {"action": "ignore", "filter": {}})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["changed"] == 1_100
    assert len(body["items"]) == 500 and body["next_cursor"] is None
    assert {item["status"] for item in body["items"]} == {"ignored"}
    assert pending(alice) == 0
    # Answering reads their "invited you" notifications.
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()


def test_C2_by_filter_is_idempotent(alice):
    flood(alice, 30)
    assert bulk(alice, {"action": "ignore", "filter": {}}).json()["changed"] == 30
    again = bulk(alice, {"action": "ignore", "filter": {}}).json()
    assert again["changed"] == 0 and again["items"] == []
    assert bulk(alice, {"action": "accept", "filter": {}}).json()["changed"] == 0


def test_C2_accept_by_filter_goes_the_real_accept_path(alice, bob):
    """Accepting 600 by filter leaves what accepting one by one leaves: connections both
    ways with their counts, follows both ways, contacts, the inviters told, read."""
    invitations = flood(alice, 600)
    one = Invitation.objects.get(pk=invitations[0].pk)
    # One of them follows alice already, one is followed by her: counted once each.
    Follow.objects.create(follower_id=one.from_member_id, followee=alice)
    Member.objects.filter(pk=alice.pk).update(followers_count=1)
    body = bulk(alice, {"action": "accept", "filter": {}}).json()
    assert body["changed"] == 600
    alice.refresh_from_db()
    assert alice.connections_count == 600
    assert alice.followers_count == 600
    assert Connection.objects.filter(member=alice).count() == 600
    assert Connection.objects.filter(other=alice).count() == 600
    assert Follow.objects.filter(follower=alice).count() == 600
    inviter = Member.objects.get(pk=invitations[5].from_member_id)
    assert (inviter.connections_count, inviter.followers_count) == (1, 1)
    assert Contact.objects.filter(member=alice).count() == 600
    assert Contact.objects.filter(other=alice).count() == 600
    told = Notification.objects.filter(type="invitation_accepted", actor=alice)
    assert told.count() == 600
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    # The same as accepting one through the one-at-a-time path.
    carol = make_member("carol")
    inv = Api(carol).post("/invitations", {"to": "bob"}).json()
    Api(bob).post(f"/invitations/{inv['id']}/accept")
    bob.refresh_from_db()
    carol.refresh_from_db()
    assert (bob.connections_count, bob.followers_count) == (1, 1)
    assert (carol.connections_count, carol.followers_count) == (1, 1)


def test_C2_accept_by_filter_costs_a_fixed_number_of_statements(
    alice, django_assert_max_num_queries
):
    flood(alice, 200)
    with django_assert_max_num_queries(40):
        assert bulk(alice, {"action": "accept", "filter": {}}).json()["changed"] == 200


def test_C2_filter_label(alice):
    flood(alice, 3, label="collector")
    flood(alice, 2, label="note", note="hello")
    body = bulk(alice, {"action": "ignore", "filter": {"label": "collector"}}).json()
    assert body["changed"] == 3
    assert {i["labels"][0]["code"] for i in body["items"]} == {"collector"}
    assert pending(alice) == 2


def test_C2_filter_has_note(alice):
    flood(alice, 3, note="We met at the fair")
    flood(alice, 4)
    assert bulk(alice, {"action": "ignore", "filter": {"has_note": True}}).json()["changed"] == 3
    assert bulk(alice, {"action": "ignore", "filter": {"has_note": False}}).json()["changed"] == 4


def test_C2_filter_before(alice):
    flood(alice, 3, days_ago=10)
    flood(alice, 2, days_ago=1)
    before = (timezone.now() - timedelta(days=5)).isoformat()
    assert bulk(alice, {"action": "ignore", "filter": {"before": before}}).json()["changed"] == 3
    assert pending(alice) == 2


def test_C2_filter_min_and_max_mutual(alice):
    friends = [make_member(f"friend{i}") for i in range(3)]
    for friend in friends:
        connect(alice, friend)
    close, far = flood(alice, 2)
    for friend in friends:
        connect(close.from_member, friend)
    connect(far.from_member, friends[0])
    flood(alice, 1)  # none in common
    assert bulk(alice, {"action": "ignore", "filter": {"min_mutual": 2}}).json()["changed"] == 1
    assert Invitation.objects.get(pk=close.pk).status == "ignored"
    body = bulk(alice, {"action": "ignore", "filter": {"min_mutual": 1, "max_mutual": 1}}).json()
    assert [i["id"] for i in body["items"]] == [far.pk]
    assert bulk(alice, {"action": "ignore", "filter": {"max_mutual": 0}}).json()["changed"] == 1
    assert pending(alice) == 0


def test_C2_ids_still_work_and_count(alice):
    ids = [inv.pk for inv in flood(alice, 4)]
    body = bulk(alice, {"action": "accept", "ids": ids[:2]}).json()
    assert body["changed"] == 2 and {i["status"] for i in body["items"]} == {"accepted"}
    body = bulk(alice, {"action": "ignore", "ids": [*ids, 999_999]}).json()
    assert body["changed"] == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "ignore", "ids": [1], "filter": {}}, "ids_or_filter"),
        ({"action": "ignore"}, "ids_or_filter"),
        ({"action": "ignore", "filter": {"min_mutual": -1}}, None),
        ({"action": "ignore", "filter": {"max_mutual": -3}}, None),
        ({"action": "ignore", "filter": {"label": "friend"}}, None),
        ({"action": "ignore", "filter": {"min_mutual": 3, "max_mutual": 1}}, "mutual_range_empty"),
        ({"action": "ignore", "filter": {"before": "yesterday"}}, None),
        ({"action": "explode", "filter": {}}, None),
    ],
)
def test_C2_bulk_validation_is_422(alice, body, code):
    flood(alice, 2)
    assert_error(bulk(alice, body), 422, code)
    assert pending(alice) == 2


def test_C2_other_members_invitations_are_untouched(alice, bob):
    flood(alice, 5)
    theirs = flood(bob, 5)
    assert bulk(alice, {"action": "accept", "filter": {}}).json()["changed"] == 5
    assert pending(bob) == 5
    # Naming bob's by id changes nothing either.
    assert bulk(alice, {"action": "ignore", "ids": [i.pk for i in theirs]}).json()["changed"] == 0
    assert pending(bob) == 5
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 5


# -- notifications ----------------------------------------------------------------------


def notify(member: Member, n: int, *, type: str = "reaction", days_ago: int = 0) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=member, type=type, subject_type="post", subject_id=i, created_at=at
            )
            for i in range(n)
        ]
    )


def unread(member: Member) -> int:
    return Notification.objects.filter(recipient=member, read_at__isnull=True).count()


def test_C2_notifications_filter_types_are_the_models():
    assert ReadFilter.model_fields["type"].annotation.__args__[0].__args__ == tuple(
        Notification.Type.values
    )


def test_C2_mark_all_read_covers_every_one_and_is_idempotent(alice):
    notify(alice, 1_050)
    body = Api(alice).post("/notifications/read", {"filter": {}}).json()
    assert body == {"changed": 1_050, "marked": 1_050}
    assert unread(alice) == 0
    assert Api(alice).post("/notifications/read", {"filter": {}}).json()["changed"] == 0
    # Without a body it is still "all", as before.
    notify(alice, 2)
    assert Api(alice).post("/notifications/read", {}).json()["changed"] == 2


def test_C2_mark_read_by_type(alice):
    notify(alice, 3, type="reaction")
    notify(alice, 2, type="comment")
    body = Api(alice).post("/notifications/read", {"filter": {"type": "comment"}}).json()
    assert body["changed"] == 2
    assert unread(alice) == 3


def test_C2_mark_read_before(alice):
    notify(alice, 3, days_ago=10)
    notify(alice, 2)
    before = (timezone.now() - timedelta(days=5)).isoformat()
    body = Api(alice).post("/notifications/read", {"filter": {"before": before}}).json()
    assert body["changed"] == 3
    assert unread(alice) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"ids": [1], "filter": {}},
        {"filter": {"type": "nonsense"}},
        {"filter": {"before": "last week"}},
    ],
)
def test_C2_mark_read_validation_is_422(alice, body):
    notify(alice, 2)
    assert_error(Api(alice).post("/notifications/read", body), 422)
    assert unread(alice) == 2


def test_C2_mark_read_leaves_other_members_alone(alice, bob):
    notify(alice, 3)
    notify(bob, 4)
    assert Api(alice).post("/notifications/read", {"filter": {}}).json()["changed"] == 3
    assert unread(bob) == 4
