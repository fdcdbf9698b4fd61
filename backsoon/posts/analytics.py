"""Post analytics: pure arithmetic over stored counts (no database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The chart shows hours for the first three days of a post, then days.
HOURLY_FOR = timedelta(days=3)


def engagement_rate(engaged: int, impressions: int) -> float | None:
    """Engagements (reactions + comments + shares) per impression; None without impressions.

    Impressions are an estimate, so the rate may exceed 1 for a post that few saw.
    """
    if impressions <= 0:
        return None
    return round(engaged / impressions, 4)


def floor_hour(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def series(
    *,
    created_at: datetime,
    now: datetime,
    impressions_by_hour: Mapping[datetime, int],
    reactions_by_hour: Mapping[datetime, int],
) -> dict[str, Any]:
    """Impressions and reactions over time, for the chart.

    Args:
        created_at: when the post was made (aware).
        now: the end of the chart (aware).
        impressions_by_hour, reactions_by_hour: counts keyed by the start of their
            UTC hour. Keys before the first or after the last bucket are counted
            in the first or last bucket.

    Returns:
        ``{"hourly_until": <datetime>, "points": [{"start", "granularity", "impressions",
        "reactions"}, ...]}``: one point per hour from the hour of ``created_at`` for
        three days (``hourly_until``, exclusive), then one per 24 hours, up to the
        bucket that holds ``now``; no gaps (empty buckets count 0).
    """
    start = floor_hour(created_at)
    hourly_until = start + HOURLY_FOR
    end = max(floor_hour(now), start)
    starts: list[tuple[datetime, str]] = []
    t = start
    while t <= end and t < hourly_until:
        starts.append((t, "hour"))
        t += HOUR
    t = hourly_until
    while t <= end:
        starts.append((t, "day"))
        t += DAY
    points: list[dict[str, Any]] = [
        {"start": s, "granularity": g, "impressions": 0, "reactions": 0} for s, g in starts
    ]
    hours_in_chart = sum(1 for _, g in starts if g == "hour")

    def index(at: datetime) -> int:
        at = floor_hour(at)
        if at < hourly_until:
            i = int((at - start) // HOUR)
        else:
            i = hours_in_chart + int((at - hourly_until) // DAY)
        return min(max(i, 0), len(points) - 1)

    for key, counts in (("impressions", impressions_by_hour), ("reactions", reactions_by_hour)):
        for at, n in counts.items():
            points[index(at)][key] += n
    return {"hourly_until": hourly_until, "points": points}
