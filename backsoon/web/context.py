"""Template context for the header: unread messages and notifications of the member."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from backsoon.accounts.models import Member


class HeaderCounts:
    """The header's two numbers, each one cheap query, run only when a template uses it."""

    def __init__(self, member: Member) -> None:
        self.member = member

    @cached_property
    def messages(self) -> int:
        from backsoon.messaging.queries import unread_total

        return unread_total(self.member)

    @cached_property
    def notifications(self) -> int:
        from backsoon.notifications.queries import unread_count

        return unread_count(self.member)

    def as_dict(self) -> dict[str, int]:
        return {"messages": self.messages, "notifications": self.notifications}


def header_counts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, Member) or not user.is_authenticated:
        return {}
    return {"header_counts": HeaderCounts(user)}
