"""Messaging's side of the return digest, the cockpit (TRIAGE C4): handling the
conversations of an absence's digest in place, by ids or "the rest" of a section, and
answering the connections not answered yet. Away owns the digest and what it lists
(``backsoon.away.digest``); the writes to conversations are messaging's, so they live
here and away never imports messaging's writes (issue 13, item 3).
"""

from __future__ import annotations

from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.away import queries as away_queries
from backsoon.away.digest import conversations_in, window_of
from backsoon.errors import Invalid

from .actions import BULK_IDS_MAX, conversations_bulk

DIGEST_CONVERSATION_ACTIONS = ("archive", "decline", "accept", "read", "rest")
DIGEST_REPLY_MAX = 200


def digest_conversations_handle(
    *,
    member: Member,
    absence_id: int,
    action: str,
    ids: list[int] | None = None,
    section: str | None = None,
) -> int:
    """Handle conversations of an absence's digest (TRIAGE C4): those of ``ids``, or,
    with ``action="rest"``, every one of ``section`` ("connections" or "others") that
    is not handled yet: requests are declined, other conversations archived.

    "The rest" never archives or declines a conversation labelled ``known`` (L1): only
    naming it by id does. Changes go through ``conversations_bulk`` in chunks.

    Returns:
        How many conversations changed.

    Raises:
        NotFound: not the member's absence. Invalid: unknown action or section, or
        no selection.
    """
    if action not in DIGEST_CONVERSATION_ACTIONS:
        raise Invalid(
            gettext("Unknown action: %(action)s.") % {"action": action}, code="invalid_action"
        )
    absence = away_queries.absence_for_member(member, absence_id)
    connections, others = conversations_in(member, *window_of(absence))
    listed = connections + others
    plan: dict[str, list[int]] = {}
    if action == "rest":
        if section not in ("connections", "others"):
            raise Invalid(gettext("Choose a section."), code="bad_section")
        for item in connections if section == "connections" else others:
            if item.handled or item.known:
                continue
            plan.setdefault("decline" if item.request else "archive", []).append(
                item.conversation_id
            )
    else:
        if not ids:
            raise Invalid(gettext("Choose conversations."), code="no_selection")
        wanted = set(ids)
        plan[action] = [c.conversation_id for c in listed if c.conversation_id in wanted]
    changed = 0
    for name, chosen in plan.items():
        for at in range(0, len(chosen), BULK_IDS_MAX):
            changed += conversations_bulk(
                member=member, action=name, ids=chosen[at : at + BULK_IDS_MAX]
            )
    return changed


def digest_reply_rest(
    *, member: Member, absence_id: int, body: str | None = None, template: int | None = None
) -> int:
    """Answer every conversation from a connection in an absence's digest that the
    member has not replied to, archived or declined yet (TRIAGE C4), with ``body`` or
    the saved reply ``template`` (exactly one): messaging's bulk reply (C3), so each is
    an ordinary message through ``message_send`` with ``{first_name}`` filled, at most
    200 in one action.

    Returns:
        How many messages were sent.

    Raises:
        NotFound: not the member's absence, or not one of their saved replies.
        Invalid: an empty text, or both or neither of ``body`` and ``template``.
    """
    if template is None and not (body or "").strip():
        raise Invalid(gettext("Write a reply first."), code="empty_body")
    absence = away_queries.absence_for_member(member, absence_id)
    connections, _others = conversations_in(member, *window_of(absence))
    waiting = [c.conversation_id for c in connections if not c.handled][:DIGEST_REPLY_MAX]
    if not waiting:
        return 0
    return conversations_bulk(
        member=member,
        action="reply",
        ids=waiting,
        template=template,
        body=None if template is not None else body,
    )
