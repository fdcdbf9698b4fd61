"""Reads of posts that need care: permission-checked look-ups, the feed, analytics."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, ExpressionWrapper, Max, OuterRef, Q, QuerySet
from django.db.models.fields import BooleanField
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.errors import Forbidden, Invalid, NotFound
from backsoon.network.models import Block, Connection, Follow
from backsoon.network.queries import block_between
from backsoon.notifications.models import Notification
from backsoon.pagination import keyset_page

from . import analytics, ranking
from .models import Comment, CommentMention, Post, PostImpressionHour, PostMention, Reaction

FEED_WINDOW = timedelta(days=14)
# Each candidate source (posts, reactions, comments) contributes at most this many
# rows, newest first; scores are computed in Python over what they yield.
MAX_CANDIDATES = 500
# Reason priority when several followed members engaged with one post.
REASON_PRIORITY = ("commented", "shared", "reacted")


def post_for_member(member: Member, post_id: int) -> Post:
    """A post that ``member`` may see, with its author and shared post loaded.

    Raises:
        NotFound: no such post; or its author's account is closed; or one of the
            two blocked the other. The three are never told apart.
    """
    post = Post.objects.select_related("author", "shared_post__author").filter(pk=post_id).first()
    if post is None:
        raise NotFound(gettext("No such post."), code="post_not_found")
    if not post.author.is_active:
        raise NotFound(gettext("No such post."), code="post_not_found")
    if post.author_id != member.pk and block_between(member.pk, post.author_id):
        raise NotFound(gettext("No such post."), code="post_not_found")
    return post


def own_post_for_member(member: Member, post_id: int) -> Post:
    """A post of ``member``'s own, for editing, deleting or analytics.

    Raises:
        NotFound: ``member`` may not see the post (see ``post_for_member``).
        Forbidden: the post is visible but someone else's.
    """
    post = post_for_member(member, post_id)
    if post.author_id != member.pk:
        raise Forbidden(gettext("Only the author may do this."), code="not_author")
    return post


def comment_for_member(member: Member, comment_id: int, *, post_id: int | None = None) -> Comment:
    """A comment on a post that ``member`` may see.

    Raises:
        NotFound: no such comment; or not on ``post_id`` (when given); or the post
            is not visible to ``member``.
    """
    comment = Comment.objects.filter(pk=comment_id).first()
    if comment is None:
        raise NotFound(gettext("No such comment."), code="comment_not_found")
    if post_id is not None and comment.post_id != post_id:
        raise NotFound(gettext("No such comment."), code="comment_not_found")
    comment.post = post_for_member(member, comment.post_id)
    return comment


def comments_of(post: Post) -> QuerySet[Comment]:
    """Comments on ``post`` (replies included), with their authors; order left to the caller."""
    return Comment.objects.filter(post=post).select_related("author")


def display_posts(ids: list[int]) -> list[Post]:
    """The posts with these ids in this order (missing ones left out), ready to show."""
    rows = Post.objects.select_related("author", "shared_post__author").filter(pk__in=ids)
    by_id = {p.pk: p for p in rows}
    return [by_id[i] for i in ids if i in by_id]


def shown_post_ids(posts: Iterable[Post], *, limit: int = 100) -> list[int]:
    """Ids of the posts shown, and of the posts their shares embed (for impressions)."""
    ids: dict[int, None] = {}
    for post in posts:
        ids[post.pk] = None
        if post.shared_post_id is not None:
            ids[post.shared_post_id] = None
    return list(ids)[:limit]


def posts_by(author: Member) -> QuerySet[Post]:
    return Post.objects.select_related("author", "shared_post__author").filter(author=author)


# --- the feed -------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    posts: list[Post]
    reasons: dict[int, dict[str, str]]  # post id -> {"type", "by"}; absent: no reason
    next_cursor: str | None


def _encode_cursor(offset: int, at: datetime) -> str:
    raw = json.dumps({"o": offset, "t": at.timestamp()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, now: datetime) -> tuple[int, datetime]:
    """The offset into the ranked list and the ranking time of a feed cursor.

    Raises:
        Invalid: the cursor is malformed, or from the future.
    """
    bad = Invalid(gettext("The cursor is not valid."), code="bad_cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, stamp = data["o"], data["t"]
    except (binascii.Error, ValueError, UnicodeDecodeError, TypeError, KeyError):
        raise bad from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not isinstance(stamp, float):
        raise bad
    if not 0 <= offset <= 4 * MAX_CANDIDATES:
        raise bad
    try:
        at = datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, OSError, ValueError):
        raise bad from None
    if at > now + timedelta(minutes=1):
        raise bad
    return offset, at


def feed_page(
    member: Member, *, cursor: str | None = None, limit: int = 20, now: datetime | None = None
) -> FeedPage:
    """One page of ``member``'s ranked feed.

    Candidates (created in the 14 days before the ranking time, authors active
    and not blocked either way): the member's own posts and those of the members
    they follow, and posts that followed members reacted to, commented on or
    shared without a comment ("<name> shared this"). Each post appears once. At
    most ``MAX_CANDIDATES`` rows per source are read, by indexed queries; the
    score (``ranking.score``) is computed in Python over them.

    Args:
        cursor: the ``next_cursor`` of the previous page. It holds the offset into
            the ranked list and the ranking time, so later pages rank the same
            candidates (posts made after the first page wait for a fresh feed).
        limit: page size, 1..100.
        now: the ranking time of a first page (default now).

    Raises:
        Invalid: bad cursor or limit.
    """
    if not 1 <= limit <= 100:
        raise Invalid(
            gettext("limit must be between 1 and %(max)s.") % {"max": 100}, code="bad_limit"
        )
    now = now or timezone.now()
    offset, at = _decode_cursor(cursor, now) if cursor else (0, now)
    ranked, reasons = _ranked_feed(member, at)
    page_ids = ranked[offset : offset + limit]
    next_cursor = _encode_cursor(offset + limit, at) if len(ranked) > offset + limit else None
    posts = display_posts(page_ids)
    actors = {reasons[p.pk][1] for p in posts if p.pk in reasons}
    names = (
        dict(Member.objects.filter(pk__in=actors).values_list("pk", "username")) if actors else {}
    )
    return FeedPage(
        posts=posts,
        reasons={
            p.pk: {"type": reasons[p.pk][0], "by": names[reasons[p.pk][1]]}
            for p in posts
            if p.pk in reasons and reasons[p.pk][1] in names
        },
        next_cursor=next_cursor,
    )


# What ranking needs of a candidate post, read with the post in one query (a tuple:
# values_list is markedly cheaper than dicts for a thousand rows per request).
_ID, _AUTHOR, _CREATED, _REACTIONS, _COMMENTS, _SHARES, _FOLLOWERS, _ACTIVE, _CONNECTED = range(9)


def _post_columns(prefix: str = "") -> tuple[str, ...]:
    return tuple(
        f"{prefix}{name}"
        for name in (
            "id",
            "author_id",
            "created_at",
            "reactions_count",
            "comments_count",
            "shares_count",
            "author__followers_count",
            "author__is_active",
        )
    )


def _ranked_feed(member: Member, at: datetime) -> tuple[list[int], dict[int, tuple[str, int]]]:
    """Candidate ids ranked best first, and (kind, actor id) reasons by post id."""
    since = at - FEED_WINDOW
    follows = Follow.objects.filter(follower=member)
    followees = set(follows.values_list("followee_id", flat=True))
    blocked = {
        a if a != member.pk else b
        for a, b in Block.objects.filter(Q(blocker=member) | Q(blocked=member)).values_list(
            "blocker_id", "blocked_id"
        )
    }
    # Id lists go to the database as subqueries, not as hundreds of parameters.
    followee_ids = follows.values("followee_id")
    mine = Connection.objects.filter(member=member)

    def connected(author_field: str) -> Exists:
        return Exists(mine.filter(other_id=OuterRef(author_field)))

    plain_share = ExpressionWrapper(Q(is_share=True, body=""), output_field=BooleanField())
    # Each source picks its newest ids from an index alone (no joins, cheap even for
    # thousands of rows in the window); only the picked rows are then joined.
    own_ids = (
        Post.objects.filter(
            Q(author_id__in=followee_ids) | Q(author_id=member.pk),
            created_at__gte=since,
            created_at__lte=at,
        )
        .order_by("-created_at")
        .values("id")[:MAX_CANDIDATES]
    )
    own = (
        Post.objects.filter(pk__in=own_ids)
        .annotate(connected=connected("author_id"), plain_share=plain_share)
        .order_by("-created_at")
        .values_list(*_post_columns(), "connected", "shared_post_id", "plain_share")
    )

    candidates: dict[int, tuple[Any, ...]] = {}
    # post -> {kind: actor}; rows come newest first, so the first actor is the latest.
    activity: dict[int, dict[str, int]] = {}
    originals: set[int] = set()
    for row in own:
        author_id, shared_post_id, is_plain_share = row[_AUTHOR], row[-2], row[-1]
        if is_plain_share and author_id != member.pk:
            # A repost without a comment shows the original: "<name> shared this".
            if shared_post_id is not None:
                activity.setdefault(shared_post_id, {}).setdefault("shared", author_id)
                originals.add(shared_post_id)
            continue
        candidates[row[_ID]] = row[:-2]

    if followees:
        for kind, model, actor in (
            ("reacted", Reaction, "member_id"),
            ("commented", Comment, "author_id"),
        ):
            picked = (
                model.objects.filter(
                    **{f"{actor}__in": followee_ids}, created_at__gte=since, created_at__lte=at
                )
                .order_by("-created_at")
                .values("id")[:MAX_CANDIDATES]
            )
            rows = (
                model.objects.filter(pk__in=picked, post__created_at__gte=since)
                .annotate(connected=connected("post__author_id"))
                .order_by("-created_at")
                .values_list(actor, *_post_columns("post__"), "connected")
            )
            for row in rows:
                post = row[1:]
                activity.setdefault(post[_ID], {}).setdefault(kind, row[0])
                candidates.setdefault(post[_ID], post)

    missing = originals - candidates.keys()
    if missing:
        shared = (
            Post.objects.filter(pk__in=missing, created_at__gte=since)
            .annotate(connected=connected("author_id"))
            .values_list(*_post_columns(), "connected")
        )
        for row in shared:
            candidates[row[_ID]] = row

    ranked_candidates = []
    reasons: dict[int, tuple[str, int]] = {}
    for post_id, row in candidates.items():
        author_id = row[_AUTHOR]
        if not row[_ACTIVE] or author_id in blocked:
            continue
        acts = activity.get(post_id)
        if acts and author_id not in followees and author_id != member.pk:
            kind = min(acts, key=REASON_PRIORITY.index)
            reasons[post_id] = (kind, acts[kind])
        ranked_candidates.append(
            ranking.Candidate(
                post_id=post_id,
                created_at=row[_CREATED],
                reactions=row[_REACTIONS],
                comments=row[_COMMENTS],
                shares=row[_SHARES],
                author_followers=row[_FOLLOWERS],
                is_connection=bool(row[_CONNECTED]),
            )
        )
    return ranking.rank(ranked_candidates, now=at), reasons


# --- analytics --------------------------------------------------------------------


def post_analytics(member: Member, post_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The analytics of one of ``member``'s own posts.

    Returns:
        ``{post, impressions, impressions_estimate, unique_viewers, reactions: {total,
        by_type}, comments, shares, engagement_rate, series}``; ``series`` as built by
        ``analytics.series`` (hourly for the first 3 days, then daily, UTC).

    Raises:
        NotFound: the post is not visible to ``member``.
        Forbidden: the post is someone else's (403: it is visible, but its analytics are not).
    """
    now = now or timezone.now()
    post = own_post_for_member(member, post_id)
    by_type = dict(
        Reaction.objects.filter(post=post)
        .values("type")
        .annotate(n=Count("id"))
        .values_list("type", "n")
    )
    impressions_by_hour = dict(
        PostImpressionHour.objects.filter(post=post).values_list("hour", "count")
    )
    reactions_by_hour = dict(
        Reaction.objects.filter(post=post)
        .annotate(h=TruncHour("created_at", tzinfo=UTC))
        .values("h")
        .annotate(n=Count("id"))
        .values_list("h", "n")
    )
    engaged = post.reactions_count + post.comments_count + post.shares_count
    return {
        "post": post,
        "impressions": post.impressions_count,
        "impressions_estimate": True,
        "unique_viewers": post.unique_viewers,
        "reactions": {
            "total": post.reactions_count,
            "by_type": {t: by_type.get(t, 0) for t in Reaction.Type.values},
        },
        "comments": post.comments_count,
        "shares": post.shares_count,
        "engagement_rate": analytics.engagement_rate(engaged, post.impressions_count),
        "series": analytics.series(
            created_at=post.created_at,
            now=now,
            impressions_by_hour=impressions_by_hour,
            reactions_by_hour=reactions_by_hour,
        ),
    }


def reactors_page(
    member: Member, post_id: int, *, cursor: str | None = None, limit: int = 20
) -> tuple[list[Reaction], str | None]:
    """Who reacted to a post ``member`` may see, newest first (keyset paged).

    Closed accounts and members blocked either way are left out.

    Raises:
        NotFound: the post is not visible to ``member``.
        Invalid: bad cursor or limit.
    """
    post = post_for_member(member, post_id)
    blocked = Block.objects.filter(
        Q(blocker=member, blocked=OuterRef("member_id"))
        | Q(blocked=member, blocker=OuterRef("member_id"))
    )
    rows = (
        Reaction.objects.filter(post=post, member__is_active=True)
        .exclude(Exists(blocked))
        .select_related("member")
    )
    return keyset_page(rows, order=["-created_at", "-id"], cursor=cursor, limit=limit)


def reactor_payloads(viewer: Member, rows: list[Reaction]) -> list[dict[str, Any]]:
    """``{member, type, created_at}`` per reaction, member cards fetched in one go."""
    from backsoon.accounts.presenters import member_cards

    cards = member_cards(viewer, [r.member for r in rows])
    return [
        {"member": card, "type": r.type, "created_at": r.created_at}
        for r, card in zip(rows, cards, strict=True)
    ]


# --- activity on your posts (the home page's side card) ----------------------------

ACTIVITY_TYPES = ("reaction", "comment", "share", "mention")


def post_activity(member: Member, *, limit: int = 5) -> list[Notification]:
    """``member``'s newest unread notifications about posts (grouped rows, with actors).

    One query. The full list of notifications belongs to the notifications app.
    """
    return list(
        Notification.objects.filter(recipient=member, read_at__isnull=True, type__in=ACTIVITY_TYPES)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


# --- the return digest (AWAY-SPEC D1) -------------------------------------------------

EXCERPT_CHARS = 160


def excerpt(body: str, *, chars: int = EXCERPT_CHARS) -> str:
    """The first line of a text, cut to ``chars`` characters with an ellipsis."""
    line = body.strip().splitlines()[0] if body.strip() else ""
    return line if len(line) <= chars else line[: chars - 1] + "…"


def digest_activity(
    *, member: Member, start: datetime, end: datetime, limit: int = 50
) -> dict[str, Any]:
    """What happened to ``member`` on posts in ``[start, end)`` (UTC, end exclusive).

    For the return digest. Seven queries whatever the volume; the member's own
    actions are left out.

    Returns:
        ``{"mentions": [{post, kind: "post"|"comment", actor, actor_name, excerpt, at,
        link}] (newest first), "comments": [{post, count, excerpt, last_at, link}]
        (busiest post first), "reactions": {total, by_type: {type: n}, posts: [{post,
        count, excerpt, link}]}}``; each list holds at most ``limit`` entries.
    """
    post_mentions = (
        PostMention.objects.filter(
            member=member, post__created_at__gte=start, post__created_at__lt=end
        )
        .exclude(post__author=member)
        .select_related("post__author")
        .order_by("-post__created_at")[:limit]
    )
    comment_mentions = (
        CommentMention.objects.filter(
            member=member, comment__created_at__gte=start, comment__created_at__lt=end
        )
        .exclude(comment__author=member)
        .select_related("comment__author")
        .order_by("-comment__created_at")[:limit]
    )
    mentions: list[dict[str, Any]] = [
        {
            "post": m.post_id,
            "kind": "post",
            "actor": m.post.author.username,
            "actor_name": m.post.author.display_name,
            "excerpt": excerpt(m.post.body),
            "at": m.post.created_at,
            "link": reverse("posts:detail", args=[m.post_id]),
        }
        for m in post_mentions
    ] + [
        {
            "post": m.comment.post_id,
            "kind": "comment",
            "actor": m.comment.author.username,
            "actor_name": m.comment.author.display_name,
            "excerpt": excerpt(m.comment.body),
            "at": m.comment.created_at,
            "link": reverse("posts:detail", args=[m.comment.post_id]) + f"#comment-{m.comment_id}",
        }
        for m in comment_mentions
    ]
    mentions.sort(key=lambda m: m["at"], reverse=True)

    window = {"post__author": member, "created_at__gte": start, "created_at__lt": end}
    comments = list(
        Comment.objects.filter(**window)
        .exclude(author=member)
        .values("post_id")
        .annotate(count=Count("id"), last_at=Max("created_at"))
        .order_by("-count", "-last_at")[:limit]
    )
    reactions = Reaction.objects.filter(**window).exclude(member=member)
    by_type = dict(reactions.values("type").annotate(n=Count("id")).values_list("type", "n"))
    per_post = list(
        reactions.values("post_id")
        .annotate(count=Count("id"))
        .order_by("-count", "-post_id")[:limit]
    )
    ids = {row["post_id"] for row in comments} | {row["post_id"] for row in per_post}
    bodies = dict(Post.objects.filter(pk__in=ids).values_list("pk", "body")) if ids else {}

    def about(post_id: int) -> dict[str, Any]:
        return {
            "post": post_id,
            "excerpt": excerpt(bodies.get(post_id, "")),
            "link": reverse("posts:detail", args=[post_id]),
        }

    return {
        "mentions": mentions[:limit],
        "comments": [
            {**about(row["post_id"]), "count": row["count"], "last_at": row["last_at"]}
            for row in comments
        ],
        "reactions": {
            "total": sum(by_type.values()),
            "by_type": by_type,
            "posts": [{**about(row["post_id"]), "count": row["count"]} for row in per_post],
        },
    }
