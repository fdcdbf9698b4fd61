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

from django.db.models import Count, Max, Min, Q

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards

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


@dataclass
class Digest:
    absence: Absence
    starts_at: datetime
    ends_at: datetime
    messages_from_connections: list[ConversationDigest] = field(default_factory=list)
    messages_from_others: list[ConversationDigest] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
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


def _first_line(body: str) -> str:
    line = body.strip().splitlines()[0] if body.strip() else ""
    return line if len(line) <= FIRST_LINE_CHARS else line[: FIRST_LINE_CHARS - 1] + "…"


def digest_for(member: Member, absence: Absence, *, now: datetime | None = None) -> Digest:
    """Everything that reached ``member`` during ``absence``, most important first (D1).

    Order: conversations with messages from connections, then from others (each
    grouped per conversation, busiest first), pending invitations received while
    away (with notes and mutual connections, most mutual first), invitations
    accepted automatically, then what happened to the member's posts (mentions,
    comments, reactions as counts) when the posts app provides it.
    """
    from backsoon.messaging.models import Conversation, Message
    from backsoon.network.models import Invitation
    from backsoon.network.queries import connected_ids, mutual_counts

    start = absence.starts_at
    end = min(absence.effective_end, now) if now else absence.effective_end
    digest = Digest(absence=absence, starts_at=start, ends_at=absence.effective_end)
    if end <= start:
        return digest

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
    digest.auto_replies_sent = Message.objects.filter(
        sender=member, kind=Message.Kind.AUTO_REPLY, sent_at__gte=start, sent_at__lt=end
    ).count()

    sender_ids = {g["sender_id"] for g in groups}
    senders = {m.pk: m for m in Member.objects.filter(pk__in=sender_ids)}
    cards = dict(zip(senders, member_cards(member, senders.values()), strict=True))
    connected = connected_ids(member.pk, sender_ids)
    first_ids = [g["first_id"] for g in groups]
    bodies = dict(Message.objects.filter(pk__in=first_ids).values_list("id", "body"))
    conversations = {
        c.pk: c for c in Conversation.objects.filter(pk__in={g["conversation_id"] for g in groups})
    }

    per_conversation: dict[tuple[int, bool], list[dict[str, Any]]] = {}
    for g in groups:
        from_connection = g["sender_id"] in connected
        per_conversation.setdefault((g["conversation_id"], from_connection), []).append(g)
    for (conversation_id, from_connection), rows in per_conversation.items():
        rows.sort(key=lambda r: r["first_at"])
        conversation = conversations[conversation_id]
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
        )
        target = (
            digest.messages_from_connections if from_connection else digest.messages_from_others
        )
        target.append(item)
    for items in (digest.messages_from_connections, digest.messages_from_others):
        items.sort(key=lambda c: (-c.count, -c.last_at.timestamp()))

    received = list(
        Invitation.objects.filter(to_member=member, created_at__gte=start, created_at__lt=end)
        .filter(Q(status=Invitation.Status.PENDING) | Q(auto_accepted=True))
        .select_related("from_member")
        .order_by("created_at")
    )
    inviters = {inv.from_member_id: inv.from_member for inv in received}
    inviter_cards = dict(zip(inviters, member_cards(member, inviters.values()), strict=True))
    mutual = mutual_counts(member.pk, inviters)
    for inv in received:
        entry = {
            "id": inv.pk,
            "from": inv.from_member.username,
            "from_member": inviter_cards[inv.from_member_id],
            "note": inv.note,
            "status": inv.status,
            "created_at": inv.created_at,
            "mutual_connections": mutual.get(inv.from_member_id, 0),
            "link": "/network/",
        }
        (digest.auto_accepted if inv.auto_accepted else digest.invitations).append(entry)
    digest.invitations.sort(key=lambda e: (-e["mutual_connections"], e["created_at"]))

    digest.posts = _posts_section(member, start, end)
    return digest


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


def digest_payload(digest: Digest) -> dict[str, Any]:
    """The Digest as JSON-ready values for the API."""

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
        }

    return {
        "absence": digest.absence.pk,
        "starts_at": digest.starts_at,
        "ends_at": digest.ends_at,
        "totals": digest.totals,
        "messages_from_connections": [conv(c) for c in digest.messages_from_connections],
        "messages_from_others": [conv(c) for c in digest.messages_from_others],
        "invitations": digest.invitations,
        "auto_accepted": digest.auto_accepted,
        "auto_replies_sent": digest.auto_replies_sent,
        "mentions": digest.posts.get("mentions", []),
        "comments": digest.posts.get("comments", []),
        "reactions": digest.posts.get("reactions", {"total": 0, "by_type": {}, "posts": []}),
    }
