"""Changing a password and the password rules (issue 14, item 10)."""

from __future__ import annotations

import pytest
from django.test import Client

from backsoon.accounts.actions import token_create
from backsoon.accounts.models import ApiToken, Member
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "a-brand-new-passphrase"


def _signed_in(username: str, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:300]
    return client


def _is_signed_in(client: Client) -> bool:
    return client.get("/settings/security/").status_code == 200


def test_item10_common_passwords_are_refused_at_signup():
    for password in ("password123", "qwertyuiop", "12345678901"):
        response = Api().post(
            "/auth/signup",
            {
                "username": "newbie",
                "email": "n@example.com",
                "password": password,
                "display_name": "N",
            },
        )
        assert_error(response, 422, "weak_password")
    assert not Member.objects.filter(username="newbie").exists()


def test_item10_web_change_needs_the_current_password(alice):
    client = _signed_in("alice")
    response = client.post(
        "/settings/security/password/",
        {"current_password": "wrong", "new_password": NEW, "new_password_again": NEW},
    )
    assert response.status_code == 403
    assert "not right" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_item10_web_change_checks_the_validators_and_the_repeat(alice):
    client = _signed_in("alice")
    response = client.post(
        "/settings/security/password/",
        {
            "current_password": PASSWORD,
            "new_password": "password1",
            "new_password_again": "password1",
        },
    )
    assert response.status_code == 422
    assert "too common" in response.content.decode()
    response = client.post(
        "/settings/security/password/",
        {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW + "x"},
    )
    assert response.status_code == 422
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_item10_web_change_signs_out_other_sessions_and_revokes_tokens(alice):
    this, other = _signed_in("alice"), _signed_in("alice")
    token, _ = token_create(member=alice, name="laptop")
    response = this.post(
        "/settings/security/password/",
        {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW},
    )
    assert response.status_code == 302
    assert _is_signed_in(this)
    assert not _is_signed_in(other)
    assert_error(Api(token=token).get("/me"), 401)
    assert not ApiToken.objects.filter(member=alice, revoked_at__isnull=True).exists()
    assert _signed_in("alice", NEW)


def test_item10_api_change_revokes_every_token_and_answers_a_new_one(alice):
    web = _signed_in("alice")
    api = Api(alice)
    spare, _ = token_create(member=alice, name="spare")
    response = api.post("/me/password", {"current_password": PASSWORD, "new_password": NEW})
    assert response.status_code == 200, response.content
    new_token = response.json()["token"]
    # Every token, the one of the request included, is revoked; sessions end.
    assert_error(api.get("/me"), 401)
    assert_error(Api(token=spare).get("/me"), 401)
    assert not _is_signed_in(web)
    assert Api(token=new_token).get("/me").status_code == 200
    assert ApiToken.objects.filter(member=alice, revoked_at__isnull=True).count() == 1


def test_item10_api_change_refuses_wrong_or_weak_passwords(alice):
    api = Api(alice)
    response = api.post("/me/password", {"current_password": "nope", "new_password": NEW})
    assert_error(response, 403, "wrong_password")
    response = api.post("/me/password", {"current_password": PASSWORD, "new_password": "iloveyou1"})
    assert_error(response, 422, "weak_password")
    assert api.get("/me").status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
