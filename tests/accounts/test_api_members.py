"""Members API: sign-up, tokens, me, profiles, search (API.md "Members")."""

from __future__ import annotations

import pytest

from backsoon.accounts.models import ApiToken, Member
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "Carla.Dijk",
    "email": "carla@example.com",
    "password": "a-long-unusual-passphrase",
    "display_name": "Carla Dijk",
    "headline": "Notary",
    "language": "nl",
    "timezone": "Europe/Amsterdam",
}


def test_signup_returns_me_with_lowercased_username():
    response = Api().post("/auth/signup", SIGNUP)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "carla.dijk"
    assert body["email"] == "carla@example.com"
    assert body["language"] == "nl"
    assert body["timezone"] == "Europe/Amsterdam"
    assert body["away"] is None
    assert body["connections_count"] == 0


def test_signup_defaults_language_and_timezone():
    body = {k: v for k, v in SIGNUP.items() if k not in {"language", "timezone", "headline"}}
    response = Api().post("/auth/signup", body)
    assert response.status_code == 201
    assert response.json()["language"] == "en"
    assert response.json()["timezone"] == "Europe/Amsterdam"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"username": "CARLA.DIJK"}, "username_taken"),
        ({"username": "other", "email": "CARLA@example.com"}, "email_taken"),
    ],
)
def test_signup_duplicate_is_409_case_insensitively(change, code):
    assert Api().post("/auth/signup", SIGNUP).status_code == 201
    response = Api().post("/auth/signup", {**SIGNUP, **change})
    assert_error(response, 409, code)
    assert Member.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "invalid_timezone"),
        ({"password": "password"}, "weak_password"),
        ({"password": "12345678901"}, "weak_password"),
        ({"username": "ab"}, "invalid_username"),
        ({"username": "has space"}, "invalid_username"),
        ({"username": "émile"}, "invalid_username"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"language": "fr"}, "invalid_language"),
        ({"display_name": "   "}, "invalid_display_name"),
    ],
)
def test_signup_invalid_is_422_and_creates_nothing(change, code):
    response = Api().post("/auth/signup", {**SIGNUP, **change})
    assert_error(response, 422, code)
    assert not Member.objects.exists()


def test_signup_missing_field_is_422_with_error_shape():
    response = Api().post("/auth/signup", {"username": "carla"})
    body = assert_error(response, 422, "validation_error")
    assert isinstance(body["detail"], list)


def test_signup_too_long_username_is_422():
    assert_error(Api().post("/auth/signup", {**SIGNUP, "username": "x" * 31}), 422)


def test_malformed_json_is_4xx_not_500():
    api = Api()
    response = api.client.post(
        "/api/v1/auth/signup", data="{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert "code" in response.json()


def test_token_for_good_credentials_works_as_bearer(alice):
    response = Api().post("/auth/token", {"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    me = Api(token=token).get("/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_token_is_stored_hashed(alice):
    token = Api().post("/auth/token", {"username": "alice", "password": PASSWORD}).json()["token"]
    stored = ApiToken.objects.get(member=alice)
    assert token not in {stored.digest, stored.prefix}
    assert len(stored.digest) == 64


def test_token_bad_credentials_is_401(alice):
    assert_error(
        Api().post("/auth/token", {"username": "alice", "password": "wrong"}),
        401,
        "bad_credentials",
    )
    assert_error(
        Api().post("/auth/token", {"username": "nobody", "password": "x"}), 401, "bad_credentials"
    )


@pytest.mark.parametrize("token", [None, "bs_not-a-real-token", ""])
def test_me_without_valid_token_is_401(alice, token):
    assert_error(Api(token=token).get("/me"), 401, "not_authenticated")


def test_revoked_token_is_401(alice):
    api = Api(alice)
    assert api.get("/me").status_code == 200
    ApiToken.objects.filter(member=alice).update(revoked_at="2026-01-01T00:00:00Z")
    assert_error(api.get("/me"), 401)


def test_inactive_member_token_is_401(alice):
    api = Api(alice)
    Member.objects.filter(pk=alice.pk).update(is_active=False)
    assert_error(api.get("/me"), 401)


def test_patch_me_changes_only_given_fields(alice):
    api = Api(alice)
    response = api.patch("/me", {"headline": "Lead designer", "timezone": "Asia/Tokyo"})
    assert response.status_code == 200
    body = response.json()
    assert body["headline"] == "Lead designer"
    assert body["timezone"] == "Asia/Tokyo"
    assert body["display_name"] == "Alice Smit"


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Nowhere/Else"},
        {"language": "de"},
        {"display_name": ""},
        {"headline": "x" * 221},
    ],
)
def test_patch_me_invalid_changes_nothing(alice, change):
    api = Api(alice)
    response = api.patch("/me", {"headline": "New", **change})
    assert response.status_code == 422
    alice.refresh_from_db()
    assert alice.headline == "Designer in Utrecht"


def test_member_profile_by_username_case_insensitive(alice, bob):
    response = Api(bob).get("/members/ALICE")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "username": "alice",
        "display_name": "Alice Smit",
        "headline": "Designer in Utrecht",
        "connections_count": 0,
        "followers_count": 0,
        "away": None,
    }
    assert "email" not in body


def test_member_profile_unknown_is_404(alice):
    assert_error(Api(alice).get("/members/ghost"), 404, "member_not_found")


def test_member_profile_of_deactivated_member_is_404(alice, bob):
    Member.objects.filter(pk=bob.pk).update(is_active=False)
    assert_error(Api(alice).get("/members/bob"), 404)


def test_search_matches_username_name_and_headline(alice, bob):
    make_member("carol", display_name="Carol Jansen", headline="Engineer at Philips")
    api = Api(alice)
    names = lambda r: [m["username"] for m in r.json()["items"]]  # noqa: E731
    assert names(api.get("/members", q="engineer")) == ["bob", "carol"]
    assert names(api.get("/members", q="jansen")) == ["carol"]
    assert names(api.get("/members", q="ALI")) == ["alice"]


def test_search_pages_with_cursor_and_limit(alice):
    for i in range(5):
        make_member(f"zz{i}")
    api = Api(alice)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "zz", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/members", **params).json()
        assert len(body["items"]) <= 2
        seen += [m["username"] for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"zz{i}" for i in range(5)]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}])
def test_search_limit_out_of_range_is_422(alice, params):
    assert_error(Api(alice).get("/members", **params), 422)


@pytest.mark.parametrize("cursor", ["garbage!!", "bm90IGpzb24", "WzEsMl0"])
def test_search_bad_cursor_is_422(alice, cursor):
    assert_error(Api(alice).get("/members", cursor=cursor), 422, "bad_cursor")


def test_openapi_and_docs_are_served():
    api = Api()
    schema = api.client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/signup" in paths
    assert "/api/v1/members/{username}" in paths
    assert api.client.get("/api/v1/docs").status_code == 200
