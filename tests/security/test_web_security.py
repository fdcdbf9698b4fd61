"""Web security over every page that shows member text.

One world in which every piece of member text (names, headlines, posts, comments,
messages, absence messages, invitation notes, subjects, calendar event summaries)
carries two payloads; then every page that shows it is rendered, and:

- neither payload appears unescaped, no element gets an ``on...`` attribute, and
  the escaped text does appear (so the page really showed it);
- the page has a Content Security Policy without inline script or style, and the
  HTML has no inline ``<script>`` (without ``src``), no ``<style>``, no ``style=``
  attribute, no ``on...=`` handler and no ``javascript:`` link;
- every ``<form method="post">`` carries the CSRF token, and every URL of the site
  answers a POST without the token with 403.

Also: tokens are stored only as digests, a form over 1 MB gets a 413 page, and login
replaces a planted session (fixation). Login throttling is in tests/accounts and
test_limits.py.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backsoon.accounts.actions import token_issue
from backsoon.away.calendar.export import calendar_export_token_regenerate
from backsoon.away.models import Absence
from tests.factories import PASSWORD
from tests.security.test_web_authz import WEB_CASES
from tests.security.urls import site_routes
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT} {IMG}"
RAW = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")


def ics_with_payload(uid: str, days_ahead: int) -> str:
    """A calendar with one out-of-office event whose summary carries the payload."""
    start = timezone.now().replace(microsecond=0) + timedelta(days=days_ahead)
    end = start + timedelta(days=2)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}@example.com\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:Out of office {PAYLOAD}\r\n"
        "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


class PageAudit(HTMLParser):
    """Collects what a page must not have: inline script and style, event handlers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.post_forms = 0
        self.post_forms_with_token = 0
        self._in_post_form = False
        self._form_has_token = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        # A JSON data block (Django's json_script) is data, never run: allowed.
        data_block = names.get("type", "").lower() in ("application/json", "application/ld+json")
        if tag == "script" and not names.get("src") and not data_block:
            self.problems.append("inline <script> without src")
        if tag == "style":
            self.problems.append("inline <style>")
        if "style" in names:
            self.problems.append(f"style= attribute on <{tag}>")
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL in <{tag} {name}>")
        if tag == "form" and names.get("method", "get").lower() == "post":
            self._in_post_form = True
            self._form_has_token = False
            self.post_forms += 1
        if tag == "input" and self._in_post_form and names.get("name") == "csrfmiddlewaretoken":
            self._form_has_token = bool(names.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_post_form:
            self._in_post_form = False
            if self._form_has_token:
                self.post_forms_with_token += 1
            else:
                self.problems.append("a <form method=post> without a CSRF token")


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def world(monkeypatch) -> World:
    from backsoon.away.calendar import feeds, fetch

    monkeypatch.setattr(fetch, "_resolve", lambda host, port: [])
    feed_ics = ics_with_payload("evil-1", 20).encode()
    monkeypatch.setattr(feeds, "calendar_feed_fetch", lambda url: feed_ics)
    world = build_world(PAYLOAD)
    # A calendar feed whose event summary carries the payload, synced into an absence.
    feeds.calendar_feed_sync(feed=world.feed)
    Absence.objects.filter(member=world.alice, source="calendar").update(message=PAYLOAD)
    return world


def _client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def pages(w: World) -> list[tuple[str, str, bool]]:
    """(viewer, url, shows member text) for every page that shows member text."""
    return [
        ("alice", "/", True),
        ("bob", "/", True),
        ("alice", "/in/bob/", True),
        ("alice", "/in/alice/", True),
        ("dave", "/in/alice/", True),
        ("bob", "/in/alice/", True),
        ("alice", "/search/?q=bob", True),
        ("alice", "/search/?q=" + PAYLOAD, False),
        ("alice", "/network/", True),
        ("alice", "/network/?q=" + PAYLOAD, False),
        ("dave", "/network/", True),
        ("dave", "/network/invitations/received/", True),
        ("alice", "/messaging/", True),
        ("alice", "/messaging/list/", True),
        ("alice", f"/messaging/{w.direct.pk}/", True),
        ("alice", f"/messaging/{w.direct.pk}/messages/", True),
        ("alice", f"/messaging/{w.group.pk}/", True),
        ("bob", f"/messaging/{w.direct.pk}/", True),
        ("bob", "/messaging/new/?to=dave", True),
        ("alice", "/messaging/?folder=requests", True),
        ("alice", f"/messaging/{w.request.pk}/", True),
        ("alice", "/notifications/", True),
        ("bob", "/notifications/", True),
        ("alice", f"/posts/{w.post.pk}/", True),
        ("carol", f"/posts/{w.post.pk}/", True),
        ("alice", f"/posts/{w.post.pk}/analytics/", True),
        ("alice", f"/posts/{w.post.pk}/edit/", True),
        ("alice", f"/posts/{w.post.pk}/delete/", True),
        ("carol", f"/posts/{w.post.pk}/share/", True),
        ("alice", "/away/", True),
        ("alice", "/away/new/", False),
        ("alice", f"/away/{w.absence_scheduled.pk}/edit/", True),
        ("alice", f"/away/{w.absence_ended.pk}/digest/", True),
        ("alice", "/away/calendar/", False),
        ("alice", "/settings/profile/", True),
        ("alice", "/settings/security/", True),
        ("alice", "/settings/security/two-factor/", False),
    ]


PUBLIC_PAGES = ["/", "/login/", "/signup/", "/nowhere/"]


def test_member_text_is_escaped_on_every_page_that_shows_it(world):
    for viewer, url, shows_text in pages(world):
        response = _client(getattr(world, viewer)).get(url)
        assert response.status_code == 200, (viewer, url, response.status_code)
        html = response.content.decode()
        for raw in RAW:
            assert raw not in html, f"{raw!r} unescaped on {url} (as {viewer})"
        assert not [p for p in audit(html).problems if "handler" in p], url
        if shows_text:
            assert any(e in html for e in ESCAPED), f"{url} (as {viewer}) shows no member text"


def test_imported_calendar_event_summaries_are_escaped(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("evil.ics", ics_with_payload("evil-2", 30).encode())
    response = _client(world.alice).post("/away/calendar/import/", {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200, html[:2000]
    for raw in RAW:
        assert raw not in html
    assert any(e in html for e in ESCAPED)


def test_exported_calendar_keeps_member_text_inside_its_event(world):
    """A line break in an absence message can not start a new event in the feed."""
    import icalendar

    Absence.objects.filter(pk=world.absence_scheduled.pk).update(
        message="Away\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected"
    )
    ics = Client().get(f"/calendar/{world.export_token}.ics").content
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == Absence.objects.filter(member=world.alice).count()
    assert all(str(e.get("SUMMARY")) != "injected" for e in events)


def test_every_page_has_a_csp_and_no_inline_script_or_style(world):
    seen = 0
    for viewer, url, _ in pages(world):
        response = _client(getattr(world, viewer)).get(url)
        _assert_clean(url, response)
        seen += 1
    for url in PUBLIC_PAGES:
        _assert_clean(url, Client().get(url))
        seen += 1
    assert seen == len(pages(world)) + len(PUBLIC_PAGES)


def _assert_clean(url: str, response) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy, url
    assert "style-src 'self'" in policy, url
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    assert "frame-ancestors 'none'" in policy, url
    assert response["X-Content-Type-Options"] == "nosniff", url
    problems = audit(response.content.decode()).problems
    assert problems == [], f"{url}: {problems}"


def test_every_post_form_carries_the_csrf_token(world):
    forms = 0
    for viewer, url, _ in pages(world):
        page = audit(_client(getattr(world, viewer)).get(url).content.decode())
        assert page.post_forms == page.post_forms_with_token, url
        forms += page.post_forms
    for url in ("/login/", "/signup/"):
        page = audit(Client().get(url).content.decode())
        assert page.post_forms == page.post_forms_with_token >= 1, url
        forms += page.post_forms
    assert forms >= 30  # the pages above hold dozens of forms: the walk saw them


def test_every_url_refuses_a_post_without_the_csrf_token(world):
    """Every URL pattern of the site, signed in or not: the CSRF check comes first."""
    kwargs_by_name = {c.name: c.kwargs(world) for c in WEB_CASES}
    routes = site_routes()
    assert len(routes) > 50
    for member in (world.alice, None):
        client = Client(enforce_csrf_checks=True)
        if member is not None:
            client.force_login(member)
        client.get("/")  # a CSRF cookie, as a browser would have; only the token is missing
        for route in routes:
            url = reverse(route.name, kwargs=kwargs_by_name.get(route.name, {}))
            response = client.post(url, {"body": "x"})
            assert response.status_code == 403, (route.name, response.status_code)


def test_tokens_are_stored_only_as_digests(world):
    token = token_issue(member=world.alice, name="cli")
    export = calendar_export_token_regenerate(member=world.alice)
    digest = hashlib.sha256(token.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, prefix FROM accounts_apitoken")
        rows = cursor.fetchall()
        cursor.execute("SELECT export_token_digest, export_token_prefix FROM away_calendarsettings")
        rows += cursor.fetchall()
    stored = " ".join(str(v) for row in rows for v in row)
    assert digest in stored
    assert token not in stored and token[10:] not in stored
    assert export not in stored and export[6:] not in stored
    # The prefix shown to recognise a token is too short to guess the rest from.
    assert all(len(str(row[1])) <= 10 for row in rows)


def test_a_413_page_for_a_form_that_is_too_large(world):
    client = _client(world.alice)
    response = client.post(f"/messaging/{world.direct.pk}/send/", {"body": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    _assert_clean("413 page", response)


def test_login_rotates_an_existing_session_and_drops_the_old_one(world):
    """Session fixation: a session an attacker planted (one that exists on the server)
    is not the one the member ends up signed in with, and stops existing."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["planted"] = True
    store.create()
    planted = store.session_key
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    signed_in = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert signed_in != planted
    assert not store.exists(planted)
    assert client.get("/settings/profile/").status_code == 200
