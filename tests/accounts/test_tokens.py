"""API tokens (issue 14, item 10): names, last use, expiry, revocation, in the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backsoon.accounts.actions import token_create
from backsoon.accounts.models import ApiToken
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _token(api: Api, **extra):
    return api.post("/auth/token", {"username": "alice", "password": PASSWORD, **extra})


def test_item10_token_endpoint_keeps_the_contract_and_adds_fields(alice):
    response = _token(Api())
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("bs_")
    assert body["name"] == "api"
    row = ApiToken.objects.get(pk=body["id"])
    # 90 days by default.
    assert abs(row.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert Api(token=body["token"]).get("/me").status_code == 200


def test_item10_token_name_and_expiry_are_settable_up_to_a_year(alice):
    body = _token(Api(), name="ci job", expires_in_days=7).json()
    row = ApiToken.objects.get(pk=body["id"])
    assert row.name == "ci job"
    assert abs(row.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert_error(_token(Api(), expires_in_days=366), 422)
    assert_error(_token(Api(), expires_in_days=0), 422)
    assert _token(Api(), expires_in_days=365).status_code == 200


def test_item10_expired_token_gets_401(alice):
    token, row = token_create(member=alice, name="old", expires_in_days=1)
    api = Api(token=token)
    assert api.get("/me").status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(api.get("/me"), 401, "not_authenticated")


def test_item10_revoked_token_gets_401_and_only_the_owner_may_revoke(alice, bob):
    token, row = token_create(member=alice, name="laptop")
    alice_api = Api(token=token)
    assert_error(Api(bob).delete(f"/me/tokens/{row.pk}"), 404, "token_not_found")
    assert alice_api.get("/me").status_code == 200
    other = Api(alice)
    assert other.delete(f"/me/tokens/{row.pk}").status_code == 204
    assert_error(alice_api.get("/me"), 401, "not_authenticated")
    # Revoked tokens are gone from the list, and revoking again finds nothing.
    assert row.pk not in [t["id"] for t in other.get("/me/tokens").json()["items"]]
    assert_error(other.delete(f"/me/tokens/{row.pk}"), 404)


def test_item10_a_token_may_revoke_itself(alice):
    token, row = token_create(member=alice)
    api = Api(token=token)
    assert api.delete(f"/me/tokens/{row.pk}").status_code == 204
    assert_error(api.get("/me"), 401)


def test_item10_list_shows_name_times_and_which_is_current(alice, bob):
    _, _laptop = token_create(member=alice, name="laptop", expires_in_days=30)
    token_create(member=bob, name="bob's")
    api = Api(alice)
    items = api.get("/me/tokens").json()["items"]
    assert [t["name"] for t in items][1:] == ["laptop"]  # the newest (api's own) first
    assert [t["current"] for t in items] == [True, False]
    assert set(items[1]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "current",
    }
    assert items[1]["last_used_at"] is None
    assert items[0]["last_used_at"] is not None


def test_item10_create_needs_the_password(alice):
    api = Api(alice)
    response = api.post("/me/tokens", {"name": "script", "password": "wrong"})
    assert_error(response, 403, "wrong_password")
    response = api.post("/me/tokens", {"name": "script", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "script" and body["token"].startswith("bs_")
    assert Api(token=body["token"]).get("/me").status_code == 200
    assert ApiToken.objects.filter(member=alice, name="script").count() == 1


def test_item10_wrong_passwords_at_create_are_throttled(alice):
    api = Api(alice)
    for _ in range(5):
        assert_error(api.post("/me/tokens", {"name": "x", "password": "wrong"}), 403)
    response = api.post("/me/tokens", {"name": "x", "password": PASSWORD})
    assert_error(response, 429, "login_throttled")
    assert response["Retry-After"]


def test_item10_last_used_is_written_at_most_once_a_minute(alice):
    token, row = token_create(member=alice)
    api = Api(token=token)
    api.get("/me")
    first = ApiToken.objects.get(pk=row.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        api.get("/me")
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert ApiToken.objects.get(pk=row.pk).last_used_at == first
    # A minute later it is written again.
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(seconds=61))
    api.get("/me")
    assert ApiToken.objects.get(pk=row.pk).last_used_at > first


def test_item10_token_list_pages_with_a_cursor(alice):
    for n in range(3):
        token_create(member=alice, name=f"t{n}")
    api = Api(alice)  # a fourth token, the newest
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = api.get("/me/tokens", **params).json()
        seen += [t["name"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["", "t2", "t1", "t0"]
    assert cursor is None
