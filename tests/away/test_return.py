"""Coming back: the digest, welcome back and reminders (D1-D3, I3), and the worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.away.actions import absences_notify_due
from backsoon.away.models import Absence
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.network.models import Invitation
from backsoon.notifications.models import Notification
from tests.conftest import Api, assert_error
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def say(sender, to, body):
    conv, _ = conversation_start(creator=sender, usernames=[to.username])
    message_send(sender=sender, conversation_id=conv.pk, body=body)
    return conv.pk


def test_D1_digest_lists_what_arrived_most_important_first(alice, bob):
    carol = make_member("carol", display_name="Carol Pitch")
    dave = make_member("dave")
    connect(alice, bob)
    absence = make_absence(alice, message="Away")
    conv_bob = say(bob, alice, "Client question\nsecond line")
    say(bob, alice, "and another")
    say(carol, alice, "Buy my course!")
    Api(dave).post("/invitations", {"to": "alice", "note": "Met at the fair"})
    digest = Api(alice).get(f"/me/absences/{absence.pk}/digest").json()
    assert [c["conversation"] for c in digest["messages_from_connections"]] == [conv_bob]
    first = digest["messages_from_connections"][0]
    assert first["count"] == 2 and first["first_line"] == "Client question"
    assert [s["username"] for s in first["senders"]] == ["bob"]
    assert first["link"] == f"/messaging/{conv_bob}/"
    assert [c["first_line"] for c in digest["messages_from_others"]] == ["Buy my course!"]
    assert [i["note"] for i in digest["invitations"]] == ["Met at the fair"]
    assert digest["invitations"][0]["from"] == "dave"
    assert digest["auto_replies_sent"] == 2  # bob once, carol once
    assert digest["totals"]["messages_from_connections"] == 2


def test_D1_digest_excludes_automatic_replies_and_outside_window(alice, bob):
    absence = make_absence(alice, hours_from_now=-5, hours=10)
    Absence.objects.filter(pk=absence.pk).update(starts_at=timezone.now() + timedelta(seconds=1))
    say(bob, alice, "too early")
    digest = Api(alice).get(f"/me/absences/{absence.pk}/digest").json()
    assert digest["messages_from_others"] == []


def test_D2_early_return_gets_welcome_back_and_correct_digest(alice, bob):
    absence = make_absence(alice)
    say(bob, alice, "during")
    ended = Api(alice).post(f"/me/absences/{absence.pk}/end").json()
    say(bob, alice, "after I came back")
    welcome = Notification.objects.get(recipient=alice, type="welcome_back")
    assert (welcome.subject_type, welcome.subject_id) == ("absence", absence.pk)
    digest = Api(alice).get(f"/me/absences/{absence.pk}/digest").json()
    assert [c["first_line"] for c in digest["messages_from_others"]] == ["during"]
    assert digest["ends_at"] == ended["ended_at"]


def test_D2_worker_sends_welcome_back_once_when_absence_ends_on_time(alice):
    absence = make_absence(alice, hours_from_now=-3, hours=2)
    assert absences_notify_due(now=timezone.now()) == {"welcomed": 1, "reminded": 0, "starts": 0}
    assert absences_notify_due(now=timezone.now()) == {"welcomed": 0, "reminded": 0, "starts": 0}
    assert Notification.objects.filter(recipient=alice, type="welcome_back").count() == 1
    # The digest is readable whether or not the worker ran.
    assert Api(alice).get(f"/me/absences/{absence.pk}/digest").status_code == 200


def test_D3_reminder_the_day_before_the_end_once(alice):
    make_absence(alice, hours_from_now=-10, hours=30)
    assert absences_notify_due(now=timezone.now())["reminded"] == 1
    assert absences_notify_due(now=timezone.now())["reminded"] == 0
    make_absence(make_member("later"), hours_from_now=-1, hours=72)
    assert absences_notify_due(now=timezone.now())["reminded"] == 0


def test_D3_reminder_when_sending_a_normal_message_while_away(alice, bob):
    absence = make_absence(alice)
    say(alice, bob, "forgot I am away")
    say(alice, bob, "again")
    reminders = Notification.objects.filter(recipient=alice, type="absence_reminder")
    assert reminders.count() == 1
    assert reminders.get().subject_id == absence.pk


def test_I3_bulk_accept_by_mutual_connections_and_ignore_selected(alice):
    absence = make_absence(alice)
    friends = [make_member(f"friend{i}") for i in range(3)]
    for f in friends:
        connect(alice, f)
    well_connected = make_member("insider")
    for f in friends:
        connect(well_connected, f)
    collectors = [make_member(f"collector{i}") for i in range(3)]
    for m in [well_connected, *collectors]:
        Api(m).post("/invitations", {"to": "alice"})
    api = Api(alice)
    digest = api.get(f"/me/absences/{absence.pk}/digest").json()
    assert digest["invitations"][0]["from"] == "insider"
    assert digest["invitations"][0]["mutual_connections"] == 3
    done = api.post(
        f"/me/absences/{absence.pk}/digest/invitations", {"action": "accept", "min_mutual": 3}
    ).json()
    assert len(done["answered"]) == 1
    ids = [i["id"] for i in digest["invitations"][1:3]]
    api.post(f"/me/absences/{absence.pk}/digest/invitations", {"action": "ignore", "ids": ids})
    statuses = sorted(Invitation.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "ignored", "ignored", "pending"]
    assert_error(
        api.post(f"/me/absences/{absence.pk}/digest/invitations", {"action": "accept"}), 422
    )


def test_digest_of_another_member_is_404(alice, bob):
    absence = make_absence(alice)
    assert_error(Api(bob).get(f"/me/absences/{absence.pk}/digest"), 404)
    assert_error(
        Api(bob).post(
            f"/me/absences/{absence.pk}/digest/invitations", {"action": "accept", "ids": []}
        ),
        404,
    )


def test_digest_query_count_does_not_grow_with_the_flood(alice, django_assert_max_num_queries):
    absence = make_absence(alice)
    for i in range(8):
        m = make_member(f"sender{i}")
        say(m, alice, f"hello {i}")
        Api(m).post("/invitations", {"to": "alice", "note": f"note {i}"})
    api = Api(alice)
    with django_assert_max_num_queries(22):
        body = api.get(f"/me/absences/{absence.pk}/digest").json()
    assert len(body["messages_from_others"]) == 8 and len(body["invitations"]) == 8
