"""Conversations and messages API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.apiauth import api_member
from backsoon.pagination import keyset_page
from backsoon.schemas import MAX_ID, AwayBadge, ErrorOut, MemberOut, Page, PageParams

from . import actions, queries
from .models import Conversation, Message

router = Router(tags=["messaging"])


Username = Annotated[str, Field(max_length=30)]


class ConversationIn(Schema):
    participants: list[Username] = Field(..., min_length=1, max_length=60)
    subject: str = Field("", max_length=200)


class ParticipantsIn(Schema):
    participants: list[Username] = Field(..., min_length=1, max_length=50)


class MessageIn(Schema):
    body: str = Field(..., min_length=1, max_length=8000)
    client_key: str | None = Field(None, min_length=1, max_length=64)


class MessageOut(Schema):
    id: int
    conversation: int
    sender: str
    body: str
    sent_at: datetime
    auto_reply: bool
    kind: str


class AwayNotice(AwayBadge):
    username: str
    display_name: str


class ConversationOut(Schema):
    id: int
    kind: str
    participants: list[MemberOut]
    subject: str
    last_message: MessageOut | None
    unread_count: int
    away: list[AwayNotice]


class MessagesQuery(PageParams):
    after: int | None = Field(None, ge=0, le=MAX_ID)


class UnreadOut(Schema):
    unread: int


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender": message.sender.username,
        "body": message.body,
        "sent_at": message.sent_at,
        "auto_reply": message.kind == Message.Kind.AUTO_REPLY,
        "kind": message.kind,
    }


def conversation_payloads(
    viewer: Member, rows: list[tuple[Conversation, list[Member], int]]
) -> list[dict[str, Any]]:
    """Conversation payloads; badges for every participant come from two queries in all."""
    everyone: dict[int, Member] = {}
    for _, members, _ in rows:
        for m in members:
            everyone[m.pk] = m
    cards = dict(zip(everyone, member_cards(viewer, everyone.values()), strict=True))
    out = []
    for conversation, members, unread in rows:
        participant_cards = [cards[m.pk] for m in members]
        away = [
            {**card["away"], "username": card["username"], "display_name": card["display_name"]}
            for card in participant_cards
            if card["away"] and card["username"] != viewer.username
        ]
        last = conversation.last_message
        out.append(
            {
                "id": conversation.pk,
                "kind": conversation.kind,
                "participants": participant_cards,
                "subject": conversation.subject,
                "last_message": message_payload(last) if last else None,
                "unread_count": unread,
                "away": away,
            }
        )
    return out


def _prefetched_members(participant: Any) -> list[Member]:
    """The active members of a row from ``queries.inbox`` (prefetched, no query)."""
    return [q.member for q in participant.conversation.active_participants]


def _one(viewer: Member, conversation: Conversation) -> dict[str, Any]:
    queries.hide_blocked_last_messages(viewer, [conversation])
    participants = queries.active_participants(conversation)
    mine = next(p for p in participants if p.member_id == viewer.pk)
    return conversation_payloads(
        viewer, [(conversation, [p.member for p in participants], mine.unread_count)]
    )[0]


@router.post(
    "/conversations",
    response={
        200: ConversationOut,
        201: ConversationOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
)
def conversation_create(request: HttpRequest, payload: ConversationIn) -> Status[dict[str, Any]]:
    member = api_member(request)
    conversation, created = actions.conversation_start(
        creator=member, usernames=payload.participants, subject=payload.subject
    )
    return Status(201 if created else 200, _one(member, conversation))


@router.get("/conversations", response={200: Page[ConversationOut], 422: ErrorOut})
def conversation_list(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """The member's conversations, newest activity first."""
    member = api_member(request)
    rows, next_cursor = keyset_page(
        queries.inbox(member),
        order=["-last_message_at", "-conversation_id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    queries.hide_blocked_last_messages(member, rows)
    return {
        "items": conversation_payloads(
            member,
            [(p.conversation, _prefetched_members(p), p.unread_count) for p in rows],
        ),
        "next_cursor": next_cursor,
    }


@router.get("/conversations/unread", response=UnreadOut)
def unread(request: HttpRequest) -> dict[str, int]:
    """Unread messages over all the member's conversations."""
    return {"unread": queries.unread_total(api_member(request))}


@router.get("/conversations/{conversation_id}", response={200: ConversationOut, 404: ErrorOut})
def conversation_detail(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    member = api_member(request)
    return _one(member, queries.conversation_for_member(member, conversation_id))


@router.post(
    "/conversations/{conversation_id}/messages",
    response={201: MessageOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def message_create(
    request: HttpRequest, conversation_id: int, payload: MessageIn
) -> Status[dict[str, Any]]:
    member = api_member(request)
    message = actions.message_send(
        sender=member,
        conversation_id=conversation_id,
        body=payload.body,
        client_key=payload.client_key,
    )
    message.sender = member
    return Status(201, message_payload(message))


@router.get(
    "/conversations/{conversation_id}/messages",
    response={200: Page[MessageOut], 404: ErrorOut, 422: ErrorOut},
)
def message_list(
    request: HttpRequest, conversation_id: int, params: Query[MessagesQuery]
) -> dict[str, Any]:
    """Messages oldest first; ``after`` (a message id) or ``cursor`` continues a listing."""
    member = api_member(request)
    conversation = queries.conversation_for_member(member, conversation_id)
    qs = queries.messages_of(conversation, viewer=member)
    if params.after is not None:
        qs = qs.filter(pk__gt=params.after)
    rows, next_cursor = keyset_page(qs, order=["id"], cursor=params.cursor, limit=params.limit)
    return {"items": [message_payload(m) for m in rows], "next_cursor": next_cursor}


@router.post("/conversations/{conversation_id}/read", response={204: None, 404: ErrorOut})
def mark_read(request: HttpRequest, conversation_id: int) -> Status[None]:
    actions.conversation_mark_read(member=api_member(request), conversation_id=conversation_id)
    return Status(204, None)


@router.post(
    "/conversations/{conversation_id}/participants",
    response={200: ConversationOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def participants_add(
    request: HttpRequest, conversation_id: int, payload: ParticipantsIn
) -> dict[str, Any]:
    member = api_member(request)
    conversation = actions.conversation_add_participants(
        member=member, conversation_id=conversation_id, usernames=payload.participants
    )
    return _one(member, conversation)


@router.post(
    "/conversations/{conversation_id}/leave", response={204: None, 404: ErrorOut, 422: ErrorOut}
)
def leave(request: HttpRequest, conversation_id: int) -> Status[None]:
    actions.conversation_leave(member=api_member(request), conversation_id=conversation_id)
    return Status(204, None)
