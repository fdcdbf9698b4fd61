"""Invitations, connections, follows and blocks API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from backsoon.accounts.presenters import member_cards
from backsoon.apiauth import api_member
from backsoon.errors import Invalid
from backsoon.pagination import keyset_page
from backsoon.schemas import AwayBadge, ErrorOut, Id, MemberOut, Page, PageParams
from backsoon.triage.rules import CODES, labels_out

from . import actions, queries
from .models import Invitation

router = Router(tags=["network"])


class InvitationIn(Schema):
    to: str = Field(..., max_length=30)
    note: str = Field("", max_length=300)


class LabelOut(Schema):
    code: str
    reason: str


class InvitationOut(Schema):
    id: int
    from_: str = Field(..., alias="from")
    to: str
    note: str
    status: str
    created_at: datetime
    responded_at: datetime | None
    away: AwayBadge | None
    auto_accepted: bool
    from_member: MemberOut
    to_member: MemberOut
    mutual_connections: int
    # TRIAGE L1-L5: why it is in front of its recipient (empty for anyone else).
    labels: list[LabelOut]
    mutual_count: int


class InvitationQuery(PageParams):
    box: Literal["received", "sent"] = "received"
    status: Literal["pending", "accepted", "ignored", "withdrawn"] | None = None
    label: str | None = Field(None, max_length=20)
    min_mutual: int | None = Field(None, ge=0)
    max_mutual: int | None = Field(None, ge=0)
    has_note: bool | None = None


LabelCode = Literal["known", "mass", "collector", "note", "first_contact"]


class InvitationsFilterIn(Schema):
    """TRIAGE C2: every pending received invitation that matches, not only a page."""

    label: LabelCode | None = None
    min_mutual: int | None = Field(None, ge=0, le=1_000_000)
    max_mutual: int | None = Field(None, ge=0, le=1_000_000)
    has_note: bool | None = None
    before: datetime | None = None


class BulkIn(Schema):
    action: Literal["accept", "ignore"]
    ids: list[Id] | None = Field(None, max_length=500)
    filter: InvitationsFilterIn | None = None


class BulkOut(Page[InvitationOut]):
    """The changed invitations (at most ``actions.BULK_SHOWN``) and how many changed."""

    changed: int


class ConnectionsQuery(PageParams):
    q: str = Field("", max_length=100)


class MutualOut(Schema):
    count: int
    items: list[MemberOut]


def invitation_payloads(viewer, invitations: list[Invitation]) -> list[dict[str, Any]]:
    """Invitation payloads with member cards and mutual counts in a fixed number of queries."""
    members = {}
    for inv in invitations:
        members[inv.from_member_id] = inv.from_member
        members[inv.to_member_id] = inv.to_member
    cards = dict(zip(members, member_cards(viewer, members.values()), strict=True))
    others = [
        inv.from_member_id if inv.to_member_id == viewer.pk else inv.to_member_id
        for inv in invitations
    ]
    mutual = queries.mutual_counts(viewer.pk, others)
    # Labels are the recipient's: the sender sees none (TRIAGE "shown only to its recipient").
    return [
        {
            "id": inv.pk,
            "from": inv.from_member.username,
            "to": inv.to_member.username,
            "note": inv.note,
            "status": inv.status,
            "created_at": inv.created_at,
            "responded_at": inv.responded_at,
            "away": inv.away_badge,
            "auto_accepted": inv.auto_accepted,
            "from_member": cards[inv.from_member_id],
            "to_member": cards[inv.to_member_id],
            "mutual_connections": mutual.get(other, 0),
            "mutual_count": mutual.get(other, 0),
            "labels": labels_out(inv.labels) if inv.to_member_id == viewer.pk else [],
        }
        for inv, other in zip(invitations, others, strict=True)
    ]


RESPONSES_404 = {200: InvitationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.post(
    "/invitations",
    response={
        201: InvitationOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    by_alias=True,
)
def invitation_create(request: HttpRequest, payload: InvitationIn) -> Status[dict[str, Any]]:
    member = api_member(request)
    invitation = actions.invitation_send(sender=member, to_username=payload.to, note=payload.note)
    return Status(201, invitation_payloads(member, [invitation])[0])


@router.get("/invitations", response={200: Page[InvitationOut], 422: ErrorOut}, by_alias=True)
def invitation_list(request: HttpRequest, params: Query[InvitationQuery]) -> dict[str, Any]:
    member = api_member(request)
    if params.label is not None and params.label not in CODES:
        raise Invalid(
            gettext("Unknown label %(label)s: use one of %(codes)s.")
            % {"label": params.label, "codes": ", ".join(CODES)},
            code="unknown_label",
        )
    if params.label is not None and params.box != "received":
        raise Invalid(
            gettext("Labels are their recipient's: filter received invitations by label."),
            code="label_received_only",
        )
    if (
        params.min_mutual is not None
        and params.max_mutual is not None
        and params.min_mutual > params.max_mutual
    ):
        raise Invalid(gettext("min_mutual is more than max_mutual."), code="mutual_range_empty")
    invitations = queries.invitations_for(member, box=params.box, status=params.status)
    invitations = queries.invitations_filtered(
        invitations,
        member_id=member.pk,
        box=params.box,
        label=params.label,
        min_mutual=params.min_mutual,
        max_mutual=params.max_mutual,
        has_note=params.has_note,
    )
    rows, next_cursor = keyset_page(
        invitations,
        order=["-created_at", "-id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": invitation_payloads(member, rows), "next_cursor": next_cursor}


@router.post("/invitations/bulk", response={200: BulkOut, 422: ErrorOut}, by_alias=True)
def invitation_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Accept or ignore many received invitations at once: those of ``ids`` (pending
    ones only; others skipped) or every pending one matching ``filter`` (TRIAGE C2);
    exactly one of the two. ``changed`` counts them all, ``items`` lists the first 500."""
    member = api_member(request)
    f = payload.filter
    done = actions.invitations_bulk(
        member=member,
        accept=payload.action == "accept",
        invitation_ids=payload.ids,
        filter=actions.InvitationsFilter(**f.model_dump()) if f is not None else None,
    )
    rows = list(
        Invitation.objects.select_related("from_member", "to_member")
        .filter(pk__in=done.ids)
        .order_by("pk")
    )
    return {
        "items": invitation_payloads(member, rows),
        "next_cursor": None,
        "changed": done.changed,
    }


@router.post("/invitations/{invitation_id}/accept", response=RESPONSES_404, by_alias=True)
def invitation_accept(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    member = api_member(request)
    invitation = actions.invitation_accept(member=member, invitation_id=invitation_id)
    return invitation_payloads(member, [invitation])[0]


@router.post("/invitations/{invitation_id}/ignore", response=RESPONSES_404, by_alias=True)
def invitation_ignore(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    member = api_member(request)
    invitation = actions.invitation_ignore(member=member, invitation_id=invitation_id)
    return invitation_payloads(member, [invitation])[0]


@router.post("/invitations/{invitation_id}/withdraw", response=RESPONSES_404, by_alias=True)
def invitation_withdraw(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    member = api_member(request)
    invitation = actions.invitation_withdraw(member=member, invitation_id=invitation_id)
    return invitation_payloads(member, [invitation])[0]


@router.get(
    "/invitations/{invitation_id}", response={200: InvitationOut, 404: ErrorOut}, by_alias=True
)
def invitation_detail(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    member = api_member(request)
    return invitation_payloads(member, [queries.invitation_for_member(member, invitation_id)])[0]


@router.get("/connections", response={200: Page[MemberOut], 422: ErrorOut})
def connection_list(request: HttpRequest, params: Query[ConnectionsQuery]) -> dict[str, Any]:
    member = api_member(request)
    rows, next_cursor = keyset_page(
        queries.connections_of(member, q=params.q),
        order=["username"],
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": member_cards(member, rows), "next_cursor": next_cursor}


@router.delete("/connections/{username}", response={204: None, 404: ErrorOut})
def connection_delete(request: HttpRequest, username: str) -> Status[None]:
    actions.connection_remove(member=api_member(request), username=username)
    return Status(204, None)


@router.get("/members/{username}/mutual", response={200: MutualOut, 404: ErrorOut})
def mutual_list(request: HttpRequest, username: str) -> dict[str, Any]:
    """Connections you share with a member (count, and the first 100)."""
    from backsoon.accounts.queries import member_by_username

    member = api_member(request)
    other = member_by_username(username)
    rows = list(queries.mutual_connections(member.pk, other.pk).order_by("username")[:100])
    return {
        "count": queries.mutual_connection_count(member.pk, other.pk),
        "items": member_cards(member, rows),
    }


@router.post(
    "/members/{username}/follow",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def follow(request: HttpRequest, username: str) -> dict[str, Any]:
    member = api_member(request)
    other = actions.follow_create(member=member, username=username)
    return member_cards(member, [other])[0]


@router.delete("/members/{username}/follow", response={200: MemberOut, 404: ErrorOut})
def unfollow(request: HttpRequest, username: str) -> dict[str, Any]:
    member = api_member(request)
    other = actions.follow_remove(member=member, username=username)
    return member_cards(member, [other])[0]


@router.post("/members/{username}/block", response={204: None, 404: ErrorOut, 422: ErrorOut})
def block(request: HttpRequest, username: str) -> Status[None]:
    actions.block_create(member=api_member(request), username=username)
    return Status(204, None)


@router.delete("/members/{username}/block", response={204: None, 404: ErrorOut})
def unblock(request: HttpRequest, username: str) -> Status[None]:
    actions.block_remove(member=api_member(request), username=username)
    return Status(204, None)
