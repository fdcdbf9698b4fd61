"""Invitations, connections, follows and blocks through the API (issue 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.network.models import Connection, Follow, Invitation
from tests.conftest import Api, assert_error
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def invite(api: Api, to: str, note: str = ""):
    return api.post("/invitations", {"to": to, "note": note})


def test_invitation_send_accept_connects_and_follows_both_ways(alice, bob):
    response = invite(Api(alice), "bob", "We met at the fair")
    assert response.status_code == 201, response.content
    inv = response.json()
    assert (inv["from"], inv["to"], inv["status"], inv["note"]) == (
        "alice",
        "bob",
        "pending",
        "We met at the fair",
    )
    assert inv["away"] is None and inv["responded_at"] is None
    accepted = Api(bob).post(f"/invitations/{inv['id']}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert Connection.objects.filter(member=alice, other=bob).exists()
    assert Connection.objects.filter(member=bob, other=alice).exists()
    assert Follow.objects.filter(follower=alice, followee=bob).exists()
    assert Follow.objects.filter(follower=bob, followee=alice).exists()
    alice_card = Api(bob).get("/members/alice").json()
    assert alice_card["connections_count"] == 1
    assert alice_card["followers_count"] == 1
    assert [m["username"] for m in Api(alice).get("/connections").json()["items"]] == ["bob"]


def test_invite_yourself_is_422(alice):
    assert_error(invite(Api(alice), "alice"), 422, "invite_self")


def test_invite_unknown_member_is_404(alice):
    assert_error(invite(Api(alice), "ghost"), 404)


def test_note_over_300_is_422_and_creates_nothing(alice, bob):
    assert_error(invite(Api(alice), "bob", "x" * 301), 422)
    assert not Invitation.objects.exists()


def test_invite_when_connected_is_409(alice, bob):
    connect(alice, bob)
    assert_error(invite(Api(alice), "bob"), 409, "already_connected")


def test_pending_either_way_is_409_and_shows_the_reverse_invitation(alice, bob):
    first = invite(Api(alice), "bob").json()
    assert_error(invite(Api(alice), "bob"), 409, "invitation_pending")
    body = assert_error(invite(Api(bob), "alice"), 409, "invitation_pending_reverse")
    assert body["detail"]["invitation_id"] == first["id"]


@pytest.mark.parametrize("how", ["ignore", "withdraw"])
def test_21_day_cooldown_after_ignore_or_withdraw(alice, bob, how):
    inv = invite(Api(alice), "bob").json()
    actor = Api(bob) if how == "ignore" else Api(alice)
    assert actor.post(f"/invitations/{inv['id']}/{how}").json()["status"] in {
        "ignored",
        "withdrawn",
    }
    body = assert_error(invite(Api(alice), "bob"), 409, "invitation_cooldown")
    assert str((timezone.now() + timedelta(days=21)).date()) in body["detail"]
    Invitation.objects.update(responded_at=timezone.now() - timedelta(days=22))
    assert invite(Api(alice), "bob").status_code == 201


def test_cooldown_does_not_stop_the_other_member_inviting(alice, bob):
    inv = invite(Api(alice), "bob").json()
    Api(bob).post(f"/invitations/{inv['id']}/ignore")
    assert invite(Api(bob), "alice").status_code == 201


def test_at_most_100_invitations_per_7_days(alice):
    others = [make_member(f"target{i}") for i in range(101)]
    now = timezone.now()
    Invitation.objects.bulk_create(
        [
            Invitation(
                from_member=alice,
                to_member=m,
                pair_low=min(alice.pk, m.pk),
                pair_high=max(alice.pk, m.pk),
                created_at=now - timedelta(days=6),
            )
            for m in others[:100]
        ]
    )
    response = invite(Api(alice), others[100].username)
    assert_error(response, 429, "invitation_rate_limited")
    assert 0 < int(response["Retry-After"]) <= 86400
    Invitation.objects.update(created_at=now - timedelta(days=8))
    assert invite(Api(alice), others[100].username).status_code == 201


@pytest.mark.parametrize("how", ["accept", "ignore"])
def test_only_the_recipient_accepts_or_ignores(alice, bob, how):
    inv = invite(Api(alice), "bob").json()
    assert_error(Api(alice).post(f"/invitations/{inv['id']}/{how}"), 403)
    carol = make_member("carol")
    assert_error(Api(carol).post(f"/invitations/{inv['id']}/{how}"), 404)
    assert Invitation.objects.get().status == "pending"


def test_only_the_sender_withdraws(alice, bob):
    inv = invite(Api(alice), "bob").json()
    assert_error(Api(bob).post(f"/invitations/{inv['id']}/withdraw"), 403)
    assert Api(alice).post(f"/invitations/{inv['id']}/withdraw").status_code == 200


def test_answering_twice_is_409(alice, bob):
    inv = invite(Api(alice), "bob").json()
    Api(bob).post(f"/invitations/{inv['id']}/accept")
    assert_error(Api(bob).post(f"/invitations/{inv['id']}/ignore"), 409, "not_pending")


def test_invitation_lists_by_box_and_status(alice, bob):
    carol = make_member("carol")
    i1 = invite(Api(alice), "bob").json()
    invite(Api(carol), "bob")
    Api(bob).post(f"/invitations/{i1['id']}/accept")
    received = Api(bob).get("/invitations", box="received").json()["items"]
    assert {i["from"] for i in received} == {"alice", "carol"}
    pending = Api(bob).get("/invitations", box="received", status="pending").json()["items"]
    assert [i["from"] for i in pending] == ["carol"]
    sent = Api(alice).get("/invitations", box="sent", status="accepted").json()["items"]
    assert [i["to"] for i in sent] == ["bob"]
    assert_error(Api(bob).get("/invitations", box="nope"), 422)


def test_remove_connection_keeps_messages(alice, bob):
    connect(alice, bob)
    conv = Api(alice).post("/conversations", {"participants": ["bob"]}).json()
    Api(alice).post(f"/conversations/{conv['id']}/messages", {"body": "hi"})
    assert Api(alice).delete("/connections/bob").status_code == 204
    assert not Connection.objects.exists()
    assert Member.objects.get(pk=alice.pk).connections_count == 0
    msgs = Api(bob).get(f"/conversations/{conv['id']}/messages").json()["items"]
    assert [m["body"] for m in msgs] == ["hi"]
    assert_error(Api(alice).delete("/connections/bob"), 404)


def test_mutual_connections(alice, bob):
    for i in range(3):
        m = make_member(f"common{i}")
        connect(alice, m)
        connect(bob, m)
    connect(alice, make_member("only_alice"))
    body = Api(alice).get("/members/bob/mutual").json()
    assert body["count"] == 3
    assert [m["username"] for m in body["items"]] == ["common0", "common1", "common2"]


def test_follow_without_connecting(alice, bob):
    response = Api(alice).post("/members/bob/follow")
    assert response.status_code == 200
    assert response.json()["followers_count"] == 1
    assert Api(alice).post("/members/bob/follow").json()["followers_count"] == 1  # idempotent
    assert Api(alice).delete("/members/bob/follow").json()["followers_count"] == 0
    assert_error(Api(alice).post("/members/alice/follow"), 422)


def test_block_stops_messages_and_invitations_and_hides_blocker(alice, bob):
    connect(alice, bob)
    conv = Api(bob).post("/conversations", {"participants": ["alice"]}).json()
    assert Api(alice).post("/members/bob/block").status_code == 204
    assert not Connection.objects.exists()
    assert_error(invite(Api(bob), "alice"), 403, "blocked")
    assert_error(Api(bob).post(f"/conversations/{conv['id']}/messages", {"body": "hi"}), 403)
    assert_error(Api(bob).post("/conversations", {"participants": ["alice"]}), 403)
    found = Api(bob).get("/members", q="alice").json()["items"]
    assert found == []
    # The blocker still finds the blocked member.
    assert [m["username"] for m in Api(alice).get("/members", q="bob").json()["items"]] == ["bob"]
    Api(alice).delete("/members/bob/block")
    assert invite(Api(bob), "alice").status_code == 201


def test_invitation_of_another_member_is_404(alice, bob):
    inv = invite(Api(alice), "bob").json()
    carol = make_member("carol")
    assert_error(Api(carol).get(f"/invitations/{inv['id']}"), 404)
    assert Api(bob).get(f"/invitations/{inv['id']}").status_code == 200


def test_bulk_accept_and_ignore(alice):
    senders = [make_member(f"fan{i}") for i in range(4)]
    ids = [invite(Api(m), "alice").json()["id"] for m in senders]
    done = Api(alice).post("/invitations/bulk", {"ids": ids[:2], "action": "accept"}).json()
    assert {i["status"] for i in done["items"]} == {"accepted"}
    done = Api(alice).post("/invitations/bulk", {"ids": [*ids, 999999], "action": "ignore"}).json()
    assert len(done["items"]) == 2
    assert Member.objects.get(pk=alice.pk).connections_count == 2
