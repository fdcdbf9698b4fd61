"""Clearing the demo's return inbox from the digest (TRIAGE C5), shared by the browser
journey (tests/browser/test_journey_clear.py) and bench/bench_clear.py.

The decisions: accept invitations from people with at least one mutual connection or
with a personal note that is not ``mass``; ignore the rest; reply to every known
contact's conversation; decline every request; mark notifications read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def one_by_one_count(member: Any, absence: Any) -> dict[str, int]:
    """What one-by-one handling needs, read from the database before clearing: one
    action per invitation and per conversation of the digest, and per unread
    notification (a notification row is already a group: repeats join it)."""
    from backsoon.away.digest import digest_for
    from backsoon.notifications.models import Notification

    digest = digest_for(member, absence)
    conversations = len(digest.messages_from_connections) + len(digest.messages_from_others)
    notifications = Notification.objects.filter(
        recipient=member, read_at__isnull=True, created_at__gte=absence.starts_at
    ).count()
    counts = {
        "invitations": len(digest.invitations),
        "conversations": conversations,
        "notification_groups": notifications,
    }
    counts["total"] = sum(counts.values())
    return counts


@dataclass
class Clicks:
    """Every click or form submission of the journey goes through ``click``."""

    done: list[str] = field(default_factory=list)

    def click(self, locator: Any, why: str) -> None:
        self.done.append(why)
        with locator.page.expect_navigation():
            locator.click()

    @property
    def count(self) -> int:
        return len(self.done)


def reply_to_known_contacts(page: Any, clicks: Clicks) -> None:
    """Reply to every known contact's conversation not answered yet with the saved
    reply the trainer prepared (TRIAGE C3): one click on the digest's "Reply with
    'Back from holiday'" (messaging's bulk reply through ``message_send``)."""
    form = page.get_by_test_id("rest-connections")
    clicks.click(form.get_by_test_id("rest-saved-reply").first, "reply with a saved reply")


def clear_return_inbox(page: Any, base: str, clicks: Clicks) -> None:
    """From the out-of-office page of a member who is away: end the absence (which
    leads to the digest) and clear it with the decisions above."""
    page.goto(base + "/away/")
    clicks.click(page.get_by_test_id("away-end").first, "end now")
    assert "/digest/" in page.url, page.url
    clicks.click(
        page.get_by_test_id("accept-likely").locator("button[type=submit]"),
        "accept invitations with a mutual connection or a personal note (not mass)",
    )
    clicks.click(
        page.get_by_test_id("rest-invitations").locator("button[type=submit]"),
        "ignore the other invitations",
    )
    reply_to_known_contacts(page, clicks)
    clicks.click(
        page.get_by_test_id("rest-others").locator("button[type=submit]"),
        "decline every request",
    )
    rest = page.get_by_test_id("rest-notifications")
    if rest.count():
        clicks.click(rest.locator("button[type=submit]"), "mark notifications read")
