"""Reads about absences: who is away now, what a viewer may see of it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.db.rows import convert_value
from backsoon.errors import NotFound

from . import storage
from .models import Absence, AutoReplyRecord
from .rules import (
    AbsenceFacts,
    IncomingFacts,
    ReplyPlan,
    fill_placeholders,
    last_day_away,
    repeat_due,
    reply_plan,
    visible_reply,
)
from .storage import ABSENCE, MEMBER
from .texts import backup_label, format_back_on, member_back_on

log = logging.getLogger(__name__)
_ABSENCE_BACKUP = Absence._meta.get_field("backup")


def active_filter(at: datetime) -> Q:
    """Absences active at ``at`` (A1), as a filter: computed from stored times only."""
    return Q(starts_at__lte=at, ends_at__gt=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))


def active_absences(member_ids: Iterable[int], at: datetime | None = None) -> dict[int, Absence]:
    """The active absence of each given member who is away at ``at`` (one query)."""
    ids = list(set(member_ids))
    if not ids:
        return {}
    at = at or timezone.now()
    rows = Absence.objects.filter(active_filter(at), member_id__in=ids).select_related(
        "backup", "member"
    )
    return {a.member_id: a for a in rows}


ReplyRecord = tuple[int, datetime]  # an AutoReplyRecord's id and last_sent_at


@dataclass(frozen=True)
class AwayNow:
    """An away member's active absence as the send path reads it: the facts that tell
    whether this sender is answered (again, R3), and the absence with its backup,
    turned into values only when a reply may be due (one message in many)."""

    absence_id: int
    member_id: int
    message_version: int
    repeat_after_days: int | None
    record: ReplyRecord | None  # the sender's reply record for the current text
    sender_is_connection: bool
    row: tuple[Any, ...] = ()  # the absence's and its backup's columns

    def absence(self) -> Absence:
        """The whole absence, with its backup."""
        absence = ABSENCE.load(self.row)
        _ABSENCE_BACKUP.set_cached_value(absence, MEMBER.load_optional(self.row, ABSENCE.width))
        return absence


_ID, _MEMBER_ID, _REPEAT, _VERSION = (
    ABSENCE.names.index(n) for n in ("id", "member_id", "repeat_after_days", "message_version")
)


def absences_for_send(
    members: Iterable[Member], sender_id: int, at: datetime
) -> dict[int, AwayNow]:
    """``active_absences`` for the send path: for each of ``members`` who is away at
    ``at``, the active absence with what decides an automatic reply to ``sender_id``:
    their reply record for its current text (R3) and whether they are connected (R8).
    One statement (``storage.absences_for_send_rows``)."""
    ids = [m.pk for m in members]
    if not ids:
        return {}
    found: dict[int, AwayNow] = {}
    for record_id, last_sent_at, connected, *row in storage.absences_for_send_rows(
        ids, sender_id, at
    ):
        record = None
        if record_id is not None:
            record = (record_id, convert_value(AutoReplyRecord, "last_sent_at", last_sent_at))
        found[row[_MEMBER_ID]] = AwayNow(
            absence_id=row[_ID],
            member_id=row[_MEMBER_ID],
            message_version=row[_VERSION],
            repeat_after_days=row[_REPEAT],
            record=record,
            sender_is_connection=bool(connected),
            row=tuple(row),
        )
    return found


def auto_reply_plan(
    *, away: AwayNow, sender: Member, recipient: Member, kind: str, at: datetime
) -> ReplyPlan | None:
    """Whether the away ``recipient`` answers a direct message from ``sender`` arriving
    at ``at``, and with which text: away's decision, which ``message_send`` asks for
    before its write transaction, then claims (``actions.auto_reply_claim``) and
    writes itself.

    ``away`` is the recipient's active absence with ``sender``'s reply record for its
    current text and whether the two are connected (``absences_for_send``): a sender
    already answered is told apart without loading the absence (R3). A stale read here
    can never cause a second reply: the claim is a unique insert or a compare-and-set
    update inside the transaction (R6). Any error yields None (R5: a reply problem
    never fails the delivery).
    """
    record = away.record
    try:
        if record is not None and not repeat_due(record[1], away.repeat_after_days, at):
            return None  # R3, without loading the absence
        absence = away.absence()
        incoming = IncomingFacts(
            sent_at=at,
            is_direct=True,
            kind=kind,
            sender_id=sender.pk,
            recipient_id=recipient.pk,
            sender_is_bot=sender.is_bot,
            blocked=False,  # message_send refuses messages across a block before this
            sender_is_connection=away.sender_is_connection,
            sender_language=sender.language,
        )
        return reply_plan(
            facts(absence, language=recipient.language),
            incoming,
            absence_id=away.absence_id,
            message_version=away.message_version,
            record=record,
            sender_first_name=sender.first_name,
            return_date=format_back_on,
            recipient_timezone=recipient.timezone,
            recipient_work_days=recipient.work_days,
            backup=backup_label(absence.backup),
        )
    except Exception:  # R5: never fail the delivery
        log.exception("automatic reply not prepared for sender %s", sender.pk)
        return None


def active_absence(member_id: int, at: datetime | None = None) -> Absence | None:
    return active_absences([member_id], at).get(member_id)


def facts(absence: Absence, *, language: str | None = None) -> AbsenceFacts:
    """The rules' view of ``absence``; ``language`` is the member's (the language of
    ``message`` and ``others_message``), read from ``absence.member`` when not given."""
    return AbsenceFacts(
        language=language or absence.member.language,
        others_translations=absence.others_translations or {},
        starts_at=absence.starts_at,
        effective_end=absence.effective_end,
        message=absence.message,
        translations=absence.translations or {},
        audience=absence.audience,
        others_message=absence.others_message,
        repeat_after_days=absence.repeat_after_days,
    )


def badge(
    absence: Absence,
    *,
    viewer_is_connection: bool,
    language: str,
    viewer_first_name: str = "",
) -> dict[str, Any]:
    """The Away badge as one viewer may see it (P1, R8), its text filled in as the
    automatic reply would be for that viewer (R7), with the return day of A6.

    ``back_on`` is the day (the API's ISO date); ``back_text`` the day as pages write
    it in the viewer's ``language``, a time included when there is one.
    """
    member = absence.member
    show_backup = viewer_is_connection or absence.audience == Absence.Audience.EVERYONE
    backup = absence.backup if show_backup else None
    text, text_language = visible_reply(
        facts(absence), viewer_is_connection=viewer_is_connection, language=language
    )
    back = member_back_on(absence.effective_end, member)
    return {
        "until": absence.effective_end,
        "until_date": last_day_away(absence.effective_end, member.timezone),
        "back_on": back.day,
        "back_text": format_back_on(back, language),
        "message": fill_placeholders(
            text,
            first_name=viewer_first_name,
            return_date=format_back_on(back, text_language),
            backup=backup_label(backup),
        ),
        "backup": backup.username if backup else None,
    }


def badges_for(
    *, viewer: Member | None, members: list[Member], at: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Away badges of ``members`` as ``viewer`` may see them, keyed by member id.

    At most two queries for any number of members: the active absences, and the
    viewer's connections among the away members.
    """
    from backsoon.network.queries import connected_ids

    away = active_absences([m.pk for m in members], at)
    if not away:
        return {}
    connected: set[int] = set()
    if viewer is not None:
        connected = connected_ids(viewer.pk, [mid for mid in away if mid != viewer.pk])
        connected.add(viewer.pk)  # you see your own badge in full
    language = viewer.language if viewer is not None else "en"
    first_name = viewer.first_name if viewer is not None else ""
    return {
        member_id: badge(
            absence,
            viewer_is_connection=member_id in connected,
            language=language,
            viewer_first_name=first_name,
        )
        for member_id, absence in away.items()
    }


def absence_for_member(member: Member, absence_id: int) -> Absence:
    """One of ``member``'s own absences.

    Raises:
        NotFound: no such absence, or it is someone else's.
    """
    absence = (
        Absence.objects.select_related("backup", "member")
        .filter(pk=absence_id, member=member)
        .first()
    )
    if absence is None:
        raise NotFound(gettext("No such absence."), code="absence_not_found")
    return absence


def absences_of(member: Member) -> QuerySet[Absence]:
    return Absence.objects.filter(member=member).select_related("backup", "member")


def overlapping(
    member_id: int, starts_at: datetime, ends_at: datetime, *, exclude_id: int | None = None
) -> Absence | None:
    """Another absence of the member whose effective window meets ``[starts_at, ends_at)``."""
    qs = Absence.objects.filter(member_id=member_id, starts_at__lt=ends_at).filter(
        Q(ended_at__isnull=True, ends_at__gt=starts_at)
        | Q(ended_at__isnull=False, ended_at__gt=starts_at, ends_at__gt=starts_at)
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("starts_at").first()
