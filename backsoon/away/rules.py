"""The out-of-office decision core: pure functions over plain values.

Nothing here touches the database or the clock; ``actions.py`` gathers the
values, calls these, and does the writing. Each rule cites AWAY-SPEC.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from backsoon import placeholders

MAX_REPEAT_AFTER_DAYS = 30
MAX_ABSENCE_DAYS = 366


class Audience(StrEnum):
    EVERYONE = "everyone"
    CONNECTIONS = "connections"
    NOBODY = "nobody"


class Skip(StrEnum):
    """Why no automatic reply is sent (the reason is logged and tested)."""

    NOT_DIRECT = "not_direct"  # R1: group conversations never get one
    AUTO_REPLY = "auto_reply"  # R2: never answer an automatic reply (no loops)
    BULK = "bulk"  # R2: nor sponsored or bulk messages
    BOT = "bot"  # R2: nor bots and system accounts
    SELF = "self"  # R2: nor yourself
    BLOCKED = "blocked"  # R2: nor a blocked member
    NOT_ACTIVE = "not_active"  # R9: only while the absence is active
    AUDIENCE = "audience"  # R4: the audience setting excludes this sender
    EMPTY = "empty"  # R9: nothing to say
    ALREADY = "already"  # R3: already answered this sender (within repeat_after_days)


@dataclass(frozen=True)
class AbsenceFacts:
    """What the rules need to know about one absence."""

    starts_at: datetime
    effective_end: datetime  # exclusive: ends_at, or ended_at if ended early
    message: str
    translations: Mapping[str, str] = field(default_factory=dict)
    audience: str = Audience.EVERYONE
    others_message: str = ""
    repeat_after_days: int | None = None


@dataclass(frozen=True)
class IncomingFacts:
    """What the rules need to know about the message that arrived."""

    sent_at: datetime
    is_direct: bool
    kind: str  # "normal", "auto_reply" or "bulk"
    sender_id: int
    recipient_id: int
    sender_is_bot: bool
    blocked: bool  # either member blocked the other
    sender_is_connection: bool  # at the moment the message arrived (R4)
    sender_language: str


@dataclass(frozen=True)
class ReplyDecision:
    send: bool
    text: str = ""
    skip: Skip | None = None


def is_active(absence: AbsenceFacts, at: datetime) -> bool:
    """A1/R9: ``starts_at <= at < effective_end``; a message exactly at the end gets nothing."""
    return absence.starts_at <= at < absence.effective_end


def visible_text(absence: AbsenceFacts, *, viewer_is_connection: bool, language: str) -> str:
    """The text a viewer may see in a badge or a reply (R4, R7, R8).

    Connections see ``message`` (in their language when a translation exists).
    Others see ``others_message`` when one is set; without one, they see ``message``
    only when the audience is everyone, and nothing otherwise.
    """
    if viewer_is_connection:
        return _translated(absence, language)
    if absence.others_message.strip():
        return absence.others_message
    if absence.audience == Audience.EVERYONE:
        return _translated(absence, language)
    return ""


def _translated(absence: AbsenceFacts, language: str) -> str:
    translated = absence.translations.get(language, "")
    return translated if translated.strip() else absence.message


def decide_reply(
    absence: AbsenceFacts, incoming: IncomingFacts, *, last_reply_at: datetime | None
) -> ReplyDecision:
    """Whether the away member answers ``incoming``, and with which text (before placeholders).

    Args:
        absence: the recipient's absence that covers the message time, if any.
        incoming: the message that arrived.
        last_reply_at: when this sender last got a reply for the current text of
            this absence, or None (R3: the record is per absence and text version).
    """
    if not incoming.is_direct:
        return ReplyDecision(False, skip=Skip.NOT_DIRECT)
    if incoming.kind == "auto_reply":
        return ReplyDecision(False, skip=Skip.AUTO_REPLY)
    if incoming.kind != "normal":
        return ReplyDecision(False, skip=Skip.BULK)
    if incoming.sender_id == incoming.recipient_id:
        return ReplyDecision(False, skip=Skip.SELF)
    if incoming.sender_is_bot:
        return ReplyDecision(False, skip=Skip.BOT)
    if incoming.blocked:
        return ReplyDecision(False, skip=Skip.BLOCKED)
    if not is_active(absence, incoming.sent_at):
        return ReplyDecision(False, skip=Skip.NOT_ACTIVE)
    if absence.audience == Audience.NOBODY:
        return ReplyDecision(False, skip=Skip.AUDIENCE)
    if (
        absence.audience == Audience.CONNECTIONS
        and not incoming.sender_is_connection
        and not absence.others_message.strip()
    ):
        return ReplyDecision(False, skip=Skip.AUDIENCE)
    text = visible_text(
        absence,
        viewer_is_connection=incoming.sender_is_connection,
        language=incoming.sender_language,
    )
    if not text.strip():
        return ReplyDecision(False, skip=Skip.EMPTY)
    if last_reply_at is not None and not repeat_due(
        last_reply_at, absence.repeat_after_days, incoming.sent_at
    ):
        return ReplyDecision(False, skip=Skip.ALREADY)
    return ReplyDecision(True, text=text)


@dataclass(frozen=True)
class ReplyPlan:
    """An automatic reply the rules allow: what ``message_send`` claims (R6) and writes.

    Plain values only, computed before the write transaction by :func:`reply_plan`.
    """

    absence_id: int
    message_version: int  # the reply text's version, the record's key (R3)
    sender_id: int  # who wrote the message, and receives the reply
    recipient_id: int  # the away member, who sends the reply
    text: str  # placeholders filled in (R7)
    record_id: int | None  # the sender's reply record for this text, if any
    last_sent_at: datetime | None  # that record's time, for the compare-and-set (R3)
    at: datetime


REPLY_MAX = 8000


def reply_plan(
    absence: AbsenceFacts,
    incoming: IncomingFacts,
    *,
    absence_id: int,
    message_version: int,
    record: tuple[int, datetime] | None,
    sender_first_name: str,
    return_date: Callable[[date], str],
    recipient_timezone: str,
    backup: str,
) -> ReplyPlan | None:
    """The reply to ``incoming`` (R1-R9), or None when none is due.

    Args:
        record: the sender's reply record for the absence's current text (id, when
            last sent), or None.
        return_date: writes the return day in the sender's language (R7); asked
            only when a reply is due.
        backup: ``{backup}`` as it is shown, "" without one.
    """
    last = record[1] if record is not None else None
    decision = decide_reply(absence, incoming, last_reply_at=last)
    if not decision.send:
        return None
    text = fill_placeholders(
        decision.text,
        first_name=sender_first_name,
        return_date=return_date(return_day(absence.effective_end, recipient_timezone)),
        backup=backup,
    )
    return ReplyPlan(
        absence_id=absence_id,
        message_version=message_version,
        sender_id=incoming.sender_id,
        recipient_id=incoming.recipient_id,
        text=text[:REPLY_MAX],
        record_id=record[0] if record is not None else None,
        last_sent_at=last,
        at=incoming.sent_at,
    )


def repeat_due(last_reply_at: datetime, repeat_after_days: int | None, at: datetime) -> bool:
    """R3: a fresh reply is due once ``repeat_after_days`` days have passed; never without it."""
    if not repeat_after_days:
        return False
    return at - last_reply_at >= timedelta(days=repeat_after_days)


def fill_placeholders(text: str, *, first_name: str, return_date: str, backup: str) -> str:
    """R7: replace exactly ``{first_name}``, ``{return_date}`` and ``{backup}``.

    Any other brace text stays as written; member text is never evaluated as a
    template (no format(), no template engine), so ``{0}`` or ``{x.__class__}`` is
    inert text.
    """
    values = {"first_name": first_name, "return_date": return_date, "backup": backup}
    return placeholders.fill_placeholders(text, values)


def last_day_away(effective_end: datetime, tz_name: str) -> date:
    """The last calendar day of the absence in the member's time zone (end is exclusive)."""
    return (effective_end - timedelta(microseconds=1)).astimezone(ZoneInfo(tz_name)).date()


def return_day(effective_end: datetime, tz_name: str) -> date:
    """The calendar day the member is back, in their time zone."""
    return effective_end.astimezone(ZoneInfo(tz_name)).date()


def whole_days_window(first_day: date, last_day: date, tz_name: str) -> tuple[datetime, datetime]:
    """A2: whole days ``first_day..last_day`` (both included) as a UTC half-open window.

    Midnight is taken in the member's time zone, so the window follows daylight
    saving changes (a day may be 23 or 25 hours long).
    """
    tz = ZoneInfo(tz_name)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


# How far ahead an absence may start by default (issue 14, finding 3): a plan for the
# next two years, not a date in the year 9999 that no page can show a return day for.
# The setting ABSENCE_MAX_START_AHEAD_DAYS may change it.
MAX_START_AHEAD_DAYS = 731


def window_problem(
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    max_start_ahead_days: int = MAX_START_AHEAD_DAYS,
) -> str | None:
    """A3: why ``[starts_at, ends_at)`` is not an acceptable absence window, or None.

    The end is after the start and in the future, the window at most
    ``MAX_ABSENCE_DAYS`` long, and the start at most ``max_start_ahead_days`` ahead.
    """
    if starts_at - now > timedelta(days=max_start_ahead_days):
        return gettext("An absence starts at most %(days)s days from now.") % {
            "days": max_start_ahead_days
        }
    if ends_at <= starts_at:
        return gettext("The end must be after the start.")
    if ends_at <= now:
        return gettext("The end must be in the future.")
    if ends_at - starts_at > timedelta(days=MAX_ABSENCE_DAYS):
        return gettext("An absence is at most %(max)s days long.") % {"max": MAX_ABSENCE_DAYS}
    return None
