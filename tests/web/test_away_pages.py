"""The out-of-office web pages: the settings page, the absence form, the preview, the banner.

Through Django's test client, as a signed-in member. Rules cited are AWAY-SPEC's.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from backsoon.away.models import Absence
from backsoon.away.texts import format_day
from tests.factories import connect, make_absence, make_member

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Monday 22 December followed by a Friday 2 January, far enough ahead for A3.
YEAR = 2059


def client_for(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def days(first: date, last: date, **fields: Any) -> dict[str, Any]:
    """Form data for a whole-day absence with every other field at its default."""
    return {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "message": "Away, back {return_date}.",
        "audience": "everyone",
        "invitations": "hold",
        "repeat_after_days": "",
        **fields,
    }


def local_midnight(day: date, tz: ZoneInfo = AMSTERDAM) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)


def field_error(html: str, field: str) -> str:
    """The error text shown right below the form field ``field`` ("" if none)."""
    match = re.search(rf'<small class="error" id="id_{field}_error">(.*?)</small>', html, re.S)
    return unescape(match.group(1)) if match else ""


def text(response) -> str:
    return response.content.decode()


# -- the page ---------------------------------------------------------------------


def test_page_renders_with_form_preview_and_history(alice):
    page = client_for(alice).get("/away/")
    assert page.status_code == 200
    html = text(page)
    assert "You are not away" in html
    for name in ("first_day", "last_day", "exact_times", "message", "message_nl", "backup"):
        assert f'name="{name}"' in html, name
    assert 'data-testid="away-preview"' in html
    assert 'src="/static/away/away.js"' in html
    assert "<script>" not in html  # no inline script (CSP script-src 'self')
    assert 'style="' not in html  # no inline style either


def test_page_needs_login():
    response = Client().get("/away/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_page_shows_the_current_absence_and_the_history_in_the_member_zone(alice):
    now = timezone.now()
    past = make_absence(alice, hours_from_now=-24 * 20, hours=24 * 3, message="Skiing")
    Absence.objects.filter(pk=past.pk).update(ended_at=now - timedelta(days=18))
    active = make_absence(alice, hours_from_now=-1, hours=48, message="On a boat")
    html = text(client_for(alice).get("/away/"))
    assert 'data-testid="away-current"' in html and "On a boat" in html
    assert f'action="/away/{active.pk}/end/"' in html
    assert f"/away/{active.pk}/edit/" in html
    assert f'action="/away/{active.pk}/delete/"' not in html  # active: end it, not delete
    assert f'href="/away/{past.pk}/digest/"' in html
    ended_local = (now - timedelta(days=18)).astimezone(AMSTERDAM)
    assert ended_local.strftime("%H:%M") in html  # "ended early" time, in Amsterdam


def test_page_offers_edit_and_delete_for_a_scheduled_absence(alice):
    scheduled = make_absence(alice, hours_from_now=48, hours=24)
    html = text(client_for(alice).get("/away/"))
    assert "Scheduled" in html
    assert f'action="/away/{scheduled.pk}/delete/"' in html
    assert f'action="/away/{scheduled.pk}/end/"' not in html


# -- creating (A2, A3) ----------------------------------------------------------------


def test_A2_whole_days_include_first_and_last_day_in_the_member_zone(alice):
    first, last = date(YEAR, 12, 22), date(YEAR + 1, 1, 2)
    assert (first.strftime("%a"), last.strftime("%a")) == ("Mon", "Fri")
    response = client_for(alice).post("/away/new/", days(first, last))
    assert response.status_code == 302, field_error(text(response), "last_day")
    assert response["Location"] == "/away/"
    absence = Absence.objects.get(member=alice)
    assert absence.starts_at == datetime(YEAR, 12, 21, 23, 0, tzinfo=UTC)
    assert absence.ends_at == datetime(YEAR + 1, 1, 2, 23, 0, tzinfo=UTC)
    assert absence.starts_at == local_midnight(first)
    assert absence.ends_at == local_midnight(last + timedelta(days=1))


def test_A2_whole_days_across_the_spring_dst_change(alice):
    # Clocks go forward in the night of Sunday 29 March: that day has 23 hours.
    first, last = date(YEAR, 3, 27), date(YEAR, 3, 30)
    client_for(alice).post("/away/new/", days(first, last))
    absence = Absence.objects.get(member=alice)
    assert absence.starts_at == local_midnight(first) == datetime(YEAR, 3, 26, 23, tzinfo=UTC)
    assert (
        absence.ends_at
        == local_midnight(date(YEAR, 3, 31))
        == datetime(YEAR, 3, 30, 22, tzinfo=UTC)
    )
    assert absence.ends_at - absence.starts_at == timedelta(days=4, hours=-1)


def test_A2_whole_days_across_the_autumn_dst_change_in_another_zone():
    ny = ZoneInfo("America/New_York")
    member = make_member("nyc", timezone_name="America/New_York")
    first, last = date(YEAR, 11, 1), date(YEAR, 11, 3)  # clocks go back on 2 November
    client_for(member).post("/away/new/", days(first, last))
    absence = Absence.objects.get(member=member)
    assert absence.starts_at == local_midnight(first, ny)
    assert absence.ends_at == local_midnight(date(YEAR, 11, 4), ny)
    assert absence.ends_at - absence.starts_at == timedelta(days=3, hours=1)


def test_A2_exact_times_are_read_in_the_member_zone(alice):
    data = days(date(YEAR, 7, 1), date(YEAR, 7, 1), exact_times="on")
    data |= {"starts_at": f"{YEAR}-07-01T09:30", "ends_at": f"{YEAR}-07-03T17:00"}
    response = client_for(alice).post("/away/new/", data)
    assert response.status_code == 302
    absence = Absence.objects.get(member=alice)
    assert absence.starts_at == datetime(YEAR, 7, 1, 7, 30, tzinfo=UTC)  # CEST is UTC+2
    assert absence.ends_at == datetime(YEAR, 7, 3, 15, 0, tzinfo=UTC)


def test_create_stores_every_field(alice, bob):
    connect(alice, bob)
    data = days(
        date(YEAR, 5, 4),
        date(YEAR, 5, 8),
        message="Hi {first_name}",
        message_nl="Hoi {first_name}",
        message_en="",
        audience="connections",
        others_message="Out of office.",
        backup="@Bob",
        invitations="auto_accept_mutual",
        repeat_after_days="7",
    )
    assert client_for(alice).post("/away/new/", data).status_code == 302
    absence = Absence.objects.get(member=alice)
    assert absence.message == "Hi {first_name}"
    assert absence.translations == {"nl": "Hoi {first_name}"}
    assert absence.audience == "connections"
    assert absence.others_message == "Out of office."
    assert absence.backup == bob
    assert absence.invitations == "auto_accept_mutual"
    assert absence.repeat_after_days == 7


def test_backup_field_offers_your_connections(alice, bob):
    connect(alice, bob)
    make_member("stranger")
    html = text(client_for(alice).get("/away/"))
    datalist = re.search(r'<datalist id="away-backup-options">(.*?)</datalist>', html, re.S)
    assert datalist is not None
    assert 'value="bob"' in datalist.group(1)
    assert "stranger" not in datalist.group(1)
    assert 'list="away-backup-options"' in html


def test_A3_overlap_shows_the_409_message_and_creates_nothing(alice):
    client = client_for(alice)
    client.post("/away/new/", days(date(YEAR, 8, 3), date(YEAR, 8, 14)))
    response = client.post("/away/new/", days(date(YEAR, 8, 10), date(YEAR, 8, 20)))
    assert response.status_code == 409
    html = unescape(text(response))
    assert "overlap" in html
    assert "Sun 3 Aug \u2013 Thu 14 Aug 2059" in html  # the other absence, in the member's days
    assert Absence.objects.filter(member=alice).count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"first_day": f"{YEAR}-05-10", "last_day": f"{YEAR}-05-03"},
            "last_day",
            "The last day can not be before the first day.",
        ),
        ({"first_day": "", "last_day": f"{YEAR}-05-03"}, "first_day", "Choose your first day"),
        ({"last_day": "not a date"}, "last_day", "Enter a valid date."),
        (
            {"first_day": "2001-05-01", "last_day": "2001-05-03"},
            "last_day",
            "The end must be in the future.",
        ),
        (
            {"first_day": f"{YEAR}-01-01", "last_day": f"{YEAR + 1}-01-10"},
            "last_day",
            "at most 366 days",
        ),
        ({"first_day": "9999-12-30", "last_day": "9999-12-31"}, "last_day", "this century"),
        (
            {
                "exact_times": "on",
                "starts_at": "0001-01-01T00:00",
                "ends_at": "0001-01-01T00:10",
            },
            "ends_at",
            "this century",
        ),
        ({"message": "x" * 2001}, "message", "at most 2000 characters"),
        ({"others_message": "x" * 2001}, "others_message", "at most 2000 characters"),
        ({"message_nl": "x" * 2001}, "message_nl", "at most 2000 characters"),
        ({"audience": "friends"}, "audience", "Select a valid choice."),
        ({"invitations": "all"}, "invitations", "Select a valid choice."),
        ({"repeat_after_days": "31"}, "repeat_after_days", "Select a valid choice."),
        ({"backup": "nobody-by-that-name"}, "backup", "The backup contact is not a member."),
        ({"backup": "alice"}, "backup", "You can not be your own backup."),
        (
            {"exact_times": "on", "starts_at": f"{YEAR}-05-03T10:00", "ends_at": ""},
            "ends_at",
            "When are you back?",
        ),
        (
            {
                "exact_times": "on",
                "starts_at": f"{YEAR}-05-03T10:00",
                "ends_at": f"{YEAR}-05-03T09:00",
            },
            "ends_at",
            "Your return must be after you leave.",
        ),
    ],
)
def test_A3_invalid_fields_give_422_with_the_message_next_to_the_field(
    alice, fields, field, message
):
    data = days(date(YEAR, 5, 3), date(YEAR, 5, 7)) | fields
    response = client_for(alice).post("/away/new/", data)
    assert response.status_code == 422
    html = text(response)
    assert message in field_error(html, field), html
    assert not Absence.objects.exists()
    # What the member typed is kept.
    if field == "message":
        assert "x" * 2001 in html


# -- editing, ending, deleting (R3, A4) ---------------------------------------------------


def test_R3_edit_changes_the_text_and_starts_the_reply_record_over(alice):
    absence = make_absence(alice, hours_from_now=48, hours=72, message="Old text")
    client = client_for(alice)
    page = client.get(f"/away/{absence.pk}/edit/")
    assert page.status_code == 200 and "Old text" in text(page)
    version = absence.message_version
    data = days(date(YEAR, 1, 1), date(YEAR, 1, 1), message="New text")
    # The form posts the dates it showed; keep the absence's own window.
    data |= _shown_window(text(page))
    response = client.post(f"/away/{absence.pk}/edit/", data)
    assert response.status_code == 302
    absence.refresh_from_db()
    assert absence.message == "New text"
    assert absence.message_version > version


def _shown_window(html: str) -> dict[str, str]:
    values = {}
    for name in ("first_day", "last_day", "starts_at", "ends_at"):
        match = re.search(rf'name="{name}" value="([^"]*)"', html)
        values[name] = match.group(1) if match else ""
    if re.search(r'name="exact_times"[^>]*checked', html):
        values["exact_times"] = "on"
    return values


def test_edit_of_an_active_absence_leaves_its_times_alone(alice):
    absence = make_absence(alice, hours_from_now=-3, hours=30, message="Old")
    before = (absence.starts_at, absence.ends_at)
    client = client_for(alice)
    page = text(client.get(f"/away/{absence.pk}/edit/"))
    data = days(date(YEAR, 1, 1), date(YEAR, 1, 1), message="New") | _shown_window(page)
    assert data.get("exact_times") == "on"  # not whole days: shown as exact times
    assert client.post(f"/away/{absence.pk}/edit/", data).status_code == 302
    absence.refresh_from_db()
    assert absence.message == "New"
    assert (absence.starts_at, absence.ends_at) == before


def test_edit_of_whole_days_shows_the_days_and_moves_them(alice):
    client = client_for(alice)
    client.post("/away/new/", days(date(YEAR, 6, 1), date(YEAR, 6, 5)))
    absence = Absence.objects.get(member=alice)
    page = text(client.get(f"/away/{absence.pk}/edit/"))
    assert _shown_window(page)["first_day"] == f"{YEAR}-06-01"
    assert _shown_window(page)["last_day"] == f"{YEAR}-06-05"
    assert "exact_times" not in _shown_window(page)
    response = client.post(f"/away/{absence.pk}/edit/", days(date(YEAR, 6, 1), date(YEAR, 6, 12)))
    assert response.status_code == 302
    absence.refresh_from_db()
    assert absence.ends_at == local_midnight(date(YEAR, 6, 13))


def test_edit_into_an_overlap_is_409_and_changes_nothing(alice):
    client = client_for(alice)
    client.post("/away/new/", days(date(YEAR, 6, 1), date(YEAR, 6, 5)))
    client.post("/away/new/", days(date(YEAR, 6, 10), date(YEAR, 6, 12)))
    second = Absence.objects.get(member=alice, starts_at=local_midnight(date(YEAR, 6, 10)))
    response = client.post(
        f"/away/{second.pk}/edit/", days(date(YEAR, 6, 4), date(YEAR, 6, 12), message="Changed")
    )
    assert response.status_code == 409
    second.refresh_from_db()
    assert second.starts_at == local_midnight(date(YEAR, 6, 10))
    assert second.message != "Changed"


def test_edit_of_an_ended_absence_goes_back_to_the_page(alice):
    absence = make_absence(alice, hours_from_now=-48, hours=24)
    response = client_for(alice).get(f"/away/{absence.pk}/edit/")
    assert response.status_code == 302 and response["Location"] == "/away/"


def test_P1_banner_shows_while_away_with_settings_link_and_end_now(alice):
    client = client_for(alice)
    client.post("/away/new/", days(date(YEAR, 6, 1), date(YEAR, 6, 5)))  # scheduled only
    assert 'data-testid="away-banner"' not in text(client.get("/"))
    absence = make_absence(alice, hours_from_now=-1, hours=24 * 3)
    html = text(client.get("/in/alice/"))
    banner = re.search(r'data-testid="away-banner".*?</div></div>', html, re.S)
    assert banner is not None
    assert "You are away" in banner.group(0)
    assert 'href="/away/"' in banner.group(0)
    assert f'action="/away/{absence.pk}/end/"' in banner.group(0)
    assert 'name="next" value="/in/alice/"' in banner.group(0)
    assert "csrfmiddlewaretoken" in banner.group(0)


def test_A4_end_now_from_the_banner_leads_to_the_digest_and_the_banner_goes(alice):
    """TRIAGE C4: ending an absence leads to its digest, wherever it was ended from."""
    absence = make_absence(alice, hours_from_now=-1, hours=48)
    client = client_for(alice)
    response = client.post(f"/away/{absence.pk}/end/", {"next": "/search/?q=x"})
    assert response.status_code == 302
    assert response["Location"] == f"/away/{absence.pk}/digest/"
    absence.refresh_from_db()
    assert absence.ended_at is not None
    assert absence.state(timezone.now()) == "ended"
    html = text(client.get(response["Location"]))
    assert 'data-testid="away-banner"' not in html
    assert 'data-testid="digest-connections"' in html or "digest" in html
    assert 'data-testid="away-banner"' not in text(client.get("/search/?q=x"))


def test_A4_end_now_never_redirects_off_site(alice):
    absence = make_absence(alice, hours_from_now=-1, hours=48)
    response = client_for(alice).post(
        f"/away/{absence.pk}/end/", {"next": "https://evil.example/phish"}
    )
    assert response["Location"] == f"/away/{absence.pk}/digest/"


def test_A4_ending_twice_is_not_an_error(alice):
    absence = make_absence(alice, hours_from_now=-1, hours=48)
    client = client_for(alice)
    client.post(f"/away/{absence.pk}/end/")
    response = client.post(f"/away/{absence.pk}/end/", follow=True)
    assert response.status_code == 200
    assert "ended already" in text(response)


def test_A4_delete_a_scheduled_absence(alice):
    absence = make_absence(alice, hours_from_now=48, hours=24)
    response = client_for(alice).post(f"/away/{absence.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/away/"
    assert not Absence.objects.filter(pk=absence.pk).exists()


def test_A4_an_ended_absence_stays_in_the_history(alice):
    absence = make_absence(alice, hours_from_now=-48, hours=24)
    response = client_for(alice).post(f"/away/{absence.pk}/delete/", follow=True)
    assert Absence.objects.filter(pk=absence.pk).exists()
    assert "stay in your history" in text(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/away/{id}/edit/"),
        ("post", "/away/{id}/edit/"),
        ("post", "/away/{id}/end/"),
        ("post", "/away/{id}/delete/"),
    ],
)
def test_another_members_absence_is_not_found(alice, bob, method, path):
    theirs = make_absence(bob, hours_from_now=-1, hours=48, message="Bob's")
    client = client_for(alice)
    data = days(date(YEAR, 1, 1), date(YEAR, 1, 2), message="hijack") if method == "post" else {}
    response = getattr(client, method)(path.format(id=theirs.pk), data)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.message == "Bob's" and theirs.ended_at is None


def test_unknown_absence_is_not_found(alice):
    assert client_for(alice).get("/away/999999/edit/").status_code == 404


# -- the preview (R4, R7, R8) -------------------------------------------------------------


def test_R4_preview_for_a_connection_and_for_anyone_else(alice, bob):
    connect(alice, bob)
    first, last = date(YEAR, 12, 22), date(YEAR + 1, 1, 2)
    data = days(
        first,
        last,
        message="Hi {first_name}, back on {return_date}. Ask {backup}. {unknown} stays.",
        audience="connections",
        others_message="Out of office until {return_date}.",
        backup="bob",
        preview_language="en",
    )
    response = client_for(alice).post("/away/preview/", data)
    assert response.status_code == 200
    body = response.json()
    # A6: the last day is a Friday: back on Monday, not on Saturday.
    back = format_day(date(YEAR + 1, 1, 5), "en")
    assert back == "Monday 5 January 2060"
    assert body["connection"]["sent"] is True
    assert body["connection"]["text"] == (
        f"Hi Sam, back on {back}. Ask Bob de Boer (@bob). {{unknown}} stays."
    )
    assert body["others"]["sent"] is True
    assert body["others"]["text"] == f"Out of office until {back}."
    assert body["language"] == "en"


def test_R4_preview_without_others_message_gives_non_connections_nothing(alice):
    data = days(date(YEAR, 2, 2), date(YEAR, 2, 3), audience="connections", others_message="")
    body = client_for(alice).post("/away/preview/", data).json()
    assert body["connection"]["sent"] is True
    assert body["others"] == {
        "sent": False,
        "text": "",
        "note": "No automatic reply: only your connections get one.",
    }
    nobody = client_for(alice).post("/away/preview/", data | {"audience": "nobody"}).json()
    assert not nobody["connection"]["sent"] and not nobody["others"]["sent"]


def test_R7_preview_in_the_writers_language_uses_the_translation(alice):
    data = days(
        date(YEAR, 12, 22),
        date(YEAR + 1, 1, 2),
        message="Back {return_date}",
        message_nl="Terug op {return_date}",
        preview_language="nl",
    )
    body = client_for(alice).post("/away/preview/", data).json()
    assert body["language"] == "nl"
    # A6: the last day is a Friday: back on Monday.
    assert body["connection"]["text"] == "Terug op maandag 5 januari 2060"
    assert body["others"]["text"] == "Terug op maandag 5 januari 2060"  # audience everyone


def test_R7_preview_defaults_to_the_members_own_language():
    member = make_member("anouk", language="nl")
    # The editor's first box is in the member's own language (Dutch here); the
    # English one is the translation.
    data = {"message": "Terug", "message_en": "Back"}
    body = client_for(member).post("/away/preview/", data).json()
    assert body["language"] == "nl"
    assert body["connection"]["text"] == "Terug"


def test_preview_of_an_incomplete_form_still_shows_the_text(alice):
    body = client_for(alice).post("/away/preview/", {"message": "Back {return_date}"}).json()
    assert body["connection"]["sent"] is True
    assert body["connection"]["text"].startswith("Back ")


def test_preview_is_also_rendered_by_the_server(alice, bob):
    connect(alice, bob)
    absence = make_absence(
        alice, hours_from_now=48, hours=24, message="Hello {first_name}", backup=bob
    )
    html = text(client_for(alice).get(f"/away/{absence.pk}/edit/"))
    assert 'data-preview="connection-text">Hello Sam</p>' in html


def test_preview_needs_login_and_post():
    assert Client().post("/away/preview/", {}).status_code == 302
    member = make_member("previewer")
    assert client_for(member).get("/away/preview/").status_code == 405


def test_R8_the_editor_warns_that_anyone_may_see_the_others_text(alice):
    html = text(client_for(alice).get("/away/new/"))
    assert "Anyone who writes to you may see this text" in html


# -- safety ------------------------------------------------------------------------------


def test_member_text_is_escaped_everywhere(alice):
    evil = "<script>alert(1)</script>{first_name}"
    absence = make_absence(alice, hours_from_now=-1, hours=48, message=evil, others_message=evil)
    client = client_for(alice)
    for url in ("/away/", f"/away/{absence.pk}/edit/", "/"):
        html = text(client.get(url))
        assert "<script>alert(1)" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(client.get("/away/"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Sam" in text(
        client.get(f"/away/{absence.pk}/edit/")
    )
    # The JSON carries the text as text; the script sets it with textContent.
    body = client.post("/away/preview/", {"message": evil}).json()
    assert body["connection"]["text"] == "<script>alert(1)</script>Sam"


def test_csrf_is_required_on_every_post(alice):
    absence = make_absence(alice, hours_from_now=-1, hours=48)
    scheduled = make_absence(alice, hours_from_now=100, hours=24)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    data = days(date(YEAR, 1, 1), date(YEAR, 1, 2))
    for url in (
        "/away/new/",
        f"/away/{absence.pk}/edit/",
        f"/away/{absence.pk}/end/",
        f"/away/{scheduled.pk}/delete/",
        "/away/preview/",
    ):
        assert client.post(url, data).status_code == 403, url
    assert Absence.objects.filter(member=alice).count() == 2
    absence.refresh_from_db()
    assert absence.ended_at is None


# -- Issue 14 finding 3: the range of an absence, through the form ------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"first_day": "9999-12-01", "last_day": "9999-12-05"},
        {"exact_times": "on", "starts_at": "9999-12-01T10:00", "ends_at": "9999-12-02T10:00"},
    ],
)
def test_F3_an_absence_in_the_year_9999_is_refused_next_to_the_field(alice, fields):
    client = client_for(alice)
    response = client.post("/away/new/", days(date(YEAR, 5, 3), date(YEAR, 5, 7)) | fields)
    assert response.status_code == 422
    field = "ends_at" if "exact_times" in fields else "last_day"
    assert "days from now" in field_error(text(response), field)
    assert not Absence.objects.exists()
    assert client.get("/away/").status_code == 200


def test_F3_ending_a_scheduled_absence_from_the_page_cancels_it(alice):
    scheduled = make_absence(alice, hours_from_now=48, hours=24)
    client = client_for(alice)
    response = client.post(f"/away/{scheduled.pk}/end/", follow=True)
    assert response.status_code == 200
    assert "Your scheduled absence is cancelled." in text(response)
    assert not Absence.objects.exists()
