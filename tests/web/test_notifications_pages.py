"""The notifications page: grouped texts, links to the subject, mark one or all read."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from backsoon.messaging import actions as messaging
from backsoon.network import actions as network
from backsoon.notifications.actions import notification_add
from backsoon.notifications.models import Notification
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def page_text(response) -> str:
    return response.content.decode()


def react(recipient: Member, actor: Member, post_id: int = 7) -> None:
    notification_add(
        recipient_id=recipient.pk,
        type=Notification.Type.REACTION,
        actor_id=actor.pk,
        subject_type="post",
        subject_id=post_id,
        group_key=f"post:{post_id}:reactions",
    )


def test_grouped_texts(alice, bob):
    connect(alice, bob)  # a stranger's message is a request: no notification (TRIAGE S2)
    conversation, _ = messaging.conversation_start(creator=bob, usernames=["alice"])
    messaging.message_send(sender=bob, conversation_id=conversation.pk, body="hi")
    carol = make_member("carol", display_name="Carol Jansen")
    network.invitation_send(sender=carol, to_username="alice")
    for i in range(3):
        react(alice, make_member(f"fan{i}"))
    react(alice, bob)

    response = logged_in(alice).get("/notifications/")

    assert response.status_code == 200
    html = page_text(response)
    assert "<strong>Bob de Boer</strong> sent you a message" in html
    assert "<strong>Carol Jansen</strong> invited you to connect" in html
    assert "<strong>Bob de Boer</strong> and 3 others reacted to your post" in html
    assert len(response.context["rows"]) == 3  # the reactions are one row


def test_several_messages_are_one_row_with_a_count(alice, bob):
    connect(alice, bob)  # a stranger's message is a request: no notification (TRIAGE S2)
    conversation, _ = messaging.conversation_start(creator=bob, usernames=["alice"])
    for body in ["one", "two", "three"]:
        messaging.message_send(sender=bob, conversation_id=conversation.pk, body=body)
    html = page_text(logged_in(alice).get("/notifications/"))
    assert "3 new messages, the latest from <strong>Bob de Boer</strong>" in html
    assert html.count('data-testid="notification"') == 1


def test_open_marks_read_and_goes_to_the_subject(alice, bob):
    connect(alice, bob)  # a stranger's message is a request: no notification (TRIAGE S2)
    conversation, _ = messaging.conversation_start(creator=bob, usernames=["alice"])
    messaging.message_send(sender=bob, conversation_id=conversation.pk, body="hi")
    invitation = network.invitation_send(sender=make_member("carol"), to_username="alice")
    react(alice, bob, post_id=42)
    for subject_type, subject_id in [("absence", 5)]:
        notification_add(
            recipient_id=alice.pk,
            type=Notification.Type.WELCOME_BACK,
            actor_id=None,
            subject_type=subject_type,
            subject_id=subject_id,
        )
    expected = {
        "conversation": f"/messaging/{conversation.pk}/",
        "invitation": "/network/",
        "post": "/posts/42/",
        "absence": "/away/5/digest/",
    }
    client = logged_in(alice)
    for notification in Notification.objects.filter(recipient=alice):
        response = client.post(f"/notifications/{notification.pk}/open/")
        assert response.status_code == 302
        assert response["Location"] == expected[notification.subject_type]
        notification.refresh_from_db()
        assert notification.read
    assert invitation.pk


def test_welcome_back_and_reminder_texts(alice):
    for kind in (Notification.Type.WELCOME_BACK, Notification.Type.ABSENCE_REMINDER):
        notification_add(
            recipient_id=alice.pk, type=kind, actor_id=None, subject_type="absence", subject_id=1
        )
    html = page_text(logged_in(alice).get("/notifications/"))
    assert "Welcome back!" in html
    assert "Your out-of-office is still on." in html


def test_mark_one_and_all_read(alice, bob):
    react(alice, bob, post_id=1)
    react(alice, bob, post_id=2)
    react(alice, bob, post_id=3)
    first, *_others = Notification.objects.filter(recipient=alice).order_by("id")
    client = logged_in(alice)

    html = page_text(client.get("/"))
    assert 'data-testid="count-notifications">3</span>' in html

    response = client.post(f"/notifications/{first.pk}/read/")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 2

    response = client.post("/notifications/read/", follow=True)
    assert "All caught up." in page_text(response)
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert 'data-testid="count-notifications"></span>' in page_text(response)
    assert "Mark all as read" not in page_text(response)


def test_someone_elses_notification_is_404_and_stays_unread(alice, bob):
    react(bob, alice)
    theirs = Notification.objects.get(recipient=bob)
    client = logged_in(alice)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/open/").status_code == 404
    client.post("/notifications/read/")
    theirs.refresh_from_db()
    assert not theirs.read


def test_actor_names_are_escaped(alice):
    evil = make_member("evil", display_name="<script>alert(1)</script>")
    react(alice, evil)
    html = page_text(logged_in(alice).get("/notifications/"))
    assert "<script>alert(1)</script>" not in html
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong> reacted to your post" in html


def test_empty_page_and_login_and_post_only(alice):
    client = logged_in(alice)
    assert "Nothing new." in page_text(client.get("/notifications/"))
    assert client.get("/notifications/read/").status_code == 405
    response = Client().get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_notifications_page_query_count(alice, django_assert_max_num_queries):
    for i in range(10):
        fan = make_member(f"fan{i}")
        react(alice, fan, post_id=i)
        if i % 2:
            make_absence(fan)
    client = logged_in(alice)
    # session, member, count, page, unread matching (C2), the actors' away badges
    # (absences, connections: 2), header counts (3), away banner (1)
    with django_assert_max_num_queries(11):
        response = client.get("/notifications/")
    assert len(response.context["rows"]) == 10
    assert response.content.decode().count('data-testid="away-pill"') == 5
