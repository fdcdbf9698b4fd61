"""The return digest as the place to clear the flood (TRIAGE C4): it pages, says what
was handled, handles in place, and handles "the rest" of each section."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Participant
from backsoon.network.actions import invitation_send
from backsoon.network.models import Invitation
from backsoon.notifications.models import Notification
from backsoon.notifications.views import subject_url
from tests.conftest import Api, assert_error
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def say(sender, to, body="hello"):
    conv, _ = conversation_start(creator=sender, usernames=[to.username])
    message_send(sender=sender, conversation_id=conv.pk, body=body)
    return conv.pk


def web(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def participant(member, conversation_id):
    return Participant.objects.get(member=member, conversation_id=conversation_id)


def test_C4_ending_an_absence_early_leads_to_its_digest(alice):
    absence = make_absence(alice)
    response = web(alice).post(f"/away/{absence.pk}/end/")
    assert response.status_code == 302
    assert response["Location"] == f"/away/{absence.pk}/digest/"


def test_C4_the_welcome_back_notification_points_to_the_digest(alice):
    absence = make_absence(alice)
    web(alice).post(f"/away/{absence.pk}/end/")
    welcome = Notification.objects.get(recipient=alice, type=Notification.Type.WELCOME_BACK)
    assert subject_url(welcome) == f"/away/{absence.pk}/digest/"


def test_C4_every_section_pages_on_the_web_and_in_the_api(alice):
    absence = make_absence(alice)
    for i in range(12):
        say(make_member(f"sender{i}"), alice, f"pitch {i}")
    client = web(alice)
    first = client.get(f"/away/{absence.pk}/digest/").content.decode()
    second = client.get(f"/away/{absence.pk}/digest/?others_page=2").content.decode()
    assert first.count('data-testid="digest-conversation-') == 10
    assert second.count('data-testid="digest-conversation-') == 2
    assert 'data-testid="pager-others"' in first
    api = Api(alice)
    page = api.get(f"/me/absences/{absence.pk}/digest", per_list=5).json()
    assert len(page["messages_from_others"]) == 5
    cursor = page["next"]["messages_from_others"]
    rest = api.get(
        f"/me/absences/{absence.pk}/digest", per_list=5, messages_from_others_cursor=cursor
    ).json()
    assert len(rest["messages_from_others"]) == 5
    seen = {c["conversation"] for c in page["messages_from_others"]}
    assert seen.isdisjoint(c["conversation"] for c in rest["messages_from_others"])
    whole = api.get(f"/me/absences/{absence.pk}/digest").json()
    assert len(whole["messages_from_others"]) == 12
    assert whole["next"]["messages_from_others"] is None
    assert_error(
        api.get(f"/me/absences/{absence.pk}/digest", per_list=5, invitations_cursor="x"), 422
    )


def test_C4_items_say_whether_they_were_handled_and_are_handled_in_place(alice):
    absence = make_absence(alice)
    friend, other, stranger, pitcher = (
        make_member(n) for n in ("friend", "other", "stranger", "pitcher")
    )
    connect(alice, friend)
    connect(alice, other)
    from_friend = say(friend, alice)
    from_other = say(other, alice)
    request = say(stranger, alice)
    declined = say(pitcher, alice)
    inviters = [make_member(f"inviter{i}") for i in range(2)]
    invitations = [invitation_send(sender=m, to_username="alice").pk for m in inviters]
    client = web(alice)
    url = f"/away/{absence.pk}/digest/"
    reply = client.post(
        url + "reply/",
        {"conversation": from_friend, "body": "Back now!", "section": "connections", "page": "1"},
    )
    assert reply["Location"] == url + "?connections_page=1#digest-connections"
    client.post(url + "conversations/", {"ids": from_other, "action": "archive"})
    client.post(url + "conversations/", {"ids": request, "action": "accept"})
    client.post(url + "conversations/", {"ids": declined, "action": "decline"})
    client.post(url + "invitations/", {"ids": invitations[0], "action": "accept"})
    client.post(url + "invitations/", {"ids": invitations[1], "action": "ignore"})

    digest = Api(alice).get(f"/me/absences/{absence.pk}/digest").json()
    handled = {
        c["conversation"]: c["handled"]
        for c in digest["messages_from_connections"] + digest["messages_from_others"]
    }
    assert handled == {
        from_friend: ["replied"],
        from_other: ["archived"],
        request: ["accepted"],
        declined: ["declined"],
    }
    assert {i["id"]: i["handled"] for i in digest["invitations_answered"]} == {
        invitations[0]: "accepted",
        invitations[1]: "ignored",
    }
    page = client.get(url).content.decode()
    for state in ("replied", "archived", "accepted", "declined", "ignored"):
        assert f'data-state="{state}"' in page


def test_C4_declining_the_rest_never_touches_a_known_contact(alice):
    absence = make_absence(alice)
    known = make_member("known")
    say(alice, known, "hi, before I leave")  # alice wrote to them: known (L1)
    requests = [say(make_member(f"req{i}"), alice) for i in range(3)]
    from_known = say(known, alice, "while you were away")
    web(alice).post(
        f"/away/{absence.pk}/digest/conversations/", {"action": "rest", "section": "others"}
    )
    assert all(participant(alice, c).declined for c in requests)
    mine = participant(alice, from_known)
    assert mine.folder == Participant.Folder.INBOX and not mine.declined


def test_C4_ignore_the_rest_answers_only_pending_invitations_of_the_window(alice):
    from datetime import timedelta

    from django.utils import timezone

    before = invitation_send(
        sender=make_member("early"), to_username="alice", at=timezone.now() - timedelta(hours=2)
    )
    absence = make_absence(alice)
    during = [
        invitation_send(sender=make_member(f"inviter{i}"), to_username="alice") for i in range(3)
    ]
    response = web(alice).post(
        f"/away/{absence.pk}/digest/invitations/",
        {"action": "ignore", "rest": "1", "section": "invitations"},
        follow=True,
    )
    assert "3 invitations ignored." in response.content.decode()
    statuses = dict(Invitation.objects.values_list("pk", "status"))
    assert statuses[before.pk] == "pending"
    assert {statuses[i.pk] for i in during} == {"ignored"}


def test_C4_accept_by_label_accepts_personal_notes_only(alice):
    absence = make_absence(alice)
    with_note = invitation_send(sender=make_member("noter1"), to_username="alice", note="Met at X")
    without = invitation_send(sender=make_member("noter2"), to_username="alice")
    web(alice).post(
        f"/away/{absence.pk}/digest/invitations/", {"action": "accept", "label": "note"}
    )
    statuses = dict(Invitation.objects.values_list("pk", "status"))
    assert statuses == {with_note.pk: "accepted", without.pk: "pending"}


def test_C4_reply_to_the_rest_answers_each_connection_once(alice):
    absence = make_absence(alice)
    friends = [make_member(f"friend{i}", display_name=f"Friend{i} Smit") for i in range(3)]
    for f in friends:
        connect(alice, f)
    conversations = [say(f, alice) for f in friends]
    client = web(alice)
    client.post(
        f"/away/{absence.pk}/digest/reply/", {"conversation": conversations[0], "body": "x"}
    )
    response = client.post(
        f"/away/{absence.pk}/digest/reply/",
        {"rest": "1", "body": "Hi {first_name}, back now {return_date}"},
        follow=True,
    )
    assert "2 handled." in response.content.decode()
    from backsoon.messaging.models import Message

    sent = list(
        Message.objects.filter(sender=alice, conversation_id__in=conversations[1:])
        .exclude(kind=Message.Kind.AUTO_REPLY)
        .values_list("body", flat=True)
    )
    assert sorted(sent) == [
        "Hi Friend1, back now {return_date}",
        "Hi Friend2, back now {return_date}",
    ]


def test_C4_mark_the_rest_read_reads_notifications_since_the_absence_began(alice):
    absence = make_absence(alice)
    for i in range(3):
        say(make_member(f"writer{i}"), alice)
        invitation_send(sender=make_member(f"inviter{i}"), to_username="alice")
    unread = Notification.objects.filter(recipient=alice, read_at__isnull=True)
    assert unread.count() >= 3
    web(alice).post(f"/away/{absence.pk}/digest/notifications/", {"rest": "1"})
    assert unread.count() == 0


def test_C4_the_digest_page_costs_the_same_queries_whatever_the_flood(
    alice, django_assert_max_num_queries
):
    absence = make_absence(alice)
    for i in range(25):
        m = make_member(f"sender{i}")
        if i % 3 == 0:
            connect(alice, m)
        say(m, alice, f"hello {i}")
        invitation_send(sender=make_member(f"inviter{i}"), to_username="alice", note=f"note {i}")
    client = web(alice)
    client.get(f"/away/{absence.pk}/digest/")  # warm the session and caches
    with django_assert_max_num_queries(32):
        response = client.get(f"/away/{absence.pk}/digest/?invitations_page=2")
    assert response.status_code == 200
    assert "per_day" not in response.content.decode()
    assert 'id="digest-chart-data"' in response.content.decode()
