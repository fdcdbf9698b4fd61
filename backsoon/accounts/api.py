"""Members API: sign-up, tokens, me, member profiles and search."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from backsoon.apiauth import api_member
from backsoon.errors import Forbidden
from backsoon.pagination import keyset_page, offset_cursor, offset_from_cursor
from backsoon.schemas import ErrorOut, MemberOut, MeOut, Page, PageParams
from backsoon.web.net import client_ip

from . import actions, queries, two_factor
from .models import ApiToken, Member
from .presenters import me_card, member_card, member_cards

auth_router = Router(tags=["auth"])
me_router = Router(tags=["me"])
members_router = Router(tags=["members"])


class SignupIn(Schema):
    username: str = Field(..., max_length=30)
    email: str = Field(..., max_length=254)
    password: str = Field(..., max_length=128)
    display_name: str = Field(..., max_length=100)
    headline: str = Field("", max_length=220)
    language: str = Field("en", max_length=2)
    timezone: str = Field("Europe/Amsterdam", max_length=64)


class TokenIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=128)
    # Additions to API.md (optional; without them the answer is what API.md says).
    name: str = Field("api", max_length=100, description="What you call this token.")
    expires_in_days: int | None = Field(
        None, ge=1, le=365, description="Lifetime in days (default 90, at most 365)."
    )
    otp: str | None = Field(
        None,
        max_length=32,
        description="A code from the authenticator app, or a recovery code; "
        "required when two-factor authentication is on.",
    )


class TokenInfo(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool = Field(False, description="The token this request was made with.")


class TokenOut(TokenInfo):
    token: str = Field(..., description="The token itself: shown this once, never again.")


class TokenCreateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=365)
    password: str = Field(..., max_length=128, description="Your current password.")
    otp: str | None = Field(None, max_length=32)


class PasswordIn(Schema):
    current_password: str = Field(..., max_length=128)
    new_password: str = Field(..., max_length=128)


class MePatch(Schema):
    display_name: str | None = Field(None, max_length=100)
    headline: str | None = Field(None, max_length=220)
    language: str | None = Field(None, max_length=2)
    timezone: str | None = Field(None, max_length=64)
    inbox_policy: str | None = Field(None, max_length=8)
    # ISO weekdays the member works, 1 (Monday) .. 7 (Sunday) (AWAY-SPEC A6).
    work_days: list[int] | None = Field(None, max_length=7)


class MemberSearch(PageParams):
    q: str = Field("", max_length=100)


@auth_router.post("/signup", auth=None, response={201: MeOut, 409: ErrorOut, 422: ErrorOut})
def signup(request: HttpRequest, payload: SignupIn) -> Status[dict[str, Any]]:
    member = actions.member_create(
        username=payload.username,
        email=payload.email,
        password=payload.password,
        display_name=payload.display_name,
        headline=payload.headline or "",
        language=payload.language or "en",
        timezone_name=payload.timezone or "Europe/Amsterdam",
    )
    return Status(201, me_card(member))


def _token_out(token: str, row: ApiToken, current: bool = False) -> dict[str, Any]:
    return {**_token_info(row, current_id=row.pk if current else None), "token": token}


def _token_info(row: ApiToken, current_id: int | None) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "expires_at": row.expires_at,
        "current": row.pk == current_id,
    }


def _second_factor(member: Member, otp: str | None, ip: str) -> None:
    """Check the code when ``member`` has two-factor authentication on.

    Raises:
        Forbidden: ``otp_required`` or ``bad_otp``; RateLimited: too many wrong codes.
    """
    if two_factor.two_factor_enabled(member):
        two_factor.two_factor_check(member=member, code=otp or "", ip=ip)


@auth_router.post(
    "/token", auth=None, response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut}
)
def token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    ip = client_ip(request)
    member = actions.member_authenticate(
        username=payload.username, password=payload.password, ip=ip
    )
    if member is None:
        return Status(
            401, {"detail": gettext("Wrong username or password."), "code": "bad_credentials"}
        )
    try:
        _second_factor(member, payload.otp, ip)
    except Forbidden as exc:
        # Not signed in yet: the missing or wrong code is a credential problem (401).
        return Status(401, {"detail": exc.detail, "code": exc.code})
    token, row = actions.token_create(
        member=member, name=payload.name or "api", expires_in_days=payload.expires_in_days
    )
    return Status(200, _token_out(token, row))


@me_router.get("", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    return me_card(api_member(request))


@me_router.patch("", response={200: MeOut, 422: ErrorOut})
def me_update(request: HttpRequest, payload: MePatch) -> Status[dict[str, Any]]:
    member = actions.member_update_profile(
        member=api_member(request),
        display_name=payload.display_name,
        headline=payload.headline,
        language=payload.language,
        timezone_name=payload.timezone,
        inbox_policy=payload.inbox_policy,
        work_days=payload.work_days,
    )
    return Status(200, me_card(member))


@me_router.get("/tokens", response={200: Page[TokenInfo], 422: ErrorOut})
def tokens_list(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """Your working tokens (neither revoked nor expired), newest first."""
    rows, next_cursor = keyset_page(
        queries.tokens_working(api_member(request), now=timezone.now()),
        order=["-created_at", "-id"],
        cursor=params.cursor,
        limit=params.limit,
    )
    current = getattr(request, "api_token_id", None)
    return {"items": [_token_info(r, current) for r in rows], "next_cursor": next_cursor}


@me_router.post("/tokens", response={201: TokenOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def tokens_create(request: HttpRequest, payload: TokenCreateIn) -> Status[dict[str, Any]]:
    """A new token; needs your password (and a code with two-factor authentication on),
    so that a token alone can not make tokens that outlive it."""
    member = api_member(request)
    ip = client_ip(request)
    if (
        actions.member_authenticate(username=member.username, password=payload.password, ip=ip)
        is None
    ):
        raise Forbidden(gettext("Your password is not right."), code="wrong_password")
    _second_factor(member, payload.otp, ip)
    token, row = actions.token_create(
        member=member, name=payload.name, expires_in_days=payload.expires_in_days
    )
    return Status(201, _token_out(token, row))


@me_router.delete("/tokens/{token_id}", response={204: None, 404: ErrorOut})
def tokens_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    """Revoke one of your tokens (the one in use too): it answers 401 from then on."""
    actions.token_revoke(member=api_member(request), token_id=token_id)
    return Status(204, None)


@me_router.post("/password", response={200: TokenOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def password_change(request: HttpRequest, payload: PasswordIn) -> Status[dict[str, Any]]:
    """Change your password. Every token is revoked, the one of this request included,
    and every web session ends; the answer carries a new token to go on with."""
    member = api_member(request)
    current = ApiToken.objects.filter(pk=getattr(request, "api_token_id", 0)).first()
    actions.member_change_password(
        member=member,
        current_password=payload.current_password,
        new_password=payload.new_password,
        ip=client_ip(request),
    )
    token, row = actions.token_create(member=member, name=current.name if current else "api")
    return Status(200, _token_out(token, row, current=True))


class MemberSearchPage(Page[MemberOut]):
    count: int = Field(..., description="How many members match, on every page.")


@members_router.get("", response={200: MemberSearchPage, 422: ErrorOut})
def members_list(request: HttpRequest, params: Query[MemberSearch]) -> dict[str, Any]:
    """Members matching `q` in their name, username or headline (every word the start
    of a word), best first: the whole name or username, then a whole first or last
    name, then the start of a name or username, then the rest; among equals your
    connections, then members you share connections with, then more followers.
    `count` adds how many match (an addition to API.md)."""
    viewer = api_member(request)
    search = queries.members_search(viewer=viewer, q=params.q)
    offset = offset_from_cursor(params.cursor)
    count = search.count()
    hits = search.hits(offset=offset, limit=params.limit + 1) if offset < count else []
    more = len(hits) > params.limit
    rows = [hit.member for hit in hits[: params.limit]]
    return {
        "items": member_cards(viewer, rows),
        "next_cursor": offset_cursor(offset + params.limit) if more else None,
        "count": count,
    }


@members_router.get("/{username}", response={200: MemberOut, 404: ErrorOut})
def member_detail(request: HttpRequest, username: str) -> dict[str, Any]:
    viewer = api_member(request)
    return member_card(viewer, queries.member_by_username(username))
