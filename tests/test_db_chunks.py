"""backsoon.db.chunks: bulk changes in bounded chunks (TRIAGE C2)."""

from __future__ import annotations

import pytest

from backsoon.db.chunks import chunked_ids, each_in_chunks, update_in_chunks
from backsoon.messaging.actions import conversation_start
from backsoon.messaging.models import Participant
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    me = make_member("flooded")
    for i in range(10):
        conversation_start(creator=make_member(f"other{i}"), usernames=["flooded"])
    return Participant.objects.filter(member=me)


def test_C2_every_match_is_changed_in_chunks_and_counted_once(rows, django_assert_num_queries):
    assert [len(ids) for ids in chunked_ids(rows, chunk=4)] == [4, 4, 2]
    assert update_in_chunks(rows.filter(muted=False), chunk=4, muted=True) == 10
    assert rows.filter(muted=True).count() == 10
    # Idempotent: nothing matches any more, nothing is counted.
    assert update_in_chunks(rows.filter(muted=False), chunk=4, muted=True) == 0


def test_C2_a_chunk_is_one_short_transaction(rows, django_assert_num_queries):
    # Each chunk: the ids (1), SAVEPOINT, UPDATE, RELEASE; and the last empty read (1).
    with django_assert_num_queries(3 * 4 + 1):
        update_in_chunks(rows.filter(muted=False), chunk=4, muted=True)


def test_C2_each_in_chunks_hands_over_every_id_once(rows):
    seen: list[int] = []
    assert each_in_chunks(rows, lambda ids: seen.extend(ids) or len(ids), chunk=3) == 10
    assert sorted(seen) == sorted(rows.values_list("pk", flat=True))


def test_chunk_timings_collects_each_chunks_transaction():
    from backsoon.accounts.models import Member
    from backsoon.db.chunks import chunk_timings, each_in_chunks
    from tests.factories import make_member

    for i in range(5):
        make_member(f"timed{i}")
    with chunk_timings() as took:
        assert each_in_chunks(Member.objects.all(), len, chunk=2) == 5
    assert len(took) == 3 and all(t >= 0 for t in took)
    each_in_chunks(Member.objects.all(), len, chunk=2)
    assert len(took) == 3  # collected only inside the block
