"""Messaging pages for the flood (TRIAGE S1-S4, L1-L6, C1, C2): folder tabs, labels,
one-at-a-time actions and bulk actions, through the web client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from backsoon.messaging import actions
from backsoon.messaging.models import Conversation, Participant
from backsoon.network.models import Block
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db

PITCH = "Hi {name}, I help founders like you triple their pipeline. Fancy a quick call?"


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def write(sender: Member, to: Member, body: str) -> Conversation:
    conversation, _ = actions.conversation_start(creator=sender, usernames=[to.username])
    actions.message_send(sender=sender, conversation_id=conversation.pk, body=body)
    return conversation


def mine(member: Member, conversation: Conversation) -> Participant:
    return Participant.objects.get(member=member, conversation=conversation)


def listed(response) -> list[int]:
    return [row["conversation"].pk for row in response.context["rows"]]


@pytest.fixture
def carol(db) -> Member:
    return make_member("carol", display_name="Carol Jansen")


@pytest.fixture
def friend_and_stranger(alice, bob, carol):
    """Bob (a connection) and Carol (a stranger) each write to Alice."""
    connect(alice, bob)
    known = write(bob, alice, "Lunch on Friday?")
    stranger = write(carol, alice, "Hello Alice, can I pick your brain?")
    return known, stranger


def test_S1_tabs_list_each_folder(alice, friend_and_stranger):
    known, stranger = friend_and_stranger
    client = logged_in(alice)

    inbox = client.get("/messaging/")
    requests = client.get("/messaging/?folder=requests")
    archived = client.get("/messaging/?folder=archived")

    assert listed(inbox) == [known.pk]
    assert listed(requests) == [stranger.pk]
    assert listed(archived) == []
    html = requests.content.decode()
    assert 'data-testid="tab-requests"' in html
    assert 'aria-current="page">Requests' in html
    assert "can I pick your brain?" in html


def test_S2_requests_tab_shows_the_pending_count(alice, friend_and_stranger):
    html = logged_in(alice).get("/messaging/").content.decode()
    assert 'data-testid="count-requests" title="Pending requests">1</span>' in html
    # The request raises no unread message count (S2): only Bob's message counts.
    assert 'data-testid="count-messages">1</span>' in html


def test_C2_unknown_folder_label_and_similar_fall_back_to_the_inbox(alice, friend_and_stranger):
    known, _stranger = friend_and_stranger
    client = logged_in(alice)
    for query in ["?folder=spam", "?folder=", "?label=nonsense", "?similar=abc", "?similar=9" * 30]:
        response = client.get("/messaging/" + query)
        assert response.status_code == 200, query
        assert listed(response) == [known.pk], query


def test_C2_folder_is_kept_in_paging_and_in_the_live_fragment(alice, carol):
    for i in range(52):
        write(make_member(f"sender{i}"), alice, f"pitch number {i}")
    client = logged_in(alice)

    page = client.get("/messaging/?folder=requests")
    html = page.content.decode()
    assert len(page.context["rows"]) == 50
    assert 'href="?folder=requests&amp;limit=100"' in html
    assert "/messaging/list/?folder=requests&amp;limit=50" in html
    more = client.get("/messaging/?folder=requests&limit=100")
    assert len(more.context["rows"]) == 52

    fragment = client.get("/messaging/list/?folder=requests")
    assert fragment.status_code == 200
    assert len(fragment.context["rows"]) == 50
    assert "pitch number 51" in fragment.content.decode()
    assert len(client.get("/messaging/list/").context["rows"]) == 0


def test_L5_request_row_shows_its_label_and_reason(alice, friend_and_stranger):
    _known, stranger = friend_and_stranger
    html = logged_in(alice).get("/messaging/?folder=requests").content.decode()
    row = html[html.index(f'data-testid="row-{stranger.pk}"') :]
    assert 'data-label="first_contact"' in row
    assert "First contact" in row
    assert 'title="First contact: you have not been in touch before"' in row


def test_L1_known_rows_carry_the_known_chip(alice, friend_and_stranger):
    known, _stranger = friend_and_stranger
    html = logged_in(alice).get("/messaging/").content.decode()
    row = html[html.index(f'data-testid="row-{known.pk}"') :]
    assert 'data-label="known"' in row
    assert 'title="You are connected"' in row


def test_L2_L6_mass_messages_show_the_count_and_group_link(alice):
    senders = [make_member(f"pitcher{i}") for i in range(3)]
    # Alice gets the 11th copy of each: labelled mass as it arrives (L2).
    targets = [*(make_member(f"target{i}") for i in range(10)), alice]
    for sender in senders:
        for target in targets:
            write(sender, target, PITCH.format(name=target.first_name))
    client = logged_in(alice)

    response = client.get("/messaging/?folder=requests")

    html = response.content.decode()
    assert html.count('data-label="mass"') == 3
    assert "Sent a similar message to 11 members" in html
    key = Participant.objects.filter(member=alice).values_list("similar_key", flat=True)[0]
    assert f'href="/messaging/?folder=requests&amp;similar={key}"' in html
    assert ">3 similar</a>" in html

    group = client.get(f"/messaging/?folder=requests&similar={key}")
    assert len(group.context["rows"]) == 3
    assert "Decline all 3" in group.content.decode()
    declined = client.post(
        "/messaging/bulk/",
        {"folder": "requests", "similar": key, "matching": "1", "action": "decline"},
        follow=True,
    )
    assert "3 conversations changed." in declined.content.decode()
    assert listed(client.get("/messaging/?folder=requests")) == []
    assert len(listed(client.get("/messaging/?folder=archived"))) == 3


def test_S3_accept_moves_the_request_to_the_inbox(alice, carol, friend_and_stranger):
    _known, stranger = friend_and_stranger
    client = logged_in(alice)

    response = client.post(f"/messaging/{stranger.pk}/accept/")

    assert response.status_code == 302
    assert response["Location"] == f"/messaging/{stranger.pk}/"
    assert mine(alice, stranger).folder == Participant.Folder.INBOX
    page = client.get(response["Location"])
    assert "Request accepted: the conversation is in your inbox." in page.content.decode()
    assert stranger.pk in listed(page)  # the list beside it is the inbox now
    assert page.context["folder"] == "inbox"
    # Carol is known for good: her next conversation is not a request.
    assert 'data-label="known"' in client.get("/messaging/").content.decode()


def test_S3_decline_archives_and_goes_back_to_requests(alice, friend_and_stranger):
    _known, stranger = friend_and_stranger
    client = logged_in(alice)

    response = client.post(f"/messaging/{stranger.pk}/decline/")

    assert response["Location"] == "/messaging/?folder=requests"
    participant = mine(alice, stranger)
    assert (participant.folder, participant.declined) == ("archived", True)
    assert "Request declined." in client.get(response["Location"]).content.decode()


def test_S3_report_asks_first_then_blocks(alice, carol, friend_and_stranger):
    _known, stranger = friend_and_stranger
    client = logged_in(alice)

    confirm = client.get(f"/messaging/{stranger.pk}/report/")
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert 'data-testid="confirm-report"' in html
    assert "csrfmiddlewaretoken" in html
    assert mine(alice, stranger).folder == "requests"  # nothing happened yet

    done = client.post(f"/messaging/{stranger.pk}/report/")

    assert done["Location"] == "/messaging/?folder=requests"
    assert mine(alice, stranger).declined
    assert Block.objects.filter(blocker=alice, blocked=carol).exists()


def test_C1_archive_unarchive_mute_and_unread(alice, bob, friend_and_stranger):
    known, _stranger = friend_and_stranger
    client = logged_in(alice)
    client.get(f"/messaging/{known.pk}/")  # read it
    assert mine(alice, known).unread_count == 0

    archived = client.post(f"/messaging/{known.pk}/archive/")
    assert archived["Location"] == "/messaging/"
    assert mine(alice, known).folder == "archived"
    page = client.get(f"/messaging/{known.pk}/")
    assert page.context["folder"] == "archived"
    assert 'data-testid="action-unarchive"' in page.content.decode()

    back = client.post(f"/messaging/{known.pk}/unarchive/")
    assert back["Location"] == f"/messaging/{known.pk}/"
    assert mine(alice, known).folder == "inbox"

    client.post(f"/messaging/{known.pk}/mute/")
    assert mine(alice, known).muted
    assert f'data-testid="muted-{known.pk}"' in client.get("/messaging/").content.decode()
    client.post(f"/messaging/{known.pk}/unmute/")
    assert not mine(alice, known).muted

    unread = client.post(f"/messaging/{known.pk}/unread/")
    assert unread["Location"] == "/messaging/"
    assert mine(alice, known).unread_count == 1


def test_C1_actions_need_POST_and_csrf(alice, friend_and_stranger):
    known, _stranger = friend_and_stranger
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"/messaging/{known.pk}/archive/").status_code == 403
    assert mine(alice, known).folder == "inbox"
    # GET of an action other than report only leads back to the conversation.
    assert client.get(f"/messaging/{known.pk}/archive/")["Location"] == f"/messaging/{known.pk}/"


def test_S3_accepting_what_is_not_a_request_is_a_friendly_409(alice, friend_and_stranger):
    known, _stranger = friend_and_stranger
    client = logged_in(alice)

    response = client.post(f"/messaging/{known.pk}/accept/")

    assert response.status_code == 409
    html = response.content.decode()
    assert "This conversation is not a request." in html
    assert 'data-code="not_a_request"' in html
    assert client.get(f"/messaging/{known.pk}/report/").status_code == 409


def test_actions_on_unknown_conversations_or_actions_are_404(alice, bob, carol):
    theirs = write(bob, carol, "private")
    client = logged_in(alice)
    assert client.post(f"/messaging/{theirs.pk}/archive/").status_code == 404
    assert client.post("/messaging/999999/accept/").status_code == 404
    own = write(carol, alice, "hi")
    assert client.post(f"/messaging/{own.pk}/explode/").status_code == 404


def test_C2_bulk_by_ids_counts_what_changed(alice):
    conversations = [write(make_member(f"pitch{i}"), alice, f"pitch {i}") for i in range(4)]
    client = logged_in(alice)
    ids = [c.pk for c in conversations[:3]]

    response = client.post(
        "/messaging/bulk/", {"folder": "requests", "action": "decline", "ids": ids}, follow=True
    )

    assert "3 conversations changed." in response.content.decode()
    assert listed(response) == [conversations[3].pk]
    again = client.post(
        "/messaging/bulk/", {"folder": "requests", "action": "decline", "ids": ids}, follow=True
    )
    assert "0 conversations changed." in again.content.decode()  # idempotent


def test_C2_bulk_all_on_the_page(alice):
    conversations = [write(make_member(f"pitch{i}"), alice, f"pitch {i}") for i in range(3)]
    response = logged_in(alice).post(
        "/messaging/bulk/",
        {
            "folder": "requests",
            "action": "accept",
            "page": "1",
            "page_ids": [c.pk for c in conversations],
        },
        follow=True,
    )
    assert "3 conversations changed." in response.content.decode()
    assert {mine(alice, c).folder for c in conversations} == {"inbox"}


def test_L1_archive_by_filter_leaves_known_people_alone(alice, bob, friend_and_stranger):
    known, stranger = friend_and_stranger
    actions.conversation_accept(member=alice, conversation_id=stranger.pk)
    client = logged_in(alice)
    client.get(f"/messaging/{stranger.pk}/")

    response = client.post(
        "/messaging/bulk/", {"folder": "inbox", "action": "archive", "matching": "1"}, follow=True
    )

    # Carol was accepted: known too (L1); nothing is archived by the filter.
    assert "0 conversations changed." in response.content.decode()
    assert mine(alice, known).folder == "inbox"
    # Aimed at by id, it is archived.
    client.post("/messaging/bulk/", {"folder": "inbox", "action": "archive", "ids": [known.pk]})
    assert mine(alice, known).folder == "archived"


def test_C2_bulk_by_label_filter_with_count(alice, bob, friend_and_stranger):
    known, stranger = friend_and_stranger
    other = write(make_member("dave"), alice, "Hello there")
    client = logged_in(alice)

    page = client.get("/messaging/?folder=requests&label=first_contact")
    assert set(listed(page)) == {stranger.pk, other.pk}
    assert "All 2 matching" in page.content.decode()

    response = client.post(
        "/messaging/bulk/",
        {"folder": "requests", "label": "first_contact", "action": "accept", "matching": "1"},
        follow=True,
    )
    assert "2 conversations changed." in response.content.decode()
    assert set(listed(client.get("/messaging/"))) == {known.pk, stranger.pk, other.pk}


@pytest.mark.parametrize(
    "data",
    [
        {"folder": "requests", "action": "decline", "ids": ["abc"]},
        {"folder": "requests", "action": "decline", "ids": ["-1"]},
        {"folder": "requests", "action": "decline", "ids": ["9" * 40]},
        {"folder": "requests", "action": "explode", "ids": ["1"]},
        {"folder": "inbox", "action": "accept", "ids": ["1"]},  # not offered in the inbox
        {"folder": "requests", "action": "decline", "ids": [str(i) for i in range(600)]},
    ],
)
def test_bulk_bad_input_is_a_friendly_4xx(alice, data):
    response = logged_in(alice).post("/messaging/bulk/", data)
    assert 400 <= response.status_code < 500
    assert 'data-testid="problem"' in response.content.decode()


def test_bulk_with_nothing_selected_says_so(alice, friend_and_stranger):
    response = logged_in(alice).post(
        "/messaging/bulk/", {"folder": "requests", "action": "decline"}, follow=True
    )
    assert response.status_code == 200
    assert "Select at least one conversation." in response.content.decode()


def test_S3_opening_a_request_shows_the_banner_and_replying_accepts(alice, carol):
    stranger = write(carol, alice, "Hello Alice, can I pick your brain?")
    client = logged_in(alice)

    page = client.get(f"/messaging/{stranger.pk}/")

    html = page.content.decode()
    assert 'data-testid="request-banner"' in html
    assert "Carol Jansen is not in your network." in html
    assert "They won't know you saw this until you reply or accept." in html
    for action in ("accept", "decline", "report"):
        assert f'data-testid="action-{action}"' in html
    assert 'data-testid="action-archive"' not in html  # a request is accepted or declined

    client.post(f"/messaging/{stranger.pk}/send/", {"body": "Sure, call me Monday."})

    assert mine(alice, stranger).folder == "inbox"
    assert (
        'data-testid="request-banner"'
        not in client.get(f"/messaging/{stranger.pk}/").content.decode()
    )


def test_S4_a_request_still_shows_the_away_notice(alice, carol):
    make_absence(carol, message="Back next week.")
    stranger = write(carol, alice, "Quick question before I leave")
    html = logged_in(alice).get(f"/messaging/{stranger.pk}/").content.decode()
    assert 'data-testid="request-banner"' in html
    assert 'data-testid="away-notice"' in html


def test_dutch_page_shows_dutch_tabs_labels_and_actions(alice, carol):
    alice.language = "nl"
    alice.save(update_fields=["language"])
    stranger = write(carol, alice, "Hallo Alice")
    client = logged_in(alice)

    listing = client.get("/messaging/?folder=requests").content.decode()
    page = client.get(f"/messaging/{stranger.pk}/").content.decode()

    assert "Verzoeken" in listing
    assert "Eerste contact" in listing
    assert "Alle op deze pagina" in listing
    assert "Accepteren" in page
    assert "Weigeren" in page
    assert re.search(r"Carol Jansen zit niet in je netwerk", page)
