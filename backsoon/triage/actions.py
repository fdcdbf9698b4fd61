"""Every write of the flood rules: who knows whom (S1, L1) and prints of texts that
reached strangers (L2, L6). Callers (messaging, network) do their own writes with
what these return; this app imports neither."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import similar, storage
from .models import Contact, Print, Report
from .rules import WINDOW_DAYS

# Earlier prints looked at for one new one: the oldest that share a band with it (they
# decide its cluster).
CANDIDATES_MAX = 20
# A print this close to an earlier one adds no band keys of its own: the index holds
# the variants of a text, not its copies, so a template sent 10,000 times costs its
# look-ups no more than one sent 10 times.
REPRESENTED = 0.9


def contacts_add(*, member_id: int, other_ids: Iterable[int], why: str, at: datetime) -> None:
    """``member_id`` knows each of ``other_ids`` from now on (S1, L1); rows that exist
    keep their first reason. Safe under concurrency (unique constraint)."""
    rows = [
        Contact(member_id=member_id, other_id=other, why=why, since=at)
        for other in sorted(set(other_ids))
        if other != member_id
    ]
    if rows:
        Contact.objects.bulk_create(rows, ignore_conflicts=True)


def contacts_add_to(*, other_id: int, member_ids: Iterable[int], why: str, at: datetime) -> None:
    """Each of ``member_ids`` knows ``other_id`` from now on (one statement): the
    reverse of :func:`contacts_add`, for one member accepting many at once."""
    rows = [
        Contact(member_id=member, other_id=other_id, why=why, since=at)
        for member in sorted(set(member_ids))
        if member != other_id
    ]
    if rows:
        Contact.objects.bulk_create(rows, ignore_conflicts=True)


def contacts_add_both(*, a_id: int, b_id: int, why: str, at: datetime) -> None:
    """Each of two members knows the other (a connection)."""
    contacts_add(member_id=a_id, other_ids=[b_id], why=why, at=at)
    contacts_add(member_id=b_id, other_ids=[a_id], why=why, at=at)


@dataclass(frozen=True)
class Printed:
    """What :func:`print_record` learnt of a text that reached a stranger."""

    cluster: int  # the group of similar texts of any sender (L6)
    copies: int  # members the sender sent a similar text to in the window (L2)


# Copies sent "at the same moment" as this one count with it (their ``at`` may be a
# little later than this one's though they committed first).
SAME_MOMENT = timedelta(minutes=1)


def print_record(
    *,
    kind: str,
    sender_id: int,
    member_id: int,
    ref_id: int,
    text: str,
    names: Iterable[str],
    at: datetime,
) -> Printed:
    """Store the print of ``text`` that ``sender_id`` sent to ``member_id`` (in the
    conversation or invitation ``ref_id``), and say which cluster it joined and how
    many members the sender reached with a similar text in the last 7 days. Call it in
    the transaction that delivers the text.

    Finding similar earlier texts is an index look-up of the print's LSH band keys
    (``PrintBand``), then a check of at most ``CANDIDATES_MAX`` candidates'
    signatures: never a scan of earlier messages. Only a new variant adds band keys
    (``REPRESENTED``). A new text with no similar one starts a cluster keyed by its
    normalised digest, so exact copies sent at the same moment still share one.

    The sender's prints are serialised until the transaction ends
    (``storage.sender_lock``), so the count is exact under concurrent sends: of two
    simultaneous 9th and 10th copies, the second counts 10. Four statements and the
    lock; five for a new variant.
    """
    fp = similar.fingerprint(text, names)
    since = at - timedelta(days=WINDOW_DAYS)
    storage.sender_lock(sender_id)
    clusters: list[int] = []
    closest = 0.0
    for digest, signature, cluster in storage.candidates(
        kind=kind, keys=fp.bands, since=since, limit=CANDIDATES_MAX
    ):
        score = (
            1.0
            if digest == fp.digest
            else similar.similarity(fp.signature, similar.unpack(signature))
        )
        if score >= similar.THRESHOLD:
            clusters.append(cluster)
            closest = max(closest, score)
    cluster = min(clusters) if clusters else fp.digest
    row = storage.print_insert(
        Print(
            kind=kind,
            sender_id=sender_id,
            member_id=member_id,
            ref_id=ref_id,
            at=at,
            digest=fp.digest,
            signature=similar.pack(fp.signature),
            cluster=cluster,
        )
    )
    if closest < REPRESENTED:
        storage.bands_insert(row.pk, sorted(set(fp.bands)), at)
    copies = storage.copies(
        kind=kind, sender_id=sender_id, cluster=cluster, since=since, until=at + SAME_MOMENT
    )
    return Printed(cluster=cluster, copies=copies)


def copies_refs(kind: str, sender_id: int, cluster: int, at: datetime) -> list[tuple[int, int]]:
    """``(ref_id, member_id)`` of every copy of ``cluster`` the sender sent in the 7 days
    up to ``at``: what gets the ``mass`` label once there are 10 (L2)."""
    return list(
        Print.objects.filter(
            kind=kind,
            sender_id=sender_id,
            cluster=cluster,
            at__gt=at - timedelta(days=WINDOW_DAYS),
            at__lte=at + SAME_MOMENT,
        )
        .values_list("ref_id", "member_id")
        .distinct()
    )


def report_create(
    *, reporter_id: int, reported_id: int, conversation_id: int | None, excerpt: str
) -> None:
    """Put a report in the moderators' queue (TRIAGE S3; the Django admin)."""
    Report.objects.create(
        reporter_id=reporter_id,
        reported_id=reported_id,
        conversation_id=conversation_id,
        excerpt=excerpt[:2000],
    )
