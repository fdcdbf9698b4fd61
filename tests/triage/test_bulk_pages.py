"""The web side of TRIAGE C2: the received invitations' filters and plain-form bulk bar,
lists that page through every item, and the notifications' bulk bar."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.network.models import Invitation
from backsoon.network.views import RECEIVED_PER_PAGE, SENT_PER_PAGE
from backsoon.notifications.models import Notification
from tests.factories import connect, make_member
from tests.triage.test_bulk_invitations import flood, notify, pending, unread

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_C2_web_bulk_bar_ticked_rows_work_without_javascript(alice):
    ids = [inv.pk for inv in flood(alice, 3)]
    html = logged_in(alice).get("/network/").content.decode()
    # Rows are tied to the bulk form by form="" (no nesting, no script needed).
    assert 'id="received-bulk"' in html
    assert len(re.findall(r'name="ids" value="\d+" form="received-bulk"', html)) == 3
    response = logged_in(alice).post(
        "/network/invitations/bulk/", {"action": "accept", "ids": ids[:2]}, follow=True
    )
    assert flashes(response) == ["2 invitations accepted."]
    assert pending(alice) == 1
    alice.refresh_from_db()
    assert alice.connections_count == 2


def test_C2_web_all_on_this_page(alice):
    flood(alice, RECEIVED_PER_PAGE + 5)
    client = logged_in(alice)
    page = client.get("/network/").content.decode()
    page_ids = re.search(r'name="page_ids" value="([\d,]+)"', page).group(1)
    assert len(page_ids.split(",")) == RECEIVED_PER_PAGE
    response = client.post(
        "/network/invitations/bulk/",
        {"action": "ignore", "page": "1", "page_ids": page_ids},
        follow=True,
    )
    assert flashes(response) == [f"{RECEIVED_PER_PAGE} invitations ignored."]
    assert pending(alice) == 5


def test_C2_web_all_matching_covers_every_page(alice):
    flood(alice, RECEIVED_PER_PAGE * 2 + 10, label="collector")
    flood(alice, 4, label="note", note="hi")
    client = logged_in(alice)
    html = client.get("/network/", {"label": "collector"}).content.decode()
    assert "All 110 matching" in html
    response = client.post(
        "/network/invitations/bulk/",
        {"action": "ignore", "matching": "1", "label": "collector"},
        follow=True,
    )
    assert flashes(response) == ["110 invitations ignored."]
    assert pending(alice) == 4
    # Again: nothing more changes.
    again = client.post(
        "/network/invitations/bulk/",
        {"action": "ignore", "matching": "1", "label": "collector"},
        follow=True,
    )
    assert flashes(again) == ["0 invitations ignored."]


def test_C2_web_filters_narrow_the_list_and_the_bulk(alice):
    friend = make_member("friend")
    connect(alice, friend)
    close, _ = flood(alice, 2)
    connect(close.from_member, friend)
    flood(alice, 3, note="We met", days_ago=20)
    client = logged_in(alice)

    def shown(**params) -> set[int]:
        rows = client.get("/network/", params).context["received"]
        return {row["invitation"].pk for row in rows}

    assert shown(min_mutual="1") == {close.pk}
    assert len(shown(max_mutual="0")) == 4
    assert len(shown(has_note="yes")) == 3
    assert len(shown(has_note="no")) == 2
    assert len(shown(older_than="10")) == 3
    assert len(shown(min_mutual="-1", older_than="soon")) == 5  # not understood: left out
    response = client.post(
        "/network/invitations/bulk/",
        {"action": "ignore", "matching": "1", "has_note": "yes", "older_than": "10"},
        follow=True,
    )
    assert flashes(response) == ["3 invitations ignored."]
    assert response.redirect_chain[-1][0] == "/network/?has_note=yes&older_than=10#received"
    assert pending(alice) == 2


def test_C2_web_bulk_flash_is_in_the_members_language(alice):
    Member.objects.filter(pk=alice.pk).update(language="nl")
    ids = [inv.pk for inv in flood(alice, 2)]
    response = logged_in(alice).post(
        "/network/invitations/bulk/", {"action": "ignore", "ids": ids}, follow=True
    )
    assert flashes(response) == ["2 uitnodigingen genegeerd."]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "explode", "ids": "1"},
        {"action": "accept", "ids": "1;drop"},
        {"action": "accept"},
    ],
)
def test_C2_web_bulk_bad_input_changes_nothing(alice, data):
    flood(alice, 2)
    response = logged_in(alice).post("/network/invitations/bulk/", data, follow=True)
    assert response.status_code == 200
    assert flashes(response)
    assert pending(alice) == 2


def test_C2_web_bulk_leaves_other_members_invitations_alone(alice, bob):
    theirs = [inv.pk for inv in flood(bob, 2)]
    response = logged_in(alice).post(
        "/network/invitations/bulk/", {"action": "accept", "ids": theirs}, follow=True
    )
    assert flashes(response) == ["0 invitations accepted."]
    assert pending(bob) == 2


def test_C2_every_received_invitation_is_reachable_by_paging(alice):
    flood(alice, 130)  # the page used to stop at 100
    client = logged_in(alice)
    seen: set[int] = set()
    url = "/network/"
    while url:
        response = client.get(url)
        seen |= {row["invitation"].pk for row in response.context["received"]}
        url = response.context["received_next_url"]
    assert len(seen) == 130


def test_C2_every_sent_invitation_is_reachable_by_paging(alice):
    others = Member.objects.bulk_create(
        [
            Member(username=f"to{i}", email=f"to{i}@x.test", display_name=f"T {i}")
            for i in range(110)
        ]
    )
    Invitation.objects.bulk_create(
        [
            Invitation(
                from_member=alice,
                to_member=m,
                pair_low=min(m.pk, alice.pk),
                pair_high=max(m.pk, alice.pk),
            )
            for m in others
        ]
    )
    client = logged_in(alice)
    seen: set[int] = set()
    url = "/network/"
    pages = 0
    while url:
        response = client.get(url)
        assert len(response.context["sent"]) <= SENT_PER_PAGE
        seen |= {row["invitation"].pk for row in response.context["sent"]}
        url = response.context["sent_next_url"]
        pages += 1
    assert len(seen) == 110 and pages == 4
    assert response.context["sent_total"] == 110


def test_C2_every_connection_is_reachable_by_paging(alice):
    for i in range(35):
        connect(alice, make_member(f"conn{i}"))
    client = logged_in(alice)
    seen: set[str] = set()
    url = "/network/"
    while url:
        response = client.get(url)
        seen |= {card["username"] for card in response.context["connections"]}
        url = response.context["connections_next_url"]
    assert len(seen) == 35


# -- notifications ----------------------------------------------------------------------


def test_C2_web_notifications_mark_all_matching_read(alice, bob):
    notify(alice, 40, type="reaction")
    notify(alice, 3, type="comment", days_ago=9)
    notify(bob, 2)
    client = logged_in(alice)
    html = client.get("/notifications/", {"type": "reaction"}).content.decode()
    assert "All 40 unread matching" in html
    response = client.post(
        "/notifications/bulk/", {"matching": "1", "type": "reaction"}, follow=True
    )
    assert flashes(response) == ["40 notifications marked as read."]
    assert unread(alice) == 3
    response = client.post(
        "/notifications/bulk/", {"matching": "1", "older_than": "5"}, follow=True
    )
    assert flashes(response) == ["3 notifications marked as read."]
    assert unread(alice) == 0 and unread(bob) == 2


def test_C2_web_notifications_ticked_and_page(alice, bob):
    notify(alice, 35)
    mine = list(Notification.objects.filter(recipient=alice).values_list("pk", flat=True))
    client = logged_in(alice)
    response = client.post("/notifications/bulk/", {"ids": [mine[0], mine[1]]}, follow=True)
    assert flashes(response) == ["2 notifications marked as read."]
    page = client.get("/notifications/").content.decode()
    page_ids = re.search(r'name="page_ids" value="([\d,]+)"', page).group(1)
    response = client.post("/notifications/bulk/", {"page": "1", "page_ids": page_ids}, follow=True)
    assert unread(alice) == 3  # the newest 30 (the two read already are the oldest)
    notify(bob, 1)
    theirs = list(Notification.objects.filter(recipient=bob).values_list("pk", flat=True))
    client.post("/notifications/bulk/", {"ids": theirs})
    assert unread(bob) == 1


def test_C2_web_notification_filter_ignores_what_it_does_not_understand(alice):
    notify(alice, 2, days_ago=1)
    response = logged_in(alice).get("/notifications/", {"type": "x", "older_than": "-3"})
    assert response.status_code == 200 and len(response.context["rows"]) == 2
    assert (
        timezone.now() - timedelta(days=1) > response.context["rows"][0]["notification"].created_at
    )
