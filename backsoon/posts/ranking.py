"""Feed ranking by relative engagement. Pure: plain values in, numbers out.

The score of a post for one viewer::

    engagement = W_REACTION * reactions + W_COMMENT * comments + W_SHARE * shares
    expected   = EXPECTED_RATE * author_followers
    relative   = (engagement + SMOOTHING) / (expected + SMOOTHING)
    decay      = 0.5 ** (age_hours / HALF_LIFE_HOURS)
    score      = relative * decay * (CONNECTION_BOOST if the author is a connection else 1)

``relative`` says how much more engagement a post drew than its author's audience
would predict: 40 reactions for an author with 200 followers (expected 4) beat
400 reactions for an author with 50,000 followers (expected 1,000). ``SMOOTHING``
is a pseudo-count added to both sides, so that a new post with no engagement yet
scores near 1 ("as expected") instead of 0 or infinity, and a few early
reactions can not make it extreme. Comments and shares take more effort than a
reaction and weigh more. ``decay`` halves the score every ``HALF_LIFE_HOURS``.

Constants:
    W_REACTION = 1, W_COMMENT = 3, W_SHARE = 4: weights of each kind of engagement.
    EXPECTED_RATE = 0.02: the engagement per follower an ordinary post draws.
    SMOOTHING = 5: pseudo-engagement added to the numerator and the denominator.
    HALF_LIFE_HOURS = 24: the score halves every day.
    CONNECTION_BOOST = 1.25: posts by your connections (not mere follows) rank higher.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

W_REACTION = 1.0
W_COMMENT = 3.0
W_SHARE = 4.0
EXPECTED_RATE = 0.02
SMOOTHING = 5.0
HALF_LIFE_HOURS = 24.0
CONNECTION_BOOST = 1.25


def engagement(*, reactions: int, comments: int, shares: int) -> float:
    """Weighted engagement of a post."""
    return W_REACTION * reactions + W_COMMENT * comments + W_SHARE * shares


def relative_engagement(
    *, reactions: int, comments: int, shares: int, author_followers: int
) -> float:
    """Engagement relative to what the author's audience predicts (1.0 = as expected)."""
    actual = engagement(reactions=reactions, comments=comments, shares=shares)
    expected = EXPECTED_RATE * max(0, author_followers)
    return (actual + SMOOTHING) / (expected + SMOOTHING)


def recency_decay(age_seconds: float) -> float:
    """1.0 for a post made now, 0.5 after HALF_LIFE_HOURS; future times count as now."""
    age_hours = max(0.0, age_seconds) / 3600.0
    return float(0.5 ** (age_hours / HALF_LIFE_HOURS))


def score(
    *,
    reactions: int,
    comments: int,
    shares: int,
    author_followers: int,
    age_seconds: float,
    is_connection: bool,
) -> float:
    """The feed score of one post for one viewer (see the module docstring).

    Returns:
        A positive number; higher ranks first. Scores of different viewers are
        not comparable (the connection boost depends on the viewer).
    """
    boost = CONNECTION_BOOST if is_connection else 1.0
    return (
        relative_engagement(
            reactions=reactions,
            comments=comments,
            shares=shares,
            author_followers=author_followers,
        )
        * recency_decay(age_seconds)
        * boost
    )


@dataclass(frozen=True)
class Candidate:
    """What ranking needs to know of one candidate post."""

    post_id: int
    created_at: datetime
    reactions: int
    comments: int
    shares: int
    author_followers: int
    is_connection: bool


def rank(candidates: Iterable[Candidate], *, now: datetime) -> list[int]:
    """Post ids ordered best first; ties go to the newer post, then the higher id."""
    scored = [
        (
            score(
                reactions=c.reactions,
                comments=c.comments,
                shares=c.shares,
                author_followers=c.author_followers,
                age_seconds=(now - c.created_at).total_seconds(),
                is_connection=c.is_connection,
            ),
            c.created_at,
            c.post_id,
        )
        for c in candidates
    ]
    scored.sort(reverse=True)
    return [post_id for _, _, post_id in scored]
