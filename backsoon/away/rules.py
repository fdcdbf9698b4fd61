"""The out-of-office decision core: pure functions over plain values.

Nothing here touches the database or the clock; ``actions.py`` gathers the
values, calls these, and does the writing. Each rule cites AWAY-SPEC.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
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
    # R7: ``others_message`` in other languages, and the language ``message`` and
    # ``others_message`` are written in (the member's own).
    others_translations: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"


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
    language: str = ""  # the language of ``text``: its dates are written in it (R7)


def is_active(absence: AbsenceFacts, at: datetime) -> bool:
    """A1/R9: ``starts_at <= at < effective_end``; a message exactly at the end gets nothing."""
    return absence.starts_at <= at < absence.effective_end


def visible_text(absence: AbsenceFacts, *, viewer_is_connection: bool, language: str) -> str:
    """The text a viewer may see in a badge or a reply (R4, R7, R8).

    Connections see ``message`` (in their language when a translation exists).
    Others see ``others_message`` (in their language when a translation exists) when
    one is set; without one, they see ``message`` only when the audience is everyone,
    and nothing otherwise.
    """
    return visible_reply(absence, viewer_is_connection=viewer_is_connection, language=language)[0]


def visible_reply(
    absence: AbsenceFacts, *, viewer_is_connection: bool, language: str
) -> tuple[str, str]:
    """:func:`visible_text` with the language it is written in (R7): the viewer's
    when a translation was used, else the member's own (``absence.language``), so
    that the dates filled into it are written in that same language."""
    if not viewer_is_connection:
        others = _translated(
            absence.others_message, absence.others_translations, absence.language, language
        )
        if others[0].strip():
            return others
        if absence.audience != Audience.EVERYONE:
            return "", absence.language
    return _translated(absence.message, absence.translations, absence.language, language)


def _any_text(translations: Mapping[str, str]) -> bool:
    return any(text.strip() for text in translations.values())


def _translated(
    text: str, translations: Mapping[str, str], own: str, language: str
) -> tuple[str, str]:
    translated = translations.get(language, "")
    if translated.strip():
        return translated, language
    return text, own


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
        and not _any_text(absence.others_translations)
    ):
        return ReplyDecision(False, skip=Skip.AUDIENCE)
    text, text_language = visible_reply(
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
    return ReplyDecision(True, text=text, language=text_language)


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
    return_date: Callable[[BackOn, str], str],
    recipient_timezone: str,
    backup: str,
    recipient_work_days: str = "12345",
) -> ReplyPlan | None:
    """The reply to ``incoming`` (R1-R9), or None when none is due.

    Args:
        record: the sender's reply record for the absence's current text (id, when
            last sent), or None.
        return_date: writes the return day (A6) in a language: the language of
            the reply's text, so a reply is never written in two (R7); asked only
            when a reply is due.
        recipient_work_days: the away member's working days (A6).
        backup: ``{backup}`` as it is shown, "" without one.
    """
    last = record[1] if record is not None else None
    decision = decide_reply(absence, incoming, last_reply_at=last)
    if not decision.send:
        return None
    text = fill_placeholders(
        decision.text,
        first_name=sender_first_name,
        return_date=return_date(
            back_on(absence.effective_end, recipient_timezone, recipient_work_days),
            decision.language,
        ),
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


def missing_placeholder_values(text: str, *, backup: str) -> list[str]:
    """Placeholders of ``text`` that would be filled with nothing, so that the reply
    would read wrong ("contact ."): today only ``{backup}`` without a backup."""
    return ["{backup}"] if "{backup}" in text and not backup.strip() else []


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
    """The calendar day the absence ends on, in the member's time zone (before A6's
    move past non-working days: see :func:`back_on`)."""
    return effective_end.astimezone(ZoneInfo(tz_name)).date()


# A6: the days a member works, as ISO weekday digits ("1" Monday .. "7" Sunday).
DEFAULT_WORK_DAYS = "12345"
# A6: an absence ending at or after this local time leaves nothing of that working
# day: the member is back on the next working day (an absence ending on Friday
# evening says back on Monday).
WORKDAY_OVER_AT = time(18, 0)


@dataclass(frozen=True)
class BackOn:
    """A6: when a member is back. ``at`` is set only when they are back during a
    working day at a time other than the start of that day."""

    day: date
    at: time | None = None


def work_days_clean(days: str) -> str:
    """``days`` as sorted unique ISO weekday digits; the default when none is valid."""
    kept = sorted({d for d in days if d in "1234567"})
    return "".join(kept) or DEFAULT_WORK_DAYS


def _start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``tz`` (midnight, or the end of a gap at midnight)."""
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def back_on(effective_end: datetime, tz_name: str, work_days: str = DEFAULT_WORK_DAYS) -> BackOn:
    """A6: the one return day every place names: the first day, in the member's zone,
    on which they are present, moved past their non-working days.

    Args:
        effective_end: the absence's exclusive end (UTC or any zone).
        tz_name: the member's IANA time zone; midnight and daylight saving follow it.
        work_days: ISO weekday digits of the days the member works ("12345": Monday to
            Friday); an empty or invalid value means Monday to Friday.

    Returns:
        The day, with the time of return when the absence ends during a working day
        at a time other than the start of that day (and before ``WORKDAY_OVER_AT``).
    """
    tz = ZoneInfo(tz_name)
    days = work_days_clean(work_days)
    local = effective_end.astimezone(tz)
    day = local.date()
    at: time | None = None
    if local != _start_of_day(day, tz):
        if local.time() >= WORKDAY_OVER_AT:
            day += timedelta(days=1)
        else:
            at = local.time().replace(second=0, microsecond=0)
    moved = day
    while str(moved.isoweekday()) not in days:
        moved += timedelta(days=1)
    if moved != day:
        at = None  # back at the start of a later working day
    return BackOn(day=moved, at=at)


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
