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


# Issue 14, finding 5: one throttle for every login form, the admin's included.


def _admin_login(client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_finding5_admin_login_is_throttled_like_every_other_form(alice):
    from django.test import Client

    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client = Client()
    for _ in range(5):
        response = _admin_login(client, "alice", "wrong")
        assert response.status_code == 200  # the admin's own "wrong password" page
    response = _admin_login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_finding5_admin_failures_count_for_the_api_and_the_site(alice):
    from django.test import Client

    client = Client()
    for _ in range(3):
        _admin_login(client, "alice", "wrong")
    for _ in range(2):
        _fail(Api())
    assert_error(
        Api().post("/auth/token", {"username": "alice", "password": PASSWORD}),
        429,
        "login_throttled",
    )
    response = Client().post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


def test_finding5_admin_login_still_works(alice):
    from django.test import Client

    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client = Client()
    response = _admin_login(client, "alice", PASSWORD)
    assert response.status_code == 302
    # The password was right: staff then need their second factor (set up first).
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/security/two-factor/")


# Issue 14, finding 6: the throttle could be raced (checked first, failure recorded after).


def test_finding6_attempts_in_flight_count_before_they_are_checked(alice, monkeypatch):
    """Deterministic race: each password check starts another attempt before it returns,
    as simultaneous requests would; only LOGIN_FAILURE_LIMIT of them may be evaluated."""
    from django.contrib.auth.backends import ModelBackend

    from backsoon.accounts.actions import member_authenticate
    from backsoon.errors import RateLimited

    original = ModelBackend.authenticate
    evaluated: list[int] = []
    outcomes: list[str] = []

    def racing_check(self, request, username=None, password=None, **kwargs):
        evaluated.append(1)
        if len(evaluated) + len(outcomes) < 20:
            try:
                member_authenticate(username="alice", password="wrong", ip="10.0.0.1")
                outcomes.append("evaluated")
            except RateLimited:
                outcomes.append("throttled")
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", racing_check)
    with pytest.raises(RateLimited):
        for _ in range(3):
            member_authenticate(username="alice", password="wrong", ip="10.0.0.1")
    assert len(evaluated) == 5
    assert "throttled" in outcomes


def test_finding6_a_throttled_attempt_is_not_kept(alice):
    api = Api()
    for _ in range(5):
        _fail(api)
    for _ in range(3):
        assert_error(api.post("/auth/token", {"username": "alice", "password": "x"}), 429)
    assert LoginFailure.objects.filter(username="alice").count() == 5
