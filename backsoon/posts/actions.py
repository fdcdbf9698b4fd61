"""Every write to posts, reactions, comments, shares and impressions.

Each action validates first (bad input raises before anything is written), then
writes in one transaction: the row, the stored counters (``F()`` expressions, so
concurrent actions add up) and the notifications (``notification_add``, whose
live push happens on commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from backsoon.accounts.models import Member
from backsoon.away.queries import badges_for
from backsoon.errors import Forbidden, Invalid
from backsoon.network.queries import blocked_ids_between
from backsoon.notifications.actions import notification_add
from backsoon.notifications.models import Notification

from . import impressions, mentions
from .models import Comment, CommentMention, Post, PostMention, Reaction
from .queries import comment_for_member, own_post_for_member, post_for_member

POST_MAX = 3000
COMMENT_MAX = 1250
VIEWS_MAX = 100


@dataclass
class PostWrite:
    """A post as written, and the mentioned members who are away (AWAY-SPEC P3)."""

    post: Post
    mentioned_away: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CommentWrite:
    comment: Comment
    mentioned_away: list[dict[str, Any]] = field(default_factory=list)


def clean_text(text: str, *, limit: int, what: str, allow_empty: bool = False) -> str:
    """Normalize line breaks, trim, and check the length of member text.

    Raises:
        Invalid: empty (unless allowed), longer than ``limit`` characters, or with
            a NUL character (which no database stores).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    noun = {"post": pgettext("text kind", "post"), "comment": pgettext("text kind", "comment")}
    what = noun.get(what, what)
    if "\x00" in text:
        raise Invalid(
            gettext("The %(what)s contains a NUL character.") % {"what": what},
            code="invalid_body",
        )
    if not text and not allow_empty:
        raise Invalid(gettext("The %(what)s may not be empty.") % {"what": what}, code="empty_body")
    if len(text) > limit:
        raise Invalid(
            gettext("A %(what)s is at most %(limit)s characters; this one has %(length)s.")
            % {"what": what, "limit": limit, "length": len(text)},
            code="body_too_long",
        )
    return text


def _mentioned(author: Member, text: str) -> list[Member]:
    """Active members that ``text`` mentions, minus those with a block either way.

    Two queries at most, for any number of mentions (bounded by MAX_MENTIONS).
    """
    names = mentions.mention_candidates(text)
    if not names:
        return []
    found = {m.username: m for m in Member.objects.filter(username__in=names, is_active=True)}
    blocked = blocked_ids_between(author.pk, [m.pk for m in found.values() if m.pk != author.pk])
    known = {name for name, m in found.items() if m.pk not in blocked}
    return [found[name] for name in mentions.mentioned_names(text, known)]


def _away_badges(author: Member, members: Iterable[Member]) -> dict[int, dict[str, Any]]:
    """Away badges, as ``author`` may see them, of the other members given (two queries)."""
    others = [m for m in members if m.pk != author.pk]
    return badges_for(viewer=author, members=others) if others else {}


def _mentioned_away(
    author: Member, members: Iterable[Member], badges: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """``mentioned_away`` of a response: ``[{username, away}]`` in mention order (P3)."""
    return [{"username": m.username, "away": badges[m.pk]} for m in members if m.pk in badges]


def _notify_mentions(
    *,
    author: Member,
    members: Iterable[Member],
    badges: dict[int, dict[str, Any]],
    subject_type: str,
    subject_id: int,
) -> None:
    """Tell each mentioned member (not the author) that they were mentioned."""
    for member in members:
        if member.pk == author.pk:
            continue
        notification_add(
            recipient_id=member.pk,
            type=Notification.Type.MENTION,
            actor_id=author.pk,
            subject_type=subject_type,
            subject_id=subject_id,
            recipient_away=member.pk in badges,
        )


def _notify_author(*, post: Post, actor: Member, type: str, kind: str) -> None:
    """Tell the post's author, grouped per post and kind (one unread row, with a count)."""
    if post.author_id == actor.pk:
        return
    notification_add(
        recipient_id=post.author_id,
        type=type,
        actor_id=actor.pk,
        subject_type="post",
        subject_id=post.pk,
        group_key=f"post:{post.pk}:{kind}",
    )


def post_create(*, author: Member, body: str) -> PostWrite:
    """Publish a post; ``@username`` mentions are resolved, linked and notified.

    Returns:
        The post, and the badges of mentioned members who are away now (P3).

    Raises:
        Invalid: the body is empty, longer than 3000 characters, or has a NUL.
    """
    body = clean_text(body, limit=POST_MAX, what="post")
    with transaction.atomic():
        post = Post.objects.create(author=author, body=body)
        mentioned = _mentioned(author, body)
        PostMention.objects.bulk_create([PostMention(post=post, member=m) for m in mentioned])
        badges = _away_badges(author, mentioned)
        _notify_mentions(
            author=author,
            members=mentioned,
            badges=badges,
            subject_type="post",
            subject_id=post.pk,
        )
    return PostWrite(post=post, mentioned_away=_mentioned_away(author, mentioned, badges))


def post_update(*, member: Member, post_id: int, body: str) -> PostWrite:
    """Change the text of one's own post. Newly mentioned members are notified.

    A share's text (its comment) may be emptied; an ordinary post's may not.

    Raises:
        NotFound: no such post visible to ``member``.
        Forbidden: not the author.
        Invalid: bad text; nothing is changed.
    """
    post = own_post_for_member(member, post_id)
    body = clean_text(body, limit=POST_MAX, what="post", allow_empty=post.is_share)
    with transaction.atomic():
        post.body = body
        post.edited_at = timezone.now()
        post.save(update_fields=["body", "edited_at"])
        mentioned = _mentioned(member, body)
        before = set(PostMention.objects.filter(post=post).values_list("member_id", flat=True))
        now_ids = {m.pk for m in mentioned}
        PostMention.objects.filter(post=post).exclude(member_id__in=now_ids).delete()
        new = [m for m in mentioned if m.pk not in before]
        PostMention.objects.bulk_create(
            [PostMention(post=post, member=m) for m in new], ignore_conflicts=True
        )
        badges = _away_badges(member, mentioned)
        _notify_mentions(
            author=member, members=new, badges=badges, subject_type="post", subject_id=post.pk
        )
    return PostWrite(post=post, mentioned_away=_mentioned_away(member, mentioned, badges))


def post_delete(*, member: Member, post_id: int) -> None:
    """Delete one's own post with its comments and reactions.

    Shares of it stay, saying that the original was deleted. Deleting a share
    lowers the shared post's share count.

    Raises:
        NotFound: no such post visible to ``member``.
        Forbidden: not the author.
    """
    post = own_post_for_member(member, post_id)
    with transaction.atomic():
        if post.shared_post_id is not None:
            Post.objects.filter(pk=post.shared_post_id, shares_count__gt=0).update(
                shares_count=F("shares_count") - 1
            )
        Post.objects.filter(pk=post.pk).delete()


def post_share(*, member: Member, post_id: int, comment: str = "") -> PostWrite:
    """Share a post, optionally with a comment: a new post that embeds it.

    Sharing a share embeds the original post (one level of embedding only),
    unless the original was deleted, then the share itself is embedded.

    Raises:
        NotFound: the post (or the original it shares) is not visible to ``member``.
        Invalid: the comment is longer than 3000 characters.
    """
    shared = post_for_member(member, post_id)
    if shared.shared_post_id is not None:
        shared = post_for_member(member, shared.shared_post_id)
    body = clean_text(comment, limit=POST_MAX, what="comment", allow_empty=True)
    with transaction.atomic():
        share = Post.objects.create(author=member, body=body, shared_post=shared, is_share=True)
        Post.objects.filter(pk=shared.pk).update(shares_count=F("shares_count") + 1)
        _notify_author(post=shared, actor=member, type=Notification.Type.SHARE, kind="share")
        mentioned = _mentioned(member, body)
        PostMention.objects.bulk_create([PostMention(post=share, member=m) for m in mentioned])
        badges = _away_badges(member, mentioned)
        _notify_mentions(
            author=member,
            members=mentioned,
            badges=badges,
            subject_type="post",
            subject_id=share.pk,
        )
    shared.refresh_from_db(fields=["reactions_count", "comments_count", "shares_count"])
    share.shared_post = shared
    return PostWrite(post=share, mentioned_away=_mentioned_away(member, mentioned, badges))


def reaction_set(*, member: Member, post_id: int, type: str) -> tuple[Post, bool]:
    """React to a post, or change one's reaction (one per member and post).

    Returns:
        The post with fresh counts, and True when the reaction is new (False when
        an existing one was changed or stayed the same).

    Raises:
        Invalid: unknown reaction type.
        NotFound: no such post visible to ``member``.
    """
    if type not in Reaction.Type.values:
        raise Invalid(
            gettext("type must be one of: %(types)s.") % {"types": ", ".join(Reaction.Type.values)},
            code="invalid_reaction",
        )
    post = post_for_member(member, post_id)
    with transaction.atomic():
        changed = Reaction.objects.filter(post=post, member=member).update(type=type)
        created = False
        if not changed:
            try:
                with transaction.atomic():
                    Reaction.objects.create(post=post, member=member, type=type)
                created = True
            except IntegrityError:
                # A concurrent request created it first: the constraint decides.
                Reaction.objects.filter(post=post, member=member).update(type=type)
        if created:
            Post.objects.filter(pk=post.pk).update(reactions_count=F("reactions_count") + 1)
            _notify_author(
                post=post, actor=member, type=Notification.Type.REACTION, kind="reaction"
            )
    post.refresh_from_db(fields=["reactions_count", "comments_count", "shares_count"])
    return post, created


def reaction_remove(*, member: Member, post_id: int) -> None:
    """Take back one's reaction; harmless when there is none.

    Raises:
        NotFound: no such post visible to ``member``.
    """
    post = post_for_member(member, post_id)
    with transaction.atomic():
        deleted, _ = Reaction.objects.filter(post=post, member=member).delete()
        if deleted:
            Post.objects.filter(pk=post.pk, reactions_count__gt=0).update(
                reactions_count=F("reactions_count") - 1
            )


def comment_create(
    *, author: Member, post_id: int, body: str, parent_id: int | None = None
) -> CommentWrite:
    """Comment on a post, or reply to a comment on it.

    Replies are one level deep: a reply to a reply becomes a reply to the
    top-level comment. The post's author (and the author of the comment replied
    to) are notified, grouped per post.

    Raises:
        NotFound: no such post visible to ``author``.
        Invalid: empty or longer than 1250 characters; or ``parent_id`` is not a
            comment on this post.
    """
    post = post_for_member(author, post_id)
    body = clean_text(body, limit=COMMENT_MAX, what="comment")
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, post=post).first()
        if parent is None:
            raise Invalid(
                gettext("The comment you reply to is not on this post."), code="invalid_parent"
            )
        if parent.parent_id is not None:
            parent = Comment.objects.get(pk=parent.parent_id)
    with transaction.atomic():
        comment = Comment.objects.create(post=post, author=author, parent=parent, body=body)
        Post.objects.filter(pk=post.pk).update(comments_count=F("comments_count") + 1)
        _notify_author(post=post, actor=author, type=Notification.Type.COMMENT, kind="comment")
        if parent is not None and parent.author_id not in (author.pk, post.author_id):
            notification_add(
                recipient_id=parent.author_id,
                type=Notification.Type.COMMENT,
                actor_id=author.pk,
                subject_type="post",
                subject_id=post.pk,
                group_key=f"post:{post.pk}:reply",
            )
        mentioned = _mentioned(author, body)
        CommentMention.objects.bulk_create(
            [CommentMention(comment=comment, member=m) for m in mentioned]
        )
        badges = _away_badges(author, mentioned)
        _notify_mentions(
            author=author,
            members=mentioned,
            badges=badges,
            # Notifications lead to the post page (the comment is on it).
            subject_type="post",
            subject_id=post.pk,
        )
    comment.post = post
    return CommentWrite(comment=comment, mentioned_away=_mentioned_away(author, mentioned, badges))


def comment_delete(*, member: Member, comment_id: int, post_id: int | None = None) -> None:
    """Delete a comment (with its replies): by its author or by the post's author.

    Raises:
        NotFound: no such comment (on ``post_id``, when given) visible to ``member``.
        Forbidden: neither the comment's nor the post's author.
    """
    comment = comment_for_member(member, comment_id, post_id=post_id)
    if member.pk not in (comment.author_id, comment.post.author_id):
        raise Forbidden(
            gettext("Only the comment's author or the post's author may delete it."),
            code="not_author",
        )
    with transaction.atomic():
        _, per_model = Comment.objects.filter(pk=comment.pk).delete()
        removed = per_model.get(Comment._meta.label, 0)
        if removed:
            # Never below zero, even if the stored count had drifted.
            Post.objects.filter(pk=comment.post_id).update(
                comments_count=Greatest(F("comments_count") - removed, Value(0))
            )


def impressions_record(*, member_id: int, post_ids: list[int], at: float | None = None) -> int:
    """Count one impression of each post for the member (buffered, no database write).

    A member counts at most once per post per UTC hour: repeats in ``post_ids``,
    and posts already counted for them this hour, are not counted again
    (``impressions.record``). Ids of posts that do not exist are dropped when the
    buffer is flushed.

    Args:
        at: when, in epoch seconds (default now; benchmarks replay many hours).

    Returns:
        The number of impressions counted.

    Raises:
        Invalid: more than 100 ids, or an id that is not a positive integer.
    """
    if len(post_ids) > VIEWS_MAX:
        raise Invalid(
            gettext("At most %(max)s post ids per request.") % {"max": VIEWS_MAX},
            code="too_many_posts",
        )
    if any(isinstance(i, bool) or not isinstance(i, int) or i <= 0 for i in post_ids):
        raise Invalid(gettext("Post ids are positive integers."), code="invalid_post_id")
    unique = list(dict.fromkeys(post_ids))
    if not unique:
        return 0
    return impressions.record(member_id=member_id, post_ids=unique, at=at)
