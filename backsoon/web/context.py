"""Template context for the header: unread messages and notifications of the member."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from backsoon import counts
from backsoon.accounts.models import Member


class HeaderCounts:
    """The header's numbers, each one cheap query, run only when a template uses it;
    the same functions as ``GET /me/counts`` (``backsoon.counts``)."""

    def __init__(self, member: Member) -> None:
        self.member = member

    @cached_property
    def messages(self) -> int:
        return counts.inbox_unread(self.member)

    @cached_property
    def requests(self) -> int:
        return counts.requests_pending(self.member)

    @cached_property
    def invitations(self) -> int:
        return counts.invitations_pending(self.member)

    @cached_property
    def notifications(self) -> int:
        return counts.notifications_unread(self.member)

    def as_dict(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "requests": self.requests,
            "invitations": self.invitations,
            "notifications": self.notifications,
        }


def header_counts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, Member) or not user.is_authenticated:
        return {}
    return {"header_counts": HeaderCounts(user)}
