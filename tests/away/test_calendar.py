"""Calendar import (upload and feeds) and the private export feed, through the API and
the actions (issue 3, 4; AWAY-SPEC A3).

Calendars are written here relative to today, so the absences they make are in the
future whatever day the suite runs.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from backsoon.away.calendar import export, feeds, fetch, preferences, sync
from backsoon.away.calendar import plan as planning
from backsoon.away.calendar.models import CalendarFeed, CalendarSettings, ImportedEvent
from backsoon.away.models import Absence
from backsoon.away.rules import whole_days_window
from backsoon.errors import Invalid, RateLimited
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db

AMS = "Europe/Amsterdam"


def day(offset: int) -> date:
    """A calendar day counted from today in Amsterdam (the members' zone here)."""
    return timezone.now().astimezone(ZoneInfo(AMS)).date() + timedelta(days=offset)


def days(first: int, last: int) -> tuple[datetime, datetime]:
    """The UTC window of whole days ``first..last`` (both included) from today."""
    return whole_days_window(day(first), day(last), AMS)


def allday(uid: str, summary: str, first: int, last: int, extra: str = "") -> str:
    """An all-day VEVENT from day ``first`` to day ``last`` (DTEND is the day after)."""
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260101T000000Z\nSUMMARY:{summary}\n"
        f"DTSTART;VALUE=DATE:{day(first):%Y%m%d}\nDTEND;VALUE=DATE:{day(last + 1):%Y%m%d}\n"
        f"{extra}END:VEVENT\n"
    )


def ics(*events: str) -> str:
    body = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Backsoon tests//EN\n"
    return (body + "".join(events) + "END:VCALENDAR\n").replace("\n", "\r\n")


def upload(api: Api, text: str):
    return api.post("/me/calendar/import", {"ics": text})


def windows_of(member) -> list[tuple[datetime, datetime, str]]:
    return [
        (a.starts_at, a.ends_at, a.source)
        for a in Absence.objects.filter(member=member).order_by("starts_at")
    ]


def make_manual(api: Api, first: int, last: int) -> int:
    start, end = days(first, last)
    response = api.post(
        "/me/absences",
        {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "message": "By hand"},
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


# -- Import: what becomes an absence ------------------------------------------------------


def test_import_creates_calendar_absences_with_the_default_message(alice):
    api = Api(alice)
    text = ics(
        allday("v1", "Vakantie Italië", 10, 14),
        allday("m1", "Team day", 20, 20),  # not an absence
        allday("o1", "Lisbon", 30, 31, "X-MICROSOFT-CDO-BUSYSTATUS:OOF\n"),
    )
    response = upload(api, text)
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["events"] == 2
    assert [item["events"] for item in report["created"]] == [["Vakantie Italië"], ["Lisbon"]]
    assert report["updated"] == report["removed"] == report["skipped"] == []
    absences = list(Absence.objects.filter(member=alice).order_by("starts_at"))
    assert [(a.starts_at, a.ends_at) for a in absences] == [days(10, 14), days(30, 31)]
    assert {a.source for a in absences} == {"calendar"}
    assert {a.audience for a in absences} == {"everyone"}
    assert absences[0].message == preferences.DEFAULT_MESSAGES["en"]
    # They are ordinary absences in the API.
    listed = api.get("/me/absences").json()["items"]
    assert {item["source"] for item in listed} == {"calendar"}


def test_the_member_chooses_the_message_and_audience_of_imported_absences(alice):
    api = Api(alice)
    response = api.patch(
        "/me/calendar",
        {"default_message": "Gone fishing until {return_date}.", "default_audience": "connections"},
    )
    assert response.status_code == 200, response.content
    upload(api, ics(allday("v1", "Vacation", 5, 6)))
    absence = Absence.objects.get(member=alice)
    assert absence.message == "Gone fishing until {return_date}."
    assert absence.audience == "connections"


def test_dutch_members_get_a_dutch_default_message(db):
    member = make_member("dirk", language="nl")
    assert (
        Api(member).get("/me/calendar").json()["default_message"]
        == preferences.DEFAULT_MESSAGES["nl"]
    )


def test_settings_defaults_and_custom_keywords(alice):
    api = Api(alice)
    body = api.get("/me/calendar").json()
    assert body["keywords"] == [
        "out of office",
        "vacation",
        "holiday",
        "afwezig",
        "vakantie",
        "verlof",
    ]
    assert body["default_audience"] == "everyone"
    assert body["export"] == {"active": False, "token_prefix": None, "created_at": None}
    assert not CalendarSettings.objects.exists()  # reading makes nothing

    body = api.patch("/me/calendar", {"keywords": [" Sabbatical ", "sabbatical", "Leave"]}).json()
    assert body["keywords"] == ["Sabbatical", "Leave"]
    report = upload(api, ics(allday("s", "SABBATICAL", 5, 6), allday("v", "Vacation", 8, 9))).json()
    assert [item["events"] for item in report["created"]] == [["SABBATICAL"]]

    assert_error(api.patch("/me/calendar", {"keywords": ["x" * 61]}), 422)
    assert_error(api.patch("/me/calendar", {"keywords": [f"k{i}" for i in range(31)]}), 422)
    assert_error(api.patch("/me/calendar", {"default_message": "x" * 2001}), 422)
    assert_error(api.patch("/me/calendar", {"default_audience": "friends"}), 422)
    assert api.get("/me/calendar").json()["keywords"] == ["Sabbatical", "Leave"]


def test_a_new_default_message_reaches_imported_absences_still_carrying_the_old_one(alice):
    api = Api(alice)
    upload(api, ics(allday("a", "Vacation", 5, 6), allday("b", "Vacation", 10, 11)))
    first, second = Absence.objects.filter(member=alice).order_by("starts_at")
    api.patch(f"/me/absences/{second.pk}", {"message": "My own words"})
    api.patch("/me/calendar", {"default_message": "New default"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.message == "New default"
    assert first.message_version == 2  # R3: a new text starts the reply record over
    assert second.message == "My own words"


# -- Import: idempotent, updates, removals --------------------------------------------------


def test_importing_the_same_calendar_again_changes_nothing(alice):
    api = Api(alice)
    text = ics(
        allday("v1", "Vacation", 10, 14),
        allday("w1", "Verlof", 20, 20, "RRULE:FREQ=WEEKLY;COUNT=3\n"),
    )
    first = upload(api, text).json()
    assert len(first["created"]) == 4
    before = windows_of(alice)
    ids = set(Absence.objects.values_list("pk", flat=True))
    second = upload(api, text).json()
    assert second["created"] == second["updated"] == second["removed"] == []
    assert second["unchanged"] == 4
    assert windows_of(alice) == before
    assert set(Absence.objects.values_list("pk", flat=True)) == ids
    assert ImportedEvent.objects.filter(member=alice).count() == 4


def test_a_changed_event_updates_its_absence(alice):
    api = Api(alice)
    upload(api, ics(allday("v1", "Vacation", 10, 14)))
    absence = Absence.objects.get(member=alice)
    report = upload(api, ics(allday("v1", "Vacation", 10, 17))).json()
    assert [item["absence_id"] for item in report["updated"]] == [absence.pk]
    absence.refresh_from_db()
    assert (absence.starts_at, absence.ends_at) == days(10, 17)


def test_a_removed_event_removes_its_scheduled_absence(alice):
    api = Api(alice)
    upload(api, ics(allday("v1", "Vacation", 10, 14), allday("v2", "Holiday", 30, 31)))
    gone = Absence.objects.get(member=alice, starts_at=days(30, 31)[0])
    report = upload(api, ics(allday("v1", "Vacation", 10, 14))).json()
    assert [item["absence_id"] for item in report["removed"]] == [gone.pk]
    assert windows_of(alice) == [(*days(10, 14), "calendar")]
    assert not ImportedEvent.objects.filter(uid="v2").exists()


def test_an_active_absence_stays_when_its_event_disappears(alice):
    api = Api(alice)
    upload(api, ics(allday("now", "Vacation", -1, 3)))
    absence = Absence.objects.get(member=alice)
    assert absence.state(timezone.now()) == "active"
    report = upload(api, ics()).json()
    assert report["removed"] == []
    absence.refresh_from_db()
    assert (absence.starts_at, absence.ends_at) == days(-1, 3)
    assert absence.ended_at is None


def test_an_active_absence_follows_a_longer_event(alice):
    api = Api(alice)
    upload(api, ics(allday("now", "Vacation", -1, 3)))
    upload(api, ics(allday("now", "Vacation", -1, 6)))
    absence = Absence.objects.get(member=alice)
    assert (absence.starts_at, absence.ends_at) == days(-1, 6)


def test_a_deleted_imported_absence_is_not_imported_again_until_the_event_moves(alice):
    api = Api(alice)
    text = ics(allday("v1", "Vacation", 10, 14))
    upload(api, text)
    absence = Absence.objects.get(member=alice)
    assert api.delete(f"/me/absences/{absence.pk}").status_code == 204
    report = upload(api, text).json()
    assert report["created"] == [] and windows_of(alice) == []
    upload(api, ics(allday("v1", "Vacation", 11, 14)))  # moved in the calendar
    assert windows_of(alice) == [(*days(11, 14), "calendar")]


def test_an_imported_absence_ended_early_stays_ended(alice):
    api = Api(alice)
    text = ics(allday("now", "Vacation", -1, 3))
    upload(api, text)
    absence = Absence.objects.get(member=alice)
    assert api.post(f"/me/absences/{absence.pk}/end").status_code == 200
    report = upload(api, text).json()
    assert report["created"] == report["updated"] == [] and report["skipped"] == []
    assert Absence.objects.filter(member=alice).count() == 1


# -- Import: manual absences, merging, limits -------------------------------------------------


def test_manual_absences_are_never_touched_and_overlapping_windows_are_skipped(alice):
    api = Api(alice)
    manual_id = make_manual(api, 10, 12)
    before = Absence.objects.get(pk=manual_id)
    report = upload(
        api,
        ics(allday("clash", "Vacation", 11, 13), allday("fine", "Vacation", 20, 21)),
    ).json()
    assert len(report["created"]) == 1
    [skipped] = report["skipped"]
    assert skipped["absence_id"] == manual_id
    assert skipped["events"] == ["Vacation"]
    assert "overlaps" in skipped["reason"]
    after = Absence.objects.get(pk=manual_id)
    assert (after.starts_at, after.ends_at, after.message, after.source) == (
        before.starts_at,
        before.ends_at,
        "By hand",
        "manual",
    )
    assert windows_of(alice) == [(*days(10, 12), "manual"), (*days(20, 21), "calendar")]
    # Once the manual one is gone, the next import brings the skipped window in.
    api.delete(f"/me/absences/{manual_id}")
    upload(api, ics(allday("clash", "Vacation", 11, 13), allday("fine", "Vacation", 20, 21)))
    assert windows_of(alice) == [(*days(11, 13), "calendar"), (*days(20, 21), "calendar")]


def test_touching_manual_absence_is_not_an_overlap(alice):
    api = Api(alice)
    make_manual(api, 10, 12)
    report = upload(api, ics(allday("next", "Vacation", 13, 14))).json()
    assert len(report["created"]) == 1 and report["skipped"] == []


def test_overlapping_and_touching_events_become_one_absence(alice):
    api = Api(alice)
    report = upload(
        api,
        ics(
            allday("a", "Vacation", 5, 8),
            allday("b", "Out of office", 7, 10),
            allday("c", "Verlof", 11, 12),  # starts when b ends: touching
            allday("d", "Holiday", 20, 21),
        ),
    ).json()
    assert [item["events"] for item in report["created"]] == [
        ["Out of office", "Vacation", "Verlof"],
        ["Holiday"],
    ]
    assert windows_of(alice) == [(*days(5, 12), "calendar"), (*days(20, 21), "calendar")]
    merged = Absence.objects.get(member=alice, starts_at=days(5, 12)[0])
    assert set(merged.imported_events.values_list("uid", flat=True)) == {"a", "b", "c"}


def test_events_that_come_to_overlap_merge_their_absences(alice):
    api = Api(alice)
    upload(api, ics(allday("a", "Vacation", 5, 6), allday("b", "Vacation", 10, 11)))
    assert Absence.objects.filter(member=alice).count() == 2
    report = upload(api, ics(allday("a", "Vacation", 5, 9), allday("b", "Vacation", 10, 11))).json()
    assert len(report["updated"]) == 1 and len(report["removed"]) == 1
    assert windows_of(alice) == [(*days(5, 11), "calendar")]
    # And split again when they move apart.
    upload(api, ics(allday("a", "Vacation", 5, 6), allday("b", "Vacation", 10, 11)))
    assert windows_of(alice) == [(*days(5, 6), "calendar"), (*days(10, 11), "calendar")]


def test_absences_are_cut_to_366_days(alice):
    api = Api(alice)
    upload(api, ics(allday("long", "Sabbatical leave verlof", 3, 500)))
    absence = Absence.objects.get(member=alice)
    assert absence.starts_at == days(3, 3)[0]
    assert absence.ends_at - absence.starts_at == timedelta(days=366)


def test_upload_and_feeds_together_make_one_set_of_absences(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    api = Api(alice)
    upload(api, ics(allday("mine", "Vacation", 5, 7)))
    feed_server.serve("/team.ics", ics(allday("team", "Team holiday", 7, 9)))
    feed = feeds.calendar_feed_add(member=alice, url=feed_server.url("/team.ics"))
    feeds.calendar_feed_sync(feed=feed)
    assert windows_of(alice) == [(*days(5, 9), "calendar")]
    # Unsubscribing takes the feed's events away; the upload's remain.
    assert api.delete(f"/me/calendar/feeds/{feed.pk}").status_code == 204
    assert windows_of(alice) == [(*days(5, 7), "calendar")]


# -- Import: bad input ----------------------------------------------------------------------


def test_a_broken_file_is_refused_with_its_problems_and_nothing_is_imported(alice):
    api = Api(alice)
    text = ics(
        allday("good", "Vacation", 5, 6),
        "BEGIN:VEVENT\nUID:broken-1\nSUMMARY:Vakantie\nDTSTART:next tuesday\nEND:VEVENT\n",
    )
    body = assert_error(upload(api, text), 422, "calendar_unreadable")
    assert "nothing was imported" in body["detail"]["message"]
    [problem] = body["detail"]["problems"]
    assert '"Vakantie" (UID broken-1)' in problem
    assert not Absence.objects.exists()
    assert not ImportedEvent.objects.exists()

    body = assert_error(upload(api, "BEGIN:VCALENDAR\r\ngarbage"), 422, "calendar_unreadable")
    assert body["detail"]["problems"]


def test_a_broken_file_changes_nothing_that_was_imported_before(alice):
    api = Api(alice)
    upload(api, ics(allday("v1", "Vacation", 5, 6)))
    before = windows_of(alice)
    assert_error(upload(api, "not a calendar"), 422, "calendar_unreadable")
    assert windows_of(alice) == before


def test_import_body_validation(alice):
    api = Api(alice)
    assert_error(api.post("/me/calendar/import", {"calendar": "x"}), 422, "validation_error")
    response = api.client.post(
        "/api/v1/me/calendar/import",
        data="{not json",
        content_type="application/json",
        headers=api._headers(),
    )
    assert_error(response, 422, "validation_error")
    assert_error(Api().post("/me/calendar/import", {"ics": ics()}), 401)


def test_the_2_mb_limit_of_an_upload(alice):
    api = Api(alice)
    # 1.5 MB is more than the site-wide 1 MB request limit, and still accepted.
    padding = "DESCRIPTION:" + "x" * (1_500_000) + "\n"
    big = ics(allday("v1", "Vacation", 5, 6, padding))
    response = upload(api, big)
    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["created"]) == 1
    too_big = ics(allday("v2", "Vacation", 8, 9, "DESCRIPTION:" + "x" * (2 * 1024 * 1024) + "\n"))
    assert_error(upload(api, too_big), 413, "too_large")
    assert Absence.objects.filter(member=alice).count() == 1
    with pytest.raises(fetch.TooLarge):
        sync.calendar_import_upload(member=alice, data=b"x" * (fetch.MAX_ICS_BYTES + 1))


# -- Feeds: URL validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://calendar.example.com/cal.ics", "calendar_url_scheme"),
        ("file:///etc/passwd", "calendar_url_scheme"),
        ("javascript:alert(1)", "calendar_url_scheme"),
        ("http://127.0.0.1/cal.ics", "calendar_url_private"),
        ("http://localhost:8000/cal.ics", "calendar_url_private"),
        ("http://10.0.0.1/cal.ics", "calendar_url_private"),
        ("http://192.168.1.20/cal.ics", "calendar_url_private"),
        ("http://169.254.169.254/latest/meta-data/", "calendar_url_private"),
        ("http://[::1]/cal.ics", "calendar_url_private"),
        ("http://[::ffff:127.0.0.1]/cal.ics", "calendar_url_private"),
        ("http://0.0.0.0/cal.ics", "calendar_url_private"),
        ("http://2130706433/cal.ics", "calendar_url_private"),
        ("http://224.0.0.1/cal.ics", "calendar_url_private"),
        # Issue 14 finding 6: IPv6 addresses that embed a private IPv4 one.
        ("http://[64:ff9b::7f00:1]/cal.ics", "calendar_url_private"),  # NAT64 of 127.0.0.1
        ("http://[64:ff9b::a00:1]/cal.ics", "calendar_url_private"),  # NAT64 of 10.0.0.1
        ("http://[2002:7f00:1::1]/cal.ics", "calendar_url_private"),  # 6to4 of 127.0.0.1
        ("http://[2002:a9fe:a9fe::]/cal.ics", "calendar_url_private"),  # 6to4 of 169.254.169.254
        ("http://[::127.0.0.1]/cal.ics", "calendar_url_private"),  # IPv4-compatible
        ("http://[::c0a8:114]/cal.ics", "calendar_url_private"),  # ::192.168.1.20
        ("https://user:secret@93.184.215.14/cal.ics", "calendar_url_invalid"),
        ("https:///cal.ics", "calendar_url_invalid"),
        ("https://93.184.215.14:99999/", "calendar_url_invalid"),
        ("https://exa mple.com/", "calendar_url_invalid"),
        ("https://no-such-host.invalid/cal.ics", "calendar_url_unresolvable"),
    ],
)
def test_feed_urls_are_refused(alice, url, code):
    assert_error(Api(alice).post("/me/calendar/feeds", {"url": url}), 422, code)
    assert not CalendarFeed.objects.exists()


def test_private_addresses_are_allowed_with_the_setting(alice, settings):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    api = Api(alice)
    for url in ("http://127.0.0.1:8080/cal.ics", "http://10.0.0.1/cal.ics"):
        assert api.post("/me/calendar/feeds", {"url": url}).status_code == 201
    assert_error(api.post("/me/calendar/feeds", {"url": "ftp://10.0.0.1/x"}), 422)


def test_a_public_feed_is_added_normalised_once(alice):
    api = Api(alice)
    response = api.post("/me/calendar/feeds", {"url": " webcal://93.184.215.14/Cal.ics#frag "})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == "https://93.184.215.14/Cal.ics"
    assert body["last_status"] == "never" and body["last_fetched_at"] is None
    duplicate = api.post("/me/calendar/feeds", {"url": "https://93.184.215.14/Cal.ics"})
    assert_error(duplicate, 409, "calendar_feed_exists")
    assert [f["id"] for f in api.get("/me/calendar/feeds").json()["items"]] == [body["id"]]


def test_at_most_ten_feeds(alice):
    api = Api(alice)
    for n in range(feeds.MAX_FEEDS):
        assert (
            api.post("/me/calendar/feeds", {"url": f"https://93.184.215.14/{n}.ics"}).status_code
            == 201
        )
    assert_error(
        api.post("/me/calendar/feeds", {"url": "https://93.184.215.14/x.ics"}),
        422,
        "too_many_feeds",
    )


def test_another_members_feed_is_not_found(alice, bob):
    feed = feeds.calendar_feed_add(member=alice, url="https://93.184.215.14/alice.ics")
    bob_api = Api(bob)
    assert_error(bob_api.delete(f"/me/calendar/feeds/{feed.pk}"), 404, "calendar_feed_not_found")
    assert_error(bob_api.post(f"/me/calendar/feeds/{feed.pk}/sync"), 404, "calendar_feed_not_found")
    assert bob_api.get("/me/calendar/feeds").json() == {"items": [], "next_cursor": None}
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()


# -- Feeds: fetching from a tiny server ---------------------------------------------------------


@dataclass
class FeedServer:
    base: str
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def serve(self, path: str, text: str | bytes, status: int = 200, **headers: str) -> None:
        body = text.encode() if isinstance(text, str) else text
        self.routes[path] = (status, {"Content-Type": "text/calendar", **headers}, body)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """An HTTP server on 127.0.0.1 in a thread, answering what a test tells it to."""
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                if name != "X-No-Length":
                    self.send_header(name.replace("_", "-"), value)
            if "X-No-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FeedServer(f"http://127.0.0.1:{server.server_address[1]}", routes, hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run_jobs() -> None:
    """Run the queued background jobs here, as ``backsoon worker`` does, until none is left.

    The worker's own loop is not used because it closes the database connection between
    jobs, which would end the test's transaction; its ``run_task`` is.
    """
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    while (job := DBTaskResult.objects.ready().get_locked()) is not None:
        job.claim("test")
        worker.run_task(job)


def test_a_feed_is_synced_from_a_server(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    api = Api(alice)
    feed_server.serve("/alice.ics", ics(allday("f1", "Vacation", 5, 6)))
    feed = api.post("/me/calendar/feeds", {"url": feed_server.url("/alice.ics")}).json()
    response = api.post(f"/me/calendar/feeds/{feed['id']}/sync")
    # Finding 1: "sync now" never fetches on the request thread; it queues a job.
    assert response.status_code == 202, response.content
    assert response.json()["code"] == "calendar_sync_queued"
    assert feed_server.hits == [] and windows_of(alice) == []
    run_jobs()
    assert feed_server.hits == ["/alice.ics"]
    assert windows_of(alice) == [(*days(5, 6), "calendar")]
    [listed] = api.get("/me/calendar/feeds").json()["items"]
    assert listed["last_status"] == "ok" and listed["last_error"] == ""
    assert listed["last_fetched_at"] is not None
    # "Sync now" again at once is throttled.
    assert_error(api.post(f"/me/calendar/feeds/{feed['id']}/sync"), 429)


def test_feed_changes_update_and_remove(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    feed_server.serve("/c.ics", ics(allday("f1", "Vacation", 5, 6), allday("f2", "Vacation", 9, 9)))
    feed = feeds.calendar_feed_add(member=alice, url=feed_server.url("/c.ics"))
    feeds.calendar_feed_sync(feed=feed)
    feed_server.serve("/c.ics", ics(allday("f1", "Vacation", 5, 7)))
    report = feeds.calendar_feed_sync(feed=feed)
    assert (len(report.updated), len(report.removed)) == (1, 1)
    assert windows_of(alice) == [(*days(5, 7), "calendar")]


def test_feed_errors_are_recorded_and_nothing_changes(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    feed_server.serve("/ok.ics", ics(allday("f1", "Vacation", 5, 6)))
    feed = feeds.calendar_feed_add(member=alice, url=feed_server.url("/ok.ics"))
    feeds.calendar_feed_sync(feed=feed)
    feed_server.serve("/ok.ics", "BEGIN:VCALENDAR\r\nnonsense")
    with pytest.raises(Invalid) as raised:
        feeds.calendar_feed_sync(feed=feed)
    assert raised.value.code == "calendar_unreadable"
    feed.refresh_from_db()
    assert feed.last_status == "error" and "could not be read" in feed.last_error
    assert windows_of(alice) == [(*days(5, 6), "calendar")]

    feed_server.routes.pop("/ok.ics")
    with pytest.raises(Invalid) as raised:
        feeds.calendar_feed_sync(feed=feed)
    assert raised.value.code == "calendar_fetch_failed"
    feed.refresh_from_db()
    assert "404" in feed.last_error


def test_the_address_is_checked_again_when_fetching(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    feed_server.serve("/a.ics", ics(allday("f1", "Vacation", 5, 6)))
    feed = feeds.calendar_feed_add(member=alice, url=feed_server.url("/a.ics"))
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False  # as when a public name now points inside
    with pytest.raises(Invalid) as raised:
        feeds.calendar_feed_sync(feed=feed)
    assert "private or local" in str(raised.value.detail)
    assert feed_server.hits == []  # no request was made
    assert not Absence.objects.exists()


def test_redirects_are_followed_within_http_and_checked(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    feed_server.serve("/real.ics", ics(allday("f1", "Vacation", 5, 6)))
    feed_server.serve("/moved.ics", "", status=302, Location=feed_server.url("/real.ics"))
    feed_server.serve("/file.ics", "", status=302, Location="file:///etc/passwd")
    feed_server.serve("/ftp.ics", "", status=301, Location="ftp://127.0.0.1/cal.ics")
    assert b"BEGIN:VCALENDAR" in fetch.calendar_feed_fetch(feed_server.url("/moved.ics"))
    with pytest.raises(Invalid, match="not allowed"):
        fetch.calendar_feed_fetch(feed_server.url("/file.ics"))
    with pytest.raises(Invalid, match="not http"):
        fetch.calendar_feed_fetch(feed_server.url("/ftp.ics"))
    # A redirect to a private address is refused when private addresses are.
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False
    with pytest.raises(Invalid, match="private or local"):
        fetch.calendar_feed_fetch(feed_server.url("/moved.ics"))


@pytest.mark.parametrize("declare_length", [True, False])
def test_the_2_mb_limit_of_a_feed(alice, settings, feed_server, declare_length):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    headers = {} if declare_length else {"X-No-Length": "1", "Connection": "close"}
    feed_server.serve("/big.ics", b"x" * (fetch.MAX_ICS_BYTES + 1), **headers)
    feed_server.serve("/fits.ics", b"x" * fetch.MAX_ICS_BYTES, **headers)
    with pytest.raises(fetch.TooLarge):
        fetch.calendar_feed_fetch(feed_server.url("/big.ics"))
    assert len(fetch.calendar_feed_fetch(feed_server.url("/fits.ics"))) == fetch.MAX_ICS_BYTES
    feed = feeds.calendar_feed_add(member=alice, url=feed_server.url("/big.ics"))
    assert Api(alice).post(f"/me/calendar/feeds/{feed.pk}/sync").status_code == 202
    run_jobs()
    feed.refresh_from_db()
    assert feed.last_status == "error" and "2 MB" in feed.last_error


def test_fetch_refuses_other_schemes_outright():
    with pytest.raises(Invalid):
        fetch.calendar_feed_fetch("file:///etc/passwd")


def test_feeds_are_synced_every_15_minutes_and_errors_do_not_stop_the_others(
    alice, bob, settings, feed_server
):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    feed_server.serve("/a.ics", ics(allday("f1", "Vacation", 5, 6)))
    now = timezone.now()
    never = feeds.calendar_feed_add(member=alice, url=feed_server.url("/a.ics"))
    recent = feeds.calendar_feed_add(member=alice, url=feed_server.url("/a.ics?recent"))
    due = feeds.calendar_feed_add(member=alice, url=feed_server.url("/missing.ics"))
    old = feeds.calendar_feed_add(member=bob, url=feed_server.url("/a.ics"))
    CalendarFeed.objects.filter(pk=recent.pk).update(last_fetched_at=now - timedelta(minutes=14))
    CalendarFeed.objects.filter(pk=due.pk).update(last_fetched_at=now - timedelta(minutes=15))
    CalendarFeed.objects.filter(pk=old.pk).update(last_fetched_at=now - timedelta(hours=3))

    assert feeds.calendar_feeds_sync_due(now=now) == 3
    run_jobs()  # one job per feed: a slow one holds the worker for one deadline at most
    statuses = dict(CalendarFeed.objects.values_list("pk", "last_status"))
    assert statuses == {never.pk: "ok", recent.pk: "never", due.pk: "error", old.pk: "ok"}
    assert windows_of(alice) == windows_of(bob) == [(*days(5, 6), "calendar")]
    # Nothing is due right after; the recent one is due a minute later.
    assert feeds.calendar_feeds_sync_due(now=now) == 0
    assert feeds.calendar_feeds_sync_due(now=now + timedelta(minutes=1)) == 1


def test_changing_keywords_makes_feeds_due_again(alice, settings, feed_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    feed_server.serve("/a.ics", ics(allday("f1", "Sabbatical", 5, 6)))
    feeds.calendar_feed_add(member=alice, url=feed_server.url("/a.ics"))
    assert feeds.calendar_feeds_sync_due(now=timezone.now()) == 1
    run_jobs()
    assert not Absence.objects.exists()
    Api(alice).patch("/me/calendar", {"keywords": ["sabbatical"]})
    assert feeds.calendar_feeds_sync_due(now=timezone.now()) == 1
    run_jobs()
    assert windows_of(alice) == [(*days(5, 6), "calendar")]


# -- Export ------------------------------------------------------------------------------------


def test_export_feed_shows_the_members_absences_and_regenerating_revokes_the_old_url(alice, bob):
    api = Api(alice)
    make_manual(api, 3, 4)
    upload(api, ics(allday("v1", "Vacation", 10, 12)))
    Absence.objects.create(  # someone else's absence never shows
        member=bob,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=1),
        message="Bob",
    )
    response = api.post("/me/calendar/export-token")
    assert response.status_code == 201, response.content
    old_url = response.json()["url"]
    assert old_url.startswith("http://testserver/calendar/") and old_url.endswith(".ics")
    settings_body = api.get("/me/calendar").json()["export"]
    assert settings_body["active"] is True
    assert settings_body["token_prefix"] == response.json()["token_prefix"]
    token = old_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in str(CalendarSettings.objects.values().get())  # only a digest is kept

    anonymous = Client()
    feed = anonymous.get(old_url)
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in feed["Cache-Control"]
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    ids = list(
        Absence.objects.filter(member=alice).order_by("starts_at").values_list("pk", flat=True)
    )
    assert [str(e["UID"]) for e in events] == [f"absence-{i}@backsoon" for i in ids]
    assert [(e["DTSTART"].dt, e["DTEND"].dt) for e in events] == [
        tuple(t.astimezone(UTC) for t in days(3, 4)),
        tuple(t.astimezone(UTC) for t in days(10, 12)),
    ]
    assert {str(e["X-MICROSOFT-CDO-BUSYSTATUS"]) for e in events} == {"OOF"}
    assert str(events[0]["DESCRIPTION"]) == "By hand"

    new_url = api.post("/me/calendar/export-token").json()["url"]
    assert new_url != old_url
    assert anonymous.get(old_url).status_code == 404
    assert anonymous.get(new_url).status_code == 200
    assert api.delete("/me/calendar/export-token").status_code == 204
    assert anonymous.get(new_url).status_code == 404
    assert api.get("/me/calendar").json()["export"]["active"] is False


def test_export_shows_an_absence_ended_early_until_its_real_end(alice):
    api = Api(alice)
    absence_id = make_manual(api, -1, 3)
    api.post(f"/me/absences/{absence_id}/end")
    ended_at = Absence.objects.get(pk=absence_id).ended_at
    token = export.calendar_export_token_regenerate(member=alice)
    [event] = icalendar.Calendar.from_ical(export.calendar_export_ics(token=token)).walk("VEVENT")
    assert event["DTEND"].dt == ended_at.replace(microsecond=0)


def test_unknown_export_tokens_are_not_found(alice):
    client = Client()
    assert client.get("/calendar/" + "A" * 43 + ".ics").status_code == 404
    assert client.get("/calendar/short.ics").status_code == 404


# -- The plan, pure --------------------------------------------------------------------------


T0 = datetime(2030, 1, 1, tzinfo=UTC)


def hours(a: float, b: float) -> tuple[datetime, datetime]:
    return T0 + timedelta(hours=a), T0 + timedelta(hours=b)


def test_plan_merges_and_reuses_and_skips():
    events = [
        planning.PlanEvent(1, *hours(10, 20), absence_id=100),
        planning.PlanEvent(2, *hours(15, 30), absence_id=None),
        planning.PlanEvent(3, *hours(40, 50), absence_id=101),
        planning.PlanEvent(4, *hours(60, 70), absence_id=None),
    ]
    managed = [
        planning.PlanAbsence(100, *hours(10, 20)),
        planning.PlanAbsence(101, *hours(40, 50)),
        planning.PlanAbsence(102, *hours(80, 90)),  # its event is gone: deleted
        planning.PlanAbsence(103, *hours(-5, 5), active=True),  # gone but active: kept
    ]
    others = [planning.PlanAbsence(200, *hours(65, 66))]  # a manual absence
    plan = planning.plan_calendar_absences(events=events, managed=managed, others=others, now=T0)
    assert [(w.absence_id, w.event_ids, (w.starts_at, w.ends_at)) for w in plan.update] == [
        (100, [1, 2], hours(10, 30))
    ]
    assert [(w.absence_id, w.event_ids) for w in plan.keep] == [(101, [3])]
    assert [(w.event_ids, w.blocker.id if w.blocker else None) for w in plan.skip] == [([4], 200)]
    assert plan.create == []
    assert [a.id for a in plan.delete] == [102]


def test_plan_an_active_absence_keeps_its_start_and_merged_extras_go():
    events = [
        planning.PlanEvent(1, *hours(-10, 10), None),
        planning.PlanEvent(2, *hours(5, 30), 101),
    ]
    managed = [
        planning.PlanAbsence(100, *hours(-3, 8), active=True),
        planning.PlanAbsence(101, *hours(20, 30)),
    ]
    plan = planning.plan_calendar_absences(events=events, managed=managed, others=[], now=T0)
    assert [(w.absence_id, (w.starts_at, w.ends_at)) for w in plan.update] == [(100, hours(-3, 30))]
    assert [a.id for a in plan.delete] == [101]


def test_clip_window_to_366_days():
    start, end = hours(-48, 24 * 400)
    assert planning.clip_window(start, end, T0) == (T0, T0 + timedelta(days=366))
    assert planning.clip_window(*hours(0, 10), T0) == hours(0, 10)
    assert planning.clip_window(start, end, T0, fixed_start=True) == (
        start,
        start + timedelta(days=366),
    )


# -- Issue 14: feeds can not hold the site, the worker or shutdown --------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::5db8:d70e", True),  # NAT64 of the public 93.184.215.14
        ("2002:7f00:1::1", False),
        ("2002:5db8:d70e::1", True),  # 6to4 of a public address
        ("::127.0.0.1", False),
        ("::ffff:10.1.2.3", False),
        ("::ffff:93.184.215.14", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
    ],
)
def test_F6_embedded_ipv4_addresses_are_checked(address, allowed):
    assert fetch.address_allowed(address) is allowed


@pytest.fixture
def trickle_server() -> Iterator[tuple[str, list[float]]]:
    """A raw TCP server on 127.0.0.1 that sends one byte every ``PACE`` seconds: first the
    status line and headers (``/headers``), or proper headers and then the body
    (``/body``). It never finishes on its own; it stops when the client goes away."""
    pace = 0.5
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    closed_at: list[float] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            request = conn.recv(4096).decode("latin-1")
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\n"
            if " /body " in request:
                conn.sendall(head + b"Content-Length: 100000\r\n\r\n")
                drip = b"x" * 100000
            else:
                drip = head + b"X-Slow: " + b"y" * 100000
            try:
                for byte in drip:
                    if stop.is_set():
                        break
                    conn.sendall(bytes([byte]))
                    time.sleep(pace)
            except OSError:
                pass  # the client cut the connection
            closed_at.append(time.monotonic())

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", closed_at
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("path", ["/headers", "/body"])
def test_F1_a_trickling_feed_is_cut_at_the_deadline(settings, trickle_server, path):
    """One byte every half second, in the headers or in the body: each read returns long
    before the socket timeout, so only a deadline enforced while reading stops it."""
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    base, _closed = trickle_server
    started = time.monotonic()
    with pytest.raises(Invalid) as raised:
        fetch.calendar_feed_fetch(base + path, deadline_seconds=2.0)
    elapsed = time.monotonic() - started
    assert raised.value.code == "calendar_fetch_failed"
    assert "took too long" in str(raised.value.detail)
    assert 1.9 <= elapsed < 3.0, elapsed


def test_F1_the_default_deadline_is_well_below_a_request_timeout():
    assert fetch.FETCH_DEADLINE_SECONDS <= 15
    assert fetch.FETCH_TIMEOUT_SECONDS <= fetch.FETCH_DEADLINE_SECONDS


def test_F1_shutdown_cuts_a_fetch_under_way(settings, trickle_server):
    """What SIGTERM does in the worker (``fetches_cancelled_on_sigterm``): every download
    under way fails at once instead of running to its deadline."""
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    base, _closed = trickle_server
    outcome: list[BaseException] = []

    def download() -> None:
        try:
            fetch.calendar_feed_fetch(base + "/body", deadline_seconds=30.0)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=download)
    thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    assert fetch.calendar_fetches_cancel() == 1
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 1.0
    assert isinstance(outcome[0], Invalid) and "took too long" in str(outcome[0].detail)


def test_F1_sigterm_in_the_feed_job_cuts_the_fetch_then_stops_the_worker(settings, trickle_server):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    base, _closed = trickle_server
    stopped: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopped.append(signum))
    try:
        timer = threading.Timer(1.0, os.kill, args=(os.getpid(), signal.SIGTERM))
        started = time.monotonic()
        timer.start()
        with fetch.fetches_cancelled_on_sigterm(), pytest.raises(Invalid):
            fetch.calendar_feed_fetch(base + "/body", deadline_seconds=30.0)
        assert time.monotonic() - started < 3.0
        assert stopped == [signal.SIGTERM]  # the worker's own handler still ran
        assert signal.getsignal(signal.SIGTERM) is not previous  # ours again after the block
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_F1_eight_parallel_sync_now_calls_queue_one_fetch(settings):
    """A real race on PostgreSQL. (SQLite serialises writers, and its shared-cache
    in-memory test database answers "table is locked" instead of waiting.)"""
    from django_tasks_db.models import DBTaskResult

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")

    alice = make_member("alice")
    feed = feeds.calendar_feed_add(member=alice, url="https://93.184.215.14/a.ics")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def click() -> None:
        try:
            barrier.wait()
            feeds.calendar_feed_sync_now(member=alice, feed_id=feed.pk)
            outcomes.append("queued")
        except RateLimited:
            outcomes.append("429")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["429"] * 7 + ["queued"]
    jobs = DBTaskResult.objects.filter(task_path="backsoon.tasks.calendar_feed_sync_job")
    assert [job.args_kwargs["args"] for job in jobs] == [[feed.pk]]


def test_F1_sync_now_answers_429_with_retry_after_while_claimed(alice):
    feed = feeds.calendar_feed_add(member=alice, url="https://93.184.215.14/a.ics")
    api = Api(alice)
    assert api.post(f"/me/calendar/feeds/{feed.pk}/sync").status_code == 202
    refused = api.post(f"/me/calendar/feeds/{feed.pk}/sync")
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 11


def test_F2_imports_are_limited_to_ten_an_hour(alice):
    api = Api(alice)
    text = ics(allday("v1", "Vacation", 10, 12))
    for _ in range(sync.IMPORTS_PER_HOUR):
        assert upload(api, text).status_code == 200
    refused = upload(api, text)
    assert_error(refused, 429, "calendar_import_throttled")
    assert 3500 <= int(refused["Retry-After"]) <= 3601
    # Another member is not affected.
    bob = make_member("bob2")
    assert upload(Api(bob), text).status_code == 200


def test_F2_the_182_byte_file_is_refused_fast_through_the_api(alice):
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a@b\r\n"
        "DTSTART:00010101T000000Z\r\nDTEND:00010102T000000Z\r\nRRULE:FREQ=DAILY\r\n"
        "SUMMARY:vacation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    started = time.process_time()
    response = upload(Api(alice), text)
    assert time.process_time() - started < 1.0
    body = assert_error(response, 422, "calendar_unreadable")
    assert "since so long ago" in body["detail"]["problems"][0]
    assert not Absence.objects.exists()
