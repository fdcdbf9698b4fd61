"""Impression ingest: 3,000,000 impressions of one post through the buffer and its flushes.

Every impression goes through ``impressions_record`` (the action behind ``POST /views``
and the pages), from 1,000 viewers in turn. A member counts at most once per post per
hour (issue 14, finding 6), so that every impression counts the run replays
3,000 hours: each hour, each viewer sees the post once (``at`` moves on an hour every
1,000 impressions). The "once an hour" check is in the timed path; a last, untimed
round of repeats checks that none of them counts. The background thread flushes every two
seconds as in production; the clock stops after the final flush, once every
impression is in the database (checked: impressions, unique viewers, hourly buckets).

Run: .venv/bin/python bench/bench_impressions.py [--count N] [--threads T]
(SQLite in a temp folder; DATABASE_URL for PostgreSQL; REDIS_URL measures the Redis
buffer instead of the in-memory one, best with a smaller --count.)
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, setup_django

GOAL = 50_000
VIEWERS = 1_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3_000_000)
    parser.add_argument("--threads", type=int, default=1, help="concurrent recording threads")
    args = parser.parse_args()

    var_dir = setup_django()
    from django.conf import settings
    from django.db.models import Sum

    from backsoon.accounts.models import Member
    from backsoon.posts.actions import impressions_record, post_create
    from backsoon.posts.impressions import hour_epoch, impressions_flush
    from backsoon.posts.models import Post, PostImpressionHour

    author = Member.objects.create(
        username="author", email="author@example.com", display_name="Author", password="!"
    )
    viewers = Member.objects.bulk_create(
        [
            Member(
                username=f"viewer{i}", email=f"v{i}@example.com", display_name=f"V{i}", password="!"
            )
            for i in range(VIEWERS)
        ],
        batch_size=1000,
    )
    viewer_ids = [v.pk for v in viewers]
    post = post_create(author=author, body="Benchmark post").post
    mode = "redis" if settings.REDIS_URL else "memory"
    print(
        f"Ingesting {args.count:,} impressions of one post "
        f"({mode} buffer, {args.threads} thread(s), {var_dir})"
    )

    per_thread = args.count // args.threads

    # The last hour replayed is the current one.
    first_hour = hour_epoch() - ((args.count - 1) // VIEWERS) * 3600

    def work(offset: int) -> None:
        ids = [post.pk]
        for i in range(offset, offset + per_thread):
            at = first_hour + (i // VIEWERS) * 3600
            impressions_record(member_id=viewer_ids[i % VIEWERS], post_ids=ids, at=at)

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(t * per_thread,)) for t in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorded = time.perf_counter() - started
    impressions_flush()
    elapsed = time.perf_counter() - started
    last_hour = first_hour + ((per_thread * args.threads - 1) // VIEWERS) * 3600
    repeats = sum(
        impressions_record(member_id=viewer_id, post_ids=[post.pk], at=last_hour)
        for viewer_id in viewer_ids[: min(VIEWERS, per_thread * args.threads)]
    )
    assert repeats == 0, repeats

    total = per_thread * args.threads
    post = Post.objects.get(pk=post.pk)
    hours = PostImpressionHour.objects.filter(post=post).aggregate(n=Sum("count"))["n"]
    assert post.impressions_count == total, (post.impressions_count, total)
    assert hours == total, (hours, total)
    assert post.unique_viewers == min(VIEWERS, total), post.unique_viewers

    rate = total / elapsed
    print(f"  recorded in {recorded:.2f} s, all written after {elapsed:.2f} s")
    print(
        f"  stored: {post.impressions_count:,} impressions, {post.unique_viewers:,} unique viewers"
    )
    report("impressions_per_second", rate, "impressions/s", f">= {GOAL:,}", rate >= GOAL)
    print(f"impressions_per_second {rate:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
