"""What a post yielded (TRIAGE-SPEC Y1-Y5): contacts and conversations, not just reach.

Everything is computed from what is stored, in SQL, in one statement per question
whatever the number of reactions: the engaged members of a post (Y1) are a union
of its reactions, comments, shares and mentions grouped by member with the time
of their first engagement; every later step is an ``EXISTS`` probe per engaged
member on an index (invitations, connections, the 1:1 conversation by its
``direct_key``, messages, follows), with the 30-day windows of Y2-Y4.

Definitions, where the spec leaves room:

* **Engaged** (Y1): reacted to, commented on, shared, or mentioned in the post; the
  author and closed accounts are left out. A mention engages at the post's time.
* **Within 30 days** (Y2-Y4): at or after the first engagement and at most 30 x 24
  hours after it (engaged on day 0, connected on day 30: counts; day 31: not).
* **Connection** (Y2): an invitation between the two, in either direction, that
  was accepted, and was sent or accepted within the window; not when they were
  connected before the engagement.
* **Conversation** (Y3): their 1:1 conversation was started within the window.
  **Two-way**: both wrote in it (automatic replies do not count; bulk answers are
  the member's own words and do). **Lasting**: both wrote in it again 30 days or
  more after its first message.
* **Follower** (Y4): the engaged member started following the author within the window.
* **Yield**: the number of engaged members who became a contact: a new connection,
  a two-way conversation or a new follower (each counted once). Posts rank by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.db.rows import convert_value, datetime_param, run, table
from backsoon.errors import Forbidden, Invalid, NotFound
from backsoon.messaging.models import Conversation, Message
from backsoon.network.models import Connection, Follow, Invitation
from backsoon.pagination import _decode, _encode

from .models import Comment, Post, PostMention, Reaction

WINDOW = timedelta(days=30)
LASTING_AFTER = timedelta(days=30)
# The steps of the funnel that have people behind them, in funnel order.
STEPS = ("engaged", "connections", "conversations", "two_way", "lasting", "followers")
# The flag column of each step in the per-member rows (``engaged`` is every row).
_FLAG = {
    "engaged": "1",
    "connections": "connected",
    "conversations": "conversation",
    "two_way": "two_way",
    "lasting": "lasting",
    "followers": "follower",
}


@dataclass
class PostYield:
    """The funnel of one post. Member lists hold member ids (see ``yields_for``)."""

    post_id: int
    engaged: int = 0
    connections: list[int] = field(default_factory=list)
    conversations: int = 0
    two_way: int = 0
    lasting: list[int] = field(default_factory=list)
    followers: list[int] = field(default_factory=list)
    yield_: int = 0


@dataclass(frozen=True)
class Person:
    """One engaged member of a post with how they engaged and what followed."""

    member_id: int
    engaged_at: datetime
    reacted: bool
    commented: bool
    shared: bool
    mentioned: bool
    connected: bool
    conversation_id: int | None
    two_way: bool
    lasting: bool
    follower: bool


def yield_score(*, connected: bool, two_way: bool, follower: bool) -> bool:
    """Whether an engaged member counts toward a post's yield (the pure rule)."""
    return connected or two_way or follower


def _plus(column: str, delta: timedelta) -> str:
    """SQL for ``column + delta`` on a datetime column (whole days), exact to the microsecond."""
    assert delta == timedelta(days=delta.days), "whole days only"
    if connection.vendor == "sqlite":
        # SQLite keeps datetimes as text "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC. datetime()
        # adds the days to the whole seconds natively (it would round a fraction to
        # milliseconds), and the fraction is copied as it was: the bound has the format of
        # the values it is compared with, so text order is time order.
        return f"(datetime(substr({column}, 1, 19), '+{delta.days} days') || substr({column}, 20))"
    return f"({column} + INTERVAL '{delta.days} days')"


def _text(column: str) -> str:
    return f"CAST({column} AS TEXT)"


def _flags_sql(where: str) -> str:
    """The ``WITH`` clause that defines ``flags``: one row per engaged member and post.

    Args:
        where: the condition on ``posts_post`` (alias ``p``) choosing the posts, with
            ``%s`` placeholders.

    Columns of ``flags``: post_id, member_id, at (first engagement), reacted,
    commented, shared, mentioned, connected, conversation_id, conversation, two_way,
    lasting, follower (the flags 0 or 1).
    """
    post, reaction, comment, mention = (table(m) for m in (Post, Reaction, Comment, PostMention))
    member, invitation, conn, follow = (table(m) for m in (Member, Invitation, Connection, Follow))
    conversation, message = table(Conversation), table(Message)
    until = "e.until"
    low = "CASE WHEN e.author_id < e.member_id THEN e.author_id ELSE e.member_id END"
    high = "CASE WHEN e.author_id < e.member_id THEN e.member_id ELSE e.author_id END"
    key = f"{_text(low)} || ':' || {_text(high)}"
    auto = Message.Kind.AUTO_REPLY.value
    accepted = Invitation.Status.ACCEPTED.value

    def wrote(who: str, since: str | None = None) -> str:
        later = f" AND x.sent_at >= {_plus(since, LASTING_AFTER)}" if since else ""
        return (
            f"EXISTS (SELECT 1 FROM {message} x WHERE x.conversation_id = v.conversation_id"  # noqa: S608 - fixed names
            # "+": on SQLite, probe the conversation's messages, not all of the sender's.
            f" AND +x.sender_id = v.{who} AND x.kind <> '{auto}'{later})"
        )

    return f"""
WITH mine AS (
  SELECT p.id, p.author_id, p.created_at FROM {post} p WHERE {where}
), ev AS (
  SELECT r.post_id, r.member_id, r.created_at AS at, 1 AS r, 0 AS c, 0 AS s, 0 AS m
    FROM {reaction} r WHERE r.post_id IN (SELECT id FROM mine)
  UNION ALL
  SELECT c.post_id, c.author_id, c.created_at, 0, 1, 0, 0
    FROM {comment} c WHERE c.post_id IN (SELECT id FROM mine)
  UNION ALL
  SELECT s.shared_post_id, s.author_id, s.created_at, 0, 0, 1, 0
    FROM {post} s WHERE s.shared_post_id IN (SELECT id FROM mine)
  UNION ALL
  SELECT pm.post_id, pm.member_id, mine.created_at, 0, 0, 0, 1
    FROM {mention} pm JOIN mine ON mine.id = pm.post_id
), e AS (
  SELECT ev.post_id, mine.author_id, ev.member_id, MIN(ev.at) AS at,
    {_plus("MIN(ev.at)", WINDOW)} AS until,
    MAX(ev.r) AS reacted, MAX(ev.c) AS commented, MAX(ev.s) AS shared, MAX(ev.m) AS mentioned
  FROM ev
  JOIN mine ON mine.id = ev.post_id
  JOIN {member} who ON who.id = ev.member_id AND who.is_active
  WHERE ev.member_id <> mine.author_id
  GROUP BY ev.post_id, mine.author_id, ev.member_id
), v AS (
  SELECT e.*, k.id AS conversation_id,
    (SELECT MIN(f.sent_at) FROM {message} f WHERE f.conversation_id = k.id) AS first_at,
    CASE WHEN EXISTS (
      SELECT 1 FROM {invitation} i
      WHERE i.status = '{accepted}'
        AND ((i.from_member_id = e.author_id AND i.to_member_id = e.member_id)
          OR (i.from_member_id = e.member_id AND i.to_member_id = e.author_id))
        AND ((i.created_at >= e.at AND i.created_at <= {until})
          OR (i.responded_at >= e.at AND i.responded_at <= {until}))
    ) AND NOT EXISTS (
      SELECT 1 FROM {conn} b
      WHERE b.member_id = e.author_id AND b.other_id = e.member_id AND b.created_at < e.at
    ) THEN 1 ELSE 0 END AS connected,
    CASE WHEN EXISTS (
      SELECT 1 FROM {follow} w
      WHERE w.follower_id = e.member_id AND w.followee_id = e.author_id
        AND w.created_at >= e.at AND w.created_at <= {until}
    ) THEN 1 ELSE 0 END AS follower
  FROM e
  LEFT JOIN {conversation} k ON k.direct_key = {key}
    AND k.created_at >= e.at AND k.created_at <= {until}
), flags AS MATERIALIZED (
  SELECT v.post_id, v.member_id, v.at, v.reacted, v.commented, v.shared, v.mentioned,
    v.connected, v.conversation_id, v.follower,
    CASE WHEN v.conversation_id IS NULL THEN 0 ELSE 1 END AS conversation,
    CASE WHEN v.conversation_id IS NOT NULL AND {wrote("author_id")} AND {wrote("member_id")}
      THEN 1 ELSE 0 END AS two_way,
    CASE WHEN v.conversation_id IS NOT NULL AND {wrote("author_id", "v.first_at")}
      AND {wrote("member_id", "v.first_at")} THEN 1 ELSE 0 END AS lasting
  FROM v
)"""  # noqa: S608 - table names and constants only; values are parameters


_SUMMARY_CACHE: dict[tuple[str, str], str] = {}


def _summary_sql(where: str) -> str:
    """Counts per post, then the members of the listed steps, in one statement."""
    cache_key = (connection.vendor, where)
    sql = _SUMMARY_CACHE.get(cache_key)
    if sql is None:
        sql = _SUMMARY_CACHE[cache_key] = (
            _flags_sql(where)
            + """
SELECT 0 AS kind, post_id, 0 AS member_id, COUNT(*), SUM(connected), SUM(conversation),
  SUM(two_way), SUM(lasting), SUM(follower),
  SUM(CASE WHEN connected = 1 OR two_way = 1 OR follower = 1 THEN 1 ELSE 0 END)
FROM flags GROUP BY post_id
UNION ALL
SELECT 1, post_id, member_id, 1, connected, conversation, two_way, lasting, follower, 0
FROM flags WHERE connected = 1 OR lasting = 1 OR follower = 1
"""
        )
    return sql


def _summary(where: str, param: int) -> dict[int, PostYield]:
    result: dict[int, PostYield] = {}
    people: list[tuple[Any, ...]] = []
    for kind, post_id, member_id, engaged, conn, conv, two, last, foll, score in run(
        _summary_sql(where), [param]
    ).fetchall():
        if kind == 0:
            result[post_id] = PostYield(
                post_id=post_id,
                engaged=int(engaged),
                conversations=int(conv),
                two_way=int(two),
                yield_=int(score),
            )
        else:
            people.append((post_id, member_id, conn, last, foll))
    for post_id, member_id, conn, last, foll in sorted(people):
        y = result[post_id]
        if conn:
            y.connections.append(member_id)
        if last:
            y.lasting.append(member_id)
        if foll:
            y.followers.append(member_id)
    return result


def yield_of_post(post: Post) -> PostYield:
    """The funnel of one post beyond its reach (engaged and later steps), in one statement.

    Returns:
        A ``PostYield`` (zeros when nobody engaged); member lists hold ids, ascending.
    """
    return _summary("p.id = %s", post.pk).get(post.pk) or PostYield(post_id=post.pk)


def yields_of_author(author_id: int) -> dict[int, PostYield]:
    """The funnel of every post of one author (shares included), in one statement.

    Returns:
        A ``PostYield`` per post id that anyone engaged with; posts missing from it
        yielded nothing (zeros).
    """
    return _summary("p.author_id = %s", author_id)


_PEOPLE_CACHE: dict[tuple[str, str], str] = {}


def people_page(
    post: Post, *, step: str, cursor: str | None = None, limit: int = 20
) -> tuple[list[Person], str | None]:
    """One page of the people behind a step of a post's funnel, first engaged first.

    One statement, keyset paged on (first engagement, member id).

    Args:
        step: one of ``STEPS``.
        cursor: the ``next_cursor`` of the previous page.
        limit: 1..100.

    Raises:
        Invalid: an unknown step, a bad cursor or limit.
    """
    if step not in _FLAG:
        raise Invalid(
            gettext("step must be one of: %(steps)s.") % {"steps": ", ".join(STEPS)},
            code="bad_step",
        )
    if not 1 <= limit <= 100:
        raise Invalid(
            gettext("limit must be between 1 and %(max)s.") % {"max": 100}, code="bad_limit"
        )
    params: list[Any] = [post.pk]
    after = ""
    if cursor:
        at_text, member_id = _decode(cursor, 2)
        bad = Invalid(gettext("The cursor is not valid."), code="bad_cursor")
        if not isinstance(at_text, str) or type(member_id) is not int:
            raise bad
        if not 0 < member_id < 2**63:
            raise bad
        try:
            at = datetime.fromisoformat(at_text)
            if at.tzinfo is None:
                raise bad
            stored = datetime_param(at.astimezone(UTC))  # a time no UTC clock reaches: refused
        except (ValueError, OverflowError):
            raise bad from None
        after = " AND (at > %s OR (at = %s AND member_id > %s))"
        params += [stored, stored, member_id]
    cache_key = (connection.vendor, step + after)
    sql = _PEOPLE_CACHE.get(cache_key)
    if sql is None:
        sql = _PEOPLE_CACHE[cache_key] = (
            _flags_sql("p.id = %s")
            + f"""
SELECT member_id, at, reacted, commented, shared, mentioned, connected, conversation_id,
  two_way, lasting, follower
FROM flags WHERE {_FLAG[step]} = 1{after}
ORDER BY at, member_id LIMIT %s"""  # noqa: S608 - a step from _FLAG; values are parameters
        )
    rows = run(sql, [*params, limit + 1]).fetchall()
    people = [
        Person(
            member_id=r[0],
            engaged_at=convert_value(Reaction, "created_at", r[1]),
            reacted=bool(r[2]),
            commented=bool(r[3]),
            shared=bool(r[4]),
            mentioned=bool(r[5]),
            connected=bool(r[6]),
            conversation_id=r[7],
            two_way=bool(r[8]),
            lasting=bool(r[9]),
            follower=bool(r[10]),
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = people[-1]
        next_cursor = _encode([last.engaged_at.isoformat(), last.member_id])
    return people, next_cursor


# --- for the API and the pages: permission-checked, with member cards ----------------


# How many members the connections, lasting and followers lists of a Yield hold; the
# ``*_total`` fields count them all, ``/posts/{id}/yield/people`` pages through them.
POST_LIST_MAX = 50
MY_LIST_MAX = 10


def _payloads(
    viewer: Member, posts: Sequence[Post], yields: dict[int, PostYield], *, list_max: int
) -> list[dict[str, Any]]:
    """The Yield payload of each post, in order, with member cards fetched in one go.

    Each member list holds at most ``list_max`` members (the lowest ids), sorted by
    display name; the ``*_total`` fields count them all.
    """
    from backsoon.accounts.presenters import member_cards

    from .queries import excerpt

    wanted = {pk for y in yields.values() for pk in (*y.connections, *y.lasting, *y.followers)}
    members = list(Member.objects.filter(pk__in=wanted)) if wanted else []
    cards = dict(zip([m.pk for m in members], member_cards(viewer, members), strict=True))

    def listed(ids: list[int]) -> list[dict[str, Any]]:
        shown = (cards[i] for i in ids[:list_max] if i in cards)
        return sorted(shown, key=lambda c: c["display_name"])

    out = []
    for post in posts:
        y = yields.get(post.pk) or PostYield(post_id=post.pk)
        out.append(
            {
                "post": post.pk,
                "created_at": post.created_at,
                "excerpt": excerpt(post.body) if post.body else "",
                "is_share": post.is_share,
                "impressions": post.impressions_count,
                "unique_viewers": post.unique_viewers,
                "reactions": post.reactions_count,
                "engaged": y.engaged,
                "connections": listed(y.connections),
                "connections_total": len(y.connections),
                "conversations": y.conversations,
                "two_way": y.two_way,
                "lasting": listed(y.lasting),
                "lasting_total": len(y.lasting),
                "followers": listed(y.followers),
                "followers_total": len(y.followers),
                "yield": y.yield_,
            }
        )
    return out


def rank_key(payload: dict[str, Any]) -> tuple[Any, ...]:
    """Best first: yield, then lasting, two-way, conversations, then the newest post.

    Reach (impressions) never ranks a post (Y5).
    """
    return (
        -payload["yield"],
        -payload["lasting_total"],
        -payload["two_way"],
        -payload["conversations"],
        -payload["created_at"].timestamp(),
    )


def post_yield(member: Member, post_id: int) -> dict[str, Any]:
    """The yield of one of ``member``'s own posts (the Yield payload).

    Four queries whatever the number of reactions: the post, the funnel, the
    members behind the listed steps, and their away badges.

    Raises:
        NotFound: the post is not visible to ``member``.
        NotFound: the post is someone else's, visible or not (API.md: author only,
            else 404).
    """
    post = _own_post(member, post_id)
    return _payloads(member, [post], {post.pk: yield_of_post(post)}, list_max=POST_LIST_MAX)[0]


def _own_post(member: Member, post_id: int) -> Post:
    """One of ``member``'s own posts; anyone else's is NotFound, never told apart from
    a post that does not exist (a post's yield is its author's alone)."""
    from .queries import own_post_for_member

    try:
        return own_post_for_member(member, post_id)
    except Forbidden:
        raise NotFound(gettext("No such post."), code="post_not_found") from None


def my_yields(member: Member) -> list[dict[str, Any]]:
    """The Yield payload of each of ``member``'s posts, highest yield first (``rank_key``).

    A fixed number of queries for any number of posts (posts, funnel, members, badges).
    """
    posts = list(Post.objects.filter(author=member).order_by("-created_at", "-id"))
    payloads = _payloads(member, posts, yields_of_author(member.pk), list_max=MY_LIST_MAX)
    return sorted(payloads, key=rank_key)


def people_for_member(
    member: Member, post_id: int, *, step: str, cursor: str | None = None, limit: int = 20
) -> tuple[Post, list[tuple[Person, Member]], str | None]:
    """One page of the people behind a step of one of ``member``'s posts.

    Raises:
        NotFound: the post is someone else's, visible or not.
        Invalid: bad step, cursor or limit.
    """
    post = _own_post(member, post_id)
    people, next_cursor = people_page(post, step=step, cursor=cursor, limit=limit)
    by_id = Member.objects.in_bulk([p.member_id for p in people])
    return post, [(p, by_id[p.member_id]) for p in people if p.member_id in by_id], next_cursor


def person_payloads(viewer: Member, rows: list[tuple[Person, Member]]) -> list[dict[str, Any]]:
    """The YieldPerson payload of each row (member cards with away badges in one go)."""
    from backsoon.accounts.presenters import member_cards

    cards = member_cards(viewer, [m for _p, m in rows])
    return [
        {
            "member": card,
            "engaged_at": p.engaged_at,
            "how": [
                name
                for name, flag in (
                    ("reacted", p.reacted),
                    ("commented", p.commented),
                    ("shared", p.shared),
                    ("mentioned", p.mentioned),
                )
                if flag
            ],
            "connected": p.connected,
            "conversation": p.conversation_id is not None,
            "two_way": p.two_way,
            "lasting": p.lasting,
            "follower": p.follower,
        }
        for (p, _m), card in zip(rows, cards, strict=True)
    ]
