"""Presence: the away badge, the notice before writing, held notifications (P1-P4), and
invitations while away (I1, I2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backsoon.away.models import Absence
from backsoon.network.models import Connection, Invitation
from backsoon.notifications.models import Notification
from tests.conftest import Api
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def test_P1_badge_shows_only_while_active(alice, bob):
    absence = make_absence(bob, hours_from_now=2, hours=24, message="Holiday")
    api = Api(alice)
    assert api.get("/members/bob").json()["away"] is None  # not before
    Absence.objects.filter(pk=absence.pk).update(starts_at=timezone.now() - timedelta(seconds=1))
    badge = api.get("/members/bob").json()["away"]
    assert badge["message"] == "Holiday"
    assert badge["until"] and badge["until_date"]
    Absence.objects.filter(pk=absence.pk).update(ends_at=timezone.now())
    assert api.get("/members/bob").json()["away"] is None  # not after


def test_P1_badge_with_backup_in_search_and_web_pages(alice, bob):
    deputy = make_member("deputy", display_name="Dee Puty")
    connect(alice, bob)
    make_absence(bob, message="Holiday", backup=deputy)
    badge = Api(alice).get("/members", q="bob").json()["items"][0]["away"]
    assert badge["backup"] == "deputy"
    client = Client()
    client.force_login(alice)
    for url in ["/in/bob/", "/search/?q=bob"]:
        page = client.get(url).content.decode()
        assert 'data-testid="away-badge"' in page, url
        assert "@deputy" in page
    assert 'data-testid="away-badge"' not in client.get("/in/deputy/").content.decode()


def test_P1_own_banner_on_every_page_while_away(alice):
    client = Client()
    client.force_login(alice)
    assert 'data-testid="away-banner"' not in client.get("/").content.decode()
    make_absence(alice)
    for url in ["/", "/in/alice/", "/search/?q=x"]:
        assert 'data-testid="away-banner"' in client.get(url).content.decode(), url


def test_P2_conversation_shows_notice_of_every_other_away_participant(alice, bob):
    carol = make_member("carol", display_name="Carol Cee")
    make_absence(bob, message="Back soon")
    make_absence(carol, message="Travelling")
    make_absence(alice, message="Me too")
    conv = Api(alice).post("/conversations", {"participants": ["bob", "carol"]}).json()
    notices = {n["username"]: n for n in conv["away"]}
    assert set(notices) == {"bob", "carol"}  # not yourself
    assert notices["carol"]["display_name"] == "Carol Cee"
    detail = Api(alice).get(f"/conversations/{conv['id']}").json()
    assert {n["username"] for n in detail["away"]} == {"bob", "carol"}


def test_P4_message_and_invitation_notifications_are_held_while_away(alice, bob):
    connect(alice, bob)  # a stranger's message would be a request: no notification (S2)
    make_absence(bob)
    conv = Api(alice).post("/conversations", {"participants": ["bob"]}).json()["id"]
    Api(alice).post(f"/conversations/{conv}/messages", {"body": "hi"})
    carol = make_member("carol")
    Api(carol).post("/invitations", {"to": "bob"})
    held = Notification.objects.filter(recipient=bob)
    assert {n.type for n in held} == {"message", "invitation_received"}
    assert not any(n.pushed for n in held)  # kept for the digest, not pushed
    # Present members get them pushed.
    conv2 = Api(bob).post("/conversations", {"participants": ["alice"]}).json()["id"]
    Api(bob).post(f"/conversations/{conv2}/messages", {"body": "hi"})
    assert Notification.objects.get(recipient=alice, type="message").pushed


def test_P4_no_live_push_while_away(alice, bob, django_capture_on_commit_callbacks):
    from unittest import mock

    make_absence(bob)
    conv = Api(alice).post("/conversations", {"participants": ["bob"]}).json()["id"]
    published: list = []
    with mock.patch(
        "backsoon.live.InProcessBus.publish", lambda self, ids, ev: published.append((ids, ev))
    ):
        from backsoon.live import bus

        bus.cache_clear()
        with django_capture_on_commit_callbacks(execute=True):
            Api(alice).post(f"/conversations/{conv}/messages", {"body": "hi"})
        bus.cache_clear()
    notification_pushes = [ids for ids, ev in published if ev["type"] == "notification"]
    assert all(bob.pk not in ids for ids in notification_pushes)


def test_I1_invitation_to_away_member_shows_badge_and_stays_pending(alice, bob):
    absence = make_absence(bob, message="On leave")
    response = Api(alice).post("/invitations", {"to": "bob", "note": "Hi!"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["away"]["message"] == "On leave"
    assert body["away"]["until"]
    # Still pending after the absence (nothing expires it).
    Absence.objects.filter(pk=absence.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert Invitation.objects.get().status == "pending"
    listed = Api(alice).get("/invitations", box="sent").json()["items"][0]
    assert listed["away"]["message"] == "On leave"  # as it was when sent


def test_I1_invitation_to_present_member_has_no_badge(alice, bob):
    assert Api(alice).post("/invitations", {"to": "bob"}).json()["away"] is None


@pytest.mark.parametrize(("mutual", "accepted"), [(3, True), (2, False)])
def test_I2_auto_accept_mutual_needs_three_shared_connections(alice, bob, mutual, accepted):
    for i in range(mutual):
        m = make_member(f"mutual{i}")
        connect(alice, m)
        connect(bob, m)
    make_absence(bob, invitations="auto_accept_mutual")
    body = Api(alice).post("/invitations", {"to": "bob"}).json()
    assert (body["status"] == "accepted") is accepted
    assert body["auto_accepted"] is accepted
    assert Connection.objects.filter(member=alice, other=bob).exists() is accepted


def test_I2_hold_policy_never_auto_accepts(alice, bob):
    for i in range(5):
        m = make_member(f"mutual{i}")
        connect(alice, m)
        connect(bob, m)
    make_absence(bob, invitations="hold")
    assert Api(alice).post("/invitations", {"to": "bob"}).json()["status"] == "pending"
