"""The calendar page: upload an .ics file, see the report or what could not be read,
feeds, settings and the private export URL (issue 3, 4)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from backsoon.accounts.models import Member
from backsoon.away.calendar.fetch import MAX_ICS_BYTES
from backsoon.away.calendar.models import CalendarFeed, CalendarSettings
from backsoon.away.models import Absence
from tests.away.test_calendar import run_jobs

pytestmark = pytest.mark.django_db

PAGE = "/away/calendar/"


def logged_in(member: Member, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(member)
    return client


def calendar_file(*events: tuple[str, str, int, int], name: str = "calendar.ics"):
    """An .ics upload with all-day events ``(uid, summary, first day, last day)`` from today."""
    today = timezone.now().astimezone(ZoneInfo("Europe/Amsterdam")).date()
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n"
    for uid, summary, first, last in events:
        body += (
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{summary}\r\n"
            f"DTSTART;VALUE=DATE:{today + timedelta(days=first):%Y%m%d}\r\n"
            f"DTEND;VALUE=DATE:{today + timedelta(days=last + 1):%Y%m%d}\r\nEND:VEVENT\r\n"
        )
    body += "END:VCALENDAR\r\n"
    return SimpleUploadedFile(name, body.encode(), content_type="text/calendar")


def test_the_page_needs_a_login_and_shows_every_part(alice):
    assert Client().get(PAGE).status_code == 302
    response = logged_in(alice).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Import a calendar file",
        "Calendar feeds",
        "What counts as an absence",
        "vakantie",  # the default keywords are in the form
        "Make my private address",
    ):
        assert text in html
    assert 'enctype="multipart/form-data"' in html
    # Strict CSP: no inline style or script.
    assert "style=" not in html and "<script>" not in html


def test_upload_imports_and_shows_the_report(alice):
    client = logged_in(alice)
    response = client.post(
        "/away/calendar/import/", {"file": calendar_file(("v1", "Vakantie Texel", 5, 7))}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-created"' in html
    assert "Vakantie Texel" in html
    [absence] = Absence.objects.filter(member=alice)
    assert absence.source == "calendar"
    # Again: nothing changes, and the page says so.
    again = client.post(
        "/away/calendar/import/", {"file": calendar_file(("v1", "Vakantie Texel", 5, 7))}
    )
    assert "Nothing changed" in again.content.decode()
    assert Absence.objects.filter(member=alice).count() == 1


def test_upload_errors_are_shown_and_nothing_is_imported(alice):
    client = logged_in(alice)
    broken = SimpleUploadedFile(
        "broken.ics",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad-1\r\nSUMMARY:Vacation\r\n"
        b"DTSTART:soon\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    response = client.post("/away/calendar/import/", {"file": broken})
    assert response.status_code == 422
    html = response.content.decode()
    assert "nothing was imported" in html
    assert 'data-testid="calendar-problems"' in html and "UID bad-1" in html

    response = client.post("/away/calendar/import/", {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()

    big = SimpleUploadedFile("big.ics", b"x" * (MAX_ICS_BYTES + 1))
    response = client.post("/away/calendar/import/", {"file": big})
    assert response.status_code == 413
    assert "at most 2 MB" in response.content.decode()
    assert not Absence.objects.exists()


def test_posts_need_the_csrf_token(alice):
    client = logged_in(alice, enforce_csrf_checks=True)
    response = client.post(
        "/away/calendar/import/", {"file": calendar_file(("v1", "Vacation", 5, 6))}
    )
    assert response.status_code == 403
    assert client.post("/away/calendar/export/").status_code == 403
    assert not Absence.objects.exists()
    assert not CalendarSettings.objects.exists()
    # With the token from the page it works.
    page = client.get(PAGE)
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/away/calendar/import/",
        {"file": calendar_file(("v1", "Vacation", 5, 6)), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert Absence.objects.count() == 1


def test_pages_only_take_posts(alice):
    client = logged_in(alice)
    for url in ("/away/calendar/import/", "/away/calendar/settings/", "/away/calendar/export/"):
        assert client.get(url).status_code == 405


def test_settings_are_saved(alice):
    client = logged_in(alice)
    response = client.post(
        "/away/calendar/settings/",
        {
            "keywords": "Sabbatical\n\n  Leave \n",
            "default_message": "Back on {return_date}.",
            "default_audience": "connections",
        },
    )
    assert response.status_code == 302
    options = CalendarSettings.objects.get(member=alice)
    assert options.keywords == ["Sabbatical", "Leave"]
    assert options.default_message == "Back on {return_date}."
    assert options.default_audience == "connections"
    assert "Calendar settings saved." in client.get(PAGE).content.decode()

    response = client.post(
        "/away/calendar/settings/",
        {"keywords": "x" * 61, "default_message": "", "default_audience": "everyone"},
    )
    assert response.status_code == 422
    assert "at most 60 characters" in response.content.decode()


def test_feeds_are_added_synced_and_removed(alice, bob, settings):
    client = logged_in(alice)
    response = client.post("/away/calendar/feeds/", {"url": "http://169.254.169.254/latest/"})
    assert response.status_code == 422
    assert "private or local" in response.content.decode()
    assert not CalendarFeed.objects.exists()

    response = client.post("/away/calendar/feeds/", {"url": "webcal://93.184.215.14/team.ics"})
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(member=alice)
    html = client.get(PAGE).content.decode()
    assert "https://93.184.215.14/team.ics" in html and "Not read yet" in html

    # Another member can not touch it.
    other = logged_in(bob)
    assert other.post(f"/away/calendar/feeds/{feed.pk}/delete/").status_code == 404
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()

    assert client.post(f"/away/calendar/feeds/{feed.pk}/delete/").status_code == 302
    assert not CalendarFeed.objects.exists()


def test_sync_now_shows_the_failure(alice, settings):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = True
    client = logged_in(alice)
    # Nothing listens on port 9 (discard) here: the fetch fails and the page says why.
    client.post("/away/calendar/feeds/", {"url": "http://127.0.0.1:9/cal.ics"})
    feed = CalendarFeed.objects.get(member=alice)
    # Finding 1: the page queues the fetch and comes back at once; the worker fetches.
    response = client.post(f"/away/calendar/feeds/{feed.pk}/sync/", follow=True)
    assert response.redirect_chain == [("/away/calendar/", 302)]
    assert "The feed is queued" in response.content.decode()
    run_jobs()
    html = client.get(PAGE).content.decode()
    assert "could not be fetched" in html
    assert "Failed" in html  # the feed's last status
    # Again at once: refused, and nothing is queued.
    again = client.post(f"/away/calendar/feeds/{feed.pk}/sync/")
    assert again.status_code == 429


def test_export_url_is_shown_once_and_works(alice):
    client = logged_in(alice)
    response = client.post("/away/calendar/export/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="export-url"' in html
    assert "Regenerate (revokes the old URL)" in html
    url = response.context["new_export_url"]
    assert url.startswith("http://testserver/calendar/")
    assert Client().get(url).status_code == 200
    # The page does not show it again; it tells when it was made.
    page = client.get(PAGE).content.decode()
    assert url not in page and "Your private address" in page
    # Turning it off revokes it.
    assert client.post("/away/calendar/export/revoke/").status_code == 302
    assert Client().get(url).status_code == 404
