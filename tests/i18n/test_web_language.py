"""Which language a page speaks, the footer's switch, and dates and numbers per language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, timezone, translation
from django.utils.translation import pgettext

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.posts.actions import post_create
from backsoon.posts.models import Post
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAYS_NL = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
MONTHS_NL = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip


def text(response) -> str:
    return unescape(response.content.decode())


def signed_in(member: Member, **headers: str) -> Client:
    client = Client(headers=headers)
    client.force_login(member)
    return client


def test_a_visitor_gets_the_browsers_language():
    dutch = Client(headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}).get("/")
    assert '<html lang="nl">' in text(dutch)
    assert "Het professionele netwerk dat weet wanneer je weg bent." in text(dutch)
    english = Client(headers={"Accept-Language": "en-GB,en;q=0.9"}).get("/")
    assert "The professional network that knows when you are away." in text(english)
    other = Client(headers={"Accept-Language": "de-DE,de;q=0.9"}).get("/")
    assert '<html lang="en">' in text(other)


def test_a_members_profile_language_wins_over_browser_and_cookie():
    noor = make_member("noor", display_name="Noor de Vries", language="nl")
    client = signed_in(noor, **{"Accept-Language": "en-GB"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get("/network/"))
    assert "Uitnodigingen" in page
    assert "Mensen die je misschien kent" in page
    assert ">Berichten<" in page and ">Netwerk<" in page and ">Meldingen<" in page


def test_the_footer_offers_the_other_language():
    page = text(Client(headers={"Accept-Language": "nl"}).get("/login/"))
    assert 'data-testid="language-switch"' in page
    assert '<strong lang="nl" aria-current="true">Nederlands</strong>' in page
    assert 'name="language" value="en"' in page and ">English</button>" in page
    assert 'action="/language/"' in page


def test_a_visitor_switches_with_a_cookie():
    client = Client(headers={"Accept-Language": "en-GB"})
    response = client.post("/language/", {"language": "nl", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "nl"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert cookie["samesite"] == "Lax"
    assert "<h1>Inloggen</h1>" in text(client.get("/login/"))


def test_a_member_switches_and_their_profile_keeps_it():
    emma = make_member("emma", display_name="Emma Brown", language="en")
    client = signed_in(emma)
    response = client.post("/language/", {"language": "nl", "next": "/messaging/"})
    assert response.status_code == 302 and response["Location"] == "/messaging/"
    emma.refresh_from_db()
    assert emma.language == "nl"
    # The profile, not the cookie, decides from now on: a fresh browser is Dutch too.
    fresh = signed_in(emma, **{"Accept-Language": "en-GB"})
    assert "<h1>Berichten</h1>" in text(fresh.get("/messaging/"))
    client.post("/language/", {"language": "en", "next": "/messaging/"})
    emma.refresh_from_db()
    assert emma.language == "en"


def test_the_switch_refuses_unknown_languages_and_foreign_redirects():
    emma = make_member("emma", display_name="Emma Brown", language="en")
    client = signed_in(emma)
    response = client.post("/language/", {"language": "de", "next": "/network/"})
    assert response.status_code == 302
    emma.refresh_from_db()
    assert emma.language == "en"
    response = client.post("/language/", {"language": "nl", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")
    assert client.get("/language/").status_code == 405


def test_the_switch_needs_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/language/", {"language": "nl"}).status_code == 403


def test_djangos_set_language_is_there_too():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "nl", "next": "/login/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"


def _away_until(member: Member, last_day: date) -> Absence:
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=AMSTERDAM)
    return Absence.objects.create(
        member=member,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=end.astimezone(UTC),
        message="Op vakantie.",
    )


def test_the_away_badge_and_banner_read_naturally_in_dutch():
    noor = make_member("noor", display_name="Noor de Vries", language="nl")
    sem = make_member("sem", display_name="Sem Bakker", language="nl")
    connect(noor, sem)
    last = timezone.localdate(timezone=AMSTERDAM) + timedelta(days=9)
    _away_until(noor, last)
    spelled = f"{DAYS_NL[last.weekday()]} {last.day} {MONTHS_NL[last.month - 1]}"

    # AWAY-SPEC A6: one return day, said "terug op", past the weekend.
    back = last + timedelta(days=1)
    while back.weekday() >= 5:
        back += timedelta(days=1)
    back_spelled = f"{DAYS_NL[back.weekday()]} {back.day} {MONTHS_NL[back.month - 1]} {back.year}"

    badge_page = text(signed_in(sem).get("/in/noor/"))
    assert f"Afwezig, terug op {back_spelled}" in badge_page
    assert "tot en met" not in badge_page
    compose = text(signed_in(sem).get("/messaging/new/?to=noor"))
    assert f"Noor de Vries is afwezig, terug op {back_spelled}" in compose
    assert spelled  # the last day away is said nowhere: only the return day
    own = text(signed_in(noor).get("/away/"))
    assert f"Je bent afwezig, terug op {back_spelled}" in own
    assert "Nu afwezig" in own


def test_a_banner_with_an_end_time_says_terug_op_with_the_time():
    """AWAY-SPEC A6: "terug op", never "tot" beside "tot en met"; the time is shown
    when the member is back during a working day."""
    noor = make_member("noor", display_name="Noor de Vries", language="nl")
    today = timezone.localdate(timezone=AMSTERDAM)
    monday = today + timedelta(days=7 - today.weekday())
    end = datetime.combine(monday, datetime.min.time(), tzinfo=AMSTERDAM) + timedelta(
        hours=10, minutes=30
    )
    Absence.objects.create(
        member=noor, starts_at=timezone.now() - timedelta(hours=1), ends_at=end.astimezone(UTC)
    )
    page = text(signed_in(noor).get("/"))
    spelled = f"maandag {monday.day} {MONTHS_NL[monday.month - 1]} {monday.year}, 10:30"
    assert f"Je bent afwezig, terug op {spelled}" in page
    assert "Je bent afwezig tot" not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "2 jan"), ("en", "2 Jan")],
)
def test_short_dates_write_months_as_the_language_does(language, expected):
    with translation.override(language):
        shown = formats.date_format(date(2060, 1, 2), pgettext("date format", "j M"))
        range_format = pgettext("date format", "D j M Y")
        ranged = formats.date_format(date(2060, 1, 2), range_format)
    assert shown == expected
    assert ranged == {"nl": "vr 2 jan 2060", "en": "Fri 2 Jan 2060"}[language]


def test_scheduled_dates_on_the_away_page_are_dutch():
    noor = make_member("noor", display_name="Noor de Vries", language="nl")
    first, last = date(2059, 12, 22), date(2060, 1, 2)
    Absence.objects.create(
        member=noor,
        starts_at=datetime.combine(first, datetime.min.time(), tzinfo=AMSTERDAM),
        ends_at=datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=AMSTERDAM),
        message="Weg.",
    )
    page = text(signed_in(noor).get("/away/"))
    assert "ma 22 dec 2059 \N{EN DASH} vr 2 jan 2060" in page
    assert "Ingepland" in page


@pytest.mark.parametrize(
    ("language", "reactions", "comments"),
    [("nl", "6.329 reacties", "1.204 opmerkingen"), ("en", "6,329 reactions", "1,204 comments")],
)
def test_counts_use_the_languages_thousands_separator(language, reactions, comments):
    author = make_member("auteur", display_name="Anne Auteur", language=language)
    post_id = post_create(author=author, body="Een drukbezochte bijdrage.").post.pk
    # The stored counters as a busy post would have them (the feed reads these columns).
    Post.objects.filter(pk=post_id).update(reactions_count=6329, comments_count=1204)
    page = text(signed_in(author).get(f"/posts/{post_id}/"))
    assert reactions in page
    assert comments in page


def test_a_member_can_not_be_made_to_switch_by_a_get_link():
    noor = make_member("noor", display_name="Noor de Vries", language="nl")
    signed_in(noor).get("/language/?language=en")
    assert Member.objects.get(pk=noor.pk).language == "nl"
