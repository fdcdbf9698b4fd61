"""Shape posts and comments for the API and the pages, in a fixed number of queries.

``post_payloads`` costs at most five queries for any number of posts: mentions,
the viewer's reactions, blocks of embedded authors, and the member cards (two).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.network.queries import blocked_ids_between

from .mentions import render_text
from .models import Comment, CommentMention, Post, PostMention, Reaction


def profile_url(username: str) -> str:
    return reverse("accounts:profile", args=[username])


def _cards(viewer: Member, members: Sequence[Member]) -> dict[int, dict[str, Any]]:
    unique = list({m.pk: m for m in members}.values())
    return {m.pk: card for m, card in zip(unique, member_cards(viewer, unique), strict=True)}


def post_payloads(
    viewer: Member,
    posts: Sequence[Post],
    *,
    reasons: dict[int, dict[str, str]] | None = None,
    html: bool = False,
) -> list[dict[str, Any]]:
    """The Post payload of each post, in order, as ``viewer`` may see it.

    Args:
        posts: with ``author`` and ``shared_post__author`` loaded.
        reasons: feed reasons by post id ({"type", "by"}); others get None.
        html: also add ``body_html`` (escaped, links and mentions linked) for pages.

    Returns:
        ``{id, author, body, created_at, edited_at, mentions, shared_post, is_share,
        counts, my_reaction, reason}``; ``shared_post`` is the embedded post (without
        a ``shared_post`` of its own) or None when deleted or not visible to the viewer.
    """
    embedded = [p.shared_post for p in posts if p.shared_post is not None]
    everything = [*posts, *embedded]
    ids = {p.pk for p in everything}
    if not ids:
        return []
    mentions: dict[int, list[str]] = {}
    for post_id, username in (
        PostMention.objects.filter(post_id__in=ids)
        .order_by("id")
        .values_list("post_id", "member__username")
    ):
        mentions.setdefault(post_id, []).append(username)
    mine = dict(
        Reaction.objects.filter(member=viewer, post_id__in=ids).values_list("post_id", "type")
    )
    hidden = (
        blocked_ids_between(viewer.pk, {p.author_id for p in embedded} - {viewer.pk})
        if embedded
        else set()
    )
    cards = _cards(viewer, [p.author for p in everything])

    def one(post: Post) -> dict[str, Any]:
        names = mentions.get(post.pk, [])
        payload: dict[str, Any] = {
            "id": post.pk,
            "author": cards[post.author_id],
            "body": post.body,
            "created_at": post.created_at,
            "edited_at": post.edited_at,
            "mentions": names,
            "is_share": post.is_share,
            "counts": {
                "impressions": post.impressions_count,
                "reactions": post.reactions_count,
                "comments": post.comments_count,
                "shares": post.shares_count,
            },
            "my_reaction": mine.get(post.pk),
        }
        if html:
            payload["body_html"] = render_text(post.body, set(names), profile_url)
        return payload

    result = []
    for post in posts:
        payload = one(post)
        shared = post.shared_post
        payload["shared_post"] = (
            one(shared) if shared is not None and shared.author_id not in hidden else None
        )
        payload["reason"] = (reasons or {}).get(post.pk)
        result.append(payload)
    return result


def post_payload(viewer: Member, post: Post, *, html: bool = False) -> dict[str, Any]:
    return post_payloads(viewer, [post], html=html)[0]


def comment_payloads(
    viewer: Member, comments: Sequence[Comment], *, html: bool = False
) -> list[dict[str, Any]]:
    """The Comment payload of each comment (authors loaded), in order; three queries at most.

    Returns:
        ``{id, post, parent, author, body, created_at, mentions}`` (+ ``body_html``).
    """
    if not comments:
        return []
    mentions: dict[int, list[str]] = {}
    for comment_id, username in (
        CommentMention.objects.filter(comment_id__in=[c.pk for c in comments])
        .order_by("id")
        .values_list("comment_id", "member__username")
    ):
        mentions.setdefault(comment_id, []).append(username)
    cards = _cards(viewer, [c.author for c in comments])
    result = []
    for c in comments:
        names = mentions.get(c.pk, [])
        payload: dict[str, Any] = {
            "id": c.pk,
            "post": c.post_id,
            "parent": c.parent_id,
            "author": cards[c.author_id],
            "body": c.body,
            "created_at": c.created_at,
            "mentions": names,
        }
        if html:
            payload["body_html"] = render_text(c.body, set(names), profile_url)
        result.append(payload)
    return result
