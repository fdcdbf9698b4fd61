"""Exactly once across server processes (AWAY-SPEC R6), and limits that every process shares.

Two ``backsoon serve`` processes on one database. 30 senders write 5 messages each
to an away member, all at once, through both processes (every sender through both);
each sender's first message is also retried with the same ``client_key`` through the
other process. Afterwards: every acknowledged (201) message is stored exactly once,
nothing unacknowledged is stored, and each sender got exactly one automatic reply.

The exactly-once test needs PostgreSQL (real concurrent writers); the rate limits are
checked on SQLite too (two processes on one file), since they count from the database.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.factories import PASSWORD

from .conftest import Database, Server, call, is_postgres, seed

SENDERS = 30
MESSAGES = 5


def test_a_burst_through_two_processes_stores_each_message_once_and_replies_once(
    database: Database, servers: list[Server], tmp_path
):
    if not is_postgres():
        pytest.skip(
            "needs PostgreSQL: SQLite lets one writer in at a time, so two processes can "
            "not race; the PostgreSQL pass runs this test"
        )
    senders = seed(database, tmp_path, SENDERS)
    a = Server(database, tmp_path, "a").start()
    servers.append(a)
    b = Server(database, tmp_path, "b").start()
    servers.append(b)
    started = time.monotonic()

    barrier = threading.Barrier(SENDERS * MESSAGES + SENDERS)
    acked: list[tuple[str, int, str]] = []  # (username, message id, body)
    retried: list[tuple[str, int]] = []  # (username, id) answered to the client_key retry
    failures: list[str] = []
    lock = threading.Lock()

    def send(i: int, n: int, retry: bool = False) -> None:
        sender = senders[i]
        # Each sender's messages alternate between the two processes; the retry of the
        # first message goes through the other one.
        server = (a, b)[(n + i + (1 if retry else 0)) % 2]
        body = f"{sender.username} message {n}"
        payload = {"body": body, "client_key": f"{sender.username}-{n}"}
        barrier.wait(timeout=60)
        try:
            status, data, _ = call(
                server.base,
                "POST",
                f"/conversations/{sender.conversation}/messages",
                payload,
                token=sender.token,
            )
        except OSError as exc:
            with lock:
                failures.append(f"{body}: {exc}")
            return
        with lock:
            if status != 201:
                failures.append(f"{body}: {status} {data}")
            elif retry:
                retried.append((sender.username, data["id"]))
            else:
                acked.append((sender.username, data["id"], data["body"]))

    with ThreadPoolExecutor(max_workers=SENDERS * MESSAGES + SENDERS) as pool:
        jobs = [pool.submit(send, i, n) for i in range(SENDERS) for n in range(MESSAGES)]
        jobs += [pool.submit(send, i, 0, True) for i in range(SENDERS)]
        for job in jobs:
            job.result()
    elapsed = time.monotonic() - started

    assert failures == [], (failures[:10], a.log(), b.log())
    assert len(acked) == SENDERS * MESSAGES
    # Every acknowledged message is stored, exactly once, with its text.
    ids = [message_id for _, message_id, _ in acked]
    assert len(set(ids)) == len(ids)
    rows = database.query(
        "SELECT m.id, m.body, s.username FROM messaging_message m "
        "JOIN accounts_member s ON s.id = m.sender_id WHERE m.kind = 'normal'"
    )
    assert sorted(rows) == sorted((i, body, user) for user, i, body in acked)
    # The retry with the same client key got the message stored the first time.
    first = {(user, i) for user, i, body in acked if body.endswith(" message 0")}
    assert set(retried) == first
    # One automatic reply per sender (R3, R6), in the sender's own conversation.
    replies = database.query(
        "SELECT conversation_id, count(*) FROM messaging_message "
        "WHERE kind = 'auto_reply' GROUP BY conversation_id"
    )
    assert dict(replies) == {s.conversation: 1 for s in senders}
    records = database.query("SELECT sender_id, replies FROM away_autoreplyrecord")
    assert len(records) == SENDERS and all(n == 1 for _, n in records)
    # The conversations' stored counters agree with the messages.
    assert (
        database.query(
            "SELECT c.id FROM messaging_conversation c WHERE c.last_message_id <> "
            "(SELECT max(m.id) FROM messaging_message m WHERE m.conversation_id = c.id)"
        )
        == []
    )
    unread = dict(
        database.query(
            "SELECT p.conversation_id, p.unread_count FROM messaging_participant p "
            "JOIN accounts_member m ON m.id = p.member_id WHERE m.username = 'away'"
        )
    )
    assert unread == {s.conversation: MESSAGES for s in senders}
    print(f"\n{SENDERS * MESSAGES + SENDERS} requests through 2 processes in {elapsed:.2f} s")


def test_rate_limits_are_shared_by_every_process(
    database: Database, servers: list[Server], tmp_path
):
    """Counted from the database: 30 messages a minute and 5 failed logins, whichever
    process answers. (With REDIS_URL the same holds: the database is still shared.)"""
    sender = seed(database, tmp_path, 1)[0]
    a = Server(database, tmp_path, "a").start()
    servers.append(a)
    b = Server(database, tmp_path, "b").start()
    servers.append(b)
    path = f"/conversations/{sender.conversation}/messages"
    statuses = Counter(
        call((a, b)[n % 2].base, "POST", path, {"body": f"m{n}"}, token=sender.token)[0]
        for n in range(30)
    )
    assert statuses == {201: 30}
    for server in (a, b):
        status, data, headers = call(server.base, "POST", path, {"body": "one more"}, sender.token)
        assert (status, data["code"]) == (429, "message_rate_limited")
        assert 1 <= int(headers["retry-after"]) <= 61

    # Login throttling: five failures for one username, spread over both processes.
    for n in range(5):
        status, _, _ = call(
            (a, b)[n % 2].base, "POST", "/auth/token", {"username": "away", "password": "bad"}
        )
        assert status == 401
    for server in (a, b):
        status, data, headers = call(
            server.base, "POST", "/auth/token", {"username": "away", "password": PASSWORD}
        )
        assert (status, data["code"]) == (429, "login_throttled")
        assert int(headers["retry-after"]) >= 1
