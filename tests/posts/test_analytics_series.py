"""The analytics chart series: hourly for three days, then daily (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backsoon.posts.analytics import engagement_rate, series

CREATED = datetime(2026, 12, 1, 9, 40, tzinfo=UTC)
H = timedelta(hours=1)


def test_a_young_post_has_one_point_per_hour_without_gaps():
    now = CREATED + timedelta(hours=5)
    start = CREATED.replace(minute=0)
    result = series(
        created_at=CREATED,
        now=now,
        impressions_by_hour={start: 10, start + 2 * H: 5},
        reactions_by_hour={start + 2 * H: 1},
    )
    points = result["points"]
    assert [p["granularity"] for p in points] == ["hour"] * 6
    assert [p["impressions"] for p in points] == [10, 0, 5, 0, 0, 0]
    assert [p["reactions"] for p in points] == [0, 0, 1, 0, 0, 0]
    assert points[0]["start"] == start


def test_after_three_days_points_are_daily():
    start = CREATED.replace(minute=0)
    now = start + timedelta(days=5, hours=3)
    result = series(
        created_at=CREATED,
        now=now,
        impressions_by_hour={
            start + timedelta(days=3): 7,
            start + timedelta(days=3, hours=23): 3,
            start + timedelta(days=4, hours=1): 2,
        },
        reactions_by_hour={},
    )
    points = result["points"]
    hours = [p for p in points if p["granularity"] == "hour"]
    days = [p for p in points if p["granularity"] == "day"]
    assert len(hours) == 72
    assert result["hourly_until"] == start + timedelta(days=3)
    assert [d["impressions"] for d in days] == [10, 2, 0]
    assert days[0]["start"] == start + timedelta(days=3)


def test_counts_outside_the_chart_land_in_the_first_or_last_point():
    start = CREATED.replace(minute=0)
    result = series(
        created_at=CREATED,
        now=CREATED,
        impressions_by_hour={start - H: 1, start + 10 * H: 2},
        reactions_by_hour={},
    )
    assert [p["impressions"] for p in result["points"]] == [3]


def test_engagement_rate():
    assert engagement_rate(5, 100) == 0.05
    assert engagement_rate(3, 0) is None
