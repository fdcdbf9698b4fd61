"""The received invitations on /network/: label chips with their reasons, filter links
by label that keep paging (TRIAGE L1-L5, C2)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from backsoon.network.actions import invitation_send
from backsoon.network.views import RECEIVED_PER_PAGE
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def invite(sender: Member, to: Member, note: str = "") -> None:
    sender.refresh_from_db(fields=["connections_count"])
    invitation_send(sender=sender, to_username=to.username, note=note)


@pytest.fixture
def flooded(alice):
    collector = make_member("collector", display_name="Carl Collector")
    Member.objects.filter(pk=collector.pk).update(connections_count=2500)
    invite(collector, alice)
    invite(make_member("noter", display_name="Nina Note"), alice, "We met at the fair.")
    invite(make_member("stranger", display_name="Sam Stranger"), alice)
    return alice


def test_labels_show_as_chips_with_their_reason(flooded):
    html = logged_in(flooded).get("/network/").content.decode()
    assert 'data-label="collector"' in html
    assert "Collector" in html and "2,500 connections, none in common" in html
    assert "Wrote you a personal note" in html
    assert "First contact: you have not been in touch before" in html


def test_labels_are_in_dutch_for_a_dutch_member(bob):
    Member.objects.filter(pk=bob.pk).update(language="nl")
    bob.refresh_from_db()
    invite(make_member("noter"), bob, "Leuk je te ontmoeten.")
    html = logged_in(bob).get("/network/").content.decode()
    assert "Persoonlijk briefje" in html
    assert "Wrote you a personal note" not in html


def test_filter_links_show_one_label_with_counts(flooded):
    client = logged_in(flooded)
    response = client.get("/network/", {"label": "collector"})
    assert [row["card"]["username"] for row in response.context["received"]] == ["collector"]
    filters = {f["code"]: f for f in response.context["label_filters"]}
    assert [f["code"] for f in response.context["label_filters"]] == [
        "",
        "collector",
        "mass",
        "note",
        "first_contact",
        "known",
    ]
    assert (filters[""]["count"], filters["collector"]["count"], filters["note"]["count"]) == (
        3,
        1,
        1,
    )
    assert filters["collector"]["current"] and not filters[""]["current"]
    assert filters["note"]["url"] == "/network/?label=note#received"
    assert filters[""]["url"] == "/network/#received"
    response = client.get("/network/", {"label": "mass"})
    assert response.context["received"] == []
    assert "No pending invitations with this label." in response.content.decode()


def test_an_unknown_label_shows_everything(flooded):
    response = logged_in(flooded).get("/network/", {"label": "nonsense"})
    assert response.status_code == 200
    assert len(response.context["received"]) == 3


def test_paging_keeps_the_label_and_the_connections_page(alice):
    for i in range(RECEIVED_PER_PAGE + 2):
        invite(make_member(f"peer{i:02d}"), alice, "Hello")
    invite(make_member("quiet"), alice)
    client = logged_in(alice)
    response = client.get("/network/", {"label": "note", "q": "x"})
    assert len(response.context["received"]) == RECEIVED_PER_PAGE
    next_url = response.context["received_next_url"]
    assert next_url == "/network/?q=x&label=note&invitations_page=2#received"
    page2 = client.get(next_url.split("#")[0])
    assert [row["card"]["username"] for row in page2.context["received"]] == ["peer01", "peer00"]
    assert page2.context["received_prev_url"] == (
        "/network/?q=x&label=note&invitations_page=1#received"
    )
    # The filter links start the label over at its first page, keeping the search.
    filters = {f["code"]: f["url"] for f in page2.context["label_filters"]}
    assert filters["first_contact"] == "/network/?q=x&label=first_contact#received"
    # The live fragment refetches the same page.
    live = page2.context["received_live_url"]
    assert live == "/network/invitations/received/?q=x&label=note&invitations_page=2"
    fragment = client.get(live)
    assert len(re.findall(r'data-testid="invitation-\d+"', fragment.content.decode())) == 2


def test_the_page_is_fine_on_a_phone(flooded):
    """Chips wrap (no fixed widths) and drop their indent on narrow screens."""
    from pathlib import Path

    css = (Path(__file__).parents[2] / "backsoon/web/static/web/backsoon.css").read_text()
    assert ".inv-filters { display: flex; flex-wrap: wrap;" in css
    assert ".inv-labels { list-style: none; display: flex; flex-wrap: wrap;" in css
    narrow = css[css.index("@media (max-width: 800px)", css.index(".inv-labels")) :]
    assert ".inv-labels { margin-left: 0; }" in narrow or ", .inv-labels {" in narrow
