"""Posts API: posts, reactions, comments, shares, impressions, the feed and analytics.

The router is mounted at the API root, so paths here are full paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from backsoon.apiauth import api_member
from backsoon.pagination import keyset_page, offset_page
from backsoon.schemas import MAX_ID, AwayBadge, ErrorOut, Id, MemberOut, Page, PageParams

from . import actions, queries, yields
from .presenters import comment_payloads, post_payload, post_payloads

router = Router(tags=["posts"])


# Text limits (posts and shares 3000 characters, comments 1250) are checked by the
# actions, after line breaks are normalised, with the code ``body_too_long``.
class PostIn(Schema):
    body: str


class ShareIn(Schema):
    comment: str = ""


class ReactionIn(Schema):
    type: str


class CommentIn(Schema):
    body: str
    parent: Id | None = None


class ViewsIn(Schema):
    # Ids below 1 are refused by the action (invalid_post_id); above MAX_ID here.
    post_ids: list[Annotated[int, Field(le=MAX_ID)]] = Field(..., max_length=actions.VIEWS_MAX)


class Counts(Schema):
    impressions: int
    reactions: int
    comments: int
    shares: int


class Reason(Schema):
    type: str = Field(..., description="reacted, commented or shared")
    by: str = Field(..., description="username of the followed member")


class SharedPostOut(Schema):
    id: int
    author: MemberOut
    body: str
    created_at: datetime
    edited_at: datetime | None
    mentions: list[str]
    is_share: bool
    counts: Counts
    my_reaction: str | None


class PostOut(SharedPostOut):
    shared_post: SharedPostOut | None = Field(
        ..., description="The embedded post of a share; null if it was deleted or is hidden."
    )
    reason: Reason | None = Field(None, description="Why a feed item is shown; null elsewhere.")


class MentionedAway(Schema):
    username: str
    away: AwayBadge


class PostWrittenOut(PostOut):
    mentioned_away: list[MentionedAway] = Field(
        ..., description="Mentioned members who are away now (AWAY-SPEC P3)."
    )


class CommentOut(Schema):
    id: int
    post: int
    parent: int | None
    author: MemberOut
    body: str
    created_at: datetime
    mentions: list[str]


class CommentWrittenOut(CommentOut):
    mentioned_away: list[MentionedAway]


class ReactionOut(Schema):
    post: int
    type: str
    counts: Counts


class ViewsOut(Schema):
    recorded: int


class ReactionsByType(Schema):
    total: int
    by_type: dict[str, int]


class SeriesPoint(Schema):
    start: datetime
    granularity: str = Field(..., description="hour or day")
    impressions: int
    reactions: int


class Series(Schema):
    hourly_until: datetime
    points: list[SeriesPoint]


class AnalyticsOut(Schema):
    post: int
    impressions: int
    impressions_estimate: bool = Field(
        ..., description="Always true: impressions are counted in batches and may lag or miss."
    )
    unique_viewers: int
    reactions: ReactionsByType
    comments: int
    shares: int
    engagement_rate: float | None = Field(
        ..., description="(reactions + comments + shares) / impressions; null without impressions."
    )
    series: Series


def _me(request: HttpRequest) -> Any:
    return api_member(request)


def _written(request: HttpRequest, written: actions.PostWrite) -> dict[str, Any]:
    payload = post_payload(_me(request), written.post)
    payload["mentioned_away"] = written.mentioned_away
    return payload


@router.post("/posts", response={201: PostWrittenOut, 422: ErrorOut})
def post_create(request: HttpRequest, payload: PostIn) -> Status[dict[str, Any]]:
    written = actions.post_create(author=_me(request), body=payload.body)
    return Status(201, _written(request, written))


@router.get("/posts/{post_id}", response={200: PostOut, 404: ErrorOut})
def post_detail(request: HttpRequest, post_id: int) -> dict[str, Any]:
    """A post; showing it counts as an impression."""
    me = _me(request)
    post = queries.post_for_member(me, post_id)
    actions.impressions_record(member_id=me.pk, post_ids=queries.shown_post_ids([post]))
    return post_payload(me, post)


@router.patch(
    "/posts/{post_id}", response={200: PostWrittenOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def post_update(request: HttpRequest, post_id: int, payload: PostIn) -> dict[str, Any]:
    """Change the text of your post (author only)."""
    return _written(
        request, actions.post_update(member=_me(request), post_id=post_id, body=payload.body)
    )


@router.delete("/posts/{post_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def post_delete(request: HttpRequest, post_id: int) -> Status[None]:
    """Delete your post with its comments and reactions (author only)."""
    actions.post_delete(member=_me(request), post_id=post_id)
    return Status(204, None)


@router.post(
    "/posts/{post_id}/reactions",
    response={200: ReactionOut, 201: ReactionOut, 404: ErrorOut, 422: ErrorOut},
)
def reaction_set(request: HttpRequest, post_id: int, payload: ReactionIn) -> Status[dict[str, Any]]:
    """React (201), or change your reaction (200); one reaction per member and post."""
    post, created = actions.reaction_set(member=_me(request), post_id=post_id, type=payload.type)
    body = {
        "post": post.pk,
        "type": payload.type,
        "counts": {
            "impressions": post.impressions_count,
            "reactions": post.reactions_count,
            "comments": post.comments_count,
            "shares": post.shares_count,
        },
    }
    return Status(201 if created else 200, body)


@router.delete("/posts/{post_id}/reactions", response={204: None, 404: ErrorOut})
def reaction_remove(request: HttpRequest, post_id: int) -> Status[None]:
    actions.reaction_remove(member=_me(request), post_id=post_id)
    return Status(204, None)


@router.post(
    "/posts/{post_id}/comments", response={201: CommentWrittenOut, 404: ErrorOut, 422: ErrorOut}
)
def comment_create(
    request: HttpRequest, post_id: int, payload: CommentIn
) -> Status[dict[str, Any]]:
    """Comment on a post; with ``parent``, reply to a comment on it (one level deep)."""
    me = _me(request)
    written = actions.comment_create(
        author=me, post_id=post_id, body=payload.body, parent_id=payload.parent
    )
    body = comment_payloads(me, [written.comment])[0]
    body["mentioned_away"] = written.mentioned_away
    return Status(201, body)


@router.get(
    "/posts/{post_id}/comments", response={200: Page[CommentOut], 404: ErrorOut, 422: ErrorOut}
)
def comments_list(request: HttpRequest, post_id: int, params: Query[PageParams]) -> dict[str, Any]:
    """Comments and replies, oldest first; a reply has its top-level comment as ``parent``."""
    me = _me(request)
    post = queries.post_for_member(me, post_id)
    rows, next_cursor = keyset_page(
        queries.comments_of(post),
        order=["created_at", "id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": comment_payloads(me, rows), "next_cursor": next_cursor}


@router.delete(
    "/posts/{post_id}/comments/{comment_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def comment_delete(request: HttpRequest, post_id: int, comment_id: int) -> Status[None]:
    """Delete a comment and its replies (the comment's author or the post's author)."""
    actions.comment_delete(member=_me(request), comment_id=comment_id, post_id=post_id)
    return Status(204, None)


@router.post(
    "/posts/{post_id}/shares", response={201: PostWrittenOut, 404: ErrorOut, 422: ErrorOut}
)
def post_share(request: HttpRequest, post_id: int, payload: ShareIn) -> Status[dict[str, Any]]:
    """Share a post, optionally with a comment; the answer is the share (a new post)."""
    written = actions.post_share(member=_me(request), post_id=post_id, comment=payload.comment)
    return Status(201, _written(request, written))


@router.post("/views", response={202: ViewsOut, 422: ErrorOut})
def views_record(request: HttpRequest, payload: ViewsIn) -> Status[dict[str, Any]]:
    """Record one impression per post id for the caller (at most 100 ids; buffered)."""
    recorded = actions.impressions_record(member_id=_me(request).pk, post_ids=payload.post_ids)
    return Status(202, {"recorded": recorded})


@router.get("/feed", response={200: Page[PostOut], 422: ErrorOut})
def feed(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """Your feed, ranked by relative engagement (see ``posts/ranking.py``).

    Showing a page counts an impression of each post on it (and of the posts its
    shares embed).
    """
    me = _me(request)
    page = queries.feed_page(me, cursor=params.cursor, limit=params.limit)
    actions.impressions_record(member_id=me.pk, post_ids=queries.shown_post_ids(page.posts))
    return {
        "items": post_payloads(me, page.posts, reasons=page.reasons),
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/posts/{post_id}/analytics", response={200: AnalyticsOut, 403: ErrorOut, 404: ErrorOut}
)
def post_analytics(request: HttpRequest, post_id: int) -> dict[str, Any]:
    """Analytics of your own post: 403 for a post you may see but did not write."""
    data = queries.post_analytics(_me(request), post_id)
    data["post"] = data["post"].pk
    return data


# --- yield (TRIAGE-SPEC Y1-Y5) ---------------------------------------------------------


class YieldOut(Schema):
    post: int
    created_at: datetime
    excerpt: str = Field(..., description="The first line of the post, cut to 160 characters.")
    is_share: bool
    impressions: int = Field(..., description="An estimate (counted in batches).")
    unique_viewers: int
    reactions: int
    engaged: int = Field(
        ..., description="Members who reacted, commented, shared or were mentioned."
    )
    connections: list[MemberOut] = Field(
        ..., description="New connections within 30 days (Y2); at most 50 (10 in /me/yield)."
    )
    connections_total: int
    conversations: int = Field(..., description="1:1 conversations started within 30 days (Y3).")
    two_way: int = Field(..., description="Of those, both wrote (automatic replies do not count).")
    lasting: list[MemberOut] = Field(
        ..., description="Both still write 30 days or more later; at most 50 (10 in /me/yield)."
    )
    lasting_total: int
    followers: list[MemberOut] = Field(
        ..., description="New followers within 30 days (Y4); at most 50 (10 in /me/yield)."
    )
    followers_total: int
    yield_: int = Field(
        ...,
        alias="yield",
        description="Engaged members who became a connection, a two-way conversation or a "
        "follower.",
    )


class YieldPersonOut(Schema):
    member: MemberOut
    engaged_at: datetime = Field(..., description="Their first engagement with the post.")
    how: list[str] = Field(..., description="reacted, commented, shared, mentioned")
    connected: bool
    conversation: bool
    two_way: bool
    lasting: bool
    follower: bool


class YieldPeopleParams(PageParams):
    step: Literal["engaged", "connections", "conversations", "two_way", "lasting", "followers"] = (
        Field("engaged", description="The step of the funnel whose people to list.")
    )


class ReactorOut(Schema):
    member: MemberOut
    type: str
    created_at: datetime


@router.get(
    "/posts/{post_id}/yield",
    response={200: YieldOut, 404: ErrorOut},
    by_alias=True,
)
def post_yield(request: HttpRequest, post_id: int) -> dict[str, Any]:
    """What your post yielded: the funnel from reach to contacts (author only: 404 for
    anyone else's post, as API.md says, visible or not)."""
    return yields.post_yield(_me(request), post_id)


@router.get(
    "/posts/{post_id}/yield/people",
    response={200: Page[YieldPersonOut], 404: ErrorOut, 422: ErrorOut},
)
def post_yield_people(
    request: HttpRequest, post_id: int, params: Query[YieldPeopleParams]
) -> dict[str, Any]:
    """The people behind one step of your post's funnel, first engaged first."""
    me = _me(request)
    _post, rows, next_cursor = yields.people_for_member(
        me, post_id, step=params.step, cursor=params.cursor, limit=params.limit
    )
    return {"items": yields.person_payloads(me, rows), "next_cursor": next_cursor}


@router.get("/me/yield", response={200: Page[YieldOut], 422: ErrorOut}, by_alias=True)
def my_yield(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """All your posts side by side, highest yield first (never ranked by reach), paged
    like every list."""
    rows, next_cursor = offset_page(
        yields.my_yields(_me(request)), cursor=params.cursor, limit=params.limit
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get(
    "/posts/{post_id}/reactions", response={200: Page[ReactorOut], 404: ErrorOut, 422: ErrorOut}
)
def reactions_list(request: HttpRequest, post_id: int, params: Query[PageParams]) -> dict[str, Any]:
    """Who reacted to a post you may see, newest first."""
    me = _me(request)
    rows, next_cursor = queries.reactors_page(me, post_id, cursor=params.cursor, limit=params.limit)
    return {"items": queries.reactor_payloads(me, rows), "next_cursor": next_cursor}
