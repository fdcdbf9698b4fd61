"""Web pages for members: sign up, log in/out, profile edit, profile, search."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db

SIGNUP_FORM = {
    "display_name": "Dirk Mulder",
    "username": "dirk",
    "email": "dirk@example.com",
    "password": "another-long-passphrase",
    "headline": "Carpenter",
}


def logged_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_signup_page_creates_member_and_logs_in():
    client = Client()
    assert client.get("/signup/").status_code == 200
    response = client.post("/signup/", SIGNUP_FORM)
    assert response.status_code == 302
    member = Member.objects.get(username="dirk")
    assert member.headline == "Carpenter"
    assert client.get("/").context["user"] == member


def test_signup_page_shows_duplicate_and_weak_password_errors(alice):
    client = Client()
    response = client.post("/signup/", {**SIGNUP_FORM, "username": "Alice"})
    assert response.status_code == 422
    assert "That username is taken." in response.content.decode()
    response = client.post("/signup/", {**SIGNUP_FORM, "password": "password"})
    assert response.status_code == 422
    assert "too common" in response.content.decode()
    assert not Member.objects.filter(username="dirk").exists()


def test_login_rotates_session_key_and_logout_needs_post(alice):
    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session"
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != "attacker-chosen-session"
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/settings/profile/").status_code == 302  # back to login


def test_login_wrong_password_and_throttle_message(alice):
    client = Client()
    for _ in range(5):
        response = client.post("/login/", {"username": "alice", "password": "nope"})
        assert response.status_code == 401
        assert "Wrong username or password." in response.content.decode()
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert response["Retry-After"]


def test_login_redirects_only_to_local_next(alice):
    client = Client()
    response = client.post(
        "/login/?next=https://evil.example/",
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_profile_edit_saves_and_shows_on_profile(alice):
    client = logged_in(alice)
    response = client.post(
        "/settings/profile/",
        {
            "display_name": "Alice Smit",
            "headline": "Head of design",
            "language": "en",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.headline, alice.timezone) == ("Head of design", "Europe/London")
    page = client.get("/in/alice/").content.decode()
    assert "Head of design" in page


def test_profile_edit_invalid_timezone_changes_nothing(alice):
    client = logged_in(alice)
    response = client.post(
        "/settings/profile/",
        {"display_name": "X", "headline": "Y", "language": "en", "timezone": "Not/AZone"},
    )
    assert response.status_code == 422
    alice.refresh_from_db()
    assert alice.display_name == "Alice Smit"


def test_member_text_is_escaped_on_profile_and_search(alice):
    evil = make_member(
        "evil", display_name="<script>alert(1)</script>", headline='"><img src=x onerror=alert(2)>'
    )
    client = logged_in(alice)
    for url in ["/in/evil/", "/search/?q=evil"]:
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "<img src=x onerror" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert evil.pk


def test_unknown_profile_is_404(alice):
    assert logged_in(alice).get("/in/nobody/").status_code == 404


def test_pages_need_login(alice):
    client = Client()
    for url in ["/settings/profile/", "/in/alice/", "/search/?q=a"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_search_page_finds_by_headline(alice, bob):
    page = logged_in(alice).get("/search/?q=engineer").content.decode()
    assert "Bob de Boer" in page
    assert "Alice Smit" not in page


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/signup/", SIGNUP_FORM),
        ("/login/", {"username": "alice", "password": PASSWORD}),
        ("/logout/", {}),
        ("/settings/profile/", {"display_name": "X", "language": "en", "timezone": "UTC"}),
    ],
)
def test_every_form_needs_csrf(alice, url, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(url, data).status_code == 403


def test_security_headers(alice):
    response = Client().get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_session_cookie_is_httponly(alice):
    client = Client()
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert client.cookies["sessionid"]["httponly"]
