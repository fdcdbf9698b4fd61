"""Absences through the API: create, list, read, edit, delete, end (A1, A3, A4, A5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backsoon.away.models import Absence
from tests.conftest import Api, assert_error
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def iso(dt) -> str:
    return dt.isoformat()


def window(start_hours: float, hours: float) -> dict[str, str]:
    start = timezone.now() + timedelta(hours=start_hours)
    return {"starts_at": iso(start), "ends_at": iso(start + timedelta(hours=hours))}


def create(api: Api, **fields):
    body = {**window(1, 24), "message": "Away", **fields}
    return api.post("/me/absences", body)


def test_A1_create_scheduled_then_state_follows_the_clock(alice):
    response = create(Api(alice))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "scheduled"
    assert body["audience"] == "everyone" and body["invitations"] == "hold"
    # No job flips anything: moving the stored times is enough.
    Absence.objects.update(starts_at=timezone.now() - timedelta(minutes=1))
    assert Api(alice).get(f"/me/absences/{body['id']}").json()["state"] == "active"
    bob_api = Api(make_member("viewer"))
    assert bob_api.get("/members/alice").json()["away"]
    Absence.objects.update(ends_at=timezone.now() - timedelta(seconds=1))
    assert Api(alice).get(f"/me/absences/{body['id']}").json()["state"] == "ended"
    assert bob_api.get("/members/alice").json()["away"] is None


def test_A1_offsets_are_stored_in_utc(alice):
    body = {
        "starts_at": "2099-12-21T09:00:00+01:00",
        "ends_at": "2099-12-22T09:00:00+01:00",
        "message": "x",
    }
    created = Api(alice).post("/me/absences", body).json()
    assert created["starts_at"].startswith("2099-12-21T08:00:00")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (window(5, -1), "invalid_window"),
        (window(-48, 24), "invalid_window"),
        (window(1, 367 * 24), "invalid_window"),
        ({"starts_at": "2099-01-01T00:00:00", "ends_at": "2099-01-02T00:00:00"}, "naive_datetime"),
        ({"audience": "friends"}, "validation_error"),
        ({"invitations": "accept_all"}, "validation_error"),
        ({"repeat_after_days": 0}, "validation_error"),
        ({"repeat_after_days": 31}, "validation_error"),
        ({"backup": "ghost"}, "bad_backup"),
        ({"backup": "alice"}, "bad_backup"),
        ({"translations": {"fr": "Absent"}}, "bad_translation"),
        ({"message": "x" * 2001}, "validation_error"),
        ({"starts_at": "not a date"}, "validation_error"),
    ],
)
def test_A3_invalid_absences_are_422_and_change_nothing(alice, fields, code):
    assert_error(create(Api(alice), **fields), 422, code)
    assert not Absence.objects.exists()


def test_A3_overlapping_absences_are_409(alice):
    api = Api(alice)
    first = create(api, **window(1, 24)).json()
    body = assert_error(create(api, **window(10, 24)), 409, "absence_overlap")
    assert body["detail"]["absence_id"] == first["id"]
    # Touching is not overlapping: [a, b) and [b, c).
    start = timezone.now() + timedelta(hours=1)
    touching = {
        "starts_at": iso(start + timedelta(hours=24)),
        "ends_at": iso(start + timedelta(hours=30)),
    }
    Absence.objects.update(starts_at=start, ends_at=start + timedelta(hours=24))
    assert create(api, **touching).status_code == 201
    # Another member's absences never conflict.
    assert create(Api(make_member("other")), **window(1, 24)).status_code == 201


def test_A3_patch_into_overlap_is_409(alice):
    api = Api(alice)
    create(api, **window(1, 5))
    second = create(api, **window(10, 5)).json()
    assert_error(api.patch(f"/me/absences/{second['id']}", window(3, 5)), 409)
    assert Api(alice).get(f"/me/absences/{second['id']}").json()["starts_at"] == second["starts_at"]


def test_A4_end_now_stops_everything_and_keeps_history(alice):
    api = Api(alice)
    absence = create(api, **window(-1, 24)).json()
    assert absence["state"] == "active"
    ended = api.post(f"/me/absences/{absence['id']}/end")
    assert ended.status_code == 200
    assert ended.json()["state"] == "ended" and ended.json()["ended_at"]
    assert Api(make_member("viewer")).get("/members/alice").json()["away"] is None
    assert_error(api.post(f"/me/absences/{absence['id']}/end"), 409)
    assert_error(api.delete(f"/me/absences/{absence['id']}"), 409, "absence_ended")
    assert [a["id"] for a in api.get("/me/absences").json()["items"]] == [absence["id"]]


def test_A4_delete_scheduled_removes_it(alice):
    api = Api(alice)
    absence = create(api).json()
    assert api.delete(f"/me/absences/{absence['id']}").status_code == 204
    assert not Absence.objects.exists()
    assert_error(api.get(f"/me/absences/{absence['id']}"), 404)


def test_A4_delete_active_ends_it_and_keeps_it(alice):
    api = Api(alice)
    absence = create(api, **window(-1, 24)).json()
    assert api.delete(f"/me/absences/{absence['id']}").status_code == 204
    assert api.get(f"/me/absences/{absence['id']}").json()["state"] == "ended"


def test_A4_another_members_absence_is_404(alice):
    absence = create(Api(alice)).json()
    other = Api(make_member("other"))
    for response in (
        other.get(f"/me/absences/{absence['id']}"),
        other.patch(f"/me/absences/{absence['id']}", {"message": "hacked"}),
        other.delete(f"/me/absences/{absence['id']}"),
        other.post(f"/me/absences/{absence['id']}/end"),
    ):
        assert_error(response, 404, "absence_not_found")
    assert Absence.objects.get().message == "Away"


def test_A5_setting_an_absence_changes_presence_everywhere_at_once(alice, bob):
    from tests.factories import connect

    connect(alice, bob)
    conv = Api(bob).post("/conversations", {"participants": ["alice"]}).json()["id"]
    create(Api(alice), **window(-1, 48), message="On holiday")
    viewer = Api(bob)
    assert viewer.get("/members/alice").json()["away"]["message"] == "On holiday"
    assert viewer.get("/members", q="alice").json()["items"][0]["away"]
    assert viewer.get(f"/conversations/{conv}").json()["away"][0]["username"] == "alice"
    assert viewer.get("/connections").json()["items"][0]["away"]
    reply = viewer.post(f"/conversations/{conv}/messages", {"body": "hi"})
    assert reply.status_code == 201
    msgs = viewer.get(f"/conversations/{conv}/messages").json()["items"]
    assert [m["auto_reply"] for m in msgs] == [False, True]


def test_patch_changes_fields_and_list_is_newest_first(alice, bob):
    api = Api(alice)
    a1 = create(api, **window(1, 5)).json()
    a2 = create(api, **window(30, 5)).json()
    patched = api.patch(
        f"/me/absences/{a1['id']}",
        {
            "audience": "connections",
            "backup": "BOB",
            "repeat_after_days": 3,
            "translations": {"nl": "Weg"},
        },
    ).json()
    assert patched["audience"] == "connections" and patched["backup"] == "bob"
    assert patched["repeat_after_days"] == 3 and patched["translations"] == {"nl": "Weg"}
    cleared = api.patch(
        f"/me/absences/{a1['id']}", {"backup": None, "repeat_after_days": None}
    ).json()
    assert cleared["backup"] is None and cleared["repeat_after_days"] is None
    assert [a["id"] for a in api.get("/me/absences").json()["items"]] == [a2["id"], a1["id"]]


# -- Issue 14 finding 3: the range of an absence ---------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        ("9999-12-01T00:00:00Z", "9999-12-05T00:00:00Z"),
        ("9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z"),
        ("2200-01-01T00:00:00Z", "2200-01-05T00:00:00Z"),
    ],
)
def test_F3_an_absence_far_ahead_is_refused_with_422(alice, starts_at, ends_at):
    api = Api(alice)
    body = {"starts_at": starts_at, "ends_at": ends_at, "message": "Away"}
    assert_error(api.post("/me/absences", body), 422, "invalid_window")
    assert not Absence.objects.exists()
    # Moving an existing one there is refused too, and it stays as it was.
    absence = create(api).json()
    assert_error(
        api.patch(f"/me/absences/{absence['id']}", {"starts_at": starts_at, "ends_at": ends_at}),
        422,
        "invalid_window",
    )
    assert api.get(f"/me/absences/{absence['id']}").json()["starts_at"] == absence["starts_at"]
    assert api.get("/me/absences").status_code == 200


def test_F3_the_start_is_at_most_two_years_ahead_by_default(alice, settings):
    from backsoon import settings as production

    settings.ABSENCE_MAX_START_AHEAD_DAYS = production.ABSENCE_MAX_START_AHEAD_DAYS
    assert production.ABSENCE_MAX_START_AHEAD_DAYS == 731
    api = Api(alice)
    assert create(api, **window(730 * 24, 24)).status_code == 201
    refused = assert_error(create(api, **window(732 * 24, 24)), 422, "invalid_window")
    assert "731 days" in refused["detail"]


def test_F3_ending_a_scheduled_absence_cancels_it(alice):
    api = Api(alice)
    absence = create(api, **window(48, 24)).json()
    assert absence["state"] == "scheduled"
    response = api.post(f"/me/absences/{absence['id']}/end")
    assert response.status_code == 204
    assert not Absence.objects.exists()  # no ended_at before starts_at left behind
    assert_error(api.post(f"/me/absences/{absence['id']}/end"), 404)
    # The same window can be planned again.
    assert create(api, **window(48, 24)).status_code == 201
