"""Limits: body size, text length, bad characters, pagination, rate limits.

- Every API operation answers a body over 1 MB with 413 in the error shape; every
  URL of the site answers a form over 1 MB with a 413 page (not Django's 400).
- Every text field of every request body has a maximum length: one character more
  is a 422 that names the field. NUL characters and unpaired surrogates are a 422
  (PostgreSQL can store neither: they used to be 500s), in the API and on the site.
- Every list takes ``limit`` 1..100 and refuses a malformed cursor with 422.
- The rate limits (messages, new conversations, invitations, login) answer 429 with
  ``Retry-After``; they count from the database, so every server process shares them
  (tests/reliability/test_cross_process.py checks that across two processes).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backsoon.messaging.models import Conversation
from backsoon.network.models import Invitation
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD, make_member
from tests.security.test_authz_matrix import ICS
from tests.security.test_web_authz import WEB_CASES
from tests.security.urls import site_routes
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

MB = 1024 * 1024

# Text limits checked by the actions (after line breaks are normalised) rather than
# declared in the schema; the calendar import is limited by its size in bytes.
ACTION_LIMITS = {
    ("POST", "/posts", "body"): 3000,
    ("PATCH", "/posts/{post_id}", "body"): 3000,
    ("POST", "/posts/{post_id}/shares", "comment"): 3000,
    ("POST", "/posts/{post_id}/comments", "body"): 1250,
    ("POST", "/posts/{post_id}/reactions", "type"): 0,  # one of six words
}
BYTE_LIMITED = {("POST", "/me/calendar/import", "ics")}


@pytest.fixture
def world(monkeypatch) -> World:
    from backsoon.away.calendar import feeds, fetch

    monkeypatch.setattr(feeds, "calendar_feed_fetch", lambda url: ICS.encode())
    monkeypatch.setattr(fetch, "_resolve", lambda host, port: [])
    return build_world()


def _schema() -> dict[str, Any]:
    return Api().get("/openapi.json").json()


def _operations(schema: dict[str, Any]):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path.removeprefix("/api/v1"), operation


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _text_fields(schema: dict[str, Any], node: dict[str, Any], path: tuple = ()):
    """(path to the value, maxLength) of every free-text string in a request body."""
    node = _resolve(schema, node)
    for alternative in node.get("anyOf", []):
        yield from _text_fields(schema, alternative, path)
    kind = node.get("type")
    if kind == "string" and "enum" not in node and "format" not in node:
        yield path, node.get("maxLength")
    elif kind == "object":
        for name, child in node.get("properties", {}).items():
            yield from _text_fields(schema, child, (*path, name))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            yield from _text_fields(schema, extra, (*path, "*"))
    elif kind == "array":
        yield from _text_fields(schema, node.get("items", {}), (*path, "[]"))


def _body_with(path: tuple, value: str) -> Any:
    """A body that puts ``value`` at ``path`` (``*``: a key, here "en"; ``[]``: a list)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "[]":
        return [_body_with(rest, value)]
    return {("en" if head == "*" else head): _body_with(rest, value)}


def _url(path: str, world: World) -> str:
    return path.format(
        absence_id=world.absence_scheduled.pk,
        conversation_id=world.direct.pk,
        invitation_id=world.invitation.pk,
        notification_id=world.notification.pk,
        post_id=world.post.pk,
        comment_id=world.comment.pk,
        feed_id=world.feed.pk,
        token_id=world.api_token.pk,
        template_id=_template_id(world),
        username="bob",
    )


def _template_id(world: World) -> int:
    """One of alice's saved replies (TRIAGE C3)."""
    from backsoon.messaging.actions import saved_reply_create
    from backsoon.messaging.models import SavedReply

    found = SavedReply.objects.filter(member=world.alice).first()
    if found is None:
        found = saved_reply_create(member=world.alice, name="Thanks", body="Hi {first_name}")
    return found.pk


def test_every_api_operation_refuses_a_body_over_1_mb(world):
    api = Api(world.alice)
    big = b'{"body": "' + b"x" * MB + b'"}'
    count = 0
    for method, path, _ in _operations(_schema()):
        response = api.client.generic(
            method, "/api/v1" + _url(path, world), big, "application/json", headers=api._headers()
        )
        if path == "/me/calendar/import":
            # A calendar file may be 2 MB; 1 MB of text is read and refused as not JSON ICS.
            assert response.status_code in (413, 422), (method, path)
            continue
        assert_error(response, 413, "too_large")
        count += 1
    assert count > 50


def test_the_calendar_import_takes_2_mb_and_no_more(world):
    api = Api(world.alice)
    headers = api._headers()
    huge = b'{"ics": "' + b"x" * (5 * MB) + b'"}'
    response = api.client.post(
        "/api/v1/me/calendar/import", huge, "application/json", headers=headers
    )
    assert_error(response, 413, "too_large")
    over = b'{"ics": "' + b"x" * (2 * MB + 10) + b'"}'
    response = api.client.post(
        "/api/v1/me/calendar/import", over, "application/json", headers=headers
    )
    assert_error(response, 413)


def test_every_form_over_1_mb_gets_a_413_page(world):
    kwargs_by_name = {c.name: c.kwargs(world) for c in WEB_CASES}
    client = Client()
    client.force_login(world.alice)
    for route in site_routes():
        url = reverse(route.name, kwargs=kwargs_by_name.get(route.name, {}))
        limit = 5 * MB if "calendar/import" in url else MB
        response = client.post(url, {"body": "x" * (limit + 1)})
        assert response.status_code == 413, (route.name, response.status_code)
        assert response["Content-Type"].startswith("text/html"), route.name


def test_every_text_field_has_a_maximum_length_with_a_clear_422(world):
    schema = _schema()
    api = Api(world.alice)
    checked = 0
    for method, path, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        body_schema = content.get("application/json", {}).get("schema")
        if body_schema is None:
            continue
        for field_path, max_length in _text_fields(schema, body_schema):
            name = field_path[-1] if field_path[-1] not in ("[]", "*") else field_path[0]
            key = (method, path, name)
            if key in BYTE_LIMITED:
                continue
            limit = max_length if max_length is not None else ACTION_LIMITS.get(key)
            assert limit is not None, f"{method} {path}: {'.'.join(field_path)} has no limit"
            body = _body_with(field_path, "x" * (limit + 1))
            response = api.request(method.lower(), _url(path, world), body)
            error = assert_error(response, 422)
            if max_length is not None:
                problems = error["detail"]
                assert any(
                    p["type"] == "string_too_long" and name in [str(x) for x in p["loc"]]
                    for p in problems
                ), (method, path, field_path, problems)
            checked += 1
    assert checked >= 30


def test_nul_and_unpaired_surrogates_are_422_everywhere_in_the_api(world):
    schema = _schema()
    api = Api(world.alice)
    checked = 0
    for method, path, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        body_schema = content.get("application/json", {}).get("schema")
        if body_schema is None:
            continue
        for field_path, _ in _text_fields(schema, body_schema):
            for bad in ("a\x00b", "a\ud800b"):
                response = api.request(
                    method.lower(), _url(path, world), _body_with(field_path, bad)
                )
                assert response.status_code == 422, (method, path, field_path, response.content)
                checked += 1
    for url in ("/members?q=a%00b", "/members/a%00b", "/connections?q=%00"):
        assert_error(api.get(url), 422, "invalid_parameter")
    assert checked >= 60


def test_nul_on_the_site_is_refused_not_a_500(world):
    client = Client()
    client.force_login(world.alice)
    assert client.get("/search/?q=a%00b").status_code == 400
    assert client.get("/in/a%00b/").status_code == 400
    response = client.post(f"/messaging/{world.direct.pk}/send/", {"body": "a\x00b"})
    assert response.status_code == 422
    response = client.post("/posts/", {"body": "a\x00b"})
    assert response.status_code == 422
    # A forged cursor of comments shows the first page again.
    forged = _cursor(["garbage", 1])
    assert client.get(f"/posts/{world.post.pk}/?comments={forged}").status_code == 302


def test_an_api_body_must_be_a_json_object(world):
    api = Api(world.alice)
    for body in ("[null, null]", "null", "42", '"text"'):
        for content_type in ("application/json", "text/plain"):
            response = api.client.patch("/api/v1/me", body, content_type, headers=api._headers())
            assert_error(response, 422, "invalid_body")
    # Not JSON, or nested deeper than any parser goes: 400, never a 500.
    for body in ("{not json", '{"a": ' * 100_000, "[" * 100_000):
        response = api.client.patch("/api/v1/me", body, "application/json", headers=api._headers())
        assert_error(response, 400)
    deep = '{"display_name": "x", "a": ' + "[" * 900 + '"\\u0000"' + "]" * 900 + "}"
    response = api.client.patch("/api/v1/me", deep, "application/json", headers=api._headers())
    assert_error(response, 422, "invalid_body")


def test_every_list_enforces_its_page_size_and_cursor(world):
    api = Api(world.alice)
    lists = [
        (path, operation)
        for method, path, operation in _operations(_schema())
        if method == "GET" and any(p["name"] == "limit" for p in operation.get("parameters", []))
    ]
    assert len(lists) >= 9
    for path, _ in lists:
        url = _url(path, world)
        assert api.get(url, limit=100).status_code == 200, url
        assert_error(api.get(url, limit=0), 422)
        assert_error(api.get(url, limit=101), 422)
        assert_error(api.get(url, limit="many"), 422)
        assert_error(api.get(url, cursor="not a cursor!"), 422)
        assert_error(api.get(url, cursor="x" * 501), 422)
        body = api.get(url, limit=1).json()
        assert len(body["items"]) <= 1 and "next_cursor" in body
        # A cursor comes back from the client: forged ones (well formed, values that
        # fit no column) are refused, never a 500.
        for width in (1, 2, 3):
            for value in ("garbage", 2**80, 1.5, "2026-13-45T00:00:00", "2026-01-01T00:00:00"):
                response = api.get(url, cursor=_cursor([value] * width))
                assert response.status_code in (200, 422), (url, value, response.content)


def _cursor(values: list[Any]) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _assert_rate_limited(response, code: str) -> None:
    assert_error(response, 429, code)
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1


def test_thirty_messages_a_minute_then_429_with_retry_after(world):
    api = Api(world.bob)
    url = f"/conversations/{world.direct.pk}/messages"
    sent = 1  # bob's message in the world, less than a minute ago
    while sent < 30:
        assert api.post(url, {"body": f"message {sent}"}).status_code == 201
        sent += 1
    response = api.post(url, {"body": "one too many"})
    _assert_rate_limited(response, "message_rate_limited")
    assert int(response["Retry-After"]) <= 61
    # The web form says the same, with the same header.
    client = Client()
    client.force_login(world.bob)
    page = client.post(f"/messaging/{world.direct.pk}/send/", {"body": "and another"})
    assert page.status_code == 429
    assert 1 <= int(page["Retry-After"]) <= 61


def test_fifty_new_conversations_a_day_with_strangers_then_429(world):
    # Each member put in front of a stranger counts (issue 14, finding 4).
    from backsoon.messaging.models import Introduction

    now = timezone.now()
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                kind="group",
                created_by=world.mallory,
                created_at=now - timedelta(hours=1),
                last_message_at=now,
                with_stranger=True,
            )
            for _ in range(50)
        ]
    )
    Introduction.objects.bulk_create(
        [
            Introduction(
                by=world.mallory, member=world.bob, conversation=c, at=now - timedelta(hours=1)
            )
            for c in conversations
        ]
    )
    response = Api(world.mallory).post("/conversations", {"participants": ["alice"]})
    _assert_rate_limited(response, "conversation_rate_limited")
    assert int(response["Retry-After"]) <= 23 * 3600 + 1


def test_a_hundred_invitations_a_week_then_429(world):
    others = [make_member(f"target{i}") for i in range(101)]
    now = timezone.now()
    Invitation.objects.bulk_create(
        [
            Invitation(
                from_member=world.mallory,
                to_member=m,
                pair_low=min(world.mallory.pk, m.pk),
                pair_high=max(world.mallory.pk, m.pk),
                created_at=now - timedelta(days=1),
                status="withdrawn",
            )
            for m in others[:100]
        ]
    )
    response = Api(world.mallory).post("/invitations", {"to": others[100].username})
    _assert_rate_limited(response, "invitation_rate_limited")
    assert int(response["Retry-After"]) <= 6 * 86400 + 1


def test_login_throttling_answers_429_with_retry_after_in_the_api_and_on_the_site(world):
    api = Api()
    for _ in range(5):
        assert api.post("/auth/token", {"username": "alice", "password": "nope"}).status_code == 401
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD})
    _assert_rate_limited(response, "login_throttled")
    page = Client().post("/login/", {"username": "alice", "password": PASSWORD})
    assert page.status_code == 429
    assert int(page["Retry-After"]) >= 1
