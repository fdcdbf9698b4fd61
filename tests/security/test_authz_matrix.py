"""Who may do what to whom, for every operation of the API.

Every (method, path) of ``GET /api/v1/openapi.json`` has exactly one case here; a
new endpoint without a case fails ``test_every_operation_has_a_case``. For each case:

- without a token, or with a wrong one, the answer is 401 (except sign-up and token);
- for an object-scoped operation, mallory (connected to no one) gets 404 for
  alice's object (403 where API.md says so: post-author-only actions), with the
  very same body as for an object that does not exist (nothing is revealed), the
  object is left as it was, and then the rightful member gets the success status
  for the same request (so the case can not pass by pointing at nothing);
- an operation that takes ids in its body skips ids that are not the caller's;
- posts are visible to every member, except to a member blocked by the author.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from backsoon.accounts.models import ApiToken
from backsoon.away.calendar.models import CalendarFeed
from backsoon.away.models import Absence
from backsoon.messaging.actions import saved_reply_create
from backsoon.messaging.models import Message, Participant, SavedReply
from backsoon.network.actions import block_create
from backsoon.network.models import Invitation
from backsoon.notifications.models import Notification
from backsoon.posts.models import Comment, Post
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

MISSING = 987_654_321  # an id that exists nowhere

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"

Params = Callable[[World], dict[str, Any]]
Body = Callable[[World], Any]


def _none(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    """One operation of the API and how access to it is decided.

    scope:
        ``anonymous``: needs no token (sign-up, token).
        ``self``: works on the caller's own data only; nothing of another member's
            can be named in it.
        ``owned``: names an object by id (or username) in the path; ``intruder`` is
            what mallory gets, ``owner`` (a username) then gets ``ok``.
        ``ids``: names objects by id in the body; ``untouched`` checks that
            mallory's request left alice's objects alone.
        ``visible``: a post any member may see, but not a member the author blocked.
    """

    method: str
    path: str
    scope: str
    params: Params = _none
    body: Body | None = None
    intruder: int = 404
    owner: str = "alice"
    ok: int = 200
    untouched: Callable[[World], None] | None = None
    missing: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _absence_body(world: World) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() + timedelta(days=40)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=2)).isoformat(),
        "message": "Out",
    }


def _unchanged_invitations(world: World) -> None:
    assert Invitation.objects.get(pk=world.invitation.pk).status == "pending"


def _direct_in_the_inbox(world: World) -> None:
    assert Participant.objects.get(conversation=world.direct, member=world.alice).folder == "inbox"


def _alice_template(world: World) -> dict[str, Any]:
    """One of alice's saved replies (TRIAGE C3), made when a case asks for it."""
    found = SavedReply.objects.filter(member=world.alice).first()
    if found is None:
        found = saved_reply_create(member=world.alice, name="Thanks", body="Hi {first_name}")
    return {"template_id": found.pk}


def _unread_notifications(world: World) -> None:
    assert Notification.objects.filter(recipient=world.alice, read_at__isnull=True).exists()


CASES: list[Case] = [
    # -- accounts -------------------------------------------------------------------
    Case("POST", "/auth/signup", "anonymous"),
    Case("POST", "/auth/token", "anonymous"),
    Case("GET", "/me", "self"),
    Case("PATCH", "/me", "self", body=lambda w: {"headline": "x"}),
    Case("GET", "/members", "self"),
    Case("GET", "/members/{username}", "self", params=lambda w: {"username": "alice"}),
    # -- tokens and password (issue 14, item 10) ------------------------------------
    Case("GET", "/me/tokens", "self"),
    Case("POST", "/me/tokens", "self", body=lambda w: {"name": "x", "password": PASSWORD}),
    Case(
        "DELETE",
        "/me/tokens/{token_id}",
        "owned",
        params=lambda w: {"token_id": w.api_token.pk},
        ok=204,
    ),
    Case(
        "POST",
        "/me/password",
        "self",
        body=lambda w: {"current_password": PASSWORD, "new_password": "a-new-passphrase-1"},
    ),
    # -- absences -------------------------------------------------------------------
    Case("POST", "/me/absences", "self", body=_absence_body),
    Case("GET", "/me/absences", "self"),
    Case(
        "GET",
        "/me/absences/{absence_id}",
        "owned",
        params=lambda w: {"absence_id": w.absence_scheduled.pk},
    ),
    Case(
        "PATCH",
        "/me/absences/{absence_id}",
        "owned",
        params=lambda w: {"absence_id": w.absence_scheduled.pk},
        body=lambda w: {"message": "changed by someone"},
    ),
    Case(
        "DELETE",
        "/me/absences/{absence_id}",
        "owned",
        params=lambda w: {"absence_id": w.absence_scheduled.pk},
        ok=204,
    ),
    Case(
        "POST",
        "/me/absences/{absence_id}/end",
        "owned",
        params=lambda w: {"absence_id": w.absence_active.pk},
    ),
    Case(
        "GET",
        "/me/absences/{absence_id}/digest",
        "owned",
        params=lambda w: {"absence_id": w.absence_ended.pk},
    ),
    Case(
        "POST",
        "/me/absences/{absence_id}/digest/invitations",
        "owned",
        params=lambda w: {"absence_id": w.absence_ended.pk},
        body=lambda w: {"action": "ignore", "min_mutual": 0},
    ),
    # -- calendar -------------------------------------------------------------------
    Case("GET", "/me/calendar", "self"),
    Case("PATCH", "/me/calendar", "self", body=lambda w: {"default_message": "x"}),
    Case("POST", "/me/calendar/import", "self", body=lambda w: {"ics": ICS}),
    Case("GET", "/me/calendar/feeds", "self"),
    Case(
        "POST",
        "/me/calendar/feeds",
        "self",
        body=lambda w: {"url": "https://calendar.example.com/b.ics"},
    ),
    Case(
        "DELETE",
        "/me/calendar/feeds/{feed_id}",
        "owned",
        params=lambda w: {"feed_id": w.feed.pk},
        ok=204,
    ),
    Case(
        "POST",
        "/me/calendar/feeds/{feed_id}/sync",
        "owned",
        params=lambda w: {"feed_id": w.feed.pk},
        ok=202,  # queued for the worker (issue 14 finding 1)
    ),
    Case("POST", "/me/calendar/export-token", "self"),
    Case("DELETE", "/me/calendar/export-token", "self"),
    # -- network --------------------------------------------------------------------
    Case("POST", "/invitations", "self", body=lambda w: {"to": "carol", "note": "hi"}),
    Case("GET", "/invitations", "self"),
    Case(
        "POST",
        "/invitations/bulk",
        "ids",
        body=lambda w: {"ids": [w.invitation.pk], "action": "accept"},
        untouched=_unchanged_invitations,
    ),
    Case(
        "POST",
        "/invitations/{invitation_id}/accept",
        "owned",
        params=lambda w: {"invitation_id": w.invitation.pk},
        owner="dave",
    ),
    Case(
        "POST",
        "/invitations/{invitation_id}/ignore",
        "owned",
        params=lambda w: {"invitation_id": w.invitation.pk},
        owner="dave",
    ),
    Case(
        "POST",
        "/invitations/{invitation_id}/withdraw",
        "owned",
        params=lambda w: {"invitation_id": w.invitation.pk},
    ),
    Case(
        "GET",
        "/invitations/{invitation_id}",
        "owned",
        params=lambda w: {"invitation_id": w.invitation.pk},
    ),
    Case("GET", "/connections", "self"),
    Case(
        "DELETE",
        "/connections/{username}",
        "owned",
        # mallory is not connected to bob: only alice can remove alice-bob.
        params=lambda w: {"username": "bob"},
        # Members are public: the answer is the one for any member you are not
        # connected to.
        missing={"username": "dave"},
        ok=204,
    ),
    Case("GET", "/members/{username}/mutual", "self", params=lambda w: {"username": "alice"}),
    Case("POST", "/members/{username}/follow", "self", params=lambda w: {"username": "alice"}),
    Case("DELETE", "/members/{username}/follow", "self", params=lambda w: {"username": "alice"}),
    Case("POST", "/members/{username}/block", "self", params=lambda w: {"username": "dave"}),
    Case("DELETE", "/members/{username}/block", "self", params=lambda w: {"username": "dave"}),
    # -- messaging ------------------------------------------------------------------
    Case("POST", "/conversations", "self", body=lambda w: {"participants": ["carol"]}),
    Case("GET", "/conversations", "self"),
    Case("GET", "/conversations/unread", "self"),
    Case("GET", "/me/counts", "self"),
    *[
        Case(
            "POST",
            f"/conversations/{{conversation_id}}/{action}",
            "owned",
            params=lambda w: {"conversation_id": w.request.pk},
        )
        for action in ("accept", "decline", "report")
    ],
    *[
        Case(
            "POST",
            f"/conversations/{{conversation_id}}/{action}",
            "owned",
            params=lambda w: {"conversation_id": w.direct.pk},
        )
        for action in ("archive", "unarchive", "unread", "mute", "unmute")
    ],
    Case(
        "POST",
        "/conversations/bulk",
        "ids",
        body=lambda w: {"action": "archive", "ids": [w.direct.pk]},
        untouched=_direct_in_the_inbox,
    ),
    # -- saved replies (TRIAGE C3) --------------------------------------------------
    Case("GET", "/me/templates", "self"),
    Case("POST", "/me/templates", "self", body=lambda w: {"name": "x", "body": "y"}, ok=201),
    Case(
        "PATCH",
        "/me/templates/{template_id}",
        "owned",
        params=_alice_template,
        body=lambda w: {"body": "changed by someone"},
    ),
    Case("DELETE", "/me/templates/{template_id}", "owned", params=_alice_template, ok=204),
    Case(
        "GET",
        "/conversations/{conversation_id}",
        "owned",
        params=lambda w: {"conversation_id": w.direct.pk},
    ),
    Case(
        "POST",
        "/conversations/{conversation_id}/messages",
        "owned",
        params=lambda w: {"conversation_id": w.direct.pk},
        body=lambda w: {"body": "let me in"},
        ok=201,
    ),
    Case(
        "GET",
        "/conversations/{conversation_id}/messages",
        "owned",
        params=lambda w: {"conversation_id": w.direct.pk},
    ),
    Case(
        "POST",
        "/conversations/{conversation_id}/read",
        "owned",
        params=lambda w: {"conversation_id": w.direct.pk},
        ok=204,
    ),
    Case(
        "POST",
        "/conversations/{conversation_id}/participants",
        "owned",
        params=lambda w: {"conversation_id": w.group.pk},
        body=lambda w: {"participants": ["mallory"]},
    ),
    Case(
        "POST",
        "/conversations/{conversation_id}/leave",
        "owned",
        params=lambda w: {"conversation_id": w.group.pk},
        ok=204,
    ),
    # -- notifications --------------------------------------------------------------
    Case("GET", "/notifications", "self"),
    Case(
        "POST",
        "/notifications/read",
        "ids",
        body=lambda w: {"ids": [w.notification.pk]},
        untouched=_unread_notifications,
    ),
    Case(
        "POST",
        "/notifications/{notification_id}/read",
        "owned",
        params=lambda w: {"notification_id": w.notification.pk},
    ),
    # -- posts ----------------------------------------------------------------------
    Case("POST", "/posts", "self", body=lambda w: {"body": "hello"}),
    Case("GET", "/posts/{post_id}", "visible", params=lambda w: {"post_id": w.post.pk}),
    Case(
        "PATCH",
        "/posts/{post_id}",
        "owned",
        params=lambda w: {"post_id": w.post.pk},
        body=lambda w: {"body": "defaced"},
        intruder=403,
    ),
    Case(
        "DELETE",
        "/posts/{post_id}",
        "owned",
        params=lambda w: {"post_id": w.post.pk},
        intruder=403,
        ok=204,
    ),
    Case(
        "POST",
        "/posts/{post_id}/reactions",
        "visible",
        params=lambda w: {"post_id": w.post.pk},
        body=lambda w: {"type": "like"},
        ok=201,
    ),
    Case(
        "DELETE",
        "/posts/{post_id}/reactions",
        "visible",
        params=lambda w: {"post_id": w.post.pk},
        ok=204,
    ),
    Case(
        "POST",
        "/posts/{post_id}/comments",
        "visible",
        params=lambda w: {"post_id": w.post.pk},
        body=lambda w: {"body": "a comment"},
        ok=201,
    ),
    Case("GET", "/posts/{post_id}/comments", "visible", params=lambda w: {"post_id": w.post.pk}),
    Case(
        "DELETE",
        "/posts/{post_id}/comments/{comment_id}",
        "owned",
        params=lambda w: {"post_id": w.post.pk, "comment_id": w.comment.pk},
        intruder=403,
        owner="bob",
        ok=204,
    ),
    Case(
        "POST",
        "/posts/{post_id}/shares",
        "visible",
        params=lambda w: {"post_id": w.post.pk},
        body=lambda w: {"comment": ""},
        ok=201,
    ),
    Case("POST", "/views", "self", body=lambda w: {"post_ids": [w.post.pk]}),
    Case("GET", "/feed", "self"),
    Case(
        "GET",
        "/posts/{post_id}/analytics",
        "owned",
        params=lambda w: {"post_id": w.post.pk},
        intruder=403,
    ),
    Case(
        "GET",
        "/posts/{post_id}/yield",
        "owned",
        params=lambda w: {"post_id": w.post.pk},
        intruder=404,
    ),
    Case(
        "GET",
        "/posts/{post_id}/yield/people",
        "owned",
        params=lambda w: {"post_id": w.post.pk},
        intruder=404,
    ),
    Case("GET", "/me/yield", "self"),
    Case("GET", "/posts/{post_id}/reactions", "visible", params=lambda w: {"post_id": w.post.pk}),
]

BY_ID = {case.id: case for case in CASES}
AUTHENTICATED = [c for c in CASES if c.scope != "anonymous"]
OWNED = [c for c in CASES if c.scope == "owned"]


def schema_operations() -> set[str]:
    schema = Api().get("/openapi.json").json()
    prefix = "/api/v1"
    return {
        f"{method.upper()} {path.removeprefix(prefix)}"
        for path, operations in schema["paths"].items()
        for method in operations
    }


@pytest.fixture
def world(monkeypatch) -> World:
    # Calendar feeds are never fetched from the network in tests.
    from backsoon.away.calendar import feeds, fetch

    monkeypatch.setattr(feeds, "calendar_feed_fetch", lambda url: ICS.encode())
    monkeypatch.setattr(fetch, "_resolve", lambda host, port: [])
    return build_world()


def _call(api: Api, case: Case, params: dict[str, Any], world: World):
    path = case.path.format(**params)
    body = case.body(world) if case.body else None
    method = case.method.lower()
    if method in ("post", "patch"):
        return api.request(method, path, body if body is not None else {})
    return api.request(method, path)


def _as(world: World, username: str) -> Api:
    return Api(getattr(world, username))


def _snapshot(world: World) -> dict[str, Any]:
    """What an intruder's request must never change."""
    return {
        "absences": sorted(
            Absence.objects.filter(member=world.alice).values_list(
                "pk", "message", "ended_at", "ends_at"
            )
        ),
        "messages": Message.objects.count(),
        "participants": sorted(
            Participant.objects.values_list("conversation_id", "member_id", "left_at")
        ),
        "read": sorted(
            Notification.objects.filter(recipient=world.alice).values_list("pk", "read_at")
        ),
        "invitations": sorted(Invitation.objects.values_list("pk", "status")),
        "posts": sorted(Post.objects.values_list("pk", "body")),
        "comments": sorted(Comment.objects.values_list("pk", flat=True)),
        "feeds": sorted(CalendarFeed.objects.values_list("pk", "last_fetched_at")),
        "connections": world.alice.__class__.objects.get(pk=world.alice.pk).connections_count,
        "tokens": sorted(
            ApiToken.objects.filter(member=world.alice).values_list("pk", "revoked_at")
        ),
        "password": world.alice.__class__.objects.get(pk=world.alice.pk).password,
        "templates": sorted(SavedReply.objects.values_list("pk", "name", "body")),
    }


def test_every_operation_has_a_case():
    """A new endpoint must come with a case here, and a removed one must go."""
    operations = schema_operations()
    assert len(BY_ID) == len(CASES), "two cases for one operation"
    assert operations - set(BY_ID) == set(), "operations without an authorization case"
    assert set(BY_ID) - operations == set(), "cases for operations that do not exist"


@pytest.mark.parametrize("case", AUTHENTICATED, ids=lambda c: c.id)
@pytest.mark.parametrize("token", [None, "bs_not-a-real-token"], ids=["no-token", "bad-token"])
def test_every_operation_but_signup_and_token_needs_a_token(world, case, token):
    api = Api(token=token)
    response = _call(api, case, case.params(world), world)
    body = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert "token" in str(body["detail"]).lower()


def test_signup_token_and_docs_need_no_token(world):
    api = Api()
    assert api.get("/openapi.json").status_code == 200
    assert api.get("/docs").status_code == 200
    response = api.post("/auth/token", {"username": "alice", "password": "wrong"})
    assert_error(response, 401, "bad_credentials")
    response = api.post(
        "/auth/signup",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password": "a-long-enough-passphrase",
            "display_name": "Newbie",
        },
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("case", OWNED, ids=lambda c: c.id)
def test_another_member_can_not_reach_what_is_not_theirs(world, case):
    params = case.params(world)
    before = _snapshot(world)
    response = _call(_as(world, "mallory"), case, params, world)
    body = assert_error(response, case.intruder)
    assert _snapshot(world) == before, "the intruder's request changed something"
    if case.intruder == 404:
        # Exactly what a member gets for an object that does not exist at all.
        missing = case.missing or {name: MISSING for name in params}
        nothing = _call(_as(world, "mallory"), case, {**params, **missing}, world)
        assert nothing.status_code == 404
        assert nothing.json() == body
    # The same request from the rightful member succeeds: the case names a real object.
    response = _call(_as(world, case.owner), case, params, world)
    assert response.status_code == case.ok, response.content


@pytest.mark.parametrize("case", [c for c in CASES if c.scope == "ids"], ids=lambda c: c.id)
def test_ids_in_a_body_that_are_not_yours_are_skipped(world, case):
    response = _call(_as(world, "mallory"), case, case.params(world), world)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body.get("items", []) == [] and body.get("marked", 0) == 0, body
    assert case.untouched is not None
    case.untouched(world)


@pytest.mark.parametrize("case", [c for c in CASES if c.scope == "visible"], ids=lambda c: c.id)
def test_posts_are_hidden_from_members_the_author_blocked(world, case):
    params = case.params(world)
    block_create(member=world.alice, username="mallory")
    before = _snapshot(world)
    response = _call(_as(world, "mallory"), case, params, world)
    body = assert_error(response, 404)
    assert _snapshot(world) == before
    nothing = _call(_as(world, "mallory"), case, {"post_id": MISSING}, world)
    assert nothing.json() == body
    # Any other member may.
    assert _call(_as(world, "carol"), case, params, world).status_code == case.ok


@pytest.mark.parametrize(
    ("username", "method", "path", "status"),
    [
        # The wrong party of an invitation: 403 (they may see it, not do this to it).
        ("alice", "post", "/invitations/{inv}/accept", 403),
        ("alice", "post", "/invitations/{inv}/ignore", 403),
        ("dave", "post", "/invitations/{inv}/withdraw", 403),
        # Someone else's comment on someone else's post.
        ("carol", "delete", "/posts/{post}/comments/{comment}", 403),
    ],
)
def test_the_other_party_gets_403_where_the_spec_says_so(world, username, method, path, status):
    path = path.format(inv=world.invitation.pk, post=world.post.pk, comment=world.comment.pk)
    response = _as(world, username).request(method, path, {} if method == "post" else None)
    assert_error(response, status)


def test_a_member_who_left_a_group_no_longer_sees_it(world):
    carol = _as(world, "carol")
    assert carol.post(f"/conversations/{world.group.pk}/leave").status_code == 204
    for method, path in [
        ("get", f"/conversations/{world.group.pk}"),
        ("get", f"/conversations/{world.group.pk}/messages"),
        ("post", f"/conversations/{world.group.pk}/messages"),
    ]:
        body = {"body": "still here?"} if method == "post" else None
        assert_error(carol.request(method, path, body), 404)


def test_calendar_export_needs_the_current_secret(world, client):
    good = client.get(f"/calendar/{world.export_token}.ics")
    assert good.status_code == 200
    assert b"BEGIN:VCALENDAR" in good.content
    assert client.get(f"/calendar/{'x' * 43}.ics").status_code == 404
    Api(world.alice).delete("/me/calendar/export-token")
    assert client.get(f"/calendar/{world.export_token}.ics").status_code == 404


def test_a_block_holds_in_a_group_someone_else_started(world):
    """Issue 14, finding 6: in bob's group, alice does not see mallory, nor mallory alice."""
    bob = _as(world, "bob")
    group = bob.post(
        "/conversations", {"participants": ["alice", "carol", "mallory"], "subject": "Mixed"}
    ).json()["id"]
    block_create(member=world.alice, username="mallory")
    unread_before = _as(world, "alice").get("/conversations/unread").json()["unread"]
    for sender, body in [("mallory", "from mallory"), ("alice", "from alice")]:
        sent = _as(world, sender).post(f"/conversations/{group}/messages", {"body": body})
        assert sent.status_code == 201, sent.content

    def bodies(username: str) -> list[str]:
        page = _as(world, username).get(f"/conversations/{group}/messages").json()
        return [m["body"] for m in page["items"]]

    assert bodies("alice") == ["from alice"]
    assert bodies("mallory") == ["from mallory"]
    assert bodies("carol") == ["from mallory", "from alice"]
    assert _as(world, "alice").get("/conversations/unread").json()["unread"] == unread_before


def test_a_bulk_reply_to_ids_that_are_not_yours_sends_nothing(world):
    """TRIAGE C3: ``reply`` skips ids that are not the caller's, as every bulk action,
    and another member's saved reply is not found."""
    mallory = _as(world, "mallory")
    before = _snapshot(world)
    response = mallory.post(
        "/conversations/bulk", {"action": "reply", "ids": [world.direct.pk], "body": "hi"}
    )
    assert response.json() == {"sent": 0}
    template = _alice_template(world)["template_id"]
    assert_error(
        mallory.post(
            "/conversations/bulk",
            {"action": "reply", "ids": [world.direct.pk], "template": template},
        ),
        404,
        "template_not_found",
    )
    assert _snapshot(world)["messages"] == before["messages"]
