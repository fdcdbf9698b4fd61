"""The "My network" page: invitations, connections, suggestions, and the profile buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.network import actions, queries
from backsoon.network.models import Block, Follow, Invitation
from backsoon.network.views import profile_actions_context
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def connect(a: Member, b: Member) -> None:
    actions.connection_create(a_id=a.pk, b_id=b.pk)


def away(
    member: Member, *, message: str = "Hiking in the Alps.", days: int = 5, **extra
) -> Absence:
    now = timezone.now()
    return Absence.objects.create(
        member=member,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=days),
        message=message,
        **extra,
    )


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def carol(db) -> Member:
    return make_member("carol", display_name="Carol Jansen", headline="Recruiter")


@pytest.fixture
def dave(db) -> Member:
    return make_member("dave", display_name="Dave Peters")


def test_network_page_shows_invitations_suggestions_and_connections(alice, bob, carol, dave):
    connect(alice, carol)
    connect(carol, bob)  # bob shares carol with alice: a suggestion
    connect(dave, carol)  # dave shares carol with alice too
    actions.invitation_send(sender=dave, to_username="alice", note="We met at the fair.")

    response = logged_in(alice).get("/network/")

    assert response.status_code == 200
    html = page_text(response)
    received = response.context["received"]
    assert [row["card"]["username"] for row in received] == ["dave"]
    assert received[0]["mutual"] == 1
    assert "We met at the fair." in html
    assert "1 mutual connection" in html
    assert 'aria-label="Accept invitation from Dave Peters"' in html
    assert [s["card"]["username"] for s in response.context["suggestions"]] == ["bob"]
    assert 'aria-label="Connect with Bob de Boer"' in html
    assert [c["username"] for c in response.context["connections"]] == ["carol"]


def test_accept_invitation_connects_and_says_so(alice, bob):
    invitation = actions.invitation_send(sender=bob, to_username="alice")
    client = logged_in(alice)

    response = client.post(f"/network/invitations/{invitation.pk}/accept/", follow=True)

    assert response.redirect_chain[-1][0] == "/network/"
    assert queries.are_connected(alice.pk, bob.pk)
    assert "You are now connected with Bob de Boer." in page_text(response)
    assert [c["username"] for c in response.context["connections"]] == ["bob"]
    assert response.context["received"] == []


def test_ignore_invitation(alice, bob):
    invitation = actions.invitation_send(sender=bob, to_username="alice")
    response = logged_in(alice).post(f"/network/invitations/{invitation.pk}/ignore/", follow=True)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.IGNORED
    assert not queries.are_connected(alice.pk, bob.pk)
    assert "Invitation ignored." in page_text(response)


def test_withdraw_sent_invitation(alice, bob):
    invitation = actions.invitation_send(sender=alice, to_username="bob")
    client = logged_in(alice)
    html = page_text(client.get("/network/"))
    assert 'aria-label="Withdraw invitation to Bob de Boer"' in html

    response = client.post(f"/network/invitations/{invitation.pk}/withdraw/", follow=True)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.WITHDRAWN
    assert "Invitation to Bob de Boer withdrawn." in page_text(response)


def test_answering_someone_elses_invitation_shows_error_and_changes_nothing(alice, bob, carol):
    invitation = actions.invitation_send(sender=bob, to_username="alice")
    client = logged_in(carol)
    for verb in ("accept", "ignore", "withdraw"):
        response = client.post(f"/network/invitations/{invitation.pk}/{verb}/", follow=True)
        assert "No such invitation." in page_text(response)
    # The sender can not accept their own invitation either.
    response = logged_in(bob).post(f"/network/invitations/{invitation.pk}/accept/", follow=True)
    assert "Only the recipient can do that." in page_text(response)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert not queries.are_connected(alice.pk, bob.pk)


def test_invite_from_suggestions_with_note_shows_sent_panel(alice, bob, carol):
    connect(alice, carol)
    connect(carol, bob)
    client = logged_in(alice)

    response = client.post("/network/invite/", {"username": "bob", "note": "Hello Bob!"})

    invitation = Invitation.objects.get(from_member=alice, to_member=bob)
    assert invitation.note == "Hello Bob!"
    assert response.status_code == 302
    assert response["Location"] == f"/network/?sent={invitation.pk}"
    html = page_text(client.get(response["Location"]))
    assert "Invitation sent to Bob de Boer." in html
    assert 'data-testid="away-badge"' not in html
    assert "Bob de Boer" in html  # now in "Invitations sent"


def test_inviting_an_away_member_shows_their_badge_right_after_sending(alice, bob):
    away(bob, message="Hiking in the Alps, back on the 20th.")
    client = logged_in(alice)

    response = client.post("/network/invite/", {"username": "bob"}, follow=True)

    html = page_text(response)
    assert "Invitation sent to Bob de Boer." in html
    assert "is away right now" in html
    assert 'data-testid="away-badge"' in html
    assert "Hiking in the Alps, back on the 20th." in html
    assert Invitation.objects.get(to_member=bob).status == Invitation.Status.PENDING


def test_inviting_an_away_member_from_their_profile_flashes_the_away_notice(alice, bob):
    away(bob)
    response = logged_in(alice).post(
        "/network/invite/", {"username": "bob", "next": "/in/bob/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/in/bob/"
    html = page_text(response)
    assert "Invitation sent to Bob de Boer." in html
    assert "Bob de Boer is away, back on" in html
    assert "Your invitation waits for their return." in html


def test_invite_errors_show_and_change_nothing(alice, bob):
    client = logged_in(alice)

    too_long = client.post("/network/invite/", {"username": "bob", "note": "x" * 301})
    assert too_long.status_code == 422
    assert not Invitation.objects.exists()

    to_self = client.post("/network/invite/", {"username": "alice"})
    assert to_self.status_code == 422
    assert "You can not invite yourself." in page_text(to_self)

    unknown = client.post("/network/invite/", {"username": "nobody"})
    assert unknown.status_code == 404
    assert "No member with that username." in page_text(unknown)
    assert not Invitation.objects.exists()

    actions.invitation_send(sender=alice, to_username="bob")
    again = client.post("/network/invite/", {"username": "bob"})
    assert again.status_code == 409
    assert "Your invitation is already pending." in page_text(again)
    assert Invitation.objects.count() == 1


def test_invite_back_shows_the_plain_message_of_a_reverse_pending_invitation(alice, bob):
    actions.invitation_send(sender=bob, to_username="alice")
    response = logged_in(alice).post("/network/invite/", {"username": "bob"})
    assert response.status_code == 409
    assert "Bob de Boer already invited you: accept that invitation." in page_text(response)
    assert "invitation_id" not in page_text(response)


def test_invite_error_from_a_profile_goes_back_with_the_message(alice, bob):
    Block.objects.create(blocker=bob, blocked=alice)
    response = logged_in(alice).post(
        "/network/invite/", {"username": "bob", "next": "/in/bob/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/in/bob/"
    assert "You can not invite this member." in page_text(response)
    assert not Invitation.objects.exists()


def test_next_must_be_local(alice, bob):
    response = logged_in(alice).post(
        "/network/invite/", {"username": "bob", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith("/network/?sent=")


def test_connection_search_and_remove(alice, bob, carol):
    connect(alice, bob)
    connect(alice, carol)
    client = logged_in(alice)

    found = client.get("/network/", {"q": "recruit"})
    assert [c["username"] for c in found.context["connections"]] == ["carol"]
    none = client.get("/network/", {"q": "zebra"})
    assert "None of your connections match" in page_text(none)

    response = client.post("/network/connections/bob/remove/", follow=True)
    assert "Connection removed." in page_text(response)
    assert not queries.are_connected(alice.pk, bob.pk)

    again = client.post("/network/connections/bob/remove/", follow=True)
    assert "You are not connected to this member." in page_text(again)


def test_follow_unfollow_block_unblock(alice, bob):
    client = logged_in(alice)
    client.post("/network/members/bob/follow/", {"next": "/in/bob/"})
    assert queries.is_following(alice.pk, bob.pk)
    response = client.post("/network/members/bob/unfollow/", {"next": "/in/bob/"})
    assert response["Location"] == "/in/bob/"
    assert not queries.is_following(alice.pk, bob.pk)

    connect(alice, bob)
    client.post("/network/members/bob/block/")
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert not queries.are_connected(alice.pk, bob.pk)
    assert not Follow.objects.filter(follower=alice).exists()
    client.post("/network/members/bob/unblock/")
    assert not Block.objects.exists()

    response = client.post("/network/members/alice/follow/", follow=True)
    assert "You can not follow yourself." in page_text(response)


def render_profile_actions(viewer: Member, member: Member) -> str:
    request = RequestFactory().get(f"/in/{member.username}/")
    request.user = viewer
    return render_to_string(
        "network/_profile_actions.html", profile_actions_context(viewer, member), request=request
    )


def test_profile_actions_follow_the_relationship(alice, bob, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        context = profile_actions_context(alice, bob)
    assert context["profile_actions"]["connected"] is False

    html = render_profile_actions(alice, bob)
    assert 'action="/network/invite/"' in html
    assert 'href="/messaging/new/?to=bob"' in html
    assert 'action="/network/members/bob/follow/"' in html
    assert 'action="/network/members/bob/block/"' in html
    assert 'name="next" value="/in/bob/"' in html

    invitation = actions.invitation_send(sender=alice, to_username="bob")
    assert f"/network/invitations/{invitation.pk}/withdraw/" in render_profile_actions(alice, bob)
    assert f"/network/invitations/{invitation.pk}/accept/" in render_profile_actions(bob, alice)

    actions.invitation_accept(member=bob, invitation_id=invitation.pk)
    html = render_profile_actions(alice, bob)
    assert 'data-testid="connected"' in html
    assert 'action="/network/members/bob/unfollow/"' in html  # connecting follows
    assert 'action="/network/connections/bob/remove/"' in html

    actions.block_create(member=alice, username="bob")
    assert 'action="/network/members/bob/unblock/"' in render_profile_actions(alice, bob)
    assert "profile-actions" in render_profile_actions(bob, alice)
    assert "/network/invite/" not in render_profile_actions(bob, alice)
    assert render_profile_actions(alice, alice).strip() == ""


def test_member_text_is_escaped(alice):
    evil = make_member("evil", display_name="<script>alert(1)</script>", headline="<b>x</b>")
    actions.invitation_send(sender=evil, to_username="alice", note="<img src=x onerror=alert(2)>")
    html = page_text(logged_in(alice).get("/network/"))
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_received_fragment_for_live_updates(alice, bob):
    actions.invitation_send(sender=bob, to_username="alice", note="Fragment note")
    response = logged_in(alice).get("/network/invitations/received/")
    assert response.status_code == 200
    html = page_text(response)
    assert "Fragment note" in html
    assert "<html" not in html


def test_pages_need_login_and_changes_need_post(alice):
    anonymous = Client()
    for url in ["/network/", "/network/invitations/received/"]:
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    client = logged_in(alice)
    for url in [
        "/network/invite/",
        "/network/invitations/1/accept/",
        "/network/connections/bob/remove/",
        "/network/members/bob/block/",
    ]:
        assert client.get(url).status_code == 405


def test_forms_need_csrf(alice, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/network/invite/", {"username": "bob"}).status_code == 403
    assert not Invitation.objects.exists()


def test_network_page_query_count_does_not_grow(alice, django_assert_max_num_queries):
    others = [make_member(f"peer{i}") for i in range(8)]
    for other in others[:4]:
        connect(alice, other)
    for other in others[4:]:
        actions.invitation_send(sender=other, to_username="alice", note="hi")
    away(others[0])
    away(others[5])
    client = logged_in(alice)
    # session, member, received (label counts + page), mutual counts, sent,
    # connections (count + page), suggestions, badges (2), header counts (3), away banner
    with django_assert_max_num_queries(15):
        response = client.get("/network/")
    assert response.status_code == 200
