"""The pure decision core of AWAY-SPEC, rule by rule, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from backsoon.away.rules import (
    AbsenceFacts,
    IncomingFacts,
    Skip,
    decide_reply,
    fill_placeholders,
    is_active,
    last_day_away,
    return_day,
    visible_text,
    whole_days_window,
    window_problem,
)

T0 = datetime(2026, 12, 21, 8, 0, tzinfo=UTC)
ABSENCE = AbsenceFacts(
    starts_at=T0,
    effective_end=T0 + timedelta(days=10),
    message="Away, back {return_date}.",
    translations={"nl": "Afwezig, terug {return_date}."},
    audience="everyone",
)
MSG = IncomingFacts(
    sent_at=T0 + timedelta(days=1),
    is_direct=True,
    kind="normal",
    sender_id=1,
    recipient_id=2,
    sender_is_bot=False,
    blocked=False,
    sender_is_connection=True,
    sender_language="en",
)


def test_A1_active_is_half_open_window():
    assert not is_active(ABSENCE, T0 - timedelta(microseconds=1))
    assert is_active(ABSENCE, T0)
    assert is_active(ABSENCE, ABSENCE.effective_end - timedelta(microseconds=1))
    assert not is_active(ABSENCE, ABSENCE.effective_end)


def test_A2_whole_days_include_first_and_last_day_in_member_timezone():
    start, end = whole_days_window(date(2026, 12, 22), date(2027, 1, 2), "Europe/Amsterdam")
    assert start == datetime(2026, 12, 21, 23, 0, tzinfo=UTC)
    assert end == datetime(2027, 1, 2, 23, 0, tzinfo=UTC)
    assert last_day_away(end, "Europe/Amsterdam") == date(2027, 1, 2)
    assert return_day(end, "Europe/Amsterdam") == date(2027, 1, 3)


def test_A2_whole_days_across_daylight_saving_change():
    # Amsterdam springs forward on 28 March 2027: that day has 23 hours.
    start, end = whole_days_window(date(2027, 3, 27), date(2027, 3, 28), "Europe/Amsterdam")
    assert start == datetime(2027, 3, 26, 23, 0, tzinfo=UTC)
    assert end == datetime(2027, 3, 28, 22, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=47)
    # And back on 31 October 2027: 25 hours.
    start, end = whole_days_window(date(2027, 10, 31), date(2027, 10, 31), "Europe/Amsterdam")
    assert end - start == timedelta(hours=25)


def test_A3_window_must_end_after_start_in_future_and_within_366_days():
    now = T0
    assert window_problem(T0, T0, now) == "The end must be after the start."
    assert window_problem(T0 - timedelta(days=2), T0 - timedelta(days=1), now) is not None
    assert window_problem(T0, T0 + timedelta(days=366), now) is None
    assert "366" in (window_problem(T0, T0 + timedelta(days=367), now) or "")
    assert window_problem(T0 - timedelta(days=1), T0 + timedelta(hours=1), now) is None


def test_R1_group_conversations_never_get_a_reply():
    assert (
        decide_reply(ABSENCE, replace(MSG, is_direct=False), last_reply_at=None).skip
        == Skip.NOT_DIRECT
    )


@pytest.mark.parametrize(
    ("change", "skip"),
    [
        ({"kind": "auto_reply"}, Skip.AUTO_REPLY),
        ({"kind": "bulk"}, Skip.BULK),
        ({"sender_is_bot": True}, Skip.BOT),
        ({"blocked": True}, Skip.BLOCKED),
        ({"sender_id": 2}, Skip.SELF),
    ],
)
def test_R2_no_reply_to_auto_reply_bot_bulk_blocked_or_self(change, skip):
    decision = decide_reply(ABSENCE, replace(MSG, **change), last_reply_at=None)
    assert not decision.send
    assert decision.skip == skip


def test_R3_one_reply_per_sender_without_repeat():
    assert decide_reply(ABSENCE, MSG, last_reply_at=None).send
    later = replace(MSG, sent_at=MSG.sent_at + timedelta(days=5))
    assert decide_reply(ABSENCE, later, last_reply_at=MSG.sent_at).skip == Skip.ALREADY


def test_R3_repeat_after_days_allows_a_fresh_reply_after_n_days():
    absence = replace(ABSENCE, repeat_after_days=2)
    first = MSG.sent_at
    too_soon = replace(MSG, sent_at=first + timedelta(days=2) - timedelta(seconds=1))
    assert decide_reply(absence, too_soon, last_reply_at=first).skip == Skip.ALREADY
    due = replace(MSG, sent_at=first + timedelta(days=2))
    assert decide_reply(absence, due, last_reply_at=first).send


def test_R4_audience_everyone_connections_nobody():
    stranger = replace(MSG, sender_is_connection=False)
    assert decide_reply(ABSENCE, stranger, last_reply_at=None).send
    connections = replace(ABSENCE, audience="connections")
    assert decide_reply(connections, MSG, last_reply_at=None).send
    assert decide_reply(connections, stranger, last_reply_at=None).skip == Skip.AUDIENCE
    with_others = replace(connections, others_message="I am out; mail office@example.com")
    decision = decide_reply(with_others, stranger, last_reply_at=None)
    assert decision.send and decision.text == "I am out; mail office@example.com"
    nobody = replace(ABSENCE, audience="nobody")
    assert decide_reply(nobody, MSG, last_reply_at=None).skip == Skip.AUDIENCE


def test_R7_reply_in_sender_language_when_translated_else_message():
    nl = decide_reply(ABSENCE, replace(MSG, sender_language="nl"), last_reply_at=None)
    assert nl.text == "Afwezig, terug {return_date}."
    en = decide_reply(ABSENCE, MSG, last_reply_at=None)
    assert en.text == "Away, back {return_date}."
    blank_nl = replace(ABSENCE, translations={"nl": "  "})
    assert decide_reply(blank_nl, replace(MSG, sender_language="nl"), last_reply_at=None).text == (
        "Away, back {return_date}."
    )


def test_R7_placeholders_filled_other_braces_untouched_never_evaluated():
    text = (
        "Hi {first_name}, back {return_date}; ask {backup}. "
        "{0} {x.__class__} {{first_name}} {unknown}"
    )
    out = fill_placeholders(text, first_name="Ana", return_date="3 January", backup="Bo (@bo)")
    assert out == "Hi Ana, back 3 January; ask Bo (@bo). {0} {x.__class__} {Ana} {unknown}"
    evil = fill_placeholders("{first_name}", first_name="{return_date}", return_date="X", backup="")
    assert evil == "{return_date}"  # substituted values are not expanded again


def test_R8_non_connection_sees_only_what_the_member_chose():
    private = replace(ABSENCE, audience="connections", message="At the hospital until Friday")
    assert visible_text(private, viewer_is_connection=False, language="en") == ""
    assert (
        visible_text(private, viewer_is_connection=True, language="en")
        == "At the hospital until Friday"
    )
    public = replace(private, others_message="Out of office")
    assert visible_text(public, viewer_is_connection=False, language="en") == "Out of office"
    everyone = replace(ABSENCE, others_message="Out of office")
    assert visible_text(everyone, viewer_is_connection=False, language="en") == "Out of office"


def test_R9_no_reply_outside_window_or_with_empty_message():
    at_end = replace(MSG, sent_at=ABSENCE.effective_end)
    assert decide_reply(ABSENCE, at_end, last_reply_at=None).skip == Skip.NOT_ACTIVE
    before = replace(MSG, sent_at=T0 - timedelta(seconds=1))
    assert decide_reply(ABSENCE, before, last_reply_at=None).skip == Skip.NOT_ACTIVE
    empty = replace(ABSENCE, message="  ", translations={})
    assert decide_reply(empty, MSG, last_reply_at=None).skip == Skip.EMPTY
