"""Messaging pages: the conversation list, a conversation, the compose box, new messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.messaging import actions
from backsoon.messaging.models import Conversation, Message, Participant
from backsoon.network.actions import block_create, connection_create
from backsoon.notifications.models import Notification
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def page_text(response) -> str:
    return response.content.decode()


def away(member: Member, *, message: str = "On holiday, back soon.", **extra) -> Absence:
    now = timezone.now()
    return Absence.objects.create(
        member=member,
        starts_at=extra.pop("starts_at", now - timedelta(hours=1)),
        ends_at=extra.pop("ends_at", now + timedelta(days=7)),
        message=message,
        **extra,
    )


def direct(a: Member, b: Member) -> Conversation:
    """A 1:1 conversation between connections: in both inboxes (TRIAGE S1)."""
    connection_create(a_id=a.pk, b_id=b.pk)
    conversation, _ = actions.conversation_start(creator=a, usernames=[b.username])
    return conversation


def send(sender: Member, conversation: Conversation, body: str) -> Message:
    return actions.message_send(sender=sender, conversation_id=conversation.pk, body=body)


def unread(member: Member, conversation: Conversation) -> int:
    return Participant.objects.get(member=member, conversation=conversation).unread_count


@pytest.fixture
def carol(db) -> Member:
    return make_member("carol", display_name="Carol Jansen")


def test_conversation_list_newest_first_with_unread_preview_and_away_pill(alice, bob, carol):
    with_bob = direct(alice, bob)
    with_carol = direct(alice, carol)
    send(bob, with_bob, "Are we still on for Friday?")
    send(carol, with_carol, "Thanks for the intro!")
    send(carol, with_carol, "Talk soon")
    away(carol)

    response = logged_in(alice).get("/messaging/")

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["conversation"].pk for r in rows] == [with_carol.pk, with_bob.pk]
    assert [r["unread"] for r in rows] == [2, 1]
    assert [bool(r["away"]) for r in rows] == [True, False]
    html = page_text(response)
    assert "Talk soon" in html
    assert "Are we still on for Friday?" in html
    assert f'data-testid="unread-{with_carol.pk}"' in html
    assert html.count('class="away-pill"') == 1


def test_conversation_page_shows_messages_oldest_first_and_marks_read(alice, bob):
    conversation = direct(bob, alice)
    for text in ["first", "second", "third"]:
        send(bob, conversation, text)
    assert unread(alice, conversation) == 3
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()

    response = logged_in(alice).get(f"/messaging/{conversation.pk}/")

    assert response.status_code == 200
    bodies = [row["message"].body for row in response.context["message_rows"]]
    assert bodies == ["first", "second", "third"]
    html = page_text(response)
    thread = html[html.index('id="messages"') :]
    assert thread.index("first") < thread.index("second") < thread.index("third")
    assert unread(alice, conversation) == 0
    assert [r["unread"] for r in response.context["rows"] if r["active"]] == [0]
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert 'data-testid="count-messages"></span>' in html  # the header reads 0 already
    assert "New</span>" in html  # the marker before the first unread message


def test_non_participants_get_404(alice, bob, carol):
    conversation = direct(alice, bob)
    send(alice, conversation, "private")
    client = logged_in(carol)
    for url in [
        f"/messaging/{conversation.pk}/",
        f"/messaging/{conversation.pk}/messages/?after=0",
        "/messaging/999999/",
    ]:
        response = client.get(url)
        assert response.status_code == 404
        assert "private" not in page_text(response)
    assert client.post(f"/messaging/{conversation.pk}/send/", {"body": "hi"}).status_code == 404
    assert client.post(f"/messaging/{conversation.pk}/read/").status_code == 404
    assert client.post(f"/messaging/{conversation.pk}/leave/").status_code == 404
    assert Message.objects.count() == 1


def test_send_message_from_compose_box(alice, bob):
    conversation = direct(alice, bob)
    client = logged_in(alice)

    response = client.post(f"/messaging/{conversation.pk}/send/", {"body": "Hello Bob"})

    assert response.status_code == 302
    assert response["Location"] == f"/messaging/{conversation.pk}/#latest"
    assert list(Message.objects.values_list("body", flat=True)) == ["Hello Bob"]
    assert unread(bob, conversation) == 1


def test_a_double_submit_with_the_same_key_stores_one_message(alice, bob):
    conversation = direct(alice, bob)
    client = logged_in(alice)
    form = {"body": "Only once", "client_key": "k" * 32}
    client.post(f"/messaging/{conversation.pk}/send/", form)
    client.post(f"/messaging/{conversation.pk}/send/", form)
    assert Message.objects.count() == 1


def test_send_errors_show_and_change_nothing(alice, bob):
    conversation = direct(alice, bob)
    client = logged_in(alice)

    empty = client.post(f"/messaging/{conversation.pk}/send/", {"body": "   "})
    assert empty.status_code == 422
    assert 'role="alert"' in page_text(empty)

    too_long = client.post(f"/messaging/{conversation.pk}/send/", {"body": "x" * 8001})
    assert too_long.status_code == 422

    block_create(member=bob, username="alice")
    blocked = client.post(f"/messaging/{conversation.pk}/send/", {"body": "Hello?"})
    assert blocked.status_code == 403
    assert "You can not message this member." in page_text(blocked)
    assert "Hello?" in page_text(blocked)  # what was typed is kept
    assert not Message.objects.exists()


def test_automatic_reply_is_shown_distinctly(alice, bob):
    away(bob, message="I am hiking until the 20th.")
    conversation = direct(alice, bob)
    send(alice, conversation, "Can you call me?")
    assert Message.objects.filter(kind=Message.Kind.AUTO_REPLY).exists()

    html = page_text(logged_in(alice).get(f"/messaging/{conversation.pk}/"))

    assert html.count('data-testid="auto-reply-label"') == 1
    assert "Automatic reply</span>" in html
    assert "msg auto" in html
    assert "I am hiking until the 20th." in html


def test_away_notice_in_the_compose_box_only_while_away(alice, bob):
    conversation = direct(alice, bob)
    client = logged_in(alice)
    url = f"/messaging/{conversation.pk}/"

    assert 'data-testid="away-notice"' not in page_text(client.get(url))

    now = timezone.now()
    later = away(
        bob,
        message="Later trip",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=5),
    )
    assert 'data-testid="away-notice"' not in page_text(client.get(url))  # not before

    later.delete()
    backup = make_member("backup", display_name="Backup Person")
    connection_create(a_id=alice.pk, b_id=bob.pk)
    away(bob, message="Sailing to Texel.", backup=backup)
    html = page_text(client.get(url))
    notice = html[html.index('data-testid="away-notice"') : html.index('class="compose-form"')]
    assert "Bob de Boer is away, back on" in notice
    assert "Sailing to Texel." in notice
    assert "@backup" in notice
    assert html.index('data-testid="away-notice"') > html.index('class="compose"')

    # Bob sees no notice about himself.
    assert 'data-testid="away-notice"' not in page_text(logged_in(bob).get(url))


def test_away_notice_for_each_away_member_of_a_group(alice, bob, carol):
    group, _ = actions.conversation_start(
        creator=alice, usernames=["bob", "carol"], subject="Offsite"
    )
    away(bob, message="Bob is out")
    away(carol, message="Carol is out")
    html = page_text(logged_in(alice).get(f"/messaging/{group.pk}/"))
    assert html.count('data-testid="away-notice"') == 2
    assert "Offsite" in html


def test_load_earlier_messages(alice, bob, carol):
    conversation, _ = actions.conversation_start(creator=alice, usernames=["bob", "carol"])
    senders = [alice, bob, carol]  # three senders stay under the per-minute send limit
    sent = [send(senders[i % 3], conversation, f"message {i:02d}") for i in range(60)]
    client = logged_in(alice)

    latest = client.get(f"/messaging/{conversation.pk}/")
    shown = [row["message"].pk for row in latest.context["message_rows"]]
    assert shown == [m.pk for m in sent[10:]]
    assert f'href="?before={sent[10].pk}"' in page_text(latest)

    earlier = client.get(f"/messaging/{conversation.pk}/", {"before": sent[10].pk})
    assert [row["message"].pk for row in earlier.context["message_rows"]] == [
        m.pk for m in sent[:10]
    ]
    html = page_text(earlier)
    assert "Load earlier messages" not in html
    assert "Jump to the latest messages" in html
    assert 'data-paused="1"' in html


def test_messages_fragment_returns_only_newer_messages(alice, bob):
    conversation = direct(alice, bob)
    first = send(bob, conversation, "one")
    send(bob, conversation, "two <b>bold</b>")
    client = logged_in(alice)

    response = client.get(f"/messaging/{conversation.pk}/messages/", {"after": first.pk})

    assert response.status_code == 200
    html = page_text(response)
    assert "two &lt;b&gt;bold&lt;/b&gt;" in html
    assert ">one<" not in html
    assert "<html" not in html
    assert 'class="msg continued"' in html  # same sender, moments later: grouped
    assert client.get(f"/messaging/{conversation.pk}/messages/?after=x").status_code == 400
    assert unread(alice, conversation) == 2  # fetching does not read


def test_mark_read_endpoint(alice, bob):
    conversation = direct(bob, alice)
    send(bob, conversation, "ping")
    response = logged_in(alice).post(f"/messaging/{conversation.pk}/read/")
    assert response.status_code == 204
    assert unread(alice, conversation) == 0


def test_new_message_page_reuses_the_existing_conversation(alice, bob):
    client = logged_in(alice)
    page = client.get("/messaging/new/", {"to": "bob"})
    assert page.status_code == 200
    assert 'value="bob"' in page_text(page)

    response = client.post("/messaging/new/", {"to": "bob", "body": "First message"})
    conversation = Conversation.objects.get()
    assert conversation.kind == Conversation.Kind.DIRECT
    assert response["Location"] == f"/messaging/{conversation.pk}/#latest"

    # From a profile, "Message" goes straight to the existing 1:1 conversation.
    again = client.get("/messaging/new/", {"to": "Bob"})
    assert again.status_code == 302
    assert again["Location"] == f"/messaging/{conversation.pk}/#latest"

    client.post("/messaging/new/", {"to": "@bob", "body": "Second message"})
    assert Conversation.objects.count() == 1
    assert list(conversation.messages.values_list("body", flat=True)) == [
        "First message",
        "Second message",
    ]


def test_new_message_to_connections_and_others_starts_a_group(alice, bob, carol):
    connection_create(a_id=alice.pk, b_id=bob.pk)
    away(bob, message="Out")
    client = logged_in(alice)
    page = page_text(client.get("/messaging/new/", {"to": "bob"}))
    assert 'name="connections" value="bob" checked' in page
    assert 'data-testid="away-notice"' in page  # the notice before writing

    response = client.post(
        "/messaging/new/",
        {"connections": ["bob"], "to": "carol", "subject": "Planning", "body": "Hi both"},
    )

    group = Conversation.objects.get()
    assert response.status_code == 302
    assert group.kind == Conversation.Kind.GROUP
    assert group.subject == "Planning"
    assert set(group.participants.values_list("member__username", flat=True)) == {
        "alice",
        "bob",
        "carol",
    }


def test_new_message_errors_show_and_change_nothing(alice, bob):
    client = logged_in(alice)
    nobody = client.post("/messaging/new/", {"to": "", "body": "Hello"})
    assert nobody.status_code == 422
    assert "Pick at least one member to write to." in page_text(nobody)

    unknown = client.post("/messaging/new/", {"to": "ghost", "body": "Hello"})
    assert unknown.status_code == 404
    assert "No member with that username." in page_text(unknown)

    no_body = client.post("/messaging/new/", {"to": "bob", "body": ""})
    assert no_body.status_code == 422

    block_create(member=bob, username="alice")
    blocked = client.post("/messaging/new/", {"to": "bob", "body": "Hello"})
    assert blocked.status_code == 403
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_group_add_members_and_leave(alice, bob, carol):
    dave = make_member("dave", display_name="Dave Peters")
    group, _ = actions.conversation_start(creator=alice, usernames=["bob", "carol"])
    client = logged_in(alice)

    added = client.post(f"/messaging/{group.pk}/add/", {"to": "dave"})
    assert added.status_code == 302
    assert group.participants.filter(member=dave, left_at__isnull=True).exists()

    bad = client.post(f"/messaging/{group.pk}/add/", {"to": "ghost"})
    assert bad.status_code == 404
    assert "No member with that username." in page_text(bad)

    left = client.post(f"/messaging/{group.pk}/leave/", follow=True)
    assert "You left the conversation." in page_text(left)
    assert client.get(f"/messaging/{group.pk}/").status_code == 404
    assert group.pk not in [r["conversation"].pk for r in left.context["rows"]]


def test_a_direct_conversation_can_not_be_left(alice, bob):
    conversation = direct(alice, bob)
    response = logged_in(alice).post(f"/messaging/{conversation.pk}/leave/", follow=True)
    assert "You can only leave group conversations." in page_text(response)


def test_member_text_is_escaped(alice):
    evil = make_member("evil", display_name="<script>alert(1)</script>")
    conversation = direct(evil, alice)
    send(evil, conversation, "<img src=x onerror=alert(2)>")
    client = logged_in(alice)
    for url in ["/messaging/", f"/messaging/{conversation.pk}/"]:
        html = page_text(client.get(url))
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x onerror" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_header_shows_unread_total(alice, bob):
    conversation = direct(bob, alice)
    send(bob, conversation, "one")
    send(bob, conversation, "two")
    html = page_text(logged_in(alice).get("/network/"))
    assert 'data-testid="count-messages">2</span>' in html


def test_pages_need_login(alice):
    for url in ["/messaging/", "/messaging/new/", "/messaging/1/", "/messaging/list/"]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_conversation_list_query_count_is_pinned(alice, django_assert_max_num_queries):
    for i in range(12):
        other = make_member(f"peer{i}")
        conversation = direct(other, alice)
        send(other, conversation, f"hello {i}")
        if i % 3 == 0:
            away(other)
    group, _ = actions.conversation_start(
        creator=alice, usernames=["peer1", "peer2", "peer3"], subject="Team"
    )
    send(alice, group, "hi team")
    client = logged_in(alice)
    # session, member, inbox (2), badges (2), header counts (messages, requests,
    # invitations, notifications: 4), away banner (1), saved replies for the bulk bar (1)
    with django_assert_max_num_queries(12):
        response = client.get("/messaging/")
    assert len(response.context["rows"]) == 13


def test_conversation_page_query_count_is_pinned(alice, bob, django_assert_max_num_queries):
    conversation = direct(bob, alice)
    for i in range(30):
        send(bob if i % 2 else alice, conversation, f"message {i}")
    away(bob)
    for i in range(5):
        other = make_member(f"peer{i}")
        send(other, direct(other, alice), "hi")
    client = logged_in(alice)
    # session, member, conversation, participants, messages, inbox (2), badges (2),
    # header counts (4), away banner (1), saved replies (1); opening it unread also
    # marks it read (5).
    with django_assert_max_num_queries(20):
        response = client.get(f"/messaging/{conversation.pk}/")
    assert response.status_code == 200
    # Once read, opening it again writes nothing (one more read: the saved replies).
    with django_assert_max_num_queries(15):
        client.get(f"/messaging/{conversation.pk}/")
