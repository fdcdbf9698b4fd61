"""Schemas shared by every app's API: pages and the member card."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from ninja import Field, Schema
from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(Schema):
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


class AwayBadge(Schema):
    """What a viewer may see of an away member (AWAY-SPEC P1, R8)."""

    until: datetime
    until_date: date
    message: str
    backup: str | None


class MemberOut(Schema):
    username: str
    display_name: str
    headline: str
    connections_count: int
    followers_count: int
    away: AwayBadge | None


class MeOut(MemberOut):
    email: str
    language: str
    timezone: str
