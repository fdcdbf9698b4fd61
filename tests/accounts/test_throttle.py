"""Login throttling: 5 failures per username or address within 15 minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.accounts.models import LoginFailure
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _fail(api: Api, username: str = "alice") -> None:
    response = api.post("/auth/token", {"username": username, "password": "wrong"})
    assert response.status_code == 401


def test_five_failures_for_a_username_lock_it_with_retry_after(alice):
    api = Api()
    for _ in range(5):
        _fail(api)
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD})
    assert_error(response, 429, "login_throttled")
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 15 * 60


def test_four_failures_still_allow_the_right_password(alice):
    api = Api()
    for _ in range(4):
        _fail(api)
    assert api.post("/auth/token", {"username": "alice", "password": PASSWORD}).status_code == 200


def test_failures_from_one_address_across_usernames_lock_the_address(alice):
    api = Api()
    for name in ["u1", "u2", "u3", "u4", "u5"]:
        _fail(api, name)
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD})
    assert_error(response, 429)


def test_failures_older_than_the_window_do_not_count(alice):
    old = timezone.now() - timedelta(minutes=16)
    LoginFailure.objects.bulk_create(
        [LoginFailure(username="alice", ip="127.0.0.1", at=old) for _ in range(5)]
    )
    assert Api().post("/auth/token", {"username": "alice", "password": PASSWORD}).status_code == 200


def test_success_clears_username_failures(alice):
    api = Api()
    for _ in range(4):
        _fail(api)
    assert api.post("/auth/token", {"username": "alice", "password": PASSWORD}).status_code == 200
    assert not LoginFailure.objects.filter(username="alice").exists()
