"""Actions by filter on a flood (TRIAGE C2): how long 10,000 matches take, and how long
the longest chunk holds the database's write lock.

One member has 10,000 pending invitations, 10,000 conversations in their requests and
10,000 unread notifications; another has 10,000 pending invitations to accept. All
rows are bulk inserted. Each action is one request through django.test.Client with a
bearer token (the API as a client calls it):

- ``POST /invitations/bulk {action: ignore, filter: {}}``
- ``POST /invitations/bulk {action: accept, filter: {}}`` (connections, follows,
  contacts and the inviters' notifications: the real accept path)
- ``POST /conversations/bulk {action: decline, filter: {folder: requests}}``
- ``POST /notifications/read {filter: {}}``

Each prints its total seconds, rows/s, and the longest chunk's transaction
(``backsoon.db.chunks.chunk_timings``). Goals: every action under 30 s (no request
time-out), no chunk holding the write lock 500 ms or more.

Run: .venv/bin/python bench/bench_bulk.py   (SQLite in a temp folder; set
DATABASE_URL for PostgreSQL). ``BENCH_BULK_ROWS`` changes the 10,000.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, setup_django

ROWS = int(os.environ.get("BENCH_BULK_ROWS", "10000"))
GOAL_TOTAL_S = 30.0
GOAL_CHUNK_MS = 500.0


def populate() -> tuple[str, str]:
    """The flooded member's token and the accepting member's token."""
    from django.db import transaction
    from django.utils import timezone

    from backsoon.accounts.actions import token_issue
    from backsoon.accounts.models import Member
    from backsoon.messaging.models import Conversation, Participant
    from backsoon.network.models import Invitation
    from backsoon.notifications.models import Notification

    now = timezone.now()
    with transaction.atomic():
        flooded, accepting = Member.objects.bulk_create(
            [
                Member(username=name, email=f"{name}@example.com", display_name=name, password="!")
                for name in ("trainer", "accepting")
            ]
        )
        crowd = Member.objects.bulk_create(
            [
                Member(
                    username=f"m{i}", email=f"m{i}@example.com", display_name=f"M {i}", password="!"
                )
                for i in range(ROWS)
            ],
            batch_size=2000,
        )
        for to in (flooded, accepting):
            Invitation.objects.bulk_create(
                [
                    Invitation(
                        from_member=m,
                        to_member=to,
                        pair_low=min(m.pk, to.pk),
                        pair_high=max(m.pk, to.pk),
                        created_at=now - timedelta(minutes=i),
                        labels=[{"code": "first_contact", "params": {}}],
                        label_codes=",first_contact,",
                    )
                    for i, m in enumerate(crowd)
                ],
                batch_size=2000,
            )
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    kind=Conversation.Kind.DIRECT,
                    direct_key=f"{min(m.pk, flooded.pk)}:{max(m.pk, flooded.pk)}",
                    created_by=m,
                    with_stranger=True,
                    last_message_at=now,
                )
                for m in crowd
            ],
            batch_size=2000,
        )
        Participant.objects.bulk_create(
            [
                Participant(
                    conversation=c,
                    member=flooded,
                    folder=Participant.Folder.REQUESTS,
                    unread_count=1,
                    labels=[{"code": "first_contact", "params": {}}],
                    label_codes=",first_contact,",
                )
                for c in conversations
            ]
            + [
                Participant(conversation=c, member=m)
                for c, m in zip(conversations, crowd, strict=True)
            ],
            batch_size=2000,
        )
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=flooded,
                    type=Notification.Type.REACTION,
                    actor=m,
                    subject_type="post",
                    subject_id=i,
                    created_at=now,
                )
                for i, m in enumerate(crowd)
            ],
            batch_size=2000,
        )
    return token_issue(member=flooded, name="bench"), token_issue(member=accepting, name="bench")


def timed(client, path: str, body: dict) -> tuple[float, float, int, dict]:
    """One request: seconds, the longest chunk's seconds, chunks, the answer."""
    from backsoon.db.chunks import chunk_timings

    with chunk_timings() as took:
        start = time.perf_counter()
        response = client.post(
            "/api/v1" + path, data=json.dumps(body), content_type="application/json"
        )
        total = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return total, max(took, default=0.0), len(took), response.json()


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client

    print(f"bulk actions by filter on {ROWS:,} rows ({connection.vendor})")
    start = time.perf_counter()
    flooded_token, accepting_token = populate()
    print(f"  setup: {time.perf_counter() - start:.1f} s")
    flooded = Client(headers={"Authorization": f"Bearer {flooded_token}"})
    accepting = Client(headers={"Authorization": f"Bearer {accepting_token}"})
    runs = [
        ("ignore invitations", flooded, "/invitations/bulk", {"action": "ignore", "filter": {}}),
        ("accept invitations", accepting, "/invitations/bulk", {"action": "accept", "filter": {}}),
        (
            "decline requests",
            flooded,
            "/conversations/bulk",
            {"action": "decline", "filter": {"folder": "requests"}},
        ),
        ("mark notifications read", flooded, "/notifications/read", {"filter": {}}),
    ]
    for name, client, path, body in runs:
        total, longest, chunks, answer = timed(client, path, body)
        assert answer["changed"] == ROWS, (name, answer["changed"])
        print(f"  {name}: {ROWS:,} changed in {chunks} chunks")
        report(f"{name}: total", total, "s", f"< {GOAL_TOTAL_S:.0f} s", total < GOAL_TOTAL_S)
        report(f"{name}: rate", ROWS / total, "rows/s", "", None)
        report(
            f"{name}: longest chunk",
            longest * 1000,
            "ms",
            f"< {GOAL_CHUNK_MS:.0f} ms",
            longest * 1000 < GOAL_CHUNK_MS,
        )
        again, _, _, answer = timed(client, path, body)
        assert answer["changed"] == 0, (name, "not idempotent")
        print(f"  {name} again: 0 changed in {again:.2f} s")


if __name__ == "__main__":
    main()
