"""Who may open what on the web site: every URL pattern that names an object.

Each pattern with a parameter has a case; a new one without a case fails
``test_every_route_with_a_parameter_has_a_case``. mallory gets the 404 page (or
403 for post-author-only pages) for alice's things and changes nothing; the
rightful member then gets a page or a redirect for the same request. Every page
needs a login; and the API never accepts the session cookie in place of a token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from backsoon.network.actions import block_create
from tests.security.test_authz_matrix import ICS, MISSING, _alice_template, _snapshot
from tests.security.urls import site_routes
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class WebCase:
    name: str
    method: str  # "get" or "post"
    scope: str  # "owned", "visible" or "self"
    kwargs: Callable[[World], dict[str, Any]]
    data: dict[str, Any] | None = None
    intruder: int = 404
    owner: str = "alice"
    # What the rightful member may get: a page, a redirect, or (for a form post
    # with partial data) the form again with its errors: all prove the object was found.
    owner_ok: tuple[int, ...] = (200, 204, 302)


def _conv(w: World) -> dict[str, Any]:
    return {"conversation_id": w.direct.pk}


def _group(w: World) -> dict[str, Any]:
    return {"conversation_id": w.group.pk}


def _inv(w: World) -> dict[str, Any]:
    return {"invitation_id": w.invitation.pk}


def _notif(w: World) -> dict[str, Any]:
    return {"notification_id": w.notification.pk}


def _post(w: World) -> dict[str, Any]:
    return {"post_id": w.post.pk}


def _comment(w: World) -> dict[str, Any]:
    return {"comment_id": w.comment.pk}


def _scheduled(w: World) -> dict[str, Any]:
    return {"absence_id": w.absence_scheduled.pk}


def _active(w: World) -> dict[str, Any]:
    return {"absence_id": w.absence_active.pk}


def _ended(w: World) -> dict[str, Any]:
    return {"absence_id": w.absence_ended.pk}


def _feed(w: World) -> dict[str, Any]:
    return {"feed_id": w.feed.pk}


def _member(username: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"username": username}


WEB_CASES: list[WebCase] = [
    WebCase("accounts:profile", "get", "self", _member("alice")),
    # Invitation buttons answer with a redirect and a message, for a stranger too;
    # the message must be the one for an invitation that does not exist.
    WebCase("network:accept", "post", "owned", _inv, owner="dave", intruder=302),
    WebCase("network:ignore", "post", "owned", _inv, owner="dave", intruder=302),
    WebCase("network:withdraw", "post", "owned", _inv, intruder=302),
    WebCase("network:connection_remove", "post", "self", _member("bob")),
    WebCase("network:follow", "post", "self", _member("alice")),
    WebCase("network:unfollow", "post", "self", _member("alice")),
    WebCase("network:block", "post", "self", _member("dave")),
    WebCase("network:unblock", "post", "self", _member("dave")),
    WebCase("messaging:conversation", "get", "owned", _conv),
    WebCase("messaging:send", "post", "owned", _conv, {"body": "let me in"}),
    WebCase("messaging:messages", "get", "owned", _conv),
    WebCase("messaging:read", "post", "owned", _conv),
    WebCase("messaging:add", "post", "owned", _group, {"to": "mallory"}),
    WebCase("messaging:leave", "post", "owned", _group),
    WebCase(
        "messaging:folder_action",
        "post",
        "owned",
        lambda w: {"conversation_id": w.direct.pk, "action": "archive"},
    ),
    WebCase(
        "messaging:saved_reply_edit",
        "post",
        "owned",
        lambda w: {"reply_id": _alice_template(w)["template_id"]},
        {"name": "defaced", "body": "defaced"},
    ),
    WebCase(
        "messaging:saved_reply_delete",
        "post",
        "owned",
        lambda w: {"reply_id": _alice_template(w)["template_id"]},
    ),
    WebCase("notifications:read", "post", "owned", _notif),
    WebCase("notifications:open", "post", "owned", _notif),
    WebCase("away:edit", "get", "owned", _scheduled),
    WebCase("away:end", "post", "owned", _active),
    WebCase("away:delete", "post", "owned", _scheduled),
    WebCase("away:digest", "get", "owned", _ended),
    WebCase(
        "away:digest_invitations", "post", "owned", _ended, {"action": "ignore", "min_mutual": "0"}
    ),
    WebCase(
        "messaging:digest_conversations",
        "post",
        "owned",
        _ended,
        {"action": "rest", "section": "others"},
    ),
    WebCase("messaging:digest_reply", "post", "owned", _ended, {"rest": "1", "body": "hello"}),
    WebCase("away:digest_notifications", "post", "owned", _ended, {"rest": "1"}),
    WebCase("away:calendar_feed_delete", "post", "owned", _feed),
    WebCase("away:calendar_feed_sync", "post", "owned", _feed),
    WebCase("away:calendar_export", "get", "self", lambda w: {"token": w.export_token}),
    WebCase("posts:detail", "get", "visible", _post),
    WebCase("posts:edit", "get", "owned", _post, intruder=403),
    WebCase("posts:delete", "post", "owned", _post, intruder=403),
    WebCase("posts:react", "post", "visible", _post, {"type": "like"}),
    WebCase("posts:comment", "post", "visible", _post, {"body": "a comment"}),
    WebCase("posts:share", "get", "visible", _post),
    WebCase("posts:analytics", "get", "owned", _post, intruder=403),
    WebCase(
        "posts:yield_people",
        "get",
        "owned",
        lambda w: {"post_id": w.post.pk, "step": "engaged"},
        intruder=404,
    ),
    WebCase("posts:reactions", "get", "visible", _post),
    WebCase("posts:comment_link", "get", "visible", _comment),
    WebCase("posts:comment_delete", "post", "owned", _comment, intruder=403, owner="bob"),
]
# Pages that also take a form post on the same URL: the post is checked too.
WEB_CASES += [
    WebCase(
        "away:edit", "post", "owned", _scheduled, {"message": "defaced"}, owner_ok=(200, 302, 422)
    ),
    WebCase("posts:edit", "post", "owned", _post, {"body": "defaced"}, intruder=403),
    WebCase("posts:delete", "get", "owned", _post, intruder=403),
    WebCase("posts:share", "post", "visible", _post, {"comment": ""}),
]
# Credentials (issue 14, item 10): revoking someone else's API token.
WEB_CASES += [
    WebCase("accounts:token_revoke", "post", "owned", lambda w: {"token_id": w.api_token.pk}),
]


@pytest.fixture
def world(monkeypatch) -> World:
    from backsoon.away.calendar import feeds, fetch

    monkeypatch.setattr(feeds, "calendar_feed_fetch", lambda url: ICS.encode())
    monkeypatch.setattr(fetch, "_resolve", lambda host, port: [])
    return build_world()


def _flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _request(client: Client, case: WebCase, kwargs: dict[str, Any]):
    url = reverse(case.name, kwargs=kwargs)
    if case.method == "post":
        return client.post(url, case.data or {})
    return client.get(url)


def test_every_route_with_a_parameter_has_a_case():
    with_params = {r.name for r in site_routes() if r.params}
    covered = {c.name for c in WEB_CASES}
    assert with_params - covered == set(), "routes without an authorization case"
    assert covered - with_params == set(), "cases for routes that do not exist"


@pytest.mark.parametrize(
    "case",
    [c for c in WEB_CASES if c.scope == "owned"],
    ids=lambda c: f"{c.method.upper()} {c.name}",
)
def test_another_member_gets_not_found_or_forbidden(world, case):
    kwargs = case.kwargs(world)
    before = _snapshot(world)
    response = _request(_client(world.mallory), case, kwargs)
    assert response.status_code == case.intruder, response.content[:500]
    assert _snapshot(world) == before, "the intruder's request changed something"
    if case.intruder == 302:
        missing = {name: MISSING for name in kwargs}
        nothing = _request(_client(world.mallory), case, missing)
        assert _flashed(response) == _flashed(nothing) != []
        assert response["Location"] == nothing["Location"]
    response = _request(_client(getattr(world, case.owner)), case, kwargs)
    assert response.status_code in case.owner_ok, response.content[:500]


@pytest.mark.parametrize(
    "case",
    [c for c in WEB_CASES if c.scope == "visible"],
    ids=lambda c: f"{c.method.upper()} {c.name}",
)
def test_a_blocked_member_does_not_see_the_post(world, case):
    kwargs = case.kwargs(world)
    block_create(member=world.alice, username="mallory")
    before = _snapshot(world)
    response = _request(_client(world.mallory), case, kwargs)
    assert response.status_code == 404
    assert _snapshot(world) == before
    assert _request(_client(world.carol), case, kwargs).status_code in (200, 201, 302)


def test_every_page_but_the_public_ones_needs_a_login(world):
    public = {
        "accounts:signup",
        "accounts:login",
        "accounts:logout",
        "web:home",  # the landing page
        "set_language",
        "language_switch",
        "away:calendar_export",  # a secret URL, for calendar apps
        "accounts:security_txt",  # RFC 9116, for anyone
        "favicon",  # the browser asks for it on every page, signed in or not
    }
    kwargs_by_name = {c.name: c.kwargs(world) for c in WEB_CASES}
    for route in site_routes():
        if route.name in public:
            continue
        url = reverse(route.name, kwargs=kwargs_by_name.get(route.name, {}))
        for method in ("get", "post"):
            response = getattr(Client(), method)(url)
            assert response.status_code in (302, 401, 405), (route.name, method)
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), (route.name, method)


def test_the_api_does_not_take_the_session_cookie(world):
    client = _client(world.alice)
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/posts", {"body": "x"}, content_type="application/json")
    assert response.status_code == 401
