"""Invitation labels (TRIAGE L1-L5), through ``invitation_send`` and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from backsoon.accounts.models import Member
from backsoon.network.actions import invitation_send
from backsoon.network.models import Invitation
from backsoon.triage.actions import contacts_add
from tests.conftest import Api, assert_error
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db


def codes(invitation: Invitation) -> list[str]:
    invitation.refresh_from_db(fields=["labels", "label_codes"])
    return [label["code"] for label in invitation.labels]


def send(sender: Member, to: Member, note: str = "", at=None) -> Invitation:
    sender.refresh_from_db(fields=["connections_count"])
    return invitation_send(sender=sender, to_username=to.username, note=note, at=at)


def received_labels(member: Member, **params) -> list[dict]:
    response = Api(member).get("/invitations", box="received", **params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def with_connections(member: Member, n: int) -> Member:
    """Give ``member`` ``n`` connections (the counter the collector rule reads)."""
    Member.objects.filter(pk=member.pk).update(connections_count=n)
    member.refresh_from_db(fields=["connections_count"])
    return member


# -- L1 known ------------------------------------------------------------------------


def wrote(member: Member, to: Member) -> None:
    """``member`` wrote to ``to`` (what ``message_send`` records, S1)."""
    contacts_add(member_id=member.pk, other_ids=[to.pk], why="wrote", at=timezone.now())


def test_L1_someone_you_wrote_to_is_known_never_collector_or_mass(alice, bob):
    wrote(bob, alice)
    with_connections(alice, 2500)
    invitation = send(alice, bob, "Let's connect, Bob")
    assert codes(invitation) == ["known", "note"]
    [item] = received_labels(bob)
    assert [label["code"] for label in item["labels"]] == ["known", "note"]
    assert item["labels"][0] == {"code": "known", "reason": "You have written to them"}


def test_L1_someone_whose_request_you_accepted_is_known(alice, bob):
    contacts_add(member_id=bob.pk, other_ids=[alice.pk], why="accepted", at=timezone.now())
    assert codes(send(alice, bob)) == ["known"]
    [item] = received_labels(bob)
    assert item["labels"] == [
        {"code": "known", "reason": "You accepted their request or invitation"}
    ]


def test_L1_only_the_recipient_knowing_counts(alice, bob):
    wrote(alice, bob)  # alice wrote to bob; bob never answered
    assert codes(send(alice, bob)) == ["first_contact"]


def test_L1_a_known_sender_is_not_mass_after_ten_copies(alice, bob):
    wrote(bob, alice)
    others = [make_member() for _ in range(10)]
    for other in others:
        send(alice, other, "I help coaches grow to 6 figures. Let's connect and explore synergies.")
    invitation = send(
        alice, bob, "I help coaches grow to 6 figures. Let's connect and explore synergies."
    )
    assert codes(invitation) == ["known", "note"]


# -- L2 mass -------------------------------------------------------------------------

FIRST_NAMES = ["Anna", "Bram", "Cleo", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Iris", "Joost"]


PITCH = "Hi {name}, I help coaches grow to {n} figures. Let's connect and explore synergies!"


def test_L2_the_tenth_similar_note_labels_the_first_nine(alice):
    members = [make_member(display_name=f"{first} Last") for first in FIRST_NAMES]
    sent = [
        send(alice, m, PITCH.format(name=m.display_name.split()[0], n=i + 3))
        for i, m in enumerate(members[:9])
    ]
    assert [codes(inv) for inv in sent] == [["note"]] * 9
    sent.append(send(alice, members[9], PITCH.format(name="Joost", n=12)))
    for inv in sent:
        inv.refresh_from_db(fields=["labels", "label_codes"])
        assert [label["code"] for label in inv.labels] == ["mass"], inv.labels
        assert inv.labels[0]["count"] == 10
        assert inv.label_codes == ",mass,"
    with translation.override("en"):
        [item] = received_labels(members[0])
    assert item["labels"] == [{"code": "mass", "reason": "Sent a similar note to 10 members"}]


def test_L2_nine_copies_are_a_note(alice):
    members = [make_member() for _ in range(9)]
    sent = [send(alice, m, PITCH.format(name=m.display_name, n=6)) for m in members]
    assert all(codes(inv) == ["note"] for inv in sent)


def test_L2_a_note_sent_to_twelve_members_is_mass_not_note(alice):
    members = [make_member() for _ in range(12)]
    note = "Saw your viral post. I run a growth agency: can I show you?"
    sent = [send(alice, m, note) for m in members]
    assert {tuple(codes(inv)) for inv in sent} == {("mass",)}
    assert sent[-1].labels[-1]["count"] == 12
    sent[0].refresh_from_db(fields=["labels"])
    assert sent[0].labels[-1]["count"] == 12  # the earlier copies say how many now


def test_L2_near_identical_notes_with_different_names_and_digits_count(alice):
    members = [make_member(display_name=f"{first} Jansen") for first in FIRST_NAMES]
    texts = [
        f"Dear {first}, I have {i * 7 + 2} ideas for your business. Let's  CONNECT today"
        + ("!" if i % 2 else ".")
        + (" Cheers" if i % 3 == 0 else "")
        for i, first in enumerate(FIRST_NAMES)
    ]
    sent = [send(alice, m, text) for m, text in zip(members, texts, strict=True)]
    assert codes(sent[0]) == ["mass"]


def test_L2_different_notes_do_not_count(alice):
    for m in [make_member() for _ in range(9)]:
        send(alice, m, PITCH.format(name="x", n=6))
    unrelated = [
        "We met at the fair in Utrecht last spring, nice to stay in touch.",
        "Former colleague of Sanne at ING. She said I should reach out to you.",
        "Your workshop on profiles helped our sales team a lot, thank you!",
    ]
    others = [make_member() for _ in unrelated]
    # Nine copies of the pitch, then three different notes: no 10th copy of anything.
    assert [codes(send(alice, m, t)) for m, t in zip(others, unrelated, strict=True)] == [
        ["note"],
        ["note"],
        ["note"],
    ]


def test_L2_copies_older_than_seven_days_do_not_count(alice):
    old = timezone.now() - timedelta(days=8)
    for m in [make_member() for _ in range(9)]:
        send(alice, m, PITCH.format(name="x", n=6), at=old)
    latest = send(alice, make_member(), PITCH.format(name="x", n=6))
    assert codes(latest) == ["note"]


# -- L3 collector --------------------------------------------------------------------


@override_settings(LANGUAGE_CODE="en")
def test_L3_thousands_of_connections_none_in_common_is_a_collector(alice, bob):
    with_connections(alice, 2500)
    invitation = send(alice, bob)
    assert codes(invitation) == ["collector"]
    with translation.override("en"):
        [item] = received_labels(bob)
    assert item["labels"] == [{"code": "collector", "reason": "2,500 connections, none in common"}]
    assert item["from_member"]["connections_count"] == 2500


def test_L3_one_connection_in_common_is_not_a_collector(alice, bob):
    carol = make_member("carol")
    connect(alice, carol)
    connect(bob, carol)
    with_connections(alice, 2500)
    invitation = send(alice, bob)
    assert codes(invitation) == ["first_contact"]


def test_L3_fifty_invitations_in_seven_days_is_a_collector(alice):
    members = [make_member() for _ in range(50)]
    sent = [send(alice, m) for m in members]
    assert codes(sent[48]) == ["first_contact"]
    assert codes(sent[49]) == ["collector"]
    assert sent[49].labels[0]["invitations"] == 50
    [item] = received_labels(members[49])
    assert item["labels"][0]["reason"] == "Sent 50 invitations in the last 7 days"


# -- L4 note, L5 first contact -------------------------------------------------------


def test_L4_an_invitation_with_a_personal_note_is_labelled_note(alice, bob):
    invitation = send(alice, bob, "We met at the fair in Utrecht, nice talking to you.")
    assert codes(invitation) == ["note"]
    [item] = received_labels(bob)
    assert item["labels"] == [{"code": "note", "reason": "Wrote you a personal note"}]


def test_L4_a_collector_with_a_note_has_both(alice, bob):
    with_connections(alice, 1000)
    assert codes(send(alice, bob, "Hello there")) == ["collector", "note"]


def test_L5_a_stranger_without_a_note_is_a_first_contact(alice, bob):
    invitation = send(alice, bob)
    assert codes(invitation) == ["first_contact"]
    assert invitation.label_codes == ",first_contact,"


def test_L5_reasons_are_in_the_recipients_language(alice):
    dutch = make_member("daan", language="nl")
    send(alice, dutch)
    [item] = Api(dutch).get("/invitations", box="received").json()["items"]
    assert item["labels"] == [
        {"code": "first_contact", "reason": "Eerste contact: jullie hadden nog geen contact"}
    ]


# -- visibility, API -----------------------------------------------------------------


def test_labels_are_shown_only_to_the_recipient(alice, bob):
    response = Api(alice).post("/invitations", {"to": "bob", "note": "Hi Bob"})
    assert response.status_code == 201
    assert response.json()["labels"] == []
    sent = Api(alice).get("/invitations", box="sent").json()["items"]
    assert sent[0]["labels"] == []
    detail = Api(alice).get(f"/invitations/{sent[0]['id']}").json()
    assert detail["labels"] == []
    assert Api(bob).get(f"/invitations/{sent[0]['id']}").json()["labels"] == [
        {"code": "note", "reason": "Wrote you a personal note"}
    ]


def test_invitations_filter_by_label_note_and_mutual(bob):
    collector = with_connections(make_member("collector"), 3000)
    noter = make_member("noter")
    friendly = make_member("friendly")
    for common in [make_member() for _ in range(2)]:
        connect(friendly, common)
        connect(bob, common)
    send(collector, bob)
    send(noter, bob, "Loved your talk at the meetup")
    send(friendly, bob)

    def names(**params):
        return [item["from"] for item in received_labels(bob, **params)]

    assert names() == ["friendly", "noter", "collector"]
    assert names(label="collector") == ["collector"]
    assert names(label="note") == ["noter"]
    assert names(label="first_contact") == ["friendly"]
    assert names(has_note="true") == ["noter"]
    assert names(has_note="false") == ["friendly", "collector"]
    assert names(min_mutual=2) == ["friendly"]
    assert names(max_mutual=0) == ["noter", "collector"]
    assert names(min_mutual=1, max_mutual=5, label="first_contact") == ["friendly"]
    items = received_labels(bob, min_mutual=2)
    assert items[0]["mutual_count"] == items[0]["mutual_connections"] == 2
    # Paging keeps the filter.
    first = Api(bob).get("/invitations", box="received", max_mutual=0, limit=1).json()
    assert [i["from"] for i in first["items"]] == ["noter"]
    second = (
        Api(bob)
        .get("/invitations", box="received", max_mutual=0, limit=1, cursor=first["next_cursor"])
        .json()
    )
    assert [i["from"] for i in second["items"]] == ["collector"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"label": "spam"}, "unknown_label"),
        ({"min_mutual": -1}, "validation_error"),
        ({"max_mutual": -3}, "validation_error"),
        ({"has_note": "maybe"}, "validation_error"),
        ({"min_mutual": 5, "max_mutual": 2}, "mutual_range_empty"),
        ({"box": "sent", "label": "note"}, "label_received_only"),
    ],
)
def test_invitation_filters_are_validated(alice, params, code):
    assert_error(Api(alice).get("/invitations", **params), 422, code)


def test_the_list_pins_its_query_count(bob, django_assert_max_num_queries):
    for i in range(5):
        sender = make_member(f"sender{i}")
        send(sender, bob, "Hello Bob")
    api = Api(bob)
    api.get("/invitations")  # warm the token
    with django_assert_max_num_queries(8):
        response = api.get("/invitations", box="received", label="note", min_mutual=0)
    assert len(response.json()["items"]) == 5
