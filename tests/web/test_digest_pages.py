"""The return digest page and its bulk invitation handling (D1, I3)."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.messaging.actions import conversation_start, message_send
from backsoon.network.models import Invitation
from tests.conftest import Api
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def logged_in(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_D1_digest_page_shows_sections_in_order(alice, bob):
    connect(alice, bob)
    absence = make_absence(alice)
    conv, _ = conversation_start(creator=bob, usernames=["alice"])
    message_send(sender=bob, conversation_id=conv.pk, body="Client question")
    pitcher = make_member("pitcher", display_name="Pat Pitch")
    conv2, _ = conversation_start(creator=pitcher, usernames=["alice"])
    message_send(sender=pitcher, conversation_id=conv2.pk, body="<script>buy()</script>")
    Api(make_member("fan")).post("/invitations", {"to": "alice", "note": "Loved your post"})
    page = logged_in(alice).get(f"/away/{absence.pk}/digest/").content.decode()
    order = [
        page.index(marker)
        for marker in (
            'data-testid="digest-connections"',
            "Client question",
            'data-testid="digest-others"',
            "&lt;script&gt;buy()&lt;/script&gt;",
            'data-testid="digest-invitations"',
            "Loved your post",
            'data-testid="digest-posts"',
        )
    ]
    assert order == sorted(order)
    assert "<script>buy()" not in page
    assert f'href="/messaging/{conv.pk}/"' in page


def test_I3_accept_all_with_enough_mutual_connections(alice):
    absence = make_absence(alice)
    friends = [make_member(f"friend{i}") for i in range(3)]
    insider = make_member("insider")
    for f in friends:
        connect(alice, f)
        connect(insider, f)
    outsider = make_member("outsider")
    for m in (insider, outsider):
        Api(m).post("/invitations", {"to": "alice"})
    client = logged_in(alice)
    response = client.post(
        f"/away/{absence.pk}/digest/invitations/", {"action": "accept", "min_mutual": "3"}
    )
    assert response.status_code == 302
    assert Invitation.objects.get(from_member=insider).status == "accepted"
    assert Invitation.objects.get(from_member=outsider).status == "pending"
    inv = Invitation.objects.get(from_member=outsider)
    client.post(f"/away/{absence.pk}/digest/invitations/", {"action": "ignore", "ids": [inv.pk]})
    assert Invitation.objects.get(pk=inv.pk).status == "ignored"


def test_digest_page_of_another_member_is_404(alice, bob):
    absence = make_absence(alice)
    client = logged_in(bob)
    assert client.get(f"/away/{absence.pk}/digest/").status_code == 404
    response = client.post(
        f"/away/{absence.pk}/digest/invitations/", {"action": "accept", "ids": []}
    )
    assert response.status_code == 404


def test_digest_bulk_form_rejects_bad_input_and_needs_csrf(alice):
    absence = make_absence(alice)
    client = logged_in(alice)
    response = client.post(
        f"/away/{absence.pk}/digest/invitations/", {"action": "accept", "min_mutual": "x"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/away/{absence.pk}/digest/"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert (
        strict.post(f"/away/{absence.pk}/digest/invitations/", {"action": "accept"}).status_code
        == 403
    )


def test_D2_digest_is_reachable_while_still_away(alice):
    absence = make_absence(alice)
    page = logged_in(alice).get("/away/").content.decode()
    assert f'href="/away/{absence.pk}/digest/"' in page
