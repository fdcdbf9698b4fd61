"""Issue 14, finding 6: right-to-left overrides and terminal escapes in names are refused."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.accounts.models import Member
from backsoon.accounts.validators import name_problem
from backsoon.messaging.models import Conversation
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db

UNSAFE = [
    "Alice \u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE
    "Bob \u202dX",  # LEFT-TO-RIGHT OVERRIDE
    "Carol \u2067Y\u2069",  # RIGHT-TO-LEFT ISOLATE ... POP DIRECTIONAL ISOLATE
    "Dan \u200fZ",  # RIGHT-TO-LEFT MARK
    "Eve \x1b[31mred\x1b[0m",  # a terminal escape
    "Frank \x9b31m",  # C1 CSI
    "Gina\r\nAdmin",  # control characters
    "Hank\u2028line",  # LINE SEPARATOR
]
SAFE = ["Zoë van der Berg", "محمد علي", "דוד לוי", "Ada 👩\u200d💻", "میرزا\u200cزاده"]  # noqa: RUF001 - names in Arabic, Hebrew, Persian script


def _signup(display_name: str, headline: str = ""):
    return Api().post(
        "/auth/signup",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password": PASSWORD,
            "display_name": display_name,
            "headline": headline,
        },
    )


@pytest.mark.parametrize("name", UNSAFE)
def test_finding6_signup_refuses_bidi_controls_and_escapes_in_the_display_name(name):
    body = assert_error(_signup(name), 422, "invalid_display_name")
    assert "U+" in body["detail"]
    assert not Member.objects.filter(username="newbie").exists()


def test_finding6_signup_refuses_them_in_the_headline():
    assert_error(_signup("New Bie", "CEO \u202eOEC"), 422, "invalid_headline")


@pytest.mark.parametrize("name", SAFE)
def test_finding6_names_in_any_script_stay_welcome(name):
    assert _signup(name).status_code == 201


def test_finding6_profile_update_refuses_them_and_changes_nothing(alice):
    api = Api(alice)
    assert_error(api.patch("/me", {"display_name": "Alice\u202e"}), 422, "invalid_display_name")
    assert_error(api.patch("/me", {"headline": "x\x1b]0;pwned\x07"}), 422, "invalid_headline")
    alice.refresh_from_db()
    assert (alice.display_name, alice.headline) == ("Alice Smit", "Designer in Utrecht")


def test_finding6_group_subject_refuses_them(alice, bob):
    make_member("carol")
    response = Api(alice).post(
        "/conversations", {"participants": ["bob", "carol"], "subject": "Team \u202eputs"}
    )
    assert_error(response, 422, "invalid_subject")
    assert not Conversation.objects.exists()


def test_finding6_web_forms_show_the_error(alice):
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/settings/profile/",
        {
            "display_name": "Alice \u202eevil",
            "headline": "",
            "language": "en",
            "timezone": "Europe/Amsterdam",
        },
    )
    assert response.status_code == 422
    assert b"U+202E" in response.content
    signup = Client().post(
        "/signup/",
        {
            "display_name": "Evil\x1b[2J",
            "username": "evil",
            "email": "evil@example.com",
            "password": PASSWORD,
        },
    )
    assert signup.status_code == 422
    assert not Member.objects.filter(username="evil").exists()


def test_finding6_the_dutch_message(alice):
    alice.language = "nl"
    alice.save(update_fields=["language"])
    body = assert_error(Api(alice).patch("/me", {"display_name": "A\u202eB"}), 422)
    assert "schrijfrichting" in body["detail"]


def test_finding6_name_problem_names_the_character():
    assert name_problem("plain", field="Name") is None
    assert "U+202E" in (name_problem("a\u202eb", field="Name") or "")
    assert "U+001B" in (name_problem("a\x1bb", field="Name") or "")
