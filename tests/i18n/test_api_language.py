"""API errors speak the member's language; their machine ``code`` never changes."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def nl_member():
    return make_member("noor", display_name="Noor de Vries", language="nl")


@pytest.fixture
def en_member():
    return make_member("emma", display_name="Emma Brown", language="en")


def test_the_same_error_has_the_same_code_and_a_translated_detail(nl_member, en_member):
    dutch = assert_error(Api(nl_member).get("/posts/999999"), 404, "post_not_found")
    english = assert_error(Api(en_member).get("/posts/999999"), 404, "post_not_found")
    assert english["detail"] == "No such post."
    assert dutch["detail"] == "Deze bijdrage bestaat niet."


def test_a_detail_with_a_value_in_it(nl_member, en_member):
    for member in (nl_member, en_member):
        response = Api(member).post("/invitations", {"to": member.username})
        body = assert_error(response, 422, "invite_self")
        expected = {"nl": "Je kunt jezelf niet uitnodigen.", "en": "You can not invite yourself."}
        assert body["detail"] == expected[member.language]
    dutch = assert_error(Api(nl_member).patch("/me", {"timezone": "Mars/Base"}), 422)
    english = assert_error(Api(en_member).patch("/me", {"timezone": "Mars/Base"}), 422)
    assert dutch["code"] == english["code"] == "invalid_timezone"
    assert english["detail"] == "'Mars/Base' is not an IANA time zone such as Europe/Amsterdam."
    assert dutch["detail"] == "'Mars/Base' is geen IANA-tijdzone zoals Europe/Amsterdam."
    dutch = assert_error(Api(nl_member).get("/connections", cursor="nonsense"), 422)
    english = assert_error(Api(en_member).get("/connections", cursor="nonsense"), 422)
    assert dutch["code"] == english["code"] == "bad_cursor"
    assert (english["detail"], dutch["detail"]) == (
        "The cursor is not valid.",
        "De cursor is ongeldig.",
    )


def test_the_profile_language_wins_over_accept_language(nl_member):
    api = Api(nl_member)
    response = api.client.get(
        "/api/v1/posts/999999",
        headers={**api._headers(), "Accept-Language": "en-GB,en;q=0.9"},
    )
    body = assert_error(response, 404, "post_not_found")
    assert body["detail"] == "Deze bijdrage bestaat niet."


@pytest.mark.parametrize(
    ("accept", "detail"),
    [
        ("nl-NL,nl;q=0.9", "Inloggen vereist: stuur 'Authorization: Bearer <token>' mee."),
        ("en-GB,en;q=0.9", "Authentication required: send 'Authorization: Bearer <token>'."),
    ],
)
def test_anonymous_calls_follow_accept_language(accept, detail):
    response = Client().get("/api/v1/me", headers={"Accept-Language": accept})
    body = assert_error(response, 401, "not_authenticated")
    assert body["detail"] == detail


def test_one_members_language_does_not_leak_into_the_next_request(nl_member, en_member):
    assert_error(Api(nl_member).get("/posts/999999"), 404, "post_not_found")
    body = assert_error(Client().get("/api/v1/posts/999999"), 401, "not_authenticated")
    assert body["detail"].startswith("Authentication required")
    body = assert_error(Api(en_member).get("/posts/999999"), 404, "post_not_found")
    assert body["detail"] == "No such post."
