"""Reading absences from iCalendar files (issue 3): the pure parser, rule by rule.

No database. Each fixture is written here as the calendar app would export it.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from backsoon.away.calendar.export import ExportedAbsence, absences_to_ics
from backsoon.away.calendar.parse import (
    DEFAULT_KEYWORDS,
    MAX_OCCURRENCES,
    normalize_keywords,
    parse_absence_events,
)
from backsoon.away.rules import whole_days_window

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
AMS = "Europe/Amsterdam"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def calendar(*events: str, head: str = "") -> bytes:
    """A VCALENDAR around the given VEVENT texts, with CRLF line ends as RFC 5545 wants."""
    text = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Backsoon tests//EN\n"
        + head
        + "".join(events)
        + "END:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n").encode()


def event(uid: str, summary: str, start: str, end: str | None = None, extra: str = "") -> str:
    """A VEVENT; ``start``/``end`` follow the property name (e.g. ';VALUE=DATE:2030...')."""
    lines = (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20291201T000000Z\nSUMMARY:{summary}\nDTSTART{start}\n"
    )
    if end is not None:
        lines += f"DTEND{end}\n"
    return lines + extra + "END:VEVENT\n"


def parse(data: bytes, *, keywords=DEFAULT_KEYWORDS, tz_name: str = AMS, now: datetime = NOW):
    return parse_absence_events(data, tz_name=tz_name, keywords=list(keywords), now=now)


OUTLOOK_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""

# Outlook's export: the absence says nothing in its title; the busy status says OOF.
OUTLOOK_OOF = calendar(
    event(
        "040000008200E00074C5B7101A82E00800000000A1B2C3D4",
        "Conference in Lisbon",
        ";TZID=W. Europe Standard Time:20300506T090000",
        ";TZID=W. Europe Standard Time:20300508T170000",
        "X-MICROSOFT-CDO-BUSYSTATUS:OOF\nX-MICROSOFT-CDO-INTENDEDSTATUS:OOF\nTRANSP:OPAQUE\n",
    ),
    event(
        "040000008200E00074C5B7101A82E00800000000DEADBEEF",
        "Team meeting",
        ";TZID=W. Europe Standard Time:20300506T100000",
        ";TZID=W. Europe Standard Time:20300506T110000",
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\n",
    ),
    head="METHOD:PUBLISH\nX-WR-CALNAME:Calendar\n" + OUTLOOK_VTIMEZONE,
)


def test_outlook_oof_event_is_an_absence_in_its_vtimezone():
    result = parse(OUTLOOK_OOF)
    assert result.problems == []
    [window] = result.events
    assert window.uid == "040000008200E00074C5B7101A82E00800000000A1B2C3D4"
    assert window.recurrence_id == ""
    assert window.summary == "Conference in Lisbon"
    # 09:00 and 17:00 summer time (UTC+2) in the VTIMEZONE.
    assert (window.starts_at, window.ends_at) == (utc(2030, 5, 6, 7), utc(2030, 5, 8, 15))


@pytest.mark.parametrize("status", ["OOF", "oof", "OUTOFOFFICE"])
def test_busy_status_out_of_office_spellings(status):
    data = calendar(
        event(
            "a",
            "Lisbon",
            ":20300506T090000Z",
            ":20300506T170000Z",
            f"X-MICROSOFT-CDO-BUSYSTATUS:{status}\n",
        )
    )
    assert [w.uid for w in parse(data).events] == ["a"]


def test_the_vtimezone_definition_is_what_counts():
    zone = (
        "BEGIN:VTIMEZONE\nTZID:Backsoon Test Zone\nBEGIN:STANDARD\nDTSTART:19700101T000000\n"
        "TZOFFSETFROM:+0530\nTZOFFSETTO:+0530\nEND:STANDARD\nEND:VTIMEZONE\n"
    )
    data = calendar(
        event(
            "z",
            "Vacation",
            ";TZID=Backsoon Test Zone:20300506T090000",
            ";TZID=Backsoon Test Zone:20300506T180000",
        ),
        head=zone,
    )
    [window] = parse(data).events
    assert (window.starts_at, window.ends_at) == (utc(2030, 5, 6, 3, 30), utc(2030, 5, 6, 12, 30))


def test_nextcloud_out_of_office_event():
    data = calendar(
        event(
            "nc-ooo-42@cloud.example.org",
            "Out of office",
            ";TZID=Europe/Amsterdam:20300601T000000",
            ";TZID=Europe/Amsterdam:20300615T000000",
            "X-NEXTCLOUD-OUT-OF-OFFICE:42\n",
        ),
        event(
            "nc-other",
            "Workshop",
            ";TZID=Europe/Amsterdam:20300620T090000",
            ";TZID=Europe/Amsterdam:20300620T170000",
            "X-NEXTCLOUD-OUT-OF-OFFICE:43\n",
        ),
    )
    windows = parse(data, keywords=[]).events  # the marker alone is enough
    assert [(w.uid, w.starts_at, w.ends_at) for w in windows] == [
        ("nc-ooo-42@cloud.example.org", utc(2030, 5, 31, 22), utc(2030, 6, 14, 22)),
        ("nc-other", utc(2030, 6, 20, 7), utc(2030, 6, 20, 15)),
    ]


@pytest.mark.parametrize(
    "summary",
    [
        "Vakantie Italië",
        "ZOMERVAKANTIE",
        "Out Of Office",
        "Public holiday",
        "verlof",
        "Afwezig (cursus)",
    ],
)
def test_default_keywords_match_case_insensitively_anywhere_in_the_title(summary):
    data = calendar(event("k", summary, ";VALUE=DATE:20300701", ";VALUE=DATE:20300702"))
    assert [w.summary for w in parse(data).events] == [summary]


def test_the_members_own_keywords_replace_the_defaults():
    data = calendar(
        event("s", "Sabbatical", ";VALUE=DATE:20300701", ";VALUE=DATE:20300702"),
        event("v", "Vacation", ";VALUE=DATE:20300801", ";VALUE=DATE:20300802"),
    )
    assert [w.uid for w in parse(data, keywords=["sabbatical"]).events] == ["s"]
    assert normalize_keywords(["  Out   of office ", "out of office", "", "Verlof"]) == [
        "Out of office",
        "Verlof",
    ]


def test_meetings_and_cancelled_absences_are_ignored():
    data = calendar(
        event(
            "m",
            "Planning",
            ":20300506T090000Z",
            ":20300506T100000Z",
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\n",
        ),
        event("t", "Lunch", ":20300506T110000Z", ":20300506T120000Z", "TRANSP:TRANSPARENT\n"),
        event(
            "c", "Vacation", ";VALUE=DATE:20300701", ";VALUE=DATE:20300710", "STATUS:CANCELLED\n"
        ),
    )
    result = parse(data)
    assert result.events == [] and result.problems == []


WEEKLY = calendar(
    event(
        "weekly-1",
        "Verlof (ouderschapsverlof)",
        ";TZID=Europe/Amsterdam:20300107T090000",
        ";TZID=Europe/Amsterdam:20300107T170000",
        "RRULE:FREQ=WEEKLY;COUNT=5\nEXDATE;TZID=Europe/Amsterdam:20300114T090000\n",
    ),
    # The third Monday moved to the afternoon: same UID, RECURRENCE-ID = its original start.
    event(
        "weekly-1",
        "Verlof (ouderschapsverlof)",
        ";TZID=Europe/Amsterdam:20300121T130000",
        ";TZID=Europe/Amsterdam:20300121T180000",
        "RECURRENCE-ID;TZID=Europe/Amsterdam:20300121T090000\n",
    ),
    # The fourth is no longer leave: a modified instance that is not an absence.
    event(
        "weekly-1",
        "Client visit",
        ";TZID=Europe/Amsterdam:20300128T090000",
        ";TZID=Europe/Amsterdam:20300128T170000",
        "RECURRENCE-ID;TZID=Europe/Amsterdam:20300128T090000\n",
    ),
)


def test_weekly_recurrence_with_an_exception_and_a_moved_instance():
    windows = parse(WEEKLY).events
    assert [(w.recurrence_id, w.starts_at, w.ends_at) for w in windows] == [
        ("2030-01-07T08:00:00+00:00", utc(2030, 1, 7, 8), utc(2030, 1, 7, 16)),
        # 14 January is excluded (EXDATE).
        ("2030-01-21T08:00:00+00:00", utc(2030, 1, 21, 12), utc(2030, 1, 21, 17)),
        # 28 January became a client visit.
        ("2030-02-04T08:00:00+00:00", utc(2030, 2, 4, 8), utc(2030, 2, 4, 16)),
    ]
    assert {w.uid for w in windows} == {"weekly-1"}


def test_recurrence_ids_stay_the_same_when_an_instance_moves():
    moved = WEEKLY.replace(b"20300121T130000", b"20300122T130000").replace(
        b"20300121T180000", b"20300122T180000"
    )
    before = {w.recurrence_id: w for w in parse(WEEKLY).events}
    after = {w.recurrence_id: w for w in parse(moved).events}
    assert set(before) == set(after)
    key = "2030-01-21T08:00:00+00:00"
    assert after[key].starts_at == before[key].starts_at + timedelta(days=1)


def test_all_day_event_across_the_dst_change_is_whole_days_with_exclusive_end():
    # Friday 29 March to Monday 1 April 2030 (DTEND 2 April is exclusive); summer
    # time starts on Sunday 31 March in Amsterdam.
    data = calendar(event("easter", "Vakantie", ";VALUE=DATE:20300329", ";VALUE=DATE:20300402"))
    [window] = parse(data).events
    assert window.starts_at == utc(2030, 3, 28, 23)  # midnight, winter time
    assert window.ends_at == utc(2030, 4, 1, 22)  # midnight, summer time
    assert window.ends_at - window.starts_at == timedelta(days=4, hours=-1)
    assert (window.starts_at, window.ends_at) == whole_days_window(
        date(2030, 3, 29), date(2030, 4, 1), AMS
    )


def test_all_day_event_without_end_is_one_day_in_the_members_zone():
    data = calendar(event("one", "Holiday", ";VALUE=DATE:20300704"))
    [window] = parse(data, tz_name="America/New_York").events
    assert (window.starts_at, window.ends_at) == (utc(2030, 7, 4, 4), utc(2030, 7, 5, 4))


def test_floating_times_are_the_members_wall_clock():
    data = calendar(event("f", "Vacation", ":20300506T090000", ":20300506T170000"))
    [amsterdam] = parse(data).events
    [new_york] = parse(data, tz_name="America/New_York").events
    assert amsterdam.starts_at == utc(2030, 5, 6, 7)
    assert new_york.starts_at == utc(2030, 5, 6, 13)


def test_duration_instead_of_dtend():
    data = calendar(event("d", "Vacation", ":20300506T090000Z", None, "DURATION:P2DT3H\n"))
    [window] = parse(data).events
    assert window.ends_at == utc(2030, 5, 8, 12)


def test_ended_events_are_left_out_and_ongoing_ones_kept_whole():
    data = calendar(
        event("past", "Vacation", ":20291201T000000Z", ":20291210T000000Z"),
        event("now", "Vacation", ":20291230T000000Z", ":20300103T000000Z"),
        event("ends-now", "Vacation", ":20291231T000000Z", ":20300101T120000Z"),
    )
    [window] = parse(data).events
    assert (window.uid, window.starts_at) == ("now", utc(2029, 12, 30))


def test_recurring_events_are_expanded_for_the_next_365_days():
    data = calendar(
        event(
            "daily", "Verlof", ";VALUE=DATE:20200101", ";VALUE=DATE:20200102", "RRULE:FREQ=DAILY\n"
        ),
        event("far", "Vacation", ";VALUE=DATE:20310301", ";VALUE=DATE:20310302"),
    )
    windows = parse(data).events
    assert {w.uid for w in windows} == {"daily"}
    assert windows[0].starts_at < NOW < windows[0].ends_at  # today is included
    assert max(w.starts_at for w in windows) < NOW + timedelta(days=365)
    assert 365 <= len(windows) <= 366


def test_a_duplicated_event_counts_once():
    twice = event("dup", "Vacation", ";VALUE=DATE:20300701", ";VALUE=DATE:20300703")
    assert len(parse(calendar(twice, twice)).events) == 1


def test_events_of_our_own_export_feed_are_not_imported_back():
    data = calendar(
        event(
            "absence-17@backsoon",
            "Out of office",
            ":20300506T090000Z",
            ":20300507T090000Z",
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF\n",
        )
    )
    assert parse(data).events == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"this is not a calendar", "not a readable iCalendar"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20300101\r\nEND:VCALENDAR\r\n",
            "not a readable",
        ),
        (
            b"BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Vacation\r\nDTSTART:20300101T000000Z\r\nEND:VEVENT\r\n",
            "no VCALENDAR",
        ),
    ],
)
def test_a_broken_file_gives_problems_and_no_events(data, expected):
    result = parse(data)
    assert result.events == []
    assert len(result.problems) == 1
    assert expected in result.problems[0]


def test_unreadable_absence_events_are_listed_and_nothing_is_returned():
    data = calendar(
        event("good", "Vacation", ";VALUE=DATE:20300701", ";VALUE=DATE:20300703"),
        event("bad-date", "Vakantie Frankrijk", ":2030-07-10", ";VALUE=DATE:20300712"),
        event("bad-rule", "Holiday", ";VALUE=DATE:20300801", None, "RRULE:FREQ=SOMETIMES\n"),
        event("mixed", "Verlof", ";VALUE=DATE:20300901", ":20300905T120000Z"),
        event(
            "no-zone",
            "Vacation",
            ";TZID=Mars/Olympus:20300601T090000",
            ";TZID=Mars/Olympus:20300601T170000",
        ),
        event(
            "hourly", "Vacation", ":20300601T090000Z", ":20300601T093000Z", "RRULE:FREQ=HOURLY\n"
        ),
    )
    result = parse(data)
    assert result.events == []  # nothing half-imported: not even the good one
    text = "\n".join(result.problems)
    assert len(result.problems) == 5, text
    assert '"Vakantie Frankrijk" (UID bad-date): DTSTART could not be read' in text
    assert "(UID bad-rule): RRULE could not be read" in text
    assert "(UID mixed)" in text
    assert "unknown time zone 'Mars/Olympus'" in text
    assert "(UID hourly): it repeats more than once a day" in text


def test_an_unreadable_meeting_does_not_block_the_absences():
    data = calendar(
        event("meeting", "Budget review", ":2030-07-10", ":20300710T100000Z"),
        event("good", "Vacation", ";VALUE=DATE:20300701", ";VALUE=DATE:20300703"),
    )
    result = parse(data)
    assert result.problems == []
    assert [w.uid for w in result.events] == ["good"]


def test_too_many_occurrences_are_refused():
    rule = f"RRULE:FREQ=DAILY;COUNT={MAX_OCCURRENCES + 10}\n"
    data = calendar(
        event("a", "Vacation", ";VALUE=DATE:20300101", None, rule),
        *[event(f"b{i}", "Vacation", ";VALUE=DATE:20300101", None, rule) for i in range(15)],
    )
    result = parse(data)
    assert result.events == []
    assert "too many or too complex" in result.problems[0]


# -- Issue 14 finding 2: expansion bounded before it starts ----------------------------------

# The file of the finding, byte for byte in size: a daily absence since the year 1.
YEAR_ONE_DAILY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//b//x\r\nBEGIN:VEVENT\r\n"
    b"UID:a@b\r\nDTSTART:00010101T000000Z\r\nDTEND:00010102T000000Z\r\n"
    b"RRULE:FREQ=DAILY\r\nSUMMARY:vacation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_F2_the_182_byte_daily_rule_from_the_year_1_is_refused_at_once():
    assert len(YEAR_ONE_DAILY) == 182
    started = time.process_time()
    result = parse(YEAR_ONE_DAILY)
    assert time.process_time() - started < 0.5  # 9 s of CPU before the fix
    assert result.events == []
    assert "since so long ago" in result.problems[0]


@pytest.mark.parametrize(
    "rule", ["FREQ=WEEKLY", "FREQ=MONTHLY;BYMONTHDAY=1,2,3,4,5,6,7,8,9,10", "FREQ=YEARLY;BYDAY=MO"]
)
def test_F2_other_rules_walking_from_long_ago_are_refused_too(rule):
    data = YEAR_ONE_DAILY.replace(b"FREQ=DAILY", rule.encode())
    started = time.process_time()
    result = parse(data)
    assert time.process_time() - started < 0.5
    assert result.problems and not result.events


def test_F2_a_daily_absence_series_of_a_few_years_ago_still_reads():
    rule = "RRULE:FREQ=WEEKLY;BYDAY=FR\n"
    data = calendar(event("fri", "Verlof", ";VALUE=DATE:20100101", ";VALUE=DATE:20100102", rule))
    result = parse(data)
    assert result.problems == []
    assert 52 <= len(result.events) <= 53


def test_F2_a_file_of_many_series_is_refused_within_the_budget():
    """Many series that are each just under the bound: their sum is refused (a 42 KB file
    ran 41 s against a 20 s budget checked only between series)."""
    series = [
        event(f"s{i}", "Vacation", ":19900101T000000Z", ":19900102T000000Z", "RRULE:FREQ=DAILY\n")
        for i in range(300)
    ]
    data = calendar(*series)
    assert len(data) > 40_000
    started = time.process_time()
    result = parse(data)
    assert time.process_time() - started < 2.5
    assert result.events == [] and "too many or too complex" in result.problems[0]


def test_F2_the_budget_is_checked_while_expanding(monkeypatch):
    """A budget spent during expansion stops the file: checked for every occurrence."""
    rule = "RRULE:FREQ=DAILY\n"
    data = calendar(event("d", "Vacation", ";VALUE=DATE:20291201", ";VALUE=DATE:20291202", rule))
    result = parse_absence_events(
        data, tz_name=AMS, keywords=["vacation"], now=NOW, budget_seconds=0.0
    )
    assert result.events == [] and "too many or too complex" in result.problems[0]


def test_event_without_uid_gets_a_stable_one():
    data = calendar("BEGIN:VEVENT\nSUMMARY:Vacation\nDTSTART;VALUE=DATE:20300701\nEND:VEVENT\n")
    first, second = parse(data).events, parse(data).events
    assert first[0].uid.startswith("no-uid-")
    assert first[0].uid == second[0].uid


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse_absence_events(OUTLOOK_OOF, tz_name=AMS, keywords=[], now=datetime(2030, 1, 1))


def test_export_feed_has_one_out_of_office_event_per_absence():
    data = absences_to_ics(
        [
            ExportedAbsence(
                7, utc(2030, 5, 6, 7), utc(2030, 5, 8, 15), "Back on {return_date}", utc(2030, 1, 1)
            ),
            ExportedAbsence(8, utc(2030, 7, 1), utc(2030, 7, 15), "", utc(2030, 1, 2)),
        ],
        now=NOW,
    )
    cal = icalendar.Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["absence-7@backsoon", "absence-8@backsoon"]
    first = events[0]
    assert first["DTSTART"].dt == utc(2030, 5, 6, 7)
    assert first["DTEND"].dt == utc(2030, 5, 8, 15)
    assert str(first["SUMMARY"]) == "Out of office"
    assert str(first["X-MICROSOFT-CDO-BUSYSTATUS"]) == "OOF"
    assert str(first["DESCRIPTION"]) == "Back on {return_date}"
    assert "DESCRIPTION" not in events[1]
    assert b"DTSTART:20300506T070000Z" in data  # UTC, no floating times
    # Imported back, our own events are recognised and skipped (no echo).
    assert parse(data).events == []
