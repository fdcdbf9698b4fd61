"""TRIAGE-SPEC S1-S4: the screener (message requests), through the HTTP API."""

from __future__ import annotations

import pytest

from backsoon.messaging.models import Message, Participant
from backsoon.notifications.models import Notification
from backsoon.triage.models import Contact, Report
from tests.conftest import Api, assert_error
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def _start(api: Api, *usernames: str, subject: str = "") -> int:
    response = api.post("/conversations", {"participants": list(usernames), "subject": subject})
    assert response.status_code in (200, 201), response.content
    return int(response.json()["id"])


def _send(api: Api, conversation_id: int, body: str = "hello") -> dict:
    response = api.post(f"/conversations/{conversation_id}/messages", {"body": body})
    assert response.status_code == 201, response.content
    return response.json()


def _ids(api: Api, folder: str = "inbox", **params) -> list[int]:
    response = api.get("/conversations", folder=folder, **params)
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["items"]]


def _counts(api: Api) -> dict:
    response = api.get("/me/counts")
    assert response.status_code == 200
    return response.json()


def test_S1_a_strangers_new_conversation_lands_in_requests(alice, bob):
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv, "Hi Bob, a quick question")
    assert _ids(Api(bob), "requests") == [conv]
    assert _ids(Api(bob)) == []
    assert _ids(Api(alice)) == [conv]  # the sender's own view: the inbox
    detail = Api(bob).get(f"/conversations/{conv}").json()
    assert detail["folder"] == "requests"
    assert [label["code"] for label in detail["labels"]] == ["first_contact"]


def test_S1_a_connection_is_no_stranger(alice, bob):
    connect(alice, bob)
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv)
    assert _ids(Api(bob)) == [conv]
    detail = Api(bob).get(f"/conversations/{conv}").json()
    assert detail["labels"] == [{"code": "known", "reason": "You are connected"}]


def test_S1_someone_the_member_wrote_to_is_no_stranger(alice, bob, member_factory):
    carol = member_factory("carol")
    connect(bob, carol)
    # bob writes to alice first (alice gets a request from bob): bob knows alice now.
    group = _start(Api(bob), "alice", "carol", subject="Plans")
    _send(Api(bob), group, "hello both")
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv, "Thanks for the message")
    assert _ids(Api(bob)) == [conv, group]
    assert _ids(Api(bob), "requests") == []


def test_S1_policy_everyone_lets_strangers_in(alice, bob):
    response = Api(bob).patch("/me", {"inbox_policy": "everyone"})
    assert response.status_code == 200 and response.json()["inbox_policy"] == "everyone"
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv)
    assert _ids(Api(bob)) == [conv]
    # Labelled all the same: the reason it is in front of bob.
    detail = Api(bob).get(f"/conversations/{conv}").json()
    assert [label["code"] for label in detail["labels"]] == ["first_contact"]


def test_S1_a_bad_inbox_policy_is_422_and_changes_nothing(bob):
    assert_error(Api(bob).patch("/me", {"inbox_policy": "nobody"}), 422, "invalid_inbox_policy")
    assert Api(bob).get("/me").json()["inbox_policy"] == "screen"


def test_S1_a_group_created_by_a_stranger_is_a_request(alice, bob, member_factory):
    carol = member_factory("carol")
    connect(alice, carol)
    group = _start(Api(alice), "bob", "carol", subject="Offer")
    _send(Api(alice), group, "Hello both")
    assert _ids(Api(bob), "requests") == [group]
    assert _ids(Api(carol)) == [group]


def test_S1_being_added_to_a_group_by_a_stranger_is_a_request(alice, bob, member_factory):
    carol = member_factory("carol")
    connect(alice, carol)
    group = _start(Api(alice), "carol", "bob", subject="Team")
    dave = member_factory("dave")
    response = Api(alice).post(f"/conversations/{group}/participants", {"participants": ["dave"]})
    assert response.status_code == 200
    assert Participant.objects.get(conversation_id=group, member=dave).folder == "requests"


def test_S2_a_request_raises_no_unread_count_no_notification_no_live_alert(
    alice, bob, django_capture_on_commit_callbacks
):
    from unittest import mock

    from backsoon.live import bus

    conv = _start(Api(alice), "bob")
    published: list = []
    bus.cache_clear()
    with (
        mock.patch(
            "backsoon.live.InProcessBus.publish", lambda self, ids, ev: published.append((ids, ev))
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _send(Api(alice), conv, "first")
        _send(Api(alice), conv, "second")
    bus.cache_clear()
    assert _counts(Api(bob)) == {
        "inbox_unread": 0,
        "requests": 1,
        "invitations_pending": 0,
        "notifications_unread": 0,
    }
    assert Api(bob).get("/conversations/unread").json() == {"unread": 0}
    assert not Notification.objects.filter(recipient=bob).exists()
    assert all(bob.pk not in ids for ids, _ in published)
    # Delivered and stored like any message.
    listed = Api(bob).get(f"/conversations/{conv}/messages").json()["items"]
    assert [m["body"] for m in listed] == ["first", "second"]


def _sender_view(api: Api, conv: int) -> tuple:
    detail = api.get(f"/conversations/{conv}")
    messages = api.get(f"/conversations/{conv}/messages")
    listing = api.get("/conversations")
    return detail.content, messages.content, listing.content


def test_S2_declining_tells_the_sender_nothing(alice, bob):
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv)
    alice_api = Api(alice)
    before = _sender_view(alice_api, conv)
    response = Api(bob).post(f"/conversations/{conv}/decline")
    assert response.status_code == 200 and response.json()["folder"] == "archived"
    assert _sender_view(alice_api, conv) == before  # byte for byte
    assert not Notification.objects.filter(recipient=alice).exists()


def test_S3_accept_moves_to_the_inbox_and_makes_the_sender_known(alice, bob):
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv)
    response = Api(bob).post(f"/conversations/{conv}/accept")
    assert response.status_code == 200
    assert response.json()["folder"] == "inbox"
    assert [label["code"] for label in response.json()["labels"]] == ["known"]
    assert Contact.objects.filter(member=bob, other=alice, why="accepted").exists()
    assert _counts(Api(bob))["requests"] == 0
    # For good: alice's next conversation with bob (a group) is no request.
    carol = make_member("carol")
    connect(alice, carol)
    group = _start(Api(alice), "bob", "carol", subject="Next")
    assert Participant.objects.get(conversation_id=group, member=bob).folder == "inbox"


def test_S3_accept_decline_report_on_a_non_request_is_409(alice, bob):
    connect(alice, bob)
    conv = _start(Api(alice), "bob")
    for action in ("accept", "decline", "report"):
        assert_error(Api(bob).post(f"/conversations/{conv}/{action}"), 409, "not_a_request")
    assert Participant.objects.get(conversation_id=conv, member=bob).folder == "inbox"


def test_S3_actions_on_someone_elses_conversation_are_404(alice, bob, member_factory):
    conv = _start(Api(alice), "bob")
    mallory = member_factory("mallory")
    for action in ("accept", "decline", "report", "archive", "unarchive", "unread", "mute"):
        assert_error(Api(mallory).post(f"/conversations/{conv}/{action}"), 404)


def test_S3_a_declined_request_stays_archived_and_silent(alice, bob):
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv)
    Api(bob).post(f"/conversations/{conv}/decline")
    _send(Api(alice), conv, "Following up")
    assert _ids(Api(bob), "archived") == [conv]
    assert _counts(Api(bob))["inbox_unread"] == 0
    assert _counts(Api(bob))["requests"] == 0
    assert not Notification.objects.filter(recipient=bob).exists()


def test_S3_report_declines_blocks_and_queues_for_moderators(alice, bob):
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv, "Buy my course")
    response = Api(bob).post(f"/conversations/{conv}/report")
    assert response.status_code == 200 and response.json()["folder"] == "archived"
    report = Report.objects.get()
    assert (report.reporter, report.reported, report.conversation_id) == (bob, alice, conv)
    assert report.excerpt == "Buy my course"
    assert_error(
        Api(alice).post(f"/conversations/{conv}/messages", {"body": "hello?"}), 403, "blocked"
    )


def test_S3_replying_to_a_request_accepts_it(alice, bob):
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv)
    _send(Api(bob), conv, "Happy to help")
    assert _ids(Api(bob)) == [conv]
    assert Contact.objects.filter(member=bob, other=alice).exists()


def test_S4_a_screened_stranger_gets_exactly_the_reply_R4_gives(alice, bob):
    make_absence(bob, message="On holiday until Monday", hours=72)
    conv = _start(Api(alice), "bob")
    _send(Api(alice), conv, "Hello")
    _send(Api(alice), conv, "Hello again")
    replies = Message.objects.filter(conversation_id=conv, kind="auto_reply")
    assert [r.body for r in replies] == ["On holiday until Monday"]
    assert replies.get().sender == bob
    # Screened all the same, and the reply accepted nothing for bob (S4).
    mine = Participant.objects.get(conversation_id=conv, member=bob)
    assert mine.folder == "requests"
    assert not Contact.objects.filter(member=bob, other=alice).exists()
    # The stranger sees the away notice.
    detail = Api(alice).get(f"/conversations/{conv}").json()
    assert detail["away"] and detail["away"][0]["username"] == "bob"


def test_S4_the_away_notice_shows_in_a_screened_conversation_for_the_screened(alice, bob):
    make_absence(alice, message="Away")
    conv = _start(Api(alice), "bob")
    detail = Api(bob).get(f"/conversations/{conv}").json()
    assert detail["folder"] == "requests"
    assert [a["username"] for a in detail["away"]] == ["alice"]
