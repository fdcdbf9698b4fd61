"""Conversations and messages API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from backsoon.accounts.models import Member
from backsoon.accounts.presenters import member_cards
from backsoon.apiauth import api_member
from backsoon.pagination import keyset_page
from backsoon.schemas import MAX_ID, AwayBadge, ErrorOut, MemberOut, Page, PageParams
from backsoon.triage.rules import labels_out

from . import actions, queries
from .models import Conversation, Message, Participant, SavedReply

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


class LabelOut(Schema):
    code: str
    reason: str


class SimilarOut(Schema):
    key: str
    count: int


class ConversationOut(Schema):
    id: int
    kind: str
    participants: list[MemberOut]
    subject: str
    last_message: MessageOut | None
    unread_count: int
    away: list[AwayNotice]
    # As the caller sees it (TRIAGE S1, C1, L1-L6).
    folder: str
    labels: list[LabelOut]
    similar: SimilarOut | None
    muted: bool


Folder = Literal["inbox", "requests", "archived"]
LabelCode = Literal["known", "mass", "collector", "note", "first_contact"]


class ConversationsQuery(PageParams):
    folder: Folder = "inbox"
    label: LabelCode | None = None
    similar: str | None = Field(None, max_length=20, pattern=r"^-?[0-9]{1,19}$")


class ConversationsFilter(Schema):
    folder: Folder | None = None
    label: LabelCode | None = None
    before: datetime | None = None
    similar: str | None = Field(None, max_length=20, pattern=r"^-?[0-9]{1,19}$")


class ConversationsBulkIn(Schema):
    action: Literal["archive", "unarchive", "read", "accept", "decline", "mute", "unmute", "reply"]
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(None, max_length=500)
    filter: ConversationsFilter | None = None
    # For ``reply`` only, exactly one of them (TRIAGE C3).
    template: int | None = Field(None, ge=1, le=MAX_ID)
    body: str | None = Field(None, min_length=1, max_length=8000)


class BulkOut(Schema):
    """``{changed}``, or ``{sent}`` for ``reply``."""

    changed: int | None = None
    sent: int | None = None


class TemplateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    body: str = Field(..., min_length=1, max_length=8000)


class TemplatePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    body: str | None = Field(None, min_length=1, max_length=8000)


class TemplateOut(Schema):
    id: int
    name: str
    body: str
    created_at: datetime
    updated_at: datetime


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
    viewer: Member, rows: list[tuple[Conversation, list[Member], Participant]]
) -> list[dict[str, Any]]:
    """Conversation payloads, with the viewer's folder, labels and group of similar
    texts; badges for every participant come from two queries in all, the similar
    counts from one."""
    everyone: dict[int, Member] = {}
    for _, members, _ in rows:
        for m in members:
            everyone[m.pk] = m
    cards = dict(zip(everyone, member_cards(viewer, everyone.values()), strict=True))
    similar: dict[tuple[str, int], int] = {}
    for folder in {mine.folder for _, _, mine in rows if mine.similar_key is not None}:
        keys = [mine.similar_key for _, _, mine in rows if mine.folder == folder]
        for key, count in queries.similar_counts(viewer, keys, folder).items():
            similar[(folder, key)] = count
    out = []
    for conversation, members, mine in rows:
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
                "unread_count": mine.unread_count,
                "away": away,
                "folder": mine.folder,
                "labels": labels_out(mine.labels),
                "similar": _similar(mine, similar),
                "muted": mine.muted,
            }
        )
    return out


def _similar(mine: Participant, counts: dict[tuple[str, int], int]) -> dict[str, Any] | None:
    """``{key, count}`` when other conversations of the viewer's folder hold similar
    texts (TRIAGE L6); the key is a string (a 63-bit number)."""
    if mine.similar_key is None:
        return None
    count = counts.get((mine.folder, mine.similar_key), 0)
    return {"key": str(mine.similar_key), "count": count} if count > 1 else None


def _prefetched_members(participant: Any) -> list[Member]:
    """The active members of a row from ``queries.inbox`` (prefetched, no query)."""
    return [q.member for q in participant.conversation.active_participants]


def _one(viewer: Member, conversation: Conversation) -> dict[str, Any]:
    queries.hide_blocked_last_messages(viewer, [conversation])
    participants = queries.active_participants(conversation)
    mine = next(p for p in participants if p.member_id == viewer.pk)
    return conversation_payloads(viewer, [(conversation, [p.member for p in participants], mine)])[
        0
    ]


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
def conversation_list(request: HttpRequest, params: Query[ConversationsQuery]) -> dict[str, Any]:
    """The member's conversations in a folder (default the inbox), newest activity
    first; ``label`` and ``similar`` narrow it (TRIAGE S1, C1, L1-L6)."""
    member = api_member(request)
    rows, next_cursor = keyset_page(
        queries.inbox(
            member,
            folder=params.folder,
            label=params.label,
            similar=int(params.similar) if params.similar is not None else None,
        ),
        order=["-last_message_at", "-conversation_id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    queries.hide_blocked_last_messages(member, rows)
    return {
        "items": conversation_payloads(
            member,
            [(p.conversation, _prefetched_members(p), p) for p in rows],
        ),
        "next_cursor": next_cursor,
    }


@router.get("/conversations/unread", response=UnreadOut)
def unread(request: HttpRequest) -> dict[str, int]:
    """Unread messages over all the member's conversations."""
    return {"unread": queries.unread_total(api_member(request))}


@router.post(
    "/conversations/bulk",
    response={200: BulkOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    exclude_none=True,
)
def conversations_bulk(request: HttpRequest, payload: ConversationsBulkIn) -> dict[str, int]:
    """One action on the conversations of ``ids``, or on every one matching ``filter``
    (not only a page); answers how many changed. A filter never archives or declines
    a conversation labelled ``known`` (TRIAGE L1, C1, C2).

    ``reply`` (C3) sends the saved reply ``template`` or ``body`` (exactly one) to
    each, ``{first_name}`` filled per conversation, as ordinary messages; at most 200
    conversations (422 ``too_many``), never a declined one by filter, and at most 600
    messages an hour (429). Answers ``{sent}``: replies sent (skipped ones, such as a
    block, not counted)."""
    f = payload.filter
    changed = actions.conversations_bulk(
        member=api_member(request),
        action=payload.action,
        ids=payload.ids,
        folder=f.folder if f else None,
        label=f.label if f else None,
        before=f.before if f else None,
        similar=int(f.similar) if f and f.similar is not None else None,
        template=payload.template,
        body=payload.body,
    )
    return {"sent" if payload.action == "reply" else "changed": changed}


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


# -- where a conversation sits (TRIAGE S3, C1) ------------------------------------------

_FOLDER_ACTIONS = {
    "accept": actions.conversation_accept,
    "decline": actions.conversation_decline,
    "report": actions.conversation_report,
    "archive": actions.conversation_archive,
    "unarchive": actions.conversation_unarchive,
    "unread": actions.conversation_mark_unread,
}


def _folder_endpoint(name: str) -> None:
    action = _FOLDER_ACTIONS[name]
    responses = {200: ConversationOut, 404: ErrorOut, 409: ErrorOut}

    def endpoint(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
        member = api_member(request)
        conversation = action(member=member, conversation_id=conversation_id)
        return _one(member, queries.conversation_for_member(member, conversation.pk))

    endpoint.__name__ = f"conversation_{name}"
    endpoint.__doc__ = {
        "accept": "Accept a message request: to the inbox, its sender known (409: not a request).",
        "decline": "Decline a message request, silently (409: not a request).",
        "report": "Report a message request: declined, sender blocked, moderators told.",
        "archive": "Archive; it returns on a new message from someone else unless muted.",
        "unarchive": "Back to the inbox (a declined request back to Requests).",
        "unread": "Mark unread: one unread until opened.",
    }[name]
    router.post(f"/conversations/{{conversation_id}}/{name}", response=responses)(endpoint)


for _name in _FOLDER_ACTIONS:
    _folder_endpoint(_name)


@router.post(
    "/conversations/{conversation_id}/mute", response={200: ConversationOut, 404: ErrorOut}
)
def conversation_mute(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Mute: no notification, live alert or unread badge; stays archived if archived."""
    member = api_member(request)
    conversation = actions.conversation_mute(
        member=member, conversation_id=conversation_id, muted=True
    )
    return _one(member, queries.conversation_for_member(member, conversation.pk))


@router.post(
    "/conversations/{conversation_id}/unmute", response={200: ConversationOut, 404: ErrorOut}
)
def conversation_unmute(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    member = api_member(request)
    conversation = actions.conversation_mute(
        member=member, conversation_id=conversation_id, muted=False
    )
    return _one(member, queries.conversation_for_member(member, conversation.pk))


# -- saved replies (TRIAGE C3): "templates" in the API -----------------------------------


def template_payload(reply: SavedReply) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "name": reply.name,
        "body": reply.body,
        "created_at": reply.created_at,
        "updated_at": reply.updated_at,
    }


@router.get("/me/templates", response=list[TemplateOut])
def template_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's saved replies, by name (at most 100)."""
    return [template_payload(r) for r in queries.saved_replies_of(api_member(request))]


@router.post("/me/templates", response={201: TemplateOut, 409: ErrorOut, 422: ErrorOut})
def template_create(request: HttpRequest, payload: TemplateIn) -> Status[dict[str, Any]]:
    """Save a reply; ``{first_name}`` is filled for each recipient when it is sent.
    409: the name is taken (whatever its case) or 100 are kept already."""
    reply = actions.saved_reply_create(
        member=api_member(request), name=payload.name, body=payload.body
    )
    return Status(201, template_payload(reply))


@router.patch(
    "/me/templates/{template_id}",
    response={200: TemplateOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def template_update(
    request: HttpRequest, template_id: int, payload: TemplatePatch
) -> dict[str, Any]:
    reply = actions.saved_reply_update(
        member=api_member(request),
        saved_reply_id=template_id,
        name=payload.name,
        body=payload.body,
    )
    return template_payload(reply)


@router.delete("/me/templates/{template_id}", response={204: None, 404: ErrorOut})
def template_delete(request: HttpRequest, template_id: int) -> Status[None]:
    actions.saved_reply_delete(member=api_member(request), saved_reply_id=template_id)
    return Status(204, None)
