"""Issue 14, finding 7: errors outside the contract.

An unknown API path answered an HTML 404, a wrong method a plain-text 405, a database
failure an HTML 500. The API answers ``{"detail", "code"}`` for all of them; a full or
read-only database answers 503 with ``Retry-After`` on the API and a friendly page on
the site, with nothing written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

from backsoon.db.failures import database_unavailable
from backsoon.posts.models import Post
from tests.conftest import Api, assert_error

pytestmark = pytest.mark.django_db

READ_ONLY = "attempt to write a readonly database"
DISK_FULL = "database or disk is full"


def _api(member=None) -> Api:
    api = Api(member)
    api.client = Client(raise_request_exception=False)
    return api


def test_finding7_unknown_api_path_is_json_404(alice):
    for api in (_api(), _api(alice)):
        response = api.get("/no/such/thing")
        assert response["Content-Type"].startswith("application/json")
        assert_error(response, 404, "not_found")


def test_finding7_wrong_method_is_json_405_with_allow(alice):
    response = _api(alice).delete("/me")
    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
    assert_error(_api().request("put", "/auth/token", {}), 405, "method_not_allowed")


def test_finding7_an_unexpected_error_is_json_500(alice):
    with mock.patch(
        "backsoon.accounts.api.me_card", side_effect=OperationalError("no such column: x")
    ):
        response = _api(alice).get("/me")
    assert_error(response, 500, "server_error")


@pytest.mark.parametrize("message", [READ_ONLY, DISK_FULL])
def test_finding7_a_full_or_read_only_database_is_503_on_the_api(alice, message):
    with mock.patch("backsoon.posts.actions.post_create", side_effect=OperationalError(message)):
        response = _api(alice).post("/posts", {"body": "hello"})
    body = assert_error(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0
    assert "Try again" in body["detail"]


def test_finding7_a_full_database_is_a_friendly_page_on_the_site(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with mock.patch("backsoon.posts.actions.post_create", side_effect=OperationalError(DISK_FULL)):
        response = client.post("/posts/", {"body": "hello"})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert b"Back in a moment" in response.content
    assert b"Traceback" not in response.content


def test_finding7_the_page_is_in_dutch_for_a_dutch_member(member_factory):
    henk = member_factory("henk", language="nl")
    client = Client(raise_request_exception=False)
    client.force_login(henk)
    with mock.patch("backsoon.posts.actions.post_create", side_effect=OperationalError(READ_ONLY)):
        response = client.post("/posts/", {"body": "hallo"})
    assert response.status_code == 503
    assert b"Zo terug" in response.content


def test_finding7_driver_errors_are_classified():
    import sqlite3

    assert database_unavailable(sqlite3.OperationalError(READ_ONLY))
    assert database_unavailable(OperationalError(DISK_FULL))
    psycopg_errors = pytest.importorskip("psycopg.errors")
    for driver_error in (psycopg_errors.ReadOnlySqlTransaction, psycopg_errors.DiskFull):
        # Django wraps the driver's error (InternalError, OperationalError): the cause decides.
        wrapped = OperationalError("wrapped")
        wrapped.__cause__ = driver_error("cannot execute INSERT in a read-only transaction")
        assert database_unavailable(wrapped)
        assert database_unavailable(driver_error("x"))
    assert not database_unavailable(psycopg_errors.UniqueViolation("duplicate key"))
    assert not database_unavailable(OperationalError("no such column: x"))
    assert not database_unavailable(ValueError(READ_ONLY))
    assert not database_unavailable(None)


@contextmanager
def read_only_sqlite() -> Iterator[None]:
    """The test database turned read-only: every write fails as on a read-only file
    (SQLite's own "attempt to write a readonly database"; chmod does not stop root)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    connection.ensure_connection()
    # On the driver's connection: the switch back must work even after a failed write.
    connection.connection.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        connection.connection.execute("PRAGMA query_only = OFF")


def test_finding7_read_only_sqlite_api_reads_work_writes_are_503(alice):
    api = _api(alice)
    with read_only_sqlite():
        assert api.get("/me").status_code == 200
        response = api.post("/posts", {"body": "not saved"})
    assert_error(response, 503, "unavailable")
    assert response["Retry-After"]
    assert not Post.objects.exists()


def test_finding7_read_only_sqlite_site_pages_never_500(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with read_only_sqlite():
        assert client.get("/login/").status_code in (200, 302)
        assert client.get("/messaging/").status_code == 200
        response = client.post("/posts/", {"body": "not saved"})
    assert response.status_code == 503
    assert b"Back in a moment" in response.content


def test_finding7_every_operation_answers_an_undeclared_method_with_json_405(alice):
    """Walks the schema: for each path, a method none of its operations declares."""
    api = _api(alice)
    paths = api.get("/openapi.json").json()["paths"]
    assert len(paths) > 30
    for path, operations in paths.items():
        declared = {method.upper() for method in operations}
        method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in declared)
        url = re.sub(r"\{[a-z_]+\}", lambda m: "bob" if "username" in m.group() else "1", path)
        url = url.removeprefix("/api/v1")
        response = api.request(method.lower(), url, {})
        assert response.status_code == 405, (method, path, response.status_code)
        body = assert_error(response, 405, "method_not_allowed")
        assert body["detail"]
        assert set(response["Allow"].replace(" ", "").split(",")) >= declared, path


def test_finding7_signing_in_works_while_the_database_is_read_only(alice):
    """The attempt is counted in the cache, last_login is skipped and the session is
    held in a signed cookie until the database takes writes again."""
    from django.core.cache import cache

    from tests.factories import PASSWORD

    cache.clear()
    client = Client(raise_request_exception=False)
    with read_only_sqlite():
        response = client.post("/login/", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 302, response.content[:300]
        cookie = client.cookies["sessionid"].value
        assert cookie.startswith("signed:")
        home = client.get("/")
        assert home.status_code == 200
        assert b"alice" in home.content.lower()
        # Still throttled: wrong passwords are counted in the cache meanwhile.
        other = Client(raise_request_exception=False)
        for _ in range(5):
            assert other.post("/login/", {"username": "bob", "password": "nope"}).status_code
        throttled = other.post("/login/", {"username": "bob", "password": "nope"})
        assert throttled.status_code == 429
    # Writable again: the session still works, and its next save moves it into the
    # database under a new key.
    assert b"Log out" in client.get("/").content
    from backsoon.accounts.sessions import SessionStore

    store = SessionStore(session_key=cookie)
    assert store["_auth_user_id"] == str(alice.pk)
    store["seen"] = 1
    store.save()
    assert store.session_key and not store.session_key.startswith("signed:")
    assert SessionStore(session_key=store.session_key)["_auth_user_id"] == str(alice.pk)
    # Signing out ends it in this browser.
    client.post("/logout/")
    assert b"Log out" not in client.get("/").content
    cache.clear()


def test_finding7_a_cookie_held_session_needs_a_valid_signature(alice):
    client = Client()
    client.cookies["sessionid"] = "signed:forged-data:1:abc"
    response = client.get("/")
    assert response.status_code in (200, 302)
    assert b"Log out" not in response.content
