"""Message send over HTTP against a real ``backsoon serve`` process.

1, 8 and 32 concurrent clients (keep-alive connections), once to a member who is
present and once to one who is away. Each sender writes PER_SENDER messages, so
on the away run the first message of every sender (one in PER_SENDER) triggers an
automatic reply and the others are checked and answered nothing, as when a
flooded member hears from many people. Prints messages/s and p50/p99 latency per
run and the away/present throughput ratio.

Run: .venv/bin/python bench/bench_send.py   (SQLite in a temp folder; set
DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile, report, served, setup_django

CLIENTS = (1, 8, 32)
MESSAGES = {1: 400, 8: 2400, 32: 3200}
PER_SENDER = 10
# The server as `backsoon serve` runs it by default: one process on SQLite.
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))


def prepare(target_username: str, messages: int, prefix: str) -> list[tuple[str, int]]:
    """Fresh senders, each with a token and a 1:1 conversation with the target, and the
    jobs (token, conversation) for ``messages`` messages, PER_SENDER per sender,
    interleaved so that a client's consecutive messages come from different senders."""
    count = messages // PER_SENDER
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from backsoon.accounts.actions import token_digest
    from backsoon.accounts.models import ApiToken, Member
    from backsoon.messaging.models import Conversation, Participant

    target = Member.objects.get(username=target_username)
    password = make_password("bench-password-123")
    members = Member.objects.bulk_create(
        [
            Member(
                username=f"{prefix}{i}",
                email=f"{prefix}{i}@example.com",
                password=password,
                display_name=f"Sender {i}",
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    now = timezone.now()
    tokens = [f"bench-{prefix}-{i}" for i in range(count)]
    ApiToken.objects.bulk_create(
        [
            ApiToken(member=m, digest=token_digest(t), prefix=t[:10])
            for m, t in zip(members, tokens, strict=True)
        ],
        batch_size=1000,
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                kind="direct",
                direct_key=f"{min(m.pk, target.pk)}:{max(m.pk, target.pk)}",
                created_by=m,
                created_at=now,
                last_message_at=now,
            )
            for m in members
        ],
        batch_size=1000,
    )
    Participant.objects.bulk_create(
        [
            Participant(conversation=c, member=m, last_message_at=now)
            for c, m in zip(conversations, members, strict=True)
        ]
        + [Participant(conversation=c, member=target, last_message_at=now) for c in conversations],
        batch_size=1000,
    )
    pairs = [(t, c.pk) for t, c in zip(tokens, conversations, strict=True)]
    return [pair for _ in range(PER_SENDER) for pair in pairs]


def run(base: str, jobs: list[tuple[str, int]], clients: int) -> tuple[float, list[float], int]:
    """Send one message per job with ``clients`` threads; returns (rate, latencies, errors)."""
    url = urlparse(base)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    chunks = [jobs[i::clients] for i in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(chunk: list[tuple[str, int]]) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        mine: list[float] = []
        bad = 0
        barrier.wait()
        for token, conversation in chunk:
            body = json.dumps({"body": "Hello! Are you around next week?"})
            t0 = time.perf_counter()
            conn.request(
                "POST",
                f"/api/v1/conversations/{conversation}/messages",
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            if response.status != 201:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return len(jobs) / elapsed, latencies, errors


def main() -> None:
    var_dir = setup_django()
    from django.db import connection
    from django.utils import timezone

    from backsoon.accounts.actions import member_create
    from backsoon.away.models import Absence
    from backsoon.messaging.models import Message

    member_create(
        username="present",
        email="present@example.com",
        password="bench-password-123",
        display_name="Pat Present",
    )
    away = member_create(
        username="away",
        email="away@example.com",
        password="bench-password-123",
        display_name="Alex Away",
    )
    now = timezone.now()
    Absence.objects.create(
        member=away,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=7),
        message="Away until {return_date}.",
    )
    plans = {}
    for clients in CLIENTS:
        for target in ("present", "away"):
            plans[(clients, target)] = prepare(target, MESSAGES[clients], f"s{clients}{target[0]}")
    connection.close()
    print(
        f"message send over HTTP ({connection.vendor}), backsoon serve with {WORKERS} "
        f"process(es) x {THREADS} threads"
    )
    rates: dict[tuple[int, str], float] = {}
    with served(var_dir, workers=WORKERS, extra_env={"BACKSOON_THREADS": str(THREADS)}) as base:
        for clients in CLIENTS:
            for target in ("present", "away"):
                rate, latencies, errors = run(base, plans[(clients, target)], clients)
                rates[(clients, target)] = rate
                p50 = percentile(latencies, 50) * 1000
                p99 = percentile(latencies, 99) * 1000
                print(
                    f"{clients:>3} clients -> {target:<7}: {rate:8.1f} msg/s  p50 {p50:6.1f} ms  "
                    f"p99 {p99:6.1f} ms  errors {errors}"
                )
                goal = ">= 400" if (clients, target) == (8, "present") else "-"
                ok = rate >= 400 if (clients, target) == (8, "present") else None
                report(f"send_{target}_{clients}c_rate", rate, "msg/s", goal, ok)
                report(f"send_{target}_{clients}c_p99", p99, "ms", "-", None)
                if errors:
                    report(f"send_{target}_{clients}c_errors", errors, "requests", "0", False)
    replies = Message.objects.filter(kind="auto_reply").count()
    expected = sum(MESSAGES[c] // PER_SENDER for c in CLIENTS)
    report("send_auto_replies", replies, "replies", f"= {expected}", replies == expected)
    for clients in CLIENTS:
        ratio = rates[(clients, "away")] / rates[(clients, "present")]
        report(f"send_away_present_ratio_{clients}c", ratio, "ratio", ">= 0.9", ratio >= 0.9)


if __name__ == "__main__":
    main()
