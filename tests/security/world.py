"""A small network with something of every kind, owned by alice, for security tests.

``build_world()`` makes, through the real actions:

- alice (the owner), her connection bob, carol, dave and mallory (the intruder,
  connected to no one);
- a 1:1 conversation alice-bob with messages, and a group alice-bob-carol;
- alice's absences: one that ended (with a digest), one active now, one scheduled;
- an invitation from alice to dave (pending), notifications for alice;
- alice's post with bob's comment, a calendar feed, an export token and an API token
  of alice's.

``text`` is put into every piece of member text (names, headlines, posts,
comments, messages, absence messages, invitation notes, subjects), so the same
world serves the escaping tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from backsoon.accounts.actions import token_create
from backsoon.accounts.models import ApiToken, Member
from backsoon.away.calendar.export import calendar_export_token_regenerate
from backsoon.away.calendar.models import CalendarFeed
from backsoon.away.models import Absence
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Conversation, Message
from backsoon.network.actions import invitation_send
from backsoon.network.models import Invitation
from backsoon.notifications.models import Notification
from backsoon.posts.actions import comment_create, post_create
from backsoon.posts.models import Comment, Post
from tests.factories import connect, make_member


@dataclass
class World:
    alice: Member
    bob: Member
    carol: Member
    dave: Member
    mallory: Member
    direct: Conversation
    group: Conversation
    request: Conversation  # dave's message request to alice (TRIAGE S1)
    message: Message
    absence_ended: Absence
    absence_active: Absence
    absence_scheduled: Absence
    invitation: Invitation
    notification: Notification
    post: Post
    comment: Comment
    feed: CalendarFeed
    export_token: str
    api_token: ApiToken  # one of alice's API tokens, not the one the tests act with


def build_world(text: str = "") -> World:
    """Build the world; ``text`` (may be empty) is added to every piece of member text."""
    t = f" {text}" if text else ""
    now = timezone.now()
    alice = make_member("alice", display_name=f"Alice Smit{t}", headline=f"Designer{t}")
    bob = make_member("bob", display_name=f"Bob de Boer{t}", headline=f"Engineer{t}")
    carol = make_member("carol", display_name=f"Carol{t}", headline=f"Carol's headline{t}")
    dave = make_member("dave", display_name=f"Dave{t}")
    mallory = make_member("mallory", display_name="Mallory")
    connect(alice, bob)
    connect(alice, carol)

    # An absence that ended two days ago, with something in its digest: a message
    # from bob that arrived while alice was away.
    absence_ended = Absence.objects.create(
        member=alice,
        starts_at=now - timedelta(days=6),
        ends_at=now - timedelta(days=2),
        message=f"Was away{t}",
        others_message=f"Others{t}",
    )
    direct, _ = conversation_start(creator=bob, usernames=["alice"])
    old = message_send(sender=bob, conversation_id=direct.pk, body=f"While you were away{t}")
    Message.objects.filter(pk=old.pk).update(sent_at=now - timedelta(days=4))
    group, _ = conversation_start(creator=alice, usernames=["bob", "carol"], subject=f"Planning{t}")
    message_send(sender=carol, conversation_id=group.pk, body=f"Group hello{t}")

    absence_active = Absence.objects.create(
        member=alice,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
        message=f"Away until {{return_date}}{t}",
        others_message=f"Away{t}",
        translations={"nl": f"Weg{t}"},
        backup=bob,
    )
    absence_scheduled = Absence.objects.create(
        member=alice,
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=12),
        message=f"Later{t}",
    )
    message = message_send(sender=bob, conversation_id=direct.pk, body=f"Hello Alice{t}")
    invitation = invitation_send(sender=alice, to_username="dave", note=f"Let's connect{t}")
    invitation_send(sender=carol, to_username="dave", note=f"From carol{t}")
    request, _ = conversation_start(creator=dave, usernames=["alice"])
    message_send(sender=dave, conversation_id=request.pk, body=f"A question for you{t}")

    post = post_create(author=alice, body=f"My first post @bob{t}").post
    comment = comment_create(author=bob, post_id=post.pk, body=f"Nice post @alice{t}").comment
    notification = Notification.objects.filter(recipient=alice).order_by("id").first()
    assert notification is not None
    feed = CalendarFeed.objects.create(member=alice, url="https://calendar.example.com/a.ics")
    export_token = calendar_export_token_regenerate(member=alice)
    _, api_token = token_create(member=alice, name=f"laptop{t}")
    return World(
        alice=alice,
        bob=bob,
        carol=carol,
        dave=dave,
        mallory=mallory,
        direct=direct,
        group=group,
        request=request,
        message=message,
        absence_ended=absence_ended,
        absence_active=absence_active,
        absence_scheduled=absence_scheduled,
        invitation=invitation,
        notification=notification,
        post=post,
        comment=comment,
        feed=feed,
        export_token=export_token,
        api_token=api_token,
    )
