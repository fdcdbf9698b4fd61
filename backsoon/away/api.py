"""Absences (out of office) API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from backsoon.apiauth import api_member
from backsoon.pagination import keyset_page
from backsoon.schemas import ErrorOut, Id, MemberOut, Page, PageParams

from . import actions, queries
from .digest import PAGED_LISTS, digest_for, digest_payload
from .models import Absence

router = Router(tags=["absences"])

Text = Field(None, max_length=2000)


class AbsencePatch(Schema):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    message: str | None = Text
    translations: (
        dict[Annotated[str, Field(max_length=2)], Annotated[str, Field(max_length=2000)]] | None
    ) = None
    audience: Literal["everyone", "connections", "nobody"] | None = None
    others_message: str | None = Text
    others_translations: (
        dict[Annotated[str, Field(max_length=2)], Annotated[str, Field(max_length=2000)]] | None
    ) = None
    backup: str | None = Field(None, max_length=30)
    repeat_after_days: int | None = Field(None, ge=1, le=30)
    invitations: Literal["hold", "auto_accept_mutual"] | None = None


class AbsenceIn(AbsencePatch):
    starts_at: datetime
    ends_at: datetime


class AbsenceOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime
    message: str
    translations: dict[str, str]
    audience: str
    others_message: str
    others_translations: dict[str, str]
    backup: str | None
    repeat_after_days: int | None
    invitations: str
    state: Literal["scheduled", "active", "ended"]
    created_at: datetime
    ended_at: datetime | None
    source: str


def absence_payload(absence: Absence, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "id": absence.pk,
        "starts_at": absence.starts_at,
        "ends_at": absence.ends_at,
        "message": absence.message,
        "translations": absence.translations or {},
        "audience": absence.audience,
        "others_message": absence.others_message,
        "others_translations": absence.others_translations or {},
        "backup": absence.backup.username if absence.backup else None,
        "repeat_after_days": absence.repeat_after_days,
        "invitations": absence.invitations,
        "state": absence.state(now),
        "created_at": absence.created_at,
        "ended_at": absence.ended_at,
        "source": absence.source,
    }


def _input(payload: AbsencePatch) -> actions.AbsenceInput:
    given = payload.model_dump(exclude_unset=True)
    data = actions.AbsenceInput(**given)
    data.given = frozenset(given)
    return data


@router.post("", response={201: AbsenceOut, 409: ErrorOut, 422: ErrorOut})
def absence_create(request: HttpRequest, payload: AbsenceIn) -> Status[dict[str, Any]]:
    member = api_member(request)
    absence = actions.absence_create(member=member, data=_input(payload))
    return Status(201, absence_payload(absence))


@router.get("", response={200: Page[AbsenceOut], 422: ErrorOut})
def absence_list(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """The member's absences, latest start first (scheduled, active and past)."""
    member = api_member(request)
    rows, next_cursor = keyset_page(
        queries.absences_of(member),
        order=["-starts_at", "-id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    now = timezone.now()
    return {"items": [absence_payload(a, now) for a in rows], "next_cursor": next_cursor}


@router.get("/{absence_id}", response={200: AbsenceOut, 404: ErrorOut})
def absence_detail(request: HttpRequest, absence_id: int) -> dict[str, Any]:
    member = api_member(request)
    return absence_payload(queries.absence_for_member(member, absence_id))


@router.patch(
    "/{absence_id}", response={200: AbsenceOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def absence_update(request: HttpRequest, absence_id: int, payload: AbsencePatch) -> dict[str, Any]:
    member = api_member(request)
    absence = actions.absence_update(member=member, absence_id=absence_id, data=_input(payload))
    return absence_payload(absence)


@router.delete("/{absence_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def absence_delete(request: HttpRequest, absence_id: int) -> Status[None]:
    actions.absence_delete(member=api_member(request), absence_id=absence_id)
    return Status(204, None)


@router.post(
    "/{absence_id}/end", response={200: AbsenceOut, 204: None, 404: ErrorOut, 409: ErrorOut}
)
def absence_end(request: HttpRequest, absence_id: int) -> Status[Any]:
    """End an active absence now (200, the absence); a scheduled one is cancelled (204)."""
    member = api_member(request)
    ended = actions.absence_end(member=member, absence_id=absence_id)
    if ended is None:
        return Status(204, None)
    return Status(200, absence_payload(ended))


class DigestInvitationsIn(Schema):
    action: Literal["accept", "ignore"]
    ids: list[Id] | None = Field(None, max_length=1000)
    min_mutual: int | None = Field(None, ge=0, le=10000)


class AnsweredOut(Schema):
    answered: list[int]


class DigestTotals(Schema):
    messages_from_connections: int
    messages_from_others: int
    conversations: int
    invitations: int
    auto_accepted: int
    auto_replies_sent: int
    mentions: int
    comments: int
    reactions: int


class DigestConversation(Schema):
    conversation: int
    kind: str
    subject: str
    senders: list[MemberOut]
    count: int
    first_line: str
    first_at: datetime
    last_at: datetime
    link: str
    folder: str
    known: bool
    handled: list[Literal["replied", "archived", "declined", "accepted"]]


class DigestInvitation(Schema):
    id: int
    from_: str = Field(..., alias="from")
    from_member: MemberOut
    note: str
    status: str
    created_at: datetime
    mutual_connections: int
    link: str
    labels: list[str]
    handled: Literal["accepted", "ignored"] | None


class DigestNext(Schema):
    """The cursor of each list's next page (with ``per_list``); null at the end."""

    messages_from_connections: str | None
    messages_from_others: str | None
    invitations: str | None
    invitations_answered: str | None
    auto_accepted: str | None
    mentions: str | None
    comments: str | None


class DigestQuery(Schema):
    """Paging (TRIAGE C4): with ``per_list``, each list holds at most that many items
    from its own cursor; without it every list is whole, as before. (Not ``limit``: the
    digest is one object of many lists, not a Page.)"""

    per_list: int | None = Field(None, ge=1, le=200)
    messages_from_connections_cursor: str | None = Field(None, max_length=12)
    messages_from_others_cursor: str | None = Field(None, max_length=12)
    invitations_cursor: str | None = Field(None, max_length=12)
    invitations_answered_cursor: str | None = Field(None, max_length=12)
    auto_accepted_cursor: str | None = Field(None, max_length=12)
    mentions_cursor: str | None = Field(None, max_length=12)
    comments_cursor: str | None = Field(None, max_length=12)


class DigestMention(Schema):
    post: int
    kind: Literal["post", "comment"]
    actor: str
    actor_name: str
    excerpt: str
    at: datetime
    link: str


class DigestPost(Schema):
    post: int
    excerpt: str
    link: str
    count: int


class DigestComments(DigestPost):
    last_at: datetime


class DigestReactions(Schema):
    total: int
    by_type: dict[str, int]
    posts: list[DigestPost]


class DigestOut(Schema):
    """The return digest (AWAY-SPEC D1), most important first."""

    absence: int
    starts_at: datetime
    ends_at: datetime
    totals: DigestTotals
    messages_from_connections: list[DigestConversation]
    messages_from_others: list[DigestConversation]
    invitations: list[DigestInvitation]
    invitations_answered: list[DigestInvitation]
    auto_accepted: list[DigestInvitation]
    auto_replies_sent: int
    mentions: list[DigestMention]
    comments: list[DigestComments]
    reactions: DigestReactions
    next: DigestNext


@router.get(
    "/{absence_id}/digest", response={200: DigestOut, 404: ErrorOut, 422: ErrorOut}, by_alias=True
)
def absence_digest(
    request: HttpRequest, absence_id: int, params: Query[DigestQuery]
) -> dict[str, Any]:
    """What arrived while away, most important first (AWAY-SPEC D1): messages from
    connections, other messages, invitations, mentions, comments, reactions; each
    item says whether it was handled, and with ``per_list`` each list pages (TRIAGE C4)."""
    member = api_member(request)
    absence = queries.absence_for_member(member, absence_id)
    cursors = {name: getattr(params, f"{name}_cursor") for name in PAGED_LISTS}
    return digest_payload(digest_for(member, absence), limit=params.per_list, cursors=cursors)


@router.post(
    "/{absence_id}/digest/invitations", response={200: AnsweredOut, 404: ErrorOut, 422: ErrorOut}
)
def absence_digest_invitations(
    request: HttpRequest, absence_id: int, payload: DigestInvitationsIn
) -> dict[str, Any]:
    """Accept or ignore in bulk the pending invitations of a digest (AWAY-SPEC I3)."""
    member = api_member(request)
    answered = actions.digest_invitations_respond(
        member=member,
        absence_id=absence_id,
        accept=payload.action == "accept",
        ids=payload.ids,
        min_mutual=payload.min_mutual,
    )
    return {"answered": answered}
