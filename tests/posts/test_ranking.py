"""The feed score (backsoon/posts/ranking.py): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backsoon.posts import ranking
from backsoon.posts.ranking import Candidate, rank, score

NOW = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)


def _score(**overrides):
    values = {
        "reactions": 0,
        "comments": 0,
        "shares": 0,
        "author_followers": 100,
        "age_seconds": 3600,
        "is_connection": False,
    }
    values.update(overrides)
    return score(**values)


def test_small_author_with_relatively_more_engagement_outranks_big_author():
    small = _score(reactions=40, author_followers=200, age_seconds=3 * 3600)
    big = _score(reactions=400, author_followers=50_000, age_seconds=3 * 3600)
    assert small > big
    candidates = [
        Candidate(1, NOW - timedelta(hours=3), 400, 0, 0, 50_000, False),
        Candidate(2, NOW - timedelta(hours=3), 40, 0, 0, 200, False),
    ]
    assert rank(candidates, now=NOW) == [2, 1]


def test_comments_and_shares_weigh_more_than_reactions():
    assert _score(comments=5) > _score(reactions=5)
    assert _score(shares=5) > _score(comments=5)


def test_smoothing_keeps_a_new_post_near_one_and_never_extreme():
    assert _score(author_followers=0, age_seconds=0) == pytest.approx(1.0)
    # One reaction on a post by an author without followers doubles at most 1.2x.
    assert _score(reactions=1, author_followers=0, age_seconds=0) == pytest.approx(1.2)
    assert 0 < _score(author_followers=1_000_000, age_seconds=0) < 0.001


def test_score_halves_every_half_life_and_future_counts_as_now():
    fresh = _score(age_seconds=0)
    day_old = _score(age_seconds=ranking.HALF_LIFE_HOURS * 3600)
    assert day_old == pytest.approx(fresh / 2)
    assert _score(age_seconds=-3600) == pytest.approx(fresh)


def test_connections_get_a_small_boost():
    assert _score(is_connection=True) == pytest.approx(_score() * ranking.CONNECTION_BOOST)
    assert 1 < ranking.CONNECTION_BOOST < 1.5


def test_rank_breaks_ties_by_newer_then_higher_id():
    same = {"reactions": 0, "comments": 0, "shares": 0, "author_followers": 0}
    older = Candidate(1, NOW, is_connection=False, **same)
    newer = Candidate(2, NOW, is_connection=False, **same)
    assert rank([older, newer], now=NOW) == [2, 1]
    assert rank([], now=NOW) == []
