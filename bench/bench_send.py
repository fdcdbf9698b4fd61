"""Message send over HTTP against a real ``backsoon serve`` process.

1, 8 and 32 concurrent clients (keep-alive connections), to a member who is present
and to one who is away, from senders they know (connections: TRIAGE L1, the common
case), and to a member from strangers (``stranger``: each conversation a message
request, every message printed and labelled, TRIAGE S1, L2, L5). Each sender writes
PER_SENDER messages, so on the away run the first message of every sender (one in
PER_SENDER) triggers an automatic reply and the others are checked and answered
nothing, as when a flooded member hears from many people. Prints messages/s and
p50/p99 latency per run, the away/present and the stranger/present throughput ratios.

Run: .venv/bin/python bench/bench_send.py   (SQLite in a temp folder; set
DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile, report, served, setup_django

CLIENTS = tuple(int(c) for c in os.environ.get("BENCH_CLIENTS", "1,8,32").split(","))
TARGETS = tuple(os.environ.get("BENCH_TARGETS", "present,away,stranger").split(","))
MESSAGES = {1: 2000, 8: 4000, 32: 4000}
PER_SENDER = int(os.environ.get("BENCH_PER_SENDER", "10"))
ROUNDS = 4
# The server as `backsoon serve` runs it by default (two processes per CPU) unless set.
WORKERS = int(os.environ.get("BENCH_WORKERS", "0")) or None
THREADS = os.environ.get("BENCH_THREADS")  # default: backsoon serve's


def prepare(target_username: str, messages: int, prefix: str) -> list[tuple[str, int]]:
    """Fresh senders, each with a token and a 1:1 conversation with the target, and the
    jobs (token, conversation) for ``messages`` messages, PER_SENDER per sender,
    interleaved so that a client's consecutive messages come from different senders.

    The ``stranger`` target's senders are strangers (the conversation is a request for
    it); the others' are connections both ways."""
    count = messages // PER_SENDER
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from backsoon.accounts.actions import token_digest
    from backsoon.accounts.models import ApiToken, Member
    from backsoon.messaging.models import Conversation, Participant
    from backsoon.triage.models import Contact

    target = Member.objects.get(username=target_username)
    strangers = target_username == "stranger"
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
        + [
            Participant(
                conversation=c,
                member=target,
                last_message_at=now,
                folder="requests" if strangers else "inbox",
            )
            for c in conversations
        ],
        batch_size=1000,
    )
    if not strangers:
        Contact.objects.bulk_create(
            [Contact(member=m, other=target, why="connected") for m in members]
            + [Contact(member=target, other=m, why="connected") for m in members],
            batch_size=1000,
        )
    pairs = [(t, c.pk) for t, c in zip(tokens, conversations, strict=True)]
    return [pair for _ in range(PER_SENDER) for pair in pairs]


def _read_response(sock: socket.socket, buffer: bytearray) -> int:
    """Read one HTTP/1.1 response with a Content-Length from ``sock``; its status code.
    Bytes past the response stay in ``buffer`` (there are none: one request in flight)."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1])
        for line in head[1:]
        if line.lower().startswith("content-length:")
    )
    total = end + 4 + length
    while len(buffer) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk
    del buffer[:total]
    return status


def run(base: str, jobs: list[tuple[str, int]], clients: int) -> tuple[float, list[float], int]:
    """Send one message per job with ``clients`` threads; returns (seconds, latencies, errors).

    Each client is a keep-alive connection writing prepared request bytes and reading
    just the status line and the body's length: a load generator sharing the two
    cores with the server should cost it as little as possible (http.client took
    about a fifth of a core at these rates).
    """
    url = urlparse(base)
    host = f"{url.hostname}:{url.port}"
    body = json.dumps({"body": "Hello! Are you around next week?"}).encode()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    chunks = [
        [
            (
                f"POST /api/v1/conversations/{conversation}/messages HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
            for token, conversation in jobs[i::clients]
        ]
        for i in range(clients)
    ]
    barrier = threading.Barrier(clients + 1)

    def client(requests: list[bytes]) -> None:
        nonlocal errors
        sock = socket.create_connection((url.hostname, url.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        mine: list[float] = []
        bad = 0
        barrier.wait()
        for request in requests:
            t0 = time.perf_counter()
            sock.sendall(request)
            status = _read_response(sock, buffer)
            mine.append(time.perf_counter() - t0)
            if status != 201:
                bad += 1
        sock.close()
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
    return time.perf_counter() - start, latencies, errors


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
    member_create(
        username="stranger",
        email="stranger@example.com",
        password="bench-password-123",
        display_name="Sam Screened",
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
    # Each run is split into ROUNDS with their own senders, and the rounds of the two
    # targets alternate (present, away, away, present, ...), so that a drift of the
    # machine during the run (other tenants, the database growing) weighs on both
    # alike; a warm-up first opens every server thread's database connection.
    plans = {}
    for clients in CLIENTS:
        for target in TARGETS:
            for r in range(ROUNDS):
                plans[(clients, target, r)] = prepare(
                    target, MESSAGES.get(clients, 100 * clients) // ROUNDS, f"s{clients}{target}{r}"
                )
    warmup = prepare("present", 640, "warm")
    connection.close()
    from backsoon.cli import default_workers

    workers = WORKERS or default_workers()
    print(
        f"message send over HTTP ({connection.vendor}), backsoon serve with {workers} "
        f"process(es) x {THREADS or 'the default number of'} threads"
    )
    rates: dict[tuple[int, str], float] = {}
    extra_env = {"BACKSOON_THREADS": THREADS} if THREADS else {}
    with served(var_dir, workers=WORKERS, extra_env=extra_env) as base:
        run(base, warmup, 32)
        for clients in CLIENTS:
            elapsed = dict.fromkeys(TARGETS, 0.0)
            latencies: dict[str, list[float]] = {t: [] for t in TARGETS}
            errors = dict.fromkeys(TARGETS, 0)
            for r in range(ROUNDS):
                for target in TARGETS if r % 2 == 0 else TARGETS[::-1]:
                    seconds, lats, errs = run(base, plans[(clients, target, r)], clients)
                    elapsed[target] += seconds
                    latencies[target] += lats
                    errors[target] += errs
            for target in TARGETS:
                rate = len(latencies[target]) / elapsed[target]
                rates[(clients, target)] = rate
                p50 = percentile(latencies[target], 50) * 1000
                p99 = percentile(latencies[target], 99) * 1000
                print(
                    f"{clients:>3} clients -> {target:<7}: {rate:8.1f} msg/s  p50 {p50:6.1f} ms  "
                    f"p99 {p99:6.1f} ms  errors {errors[target]}"
                )
                goal = ">= 400" if (clients, target) == (8, "present") else "-"
                ok = rate >= 400 if (clients, target) == (8, "present") else None
                report(f"send_{target}_{clients}c_rate", rate, "msg/s", goal, ok)
                report(f"send_{target}_{clients}c_p99", p99, "ms", "-", None)
                if errors[target]:
                    report(
                        f"send_{target}_{clients}c_errors", errors[target], "requests", "0", False
                    )
    replies = Message.objects.filter(kind="auto_reply").count()
    expected = sum(MESSAGES.get(c, 100 * c) // PER_SENDER for c in CLIENTS if "away" in TARGETS)
    report("send_auto_replies", replies, "replies", f"= {expected}", replies == expected)
    for clients in CLIENTS if {"away", "present"} <= set(TARGETS) else ():
        ratio = rates[(clients, "away")] / rates[(clients, "present")]
        report(f"send_away_present_ratio_{clients}c", ratio, "ratio", ">= 0.9", ratio >= 0.9)
    for clients in CLIENTS if {"stranger", "present"} <= set(TARGETS) else ():
        ratio = rates[(clients, "stranger")] / rates[(clients, "present")]
        report(f"send_stranger_present_ratio_{clients}c", ratio, "ratio", ">= 0.8", ratio >= 0.8)


if __name__ == "__main__":
    main()
