"""The demo's second post: what an ordinary post yields (TRIAGE-SPEC Y5).

Eighty days before the viral post took off, the trainer wrote an ordinary post
about his trade. A few dozen people in his field reacted and commented; he invited
some of them, they accepted; some wrote to him and he answered, and a few of those
conversations still go on weeks later; others started following him. Its reach is
tiny next to the viral post's 3,000,000 impressions; its yield is larger.

Everything goes through the real actions (``reaction_set``, ``comment_create``,
``invitation_send``/``invitation_accept``, ``follow_create``,
``conversation_start``/``message_send``). Messages carry their moment through the
actions' ``at=`` argument; the actions without one stamp "now", so their rows are
moved back to their moment right after (as an import of history would), and the
notifications they raised are marked read at that moment: they are history, not
news for the trainer's return.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from backsoon.accounts.models import Member

POSTED_DAYS_AGO = 80
FIELD_ROLES = (
    "HR business partner",
    "Recruiter",
    "Business coach",
    "Consultant",
    "Communications advisor",
    "Marketing manager",
)
BODY = (
    "Three things I learned from 40 out-of-office workshops with HR teams:\n"
    "1. Say when you are back, not only that you are away.\n"
    "2. Name one backup per topic, not one for everything.\n"
    "3. Let the first message through; hold the rest for your return.\n\n"
    "Which one does your team struggle with?"
)
COMMENTS = (
    "Number 2 is the one we never get right. Can I ask you about it?",
    "We tried 3 last summer and it halved the pile after the holidays.",
    "Great list. Sharing this with our people team.",
    "How do you handle backups for client accounts?",
    "Saying when you are back: so simple, so rare.",
    "Would love to hear how you run these workshops.",
    "Our works council asked for exactly this.",
    "Point 1 should be a law.",
)
OPENERS = (
    "Hi Pieter, your post about backups hit home. Could we talk about a workshop for our team?",
    "Thanks for the list! We are rolling out a new absence policy; would you have time for a call?",
    "Hello, I coach managers on boundaries and loved your post. Coffee some time?",
    "Your point 3 is what our recruiters need. Do you run in-house sessions?",
    "Hi, I am organising an HR meetup in Utrecht. Would you speak?",
    "Quick question about your post: how do you pick a backup per topic?",
)
ANSWERS = (
    "Thanks for writing! Happy to. How about Thursday at ten?",
    "Good to hear from you. I sent you two dates; let me know which works.",
    "Glad it helped. Here is the one-pager we use in the workshops.",
)
LATER = (
    "The workshop went down well; the team asks for a follow-up in spring.",
    "Update from our side: the backup rota is live. Thanks again!",
    "Shall we plan the next session?",
    "Sounds good, I'll send a proposal next week.",
)


def _moment(rng: random.Random, start: datetime, *, hours: float) -> datetime:
    """A moment within ``hours`` after ``start``, most of them early."""
    return start + timedelta(seconds=min(rng.expovariate(3 / hours), hours) * 3600)


def _followers_from_before(trainer: Member) -> None:
    """Stamp the trainer's followers from before the story at a moment before his posts.

    The story's bulk steps write the network he already had (connections, followers)
    at load time, which would make every one of those followers look like someone his
    viral post brought (Y4). A follow that came with an accepted invitation is left as
    it is: that one happened in the story.
    """
    from backsoon.network.models import Follow, Invitation
    from backsoon.posts.models import Post

    first_post = Post.objects.filter(author=trainer).order_by("created_at").first()
    if first_post is None:
        return
    accepted = Invitation.objects.filter(
        Q(from_member=trainer) | Q(to_member=trainer), status=Invitation.Status.ACCEPTED
    )
    Follow.objects.filter(followee=trainer, created_at__gt=first_post.created_at).exclude(
        follower__in=accepted.values("from_member_id")
    ).exclude(follower__in=accepted.values("to_member_id")).update(
        created_at=first_post.created_at - timedelta(days=120)
    )


def ordinary_post_story(*, trainer: Member, now: datetime, rng: random.Random) -> int:
    """Write the trainer's ordinary post and what it brought; return the post's id.

    Args:
        trainer: the demo's author.
        now: the story's "now"; everything happens between 80 and 10 days before it,
            so none of it falls inside the trainer's holiday.
        rng: the story's random source (deterministic for a seed).
    """
    with transaction.atomic():  # one commit: on_commit side effects run once at the end
        return _story(trainer=trainer, now=now, rng=rng)


def _story(*, trainer: Member, now: datetime, rng: random.Random) -> int:
    from backsoon.messaging.actions import (
        conversation_mark_read,
        conversation_start,
        message_send,
    )
    from backsoon.network.actions import follow_create, invitation_accept, invitation_send
    from backsoon.network.models import Connection, Follow, Invitation
    from backsoon.notifications.models import Notification
    from backsoon.posts.actions import comment_create, post_create, reaction_set
    from backsoon.posts.models import Comment, Post, PostImpressionHour, Reaction

    posted = now - timedelta(days=POSTED_DAYS_AGO)
    _followers_from_before(trainer)
    last_notification = Notification.objects.order_by("-id").values_list("id", flat=True).first()

    # People in his field who are not his connections and have no invitation with him.
    known = Invitation.objects.filter(Q(from_member=trainer) | Q(to_member=trainer))
    field = list(
        Member.objects.filter(
            is_active=True,
            is_bot=False,
            headline__regex=r"^(" + "|".join(FIELD_ROLES) + ") at ",
        )
        .exclude(pk=trainer.pk)
        .exclude(pk__in=Connection.objects.filter(member=trainer).values("other_id"))
        .exclude(pk__in=known.values("from_member_id"))
        .exclude(pk__in=known.values("to_member_id"))
        .exclude(pk__in=Follow.objects.filter(followee=trainer).values("follower_id"))
        .order_by("id")[:400]  # the first of them: the network with full profiles
    )
    people = rng.sample(field, min(40, len(field)))

    post = post_create(author=trainer, body=BODY).post
    Post.objects.filter(pk=post.pk).update(created_at=posted)

    engaged: dict[int, datetime] = {}
    for member in people:
        at = _moment(rng, posted, hours=48)
        kind = rng.choices(["insightful", "like", "support", "celebrate"], [5, 4, 2, 1])[0]
        reaction_set(member=member, post_id=post.pk, type=kind)
        Reaction.objects.filter(post=post, member=member).update(created_at=at)
        engaged[member.pk] = at
    for member, text in zip(people[10:18], COMMENTS, strict=False):
        written = comment_create(author=member, post_id=post.pk, body=text)
        at = engaged[member.pk] + timedelta(minutes=rng.uniform(1, 30))
        Comment.objects.filter(pk=written.comment.pk).update(created_at=at)

    # He invites fourteen of them within days; they accept (and so follow each other).
    for member in people[:14]:
        sent = engaged[member.pk] + timedelta(hours=rng.uniform(2, 96))
        accepted = sent + timedelta(hours=rng.uniform(1, 72))
        invitation = invitation_send(
            sender=trainer, to_username=member.username, note="Thanks for reacting to my post!"
        )
        invitation_accept(member=member, invitation_id=invitation.pk)
        Invitation.objects.filter(pk=invitation.pk).update(created_at=sent, responded_at=accepted)
        pair = [trainer.pk, member.pk]
        Connection.objects.filter(member__in=pair, other__in=pair).update(created_at=accepted)
        Follow.objects.filter(follower__in=pair, followee__in=pair).update(created_at=accepted)

    # Six others write to him; he answers five; three of those still write a month later.
    for i, (member, opener) in enumerate(zip(people[14:20], OPENERS, strict=True)):
        first = engaged[member.pk] + timedelta(days=rng.uniform(1, 12))
        conversation, _ = conversation_start(creator=member, usernames=[trainer.username], at=first)
        message_send(sender=member, conversation_id=conversation.pk, body=opener, at=first)
        if i == 5:  # one he never answered (but has read)
            conversation_mark_read(member=trainer, conversation_id=conversation.pk)
            continue
        answer = first + timedelta(hours=rng.uniform(1, 30))
        message_send(
            sender=trainer, conversation_id=conversation.pk, body=ANSWERS[i % 3], at=answer
        )
        if i < 3:
            later = first + timedelta(days=rng.uniform(32, 55))
            message_send(sender=member, conversation_id=conversation.pk, body=LATER[i], at=later)
            message_send(
                sender=trainer,
                conversation_id=conversation.pk,
                body=LATER[3],
                at=later + timedelta(hours=rng.uniform(1, 20)),
            )

    # Five more start following him.
    for member in people[20:25]:
        follow_create(member=member, username=trainer.username)
        at = engaged[member.pk] + timedelta(days=rng.uniform(0.5, 20))
        Follow.objects.filter(follower=member, followee=trainer).update(created_at=at)

    # A modest reach: about 2,100 impressions over its first days (the buffered counter's
    # hourly rows, as in the viral post's bulk path).
    start = posted.replace(minute=0, second=0, microsecond=0)
    counts = [int(150 * 0.93**h * (0.7 + 0.6 * rng.random())) for h in range(96)]
    PostImpressionHour.objects.bulk_create(
        [
            PostImpressionHour(post=post, hour=start + timedelta(hours=h), count=c)
            for h, c in enumerate(counts)
            if c
        ]
    )
    Post.objects.filter(pk=post.pk).update(
        impressions_count=sum(counts), unique_viewers=sum(counts) * 2 // 3
    )

    # What these actions notified is history by now: stamped then, and read.
    Notification.objects.filter(id__gt=last_notification or 0).update(
        created_at=posted + timedelta(days=1), read_at=posted + timedelta(days=2)
    )
    return post.pk
