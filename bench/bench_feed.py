"""Feed latency: a member following 500 members, over 100,000 stored posts.

1,000 authors (500 of them followed) wrote 100,000 posts over the last 30 days
(bulk_create, with stored counts); the followed members also reacted to and
commented on 20,000 posts of authors the reader does not follow. 200 requests of
``GET /api/v1/feed`` through django.test.Client with a bearer token, every fourth
one the next page of the previous answer (cursor). Prints p50/p95 latency.

Run: .venv/bin/python bench/bench_feed.py   (SQLite in a temp folder; set
DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile, report, setup_django

AUTHORS = 1_000
FOLLOWED = 500
POSTS = 100_000
ACTIVITY = 20_000
REQUESTS = 200
GOAL_MS = 100.0


def populate() -> str:
    from django.db import transaction
    from django.utils import timezone

    from backsoon.accounts.actions import token_issue
    from backsoon.accounts.models import Member
    from backsoon.network.models import Connection, Follow
    from backsoon.posts.models import Comment, Post, Reaction

    rng = random.Random(42)
    now = timezone.now()
    with transaction.atomic():
        reader = Member.objects.create(
            username="reader", email="reader@example.com", display_name="Reader", password="!"
        )
        authors = Member.objects.bulk_create(
            [
                Member(
                    username=f"author{i}",
                    email=f"author{i}@example.com",
                    display_name=f"Author {i}",
                    headline="Writes a lot",
                    password="!",
                    followers_count=int(rng.paretovariate(1.2) * 50),
                )
                for i in range(AUTHORS)
            ],
            batch_size=1000,
        )
        followed = authors[:FOLLOWED]
        Follow.objects.bulk_create([Follow(follower=reader, followee=a) for a in followed])
        Connection.objects.bulk_create(
            [Connection(member=reader, other=a) for a in followed[:100]]
            + [Connection(member=a, other=reader) for a in followed[:100]]
        )
        posts = Post.objects.bulk_create(
            [
                Post(
                    author=authors[i % AUTHORS],
                    body=f"Post {i}: notes on building things, with a link https://example.com/{i}",
                    created_at=now - timedelta(seconds=rng.uniform(0, 30 * 86400)),
                    reactions_count=rng.randint(0, 300),
                    comments_count=rng.randint(0, 40),
                    shares_count=rng.randint(0, 10),
                    impressions_count=rng.randint(100, 20_000),
                )
                for i in range(POSTS)
            ],
            batch_size=2000,
        )
        others = [p for p in posts if p.author_id not in {a.pk for a in followed}]
        recent = [p for p in others if p.created_at > now - timedelta(days=14)]
        targets = rng.sample(recent, min(ACTIVITY, len(recent)))
        half = len(targets) // 2
        Reaction.objects.bulk_create(
            [
                Reaction(
                    post=p,
                    member=rng.choice(followed),
                    type="like",
                    created_at=p.created_at + timedelta(minutes=5),
                )
                for p in targets[:half]
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        Comment.objects.bulk_create(
            [
                Comment(
                    post=p,
                    author=rng.choice(followed),
                    body="Well said.",
                    created_at=p.created_at + timedelta(minutes=7),
                )
                for p in targets[half:]
            ],
            batch_size=2000,
        )
    return token_issue(member=reader, name="bench")


def main() -> int:
    var_dir = setup_django()
    print(f"Populating {POSTS:,} posts by {AUTHORS:,} authors ({var_dir}) ...", flush=True)
    started = time.perf_counter()
    token = populate()
    print(f"  done in {time.perf_counter() - started:.1f} s")

    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {token}"})
    for _ in range(5):  # warm up: connections, caches, query plans
        assert client.get("/api/v1/feed").status_code == 200
    timings: list[float] = []
    cursor = None
    items = 0
    for i in range(REQUESTS):
        url = "/api/v1/feed" + (f"?cursor={cursor}" if cursor and i % 4 else "")
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        items += len(body["items"])
        cursor = body["next_cursor"]
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"  {REQUESTS} requests, {items / REQUESTS:.0f} posts each on average")
    print(f"  p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms")
    report("feed_p95_ms", p95, "ms", f"< {GOAL_MS:.0f}", p95 < GOAL_MS)
    print(f"feed_p95_ms {p95:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
