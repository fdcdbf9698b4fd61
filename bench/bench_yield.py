"""Yield latency (TRIAGE-SPEC Y1-Y5): the viral post's funnel and all of an author's posts.

The author has the story's viral post (6,329 reactions, 349 comments, 42 shares,
3,000,000 impressions) and 199 ordinary posts with 0 to 60 reactions each, from a
network of 8,000 members. Around the posts lies what the funnel probes: 420
invitations (half accepted, some before the engagement), 320 older connections,
2,000 follows, 300 1:1 conversations with 1 to 6 messages (automatic replies
among them). All rows are bulk inserted with their stored counters.

Measured through django.test.Client with a bearer token: ``GET
/api/v1/posts/{viral}/yield`` (p95 of 100 requests, goal < 300 ms) and ``GET
/api/v1/me/yield`` over the 200 posts (p95 of 30, goal < 500 ms).

Run: .venv/bin/python bench/bench_yield.py   (SQLite in a temp folder; set
DATABASE_URL for PostgreSQL). ``BENCH_YIELD_REQUESTS`` changes the number of requests.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile, report, setup_django

MEMBERS = 8_000
REACTIONS = 6_329
COMMENTS = 349
SHARES = 42
IMPRESSIONS = 3_000_000
POSTS = 200
INVITATIONS = 420
OLD_CONNECTIONS = 320
FOLLOWS = 2_000
CONVERSATIONS = 300
REQUESTS = int(os.environ.get("BENCH_YIELD_REQUESTS", "100"))
GOAL_POST_MS = 300.0
GOAL_MINE_MS = 500.0


def populate() -> tuple[str, int]:
    from django.db import transaction
    from django.utils import timezone

    from backsoon.accounts.actions import token_issue
    from backsoon.accounts.models import Member
    from backsoon.messaging.models import Conversation, Message, Participant
    from backsoon.network.models import Connection, Follow, Invitation
    from backsoon.posts.models import Comment, Post, Reaction

    rng = random.Random(17)
    now = timezone.now()
    posted = now - timedelta(days=40)
    with transaction.atomic():
        author = Member.objects.create(
            username="trainer", email="trainer@example.com", display_name="Trainer", password="!"
        )
        crowd = Member.objects.bulk_create(
            [
                Member(
                    username=f"m{i}",
                    email=f"m{i}@example.com",
                    display_name=f"Member {i}",
                    headline="Works",
                    password="!",
                )
                for i in range(MEMBERS)
            ],
            batch_size=2000,
        )
        viral = Post.objects.create(
            author=author,
            body="Why does LinkedIn have no out-of-office?",
            created_at=posted,
            reactions_count=REACTIONS,
            comments_count=COMMENTS,
            shares_count=SHARES,
            impressions_count=IMPRESSIONS,
            unique_viewers=IMPRESSIONS // 4,
        )
        ordinary = Post.objects.bulk_create(
            [
                Post(
                    author=author,
                    body=f"Ordinary post {i}",
                    created_at=posted - timedelta(days=i + 1),
                    impressions_count=rng.randint(200, 5_000),
                )
                for i in range(POSTS - 1)
            ]
        )

        def when(start):
            return start + timedelta(seconds=rng.expovariate(1 / 86_400))

        reactors = rng.sample(crowd, REACTIONS)
        reactions = [
            Reaction(post=viral, member=m, type="like", created_at=when(posted)) for m in reactors
        ]
        for post in ordinary:
            for m in rng.sample(crowd, rng.randint(0, 60)):
                reactions.append(
                    Reaction(post=post, member=m, type="like", created_at=when(post.created_at))
                )
        Reaction.objects.bulk_create(reactions, batch_size=5000)
        Comment.objects.bulk_create(
            [
                Comment(
                    post=viral, author=rng.choice(crowd), body="So true", created_at=when(posted)
                )
                for _ in range(COMMENTS)
            ]
        )
        Post.objects.bulk_create(
            [
                Post(author=m, shared_post=viral, is_share=True, created_at=when(posted))
                for m in rng.sample(crowd, SHARES)
            ]
        )
        old = rng.sample(crowd, OLD_CONNECTIONS)
        Connection.objects.bulk_create(
            [
                Connection(member=author, other=m, created_at=posted - timedelta(days=90))
                for m in old
            ]
            + [
                Connection(member=m, other=author, created_at=posted - timedelta(days=90))
                for m in old
            ]
        )
        invitations = []
        for m in rng.sample(reactors, INVITATIONS):
            sent = when(posted)
            accepted = rng.random() < 0.5
            invitations.append(
                Invitation(
                    from_member=m,
                    to_member=author,
                    pair_low=min(m.pk, author.pk),
                    pair_high=max(m.pk, author.pk),
                    status="accepted" if accepted else "ignored",
                    created_at=sent,
                    responded_at=sent + timedelta(days=rng.randint(0, 40)),
                )
            )
        Invitation.objects.bulk_create(invitations)
        Follow.objects.bulk_create(
            [
                Follow(follower=m, followee=author, created_at=when(posted))
                for m in rng.sample(crowd, FOLLOWS)
            ],
            ignore_conflicts=True,
        )
        partners = rng.sample(reactors, CONVERSATIONS)
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    kind="direct",
                    direct_key=f"{min(author.pk, m.pk)}:{max(author.pk, m.pk)}",
                    created_by=m,
                    created_at=when(posted),
                )
                for m in partners
            ]
        )
        participants, messages = [], []
        for conversation, m in zip(conversations, partners, strict=True):
            participants += [
                Participant(conversation=conversation, member=author),
                Participant(conversation=conversation, member=m),
            ]
            at = conversation.created_at
            messages.append(Message(conversation=conversation, sender=m, body="hi", sent_at=at))
            messages.append(
                Message(
                    conversation=conversation,
                    sender=author,
                    body="away",
                    kind="auto_reply",
                    sent_at=at,
                )
            )
            for _ in range(rng.randint(0, 4)):
                at += timedelta(days=rng.uniform(0, 20))
                messages.append(
                    Message(
                        conversation=conversation,
                        sender=rng.choice([author, m]),
                        body="more",
                        sent_at=at,
                    )
                )
        Participant.objects.bulk_create(participants)
        Message.objects.bulk_create(messages, batch_size=5000)
    return token_issue(member=author, name="bench"), viral.pk


def _measure(client, url: str, requests: int) -> list[float]:
    for _ in range(3):  # warm up: connections, caches, query plans
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.content[:300]
    return timings


def main() -> int:
    var_dir = setup_django()
    print(f"Populating the viral post and {POSTS} posts ({var_dir}) ...", flush=True)
    started = time.perf_counter()
    token, viral = populate()
    print(f"  done in {time.perf_counter() - started:.1f} s")

    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {token}"})
    funnel = client.get(f"/api/v1/posts/{viral}/yield").json()
    print(
        "  viral post: {impressions:,} impressions, {engaged:,} engaged, "
        "{conversations} conversations, {two_way} two-way, yield {yield}".format(**funnel)
    )
    timings = _measure(client, f"/api/v1/posts/{viral}/yield", REQUESTS)
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"  GET /posts/{{viral}}/yield: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({REQUESTS} requests)")
    report("yield_viral_post_p95_ms", p95, "ms", f"< {GOAL_POST_MS:.0f}", p95 < GOAL_POST_MS)

    mine = max(10, REQUESTS // 3)
    # Every page ranks all the posts; a page holds at most 100 of them (API lists).
    first = client.get("/api/v1/me/yield?limit=100").json()
    rest = client.get(f"/api/v1/me/yield?limit=100&cursor={first['next_cursor']}").json()
    rows = first["items"] + rest["items"]
    assert len(rows) == POSTS, len(rows)
    timings = _measure(client, "/api/v1/me/yield?limit=100", mine)
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(
        f"  GET /me/yield over {len(rows)} posts: p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        f" ({mine} requests)"
    )
    report("yield_my_posts_p95_ms", p95, "ms", f"< {GOAL_MINE_MS:.0f}", p95 < GOAL_MINE_MS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
