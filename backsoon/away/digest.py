"""The return digest (AWAY-SPEC D1, D2, I3): what arrived while a member was away.

Computed from what is stored at the moment of asking, never from a snapshot a
job wrote, so it is right after an early return or when no worker ran. Every
section is one or two aggregate queries whatever the flood: a viral absence
with thousands of reactions and hundreds of invitations costs the same dozen
queries as a quiet one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.errors import Invalid

from .models import Absence

FIRST_LINE_CHARS = 160


@dataclass
class ConversationDigest:
    conversation_id: int
    kind: str
    subject: str
    senders: list[dict[str, Any]]
    count: int
    first_line: str
    first_at: datetime
    last_at: datetime
    link: str
    # Where it sits for the member now, and what they did with it (TRIAGE C4).
    folder: str = "inbox"
    known: bool = False
    handled: list[str] = field(default_factory=list)

    @property
    def request(self) -> bool:
        """A message request still waiting for a decision (TRIAGE S1)."""
        return self.folder == "requests"


@dataclass
class Digest:
    absence: Absence
    starts_at: datetime
    ends_at: datetime
    messages_from_connections: list[ConversationDigest] = field(default_factory=list)
    messages_from_others: list[ConversationDigest] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
    # Received in the window and answered since (accepted or ignored by the member).
    invitations_answered: list[dict[str, Any]] = field(default_factory=list)
    auto_accepted: list[dict[str, Any]] = field(default_factory=list)
    auto_replies_sent: int = 0
    posts: dict[str, Any] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "messages_from_connections": sum(c.count for c in self.messages_from_connections),
            "messages_from_others": sum(c.count for c in self.messages_from_others),
            "conversations": len(self.messages_from_connections) + len(self.messages_from_others),
            "invitations": len(self.invitations),
            "auto_accepted": len(self.auto_accepted),
            "auto_replies_sent": self.auto_replies_sent,
            "mentions": len(self.posts.get("mentions", [])),
            "comments": sum(p["count"] for p in self.posts.get("comments", [])),
            "reactions": self.posts.get("reactions", {}).get("total", 0),
        }

    @property
    def invitations_received(self) -> list[dict[str, Any]]:
        """Pending and answered invitations of the window, in the digest's order (most
        mutual connections first), so answering one keeps the list in place (C4)."""
        return sorted(
            self.invitations + self.invitations_answered,
            key=lambda e: (-e["mutual_connections"], e["created_at"], e["id"]),
        )


def _first_line(body: str) -> str:
    line = body.strip().splitlines()[0] if body.strip() else ""
    return line if len(line) <= FIRST_LINE_CHARS else line[: FIRST_LINE_CHARS - 1] + "…"


def window_of(absence: Absence, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The absence's window ``[start, end)`` as the digest reads it (up to ``now``)."""
    end = min(absence.effective_end, now) if now else absence.effective_end
    return absence.starts_at, end


def digest_for(member: Member, absence: Absence, *, now: datetime | None = None) -> Digest:
    """Everything that reached ``member`` during ``absence``, most important first (D1).

    Order: conversations with messages from connections, then from others (each
    grouped per conversation, busiest first), pending invitations received while
    away (with notes and mutual connections, most mutual first), invitations
    accepted automatically, then what happened to the member's posts (mentions,
    comments, reactions as counts) when the posts app provides it. Each
    conversation and invitation says what the member did with it since (C4).
    """
    start, end = window_of(absence, now)
    digest = Digest(absence=absence, starts_at=start, ends_at=absence.effective_end)
    if end <= start:
        return digest
    digest.messages_from_connections, digest.messages_from_others = conversations_in(
        member, start, end
    )
    from backsoon.messaging.models import Message

    digest.auto_replies_sent = Message.objects.filter(
        sender=member, kind=Message.Kind.AUTO_REPLY, sent_at__gte=start, sent_at__lt=end
    ).count()
    received = invitations_in(member, start, end)
    for entry in received:
        if entry["auto_accepted"]:
            digest.auto_accepted.append(entry)
        elif entry["status"] == "pending":
            digest.invitations.append(entry)
        else:
            digest.invitations_answered.append(entry)
    digest.posts = _posts_section(member, start, end)
    return digest


def conversations_in(
    member: Member, start: datetime, end: datetime
) -> tuple[list[ConversationDigest], list[ConversationDigest]]:
    """The conversations in which others wrote to ``member`` in ``[start, end)``: those
    with messages from connections, and the others, each busiest first, with where
    each sits now and what the member did with it (replied, archived, declined,
    accepted). Seven queries whatever the flood."""
    from backsoon.messaging.models import Conversation, Message, Participant
    from backsoon.network.queries import connected_ids

    arrived = Message.objects.filter(
        conversation__participants__member=member,
        sent_at__gte=start,
        sent_at__lt=end,
    ).exclude(sender=member)
    groups = list(
        arrived.exclude(kind=Message.Kind.AUTO_REPLY)
        .values("conversation_id", "sender_id")
        .annotate(
            n=Count("id"), first_id=Min("id"), first_at=Min("sent_at"), last_at=Max("sent_at")
        )
    )
    if not groups:
        return [], []
    sender_ids = {g["sender_id"] for g in groups}
    senders = {m.pk: m for m in Member.objects.filter(pk__in=sender_ids)}
    cards = dict(zip(senders, member_cards(member, senders.values()), strict=True))
    connected = connected_ids(member.pk, sender_ids)
    first_ids = [g["first_id"] for g in groups]
    bodies = dict(Message.objects.filter(pk__in=first_ids).values_list("id", "body"))
    conversation_ids = {g["conversation_id"] for g in groups}
    conversations = {c.pk: c for c in Conversation.objects.filter(pk__in=conversation_ids)}
    mine: dict[int, dict[str, Any]] = {
        p["conversation_id"]: dict(p)
        for p in Participant.objects.filter(
            member=member, conversation_id__in=conversation_ids
        ).values("conversation_id", "folder", "declined", "labels")
    }
    # The member's own last (not automatic) message in each: a reply when it is later
    # than the first message that arrived while away.
    wrote = dict(
        Message.objects.filter(conversation_id__in=conversation_ids, sender=member)
        .exclude(kind=Message.Kind.AUTO_REPLY)
        .values("conversation_id")
        .annotate(last=Max("sent_at"))
        .values_list("conversation_id", "last")
    )

    per_conversation: dict[tuple[int, bool], list[dict[str, Any]]] = {}
    for g in groups:
        from_connection = g["sender_id"] in connected
        per_conversation.setdefault((g["conversation_id"], from_connection), []).append(g)
    from_connections: list[ConversationDigest] = []
    from_others: list[ConversationDigest] = []
    for (conversation_id, from_connection), rows in per_conversation.items():
        rows.sort(key=lambda r: r["first_at"])
        conversation = conversations[conversation_id]
        place: dict[str, Any] = mine.get(conversation_id, {})
        labels = place.get("labels") or []
        item = ConversationDigest(
            conversation_id=conversation_id,
            kind=conversation.kind,
            subject=conversation.subject,
            senders=[cards[r["sender_id"]] for r in rows],
            count=sum(r["n"] for r in rows),
            first_line=_first_line(bodies.get(rows[0]["first_id"], "")),
            first_at=rows[0]["first_at"],
            last_at=max(r["last_at"] for r in rows),
            link=f"/messaging/{conversation_id}/",
            folder=place.get("folder", "inbox"),
            known=any(label.get("code") == "known" for label in labels),
            handled=_handled(place, labels, wrote.get(conversation_id), rows[0]["first_at"]),
        )
        (from_connections if from_connection else from_others).append(item)
    for items in (from_connections, from_others):
        items.sort(key=lambda c: (-c.count, -c.last_at.timestamp(), c.conversation_id))
    return from_connections, from_others


def _handled(
    place: dict[str, Any], labels: list[dict[str, Any]], wrote_at: datetime | None, first: datetime
) -> list[str]:
    """What the member did with a conversation (C4): ``replied`` (wrote after the first
    message that arrived while away), ``declined``, ``archived``, ``accepted`` (a
    request let into the inbox)."""
    done = []
    if wrote_at is not None and wrote_at > first:
        done.append("replied")
    if place.get("declined"):
        done.append("declined")
    elif place.get("folder") == "archived":
        done.append("archived")
    elif any(label.get("code") == "known" and label.get("why") == "accepted" for label in labels):
        done.append("accepted")
    return done


def invitations_in(member: Member, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Invitations ``member`` received in ``[start, end)`` that were not withdrawn,
    pending or answered, most mutual connections first (I3, C4). Four queries."""
    from backsoon.network.models import Invitation
    from backsoon.network.queries import mutual_counts

    received = list(
        Invitation.objects.filter(to_member=member, created_at__gte=start, created_at__lt=end)
        .exclude(status=Invitation.Status.WITHDRAWN)
        .select_related("from_member")
        .order_by("created_at", "id")
    )
    inviters = {inv.from_member_id: inv.from_member for inv in received}
    inviter_cards = dict(zip(inviters, member_cards(member, inviters.values()), strict=True))
    mutual = mutual_counts(member.pk, inviters)
    entries: list[dict[str, Any]] = [
        {
            "id": inv.pk,
            "from": inv.from_member.username,
            "from_member": inviter_cards[inv.from_member_id],
            "note": inv.note,
            "status": inv.status,
            "auto_accepted": inv.auto_accepted,
            "labels": [str(label.get("code")) for label in inv.labels or []],
            "handled": None if inv.status == Invitation.Status.PENDING else inv.status,
            "created_at": inv.created_at,
            "mutual_connections": mutual.get(inv.from_member_id, 0),
            "link": "/network/",
        }
        for inv in received
    ]
    entries.sort(key=lambda e: (-e["mutual_connections"], e["created_at"], e["id"]))
    return entries


def _posts_section(member: Member, start: datetime, end: datetime) -> dict[str, Any]:
    """Mentions, comments and reaction counts from the posts app, if it provides them."""
    try:
        from backsoon.posts.queries import digest_activity
    except ImportError:
        return {
            "mentions": [],
            "comments": [],
            "reactions": {"total": 0, "by_type": {}, "posts": []},
        }
    return digest_activity(member=member, start=start, end=end)


PAGED_LISTS = (
    "messages_from_connections",
    "messages_from_others",
    "invitations",
    "invitations_answered",
    "auto_accepted",
    "mentions",
    "comments",
)


def page_of(
    items: list[Any], *, cursor: str | None, limit: int | None
) -> tuple[list[Any], str | None]:
    """One page of ``items`` from ``cursor`` (an opaque offset; None is the start) and the
    cursor of the next page (None at the end). Without ``limit``, everything.

    Raises:
        Invalid: a cursor that is not one this function gave.
    """
    try:
        offset = int(cursor) if cursor else 0
    except ValueError:
        offset = -1
    if offset < 0:
        raise Invalid(gettext("That cursor is not valid."), code="bad_cursor")
    if limit is None:
        return items[offset:], None
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, str(offset + limit) if more else None


def digest_payload(
    digest: Digest, *, limit: int | None = None, cursors: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """The Digest as JSON-ready values for the API; with ``limit``, each list is one page
    from its cursor in ``cursors`` and ``next`` gives each list's next cursor (C4)."""

    def conv(c: ConversationDigest) -> dict[str, Any]:
        return {
            "conversation": c.conversation_id,
            "kind": c.kind,
            "subject": c.subject,
            "senders": c.senders,
            "count": c.count,
            "first_line": c.first_line,
            "first_at": c.first_at,
            "last_at": c.last_at,
            "link": c.link,
            "folder": c.folder,
            "known": c.known,
            "handled": c.handled,
        }

    lists: dict[str, list[Any]] = {
        "messages_from_connections": [conv(c) for c in digest.messages_from_connections],
        "messages_from_others": [conv(c) for c in digest.messages_from_others],
        "invitations": digest.invitations,
        "invitations_answered": digest.invitations_answered,
        "auto_accepted": digest.auto_accepted,
        "mentions": digest.posts.get("mentions", []),
        "comments": digest.posts.get("comments", []),
    }
    after = cursors or {}
    following: dict[str, str | None] = {}
    for name in PAGED_LISTS:
        lists[name], following[name] = page_of(lists[name], cursor=after.get(name), limit=limit)
    return {
        "absence": digest.absence.pk,
        "starts_at": digest.starts_at,
        "ends_at": digest.ends_at,
        "totals": digest.totals,
        **lists,
        "auto_replies_sent": digest.auto_replies_sent,
        "reactions": digest.posts.get("reactions", {"total": 0, "by_type": {}, "posts": []}),
        "next": following,
    }


PER_DAY_MAX_DAYS = 366


def arrivals_per_day(member: Member, start: datetime, end: datetime) -> dict[str, Any]:
    """What arrived per day of ``[start, end)``, in the member's time zone (TRIAGE C4):
    messages from others (no automatic replies), invitations, reactions and comments on
    the member's posts. One grouped query per kind.

    Returns:
        ``{"days": [iso date], "messages": [n], "invitations": [n], "reactions": [n],
        "comments": [n]}``, one entry per day, days without anything included.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncDate

    from backsoon.messaging.models import Message
    from backsoon.network.models import Invitation

    zone = ZoneInfo(member.timezone)
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if end <= start:
        return {"days": [], "messages": [], "invitations": [], "reactions": [], "comments": []}
    last = min(last, first + timedelta(days=PER_DAY_MAX_DAYS - 1))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def per_day(rows: Any, at: str) -> list[int]:
        counts = dict(
            rows.annotate(day=TruncDate(at, tzinfo=zone))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        return [counts.get(day, 0) for day in days]

    window = {"__gte": start, "__lt": end}

    def between(field_name: str) -> dict[str, datetime]:
        return {field_name + k: v for k, v in window.items()}

    messages = (
        Message.objects.filter(conversation__participants__member=member, **between("sent_at"))
        .exclude(sender=member)
        .exclude(kind=Message.Kind.AUTO_REPLY)
        .order_by()
    )
    invitations = Invitation.objects.filter(to_member=member, **between("created_at")).order_by()
    series = {
        "days": [day.isoformat() for day in days],
        "messages": per_day(messages, "sent_at"),
        "invitations": per_day(invitations, "created_at"),
        "reactions": [0] * len(days),
        "comments": [0] * len(days),
    }
    try:
        from backsoon.posts.models import Comment, Reaction
    except ImportError:  # a Backsoon without the posts app
        return series
    mine = {"post__author": member, **between("created_at")}
    series["reactions"] = per_day(
        Reaction.objects.filter(**mine).exclude(member=member).order_by(), "created_at"
    )
    series["comments"] = per_day(
        Comment.objects.filter(**mine).exclude(author=member).order_by(), "created_at"
    )
    return series
