"""Schemas shared by every app's API: the error shape, pages and the member card.

Below every app's ``api.py`` and ``backsoon/api.py``: it imports none of them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from ninja import Field, Schema
from pydantic import BaseModel

T = TypeVar("T")

# The largest id a database row can have (a BigAutoField, signed 64 bits).
MAX_ID = 2**63 - 1
# An object id in a request body or query: a larger number is refused with 422
# instead of overflowing the database driver (a 500).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ErrorOut(Schema):
    """Every 4xx answer: ``detail`` for people (a list for validation errors), ``code``
    for programs."""

    detail: Any
    code: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(20, ge=1, le=100)


class AwayBadge(Schema):
    """What a viewer may see of an away member (AWAY-SPEC P1, R8)."""

    until: datetime
    until_date: date
    # AWAY-SPEC A6: the day the member is back, past non-working days (None only in
    # badges stored before it existed, such as an invitation's).
    back_on: date | None = None
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
    inbox_policy: str
    work_days: list[int]  # ISO weekdays, 1 Monday .. 7 Sunday (AWAY-SPEC A6)
