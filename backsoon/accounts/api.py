"""Members API: sign-up, tokens, me, member profiles and search."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from backsoon.apiauth import api_member
from backsoon.pagination import keyset_page
from backsoon.schemas import ErrorOut, MemberOut, MeOut, Page, PageParams
from backsoon.web.net import client_ip

from . import actions, queries
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


class TokenOut(Schema):
    token: str


class MePatch(Schema):
    display_name: str | None = Field(None, max_length=100)
    headline: str | None = Field(None, max_length=220)
    language: str | None = Field(None, max_length=2)
    timezone: str | None = Field(None, max_length=64)


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


@auth_router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut})
def token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    member = actions.member_authenticate(
        username=payload.username, password=payload.password, ip=client_ip(request)
    )
    if member is None:
        return Status(
            401, {"detail": gettext("Wrong username or password."), "code": "bad_credentials"}
        )
    return Status(200, {"token": actions.token_issue(member=member, name="api")})


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
    )
    return Status(200, me_card(member))


@members_router.get("", response={200: Page[MemberOut], 422: ErrorOut})
def members_list(request: HttpRequest, params: Query[MemberSearch]) -> dict[str, Any]:
    viewer = api_member(request)
    rows, next_cursor = keyset_page(
        queries.members_search(viewer=viewer, q=params.q),
        order=["username"],
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": member_cards(viewer, rows), "next_cursor": next_cursor}


@members_router.get("/{username}", response={200: MemberOut, 404: ErrorOut})
def member_detail(request: HttpRequest, username: str) -> dict[str, Any]:
    viewer = api_member(request)
    return member_card(viewer, queries.member_by_username(username))
