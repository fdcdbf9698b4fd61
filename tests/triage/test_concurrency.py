"""TRIAGE L2 and S2 under real concurrency (PostgreSQL): simultaneous copies of one
pitch are all labelled ``mass``, and the counts stay exact while strangers and
contacts write at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from backsoon.counts import member_counts
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.messaging.models import Participant
from tests.factories import connect, make_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")


def _all_at_once(jobs: list[Callable[[], None]]) -> None:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job: Callable[[], None]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_L2_twelve_simultaneous_copies_are_all_mass():
    sender = make_member("growth")
    people = [make_member(f"person{i}", display_name=f"Person{i} Last") for i in range(12)]
    conversations = [
        conversation_start(creator=sender, usernames=[p.username])[0].pk for p in people
    ]

    def job(person, conversation_id: int) -> Callable[[], None]:
        body = f"Hi {person.first_name}, I help coaches like you win 10 clients a month."
        return lambda: message_send(sender=sender, conversation_id=conversation_id, body=body)

    _all_at_once([job(p, c) for p, c in zip(people, conversations, strict=True)])
    labels = [
        Participant.objects.get(conversation_id=c, member=p).labels
        for p, c in zip(people, conversations, strict=True)
    ]
    assert all(row == [{"code": "mass", "count": 12}] for row in labels), labels


def test_S2_counts_are_exact_under_concurrent_sends():
    member = make_member("flooded")
    friends = [make_member(f"friend{i}") for i in range(6)]
    strangers = [make_member(f"stranger{i}") for i in range(6)]
    for friend in friends:
        connect(member, friend)
    conversations = {
        m.pk: conversation_start(creator=m, usernames=["flooded"])[0].pk
        for m in [*friends, *strangers]
    }
    jobs = [
        (lambda m=m, i=i: message_send(sender=m, conversation_id=conversations[m.pk], body=f"{i}"))
        for m in [*friends, *strangers]
        for i in range(3)
    ]
    _all_at_once(jobs)
    assert member_counts(member) == {
        "inbox_unread": 18,
        "requests": 6,
        "invitations_pending": 0,
        "notifications_unread": 6,
    }


def test_L2_twelve_simultaneous_notes_are_all_mass():
    """Each sender's prints are serialised (``triage.storage.sender_lock``): of two
    simultaneous 9th and 10th copies, the second counts ten and labels all."""
    from backsoon.network.actions import invitation_send
    from backsoon.network.models import Invitation

    sender = make_member("collector")
    people = [make_member(f"person{i}") for i in range(12)]
    note = "Hi, I grow my network with coaches in your field. Let's connect!"
    _all_at_once(
        [
            (lambda p=p: invitation_send(sender=sender, to_username=p.username, note=note))
            for p in people
        ]
    )
    labels = list(Invitation.objects.filter(from_member=sender).values_list("labels", flat=True))
    assert len(labels) == 12
    assert all(
        [label["code"] for label in row] == ["mass"] and row[0]["count"] == 12 for row in labels
    ), labels
