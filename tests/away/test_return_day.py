"""AWAY-SPEC A6 (one return day, said one way), R7 as amended (translations of the
text for others; one language per reply) and D4 (a reminder before the start)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from backsoon.away.actions import absences_notify_due
from backsoon.away.models import Absence
from backsoon.away.rules import (
    AbsenceFacts,
    BackOn,
    IncomingFacts,
    back_on,
    decide_reply,
    visible_reply,
)
from backsoon.away.texts import format_back_on
from backsoon.messaging.models import Message
from backsoon.notifications.models import Notification
from tests.conftest import Api, assert_error
from tests.factories import connect, make_absence

AMS = ZoneInfo("Europe/Amsterdam")


def _say(sender, to, body: str) -> None:
    api = Api(sender)
    conv = api.post("/conversations", {"participants": [to.username]}).json()["id"]
    assert api.post(f"/conversations/{conv}/messages", {"body": body}).status_code == 201


def local(*args: int, tz: ZoneInfo = AMS) -> datetime:
    return datetime(*args, tzinfo=tz)


# -- A6: the pure rule ---------------------------------------------------------------


def test_A6_end_at_midnight_is_back_that_day_without_a_time():
    # Last day Tuesday 1 December 2026: the absence ends at midnight, Wednesday.
    assert back_on(local(2026, 12, 2), "Europe/Amsterdam") == BackOn(date(2026, 12, 2))


def test_A6_end_mid_day_shows_the_time():
    assert back_on(local(2026, 12, 2, 13, 30), "Europe/Amsterdam") == BackOn(
        date(2026, 12, 2), time(13, 30)
    )


def test_A6_end_on_friday_evening_is_back_on_monday():
    assert back_on(local(2026, 12, 11, 20, 0), "Europe/Amsterdam") == BackOn(date(2026, 12, 14))


def test_A6_weekend_skipping_after_a_friday_last_day():
    # Last day Friday 11 December: the end is Saturday midnight; back on Monday 14.
    assert back_on(local(2026, 12, 12), "Europe/Amsterdam") == BackOn(date(2026, 12, 14))
    # Ending on Saturday at noon: no time, since Monday starts afresh.
    assert back_on(local(2026, 12, 12, 12), "Europe/Amsterdam") == BackOn(date(2026, 12, 14))


def test_A6_the_members_own_working_days():
    end = local(2026, 12, 12)  # Saturday
    assert back_on(end, "Europe/Amsterdam", "123456") == BackOn(date(2026, 12, 12))
    assert back_on(end, "Europe/Amsterdam", "1") == BackOn(date(2026, 12, 14))
    assert back_on(end, "Europe/Amsterdam", "3") == BackOn(date(2026, 12, 16))
    assert back_on(end, "Europe/Amsterdam", "") == BackOn(date(2026, 12, 14))  # default


def test_A6_the_members_time_zone():
    end = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # Wednesday 00:00 UTC
    assert back_on(end, "UTC") == BackOn(date(2026, 12, 2))
    assert back_on(end, "Europe/Amsterdam") == BackOn(date(2026, 12, 2), time(1, 0))
    # Tuesday 19:00 in New York: that working day is over, back on Wednesday.
    assert back_on(end, "America/New_York") == BackOn(date(2026, 12, 2))


def test_A6_daylight_saving():
    # Midnight after the spring change (29 March 2026) and after the autumn one.
    assert back_on(local(2026, 3, 30), "Europe/Amsterdam") == BackOn(date(2026, 3, 30))
    assert back_on(local(2026, 10, 26), "Europe/Amsterdam") == BackOn(date(2026, 10, 26))
    # Santiago skips midnight on 6 September 2026: 01:00 is the start of that day.
    santiago = ZoneInfo("America/Santiago")
    start = datetime(2026, 9, 6, 0, 0, tzinfo=santiago).astimezone(UTC)
    assert start.astimezone(santiago).hour == 1
    assert back_on(start, "America/Santiago", "1234567") == BackOn(date(2026, 9, 6))


def test_A6_said_one_way_per_language():
    back = BackOn(date(2026, 12, 14))
    assert format_back_on(back, "en") == "Monday 14 December 2026"
    assert format_back_on(back, "nl") == "maandag 14 december 2026"
    assert format_back_on(BackOn(date(2026, 12, 2), time(13, 30)), "nl") == (
        "woensdag 2 december 2026, 13:30"
    )


# -- A6 everywhere -------------------------------------------------------------------


def _friday_absence(member, **fields) -> Absence:
    """Away from an hour ago until the end of the next Friday in Amsterdam."""
    today = timezone.now().astimezone(AMS).date()
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    end = datetime.combine(friday + timedelta(days=1), time(0), tzinfo=AMS)
    return make_absence(
        member, hours_from_now=-1, hours=(end - timezone.now()).total_seconds() / 3600, **fields
    )


def test_A6_badge_banner_and_reply_name_the_same_monday(alice, bob):
    alice.timezone = "Europe/Amsterdam"
    alice.save(update_fields=["timezone"])
    absence = _friday_absence(alice, message="Back on {return_date}.")
    monday = back_on(absence.ends_at, "Europe/Amsterdam")
    assert monday.day.isoweekday() == 1
    card = Api(bob).get("/members/alice").json()
    assert card["away"]["back_on"] == monday.day.isoformat()
    said = format_back_on(monday, "en")
    assert card["away"]["message"] == f"Back on {said}."
    client = Api(alice).client
    client.force_login(alice)
    page = client.get("/away/").content.decode()
    assert f"You are away, back on {said}" in page
    assert page.count(f"back on {said}") >= 2  # the banner and the card agree
    _say(bob, alice, "hi")
    assert Message.objects.get(kind="auto_reply").body == f"Back on {said}."


def test_A6_working_days_in_the_api(alice):
    api = Api(alice)
    assert api.get("/me").json()["work_days"] == [1, 2, 3, 4, 5]
    response = api.patch("/me", {"work_days": [6, 1, 2]})
    assert response.status_code == 200
    assert response.json()["work_days"] == [1, 2, 6]
    assert_error(api.patch("/me", {"work_days": [8]}), 422, "invalid_work_days")
    assert_error(api.patch("/me", {"work_days": []}), 422, "invalid_work_days")


def test_A6_working_days_in_the_web_settings(alice):
    client = Api(alice).client
    client.force_login(alice)
    html = client.get("/settings/profile/").content.decode()
    assert 'name="work_days"' in html
    data = {
        "display_name": alice.display_name,
        "headline": "",
        "language": "en",
        "timezone": "Europe/Amsterdam",
        "work_days": ["2", "3", "4"],
    }
    assert client.post("/settings/profile/", data).status_code == 302
    alice.refresh_from_db()
    assert alice.work_days == "234"


# -- R7 as amended -------------------------------------------------------------------


def _facts(**fields) -> AbsenceFacts:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return AbsenceFacts(starts_at=now, effective_end=now + timedelta(days=3), **fields)


def _incoming(*, connection: bool, language: str) -> IncomingFacts:
    return IncomingFacts(
        sent_at=datetime(2026, 12, 2, tzinfo=UTC),
        is_direct=True,
        kind="normal",
        sender_id=1,
        recipient_id=2,
        sender_is_bot=False,
        blocked=False,
        sender_is_connection=connection,
        sender_language=language,
    )


def test_R7_others_message_has_translations():
    facts = _facts(
        message="Hi",
        audience="connections",
        others_message="Away.",
        others_translations={"nl": "Afwezig."},
        language="en",
    )
    nl = decide_reply(facts, _incoming(connection=False, language="nl"), last_reply_at=None)
    assert (nl.text, nl.language) == ("Afwezig.", "nl")
    en = decide_reply(facts, _incoming(connection=False, language="en"), last_reply_at=None)
    assert (en.text, en.language) == ("Away.", "en")


def test_R7_a_translation_of_others_message_alone_answers_strangers():
    facts = _facts(message="Hi", audience="connections", others_translations={"nl": "Weg."})
    assert decide_reply(facts, _incoming(connection=False, language="nl"), last_reply_at=None).send


def test_R7_the_text_falls_back_to_the_members_language():
    facts = _facts(message="Ik ben weg", translations={"de": "Weg"}, language="nl")
    assert visible_reply(facts, viewer_is_connection=True, language="en") == ("Ik ben weg", "nl")


def test_R7_never_two_languages_in_one_reply(alice, bob):
    """A Dutch stranger writing to an English member without a Dutch text gets the
    English text with an English date, not "until woensdag 2 december"."""
    bob.language = "nl"
    bob.save(update_fields=["language"])
    make_absence(
        alice,
        audience="connections",
        message="Hi",
        others_message="Thanks for your message. I'm back on {return_date}.",
    )
    _say(bob, alice, "hoi")
    reply = Message.objects.get(kind="auto_reply").body
    assert reply.startswith("Thanks for your message. I'm back on ")
    for dutch in ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"):
        assert dutch not in reply


def test_R7_the_dutch_text_for_others_has_a_dutch_date(alice, bob):
    bob.language = "nl"
    bob.save(update_fields=["language"])
    absence = make_absence(
        alice,
        message="Hi",
        audience="connections",
        others_message="Away until {return_date}.",
        others_translations={"nl": "Terug op {return_date}."},
    )
    _say(bob, alice, "hoi")
    reply = Message.objects.get(kind="auto_reply").body
    back = back_on(absence.ends_at, alice.timezone)
    assert reply == f"Terug op {format_back_on(back, 'nl')}."


def test_R7_others_translations_in_the_api(alice):
    start = timezone.now() + timedelta(days=3)
    response = Api(alice).post(
        "/me/absences",
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=2)).isoformat(),
            "message": "Hi",
            "others_message": "Away",
            "others_translations": {"nl": "Weg", "en": ""},
        },
    )
    assert response.status_code == 201
    assert response.json()["others_translations"] == {"nl": "Weg"}
    bad = Api(alice).patch(
        f"/me/absences/{response.json()['id']}", {"others_translations": {"fr": "x"}}
    )
    assert_error(bad, 422, "bad_translation")


# -- D4 ------------------------------------------------------------------------------


def test_D4_reminder_the_day_before_the_start_exactly_once(alice):
    absence = make_absence(alice, hours_from_now=20, hours=48)
    Absence.objects.filter(pk=absence.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert absences_notify_due(now=timezone.now())["starts"] == 1
    assert absences_notify_due(now=timezone.now())["starts"] == 0
    reminder = Notification.objects.get(recipient=alice, type="absence_starts")
    assert reminder.subject_id == absence.pk
    client = Api(alice).client
    client.force_login(alice)
    html = client.get("/notifications/").content.decode()
    assert "Your out-of-office starts tomorrow." in html
    opened = client.post(f"/notifications/{reminder.pk}/open/")
    assert f"/away/{absence.pk}/edit/" in opened["Location"]  # both replies previewed


def test_D4_not_before_the_last_day(alice):
    absence = make_absence(alice, hours_from_now=30, hours=48)
    Absence.objects.filter(pk=absence.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert absences_notify_due(now=timezone.now())["starts"] == 0


def test_D4_not_for_an_absence_created_less_than_a_day_before(alice):
    make_absence(alice, hours_from_now=20, hours=48)  # created now
    assert absences_notify_due(now=timezone.now())["starts"] == 0


def test_D4_not_for_a_cancelled_or_started_absence(alice):
    started = make_absence(alice, hours_from_now=-1, hours=10)
    Absence.objects.filter(pk=started.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert absences_notify_due(now=timezone.now())["starts"] == 0


# -- the editor refuses a reply that would read wrong --------------------------------


def test_R7_empty_backup_placeholder_is_refused_in_the_api(alice):
    start = timezone.now() + timedelta(days=3)
    response = Api(alice).post(
        "/me/absences",
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=2)).isoformat(),
            "message": "For anything urgent, contact {backup}.",
        },
    )
    assert_error(response, 422, "empty_placeholder")


def test_R7_empty_backup_placeholder_is_a_form_error(alice):
    client = Api(alice).client
    client.force_login(alice)
    first = timezone.now().date() + timedelta(days=3)
    response = client.post(
        "/away/new/",
        {
            "first_day": first.isoformat(),
            "last_day": (first + timedelta(days=2)).isoformat(),
            "message": "Contact {backup}.",
            "audience": "everyone",
            "invitations": "hold",
        },
    )
    assert response.status_code == 422
    assert "you chose no backup contact" in response.content.decode()
    assert not Absence.objects.filter(member=alice).exists()


def test_R4_summary_is_truthful_with_only_language_boxes(alice, bob):
    connect(alice, bob)
    client = Api(alice).client
    client.force_login(alice)
    first = timezone.now().date() + timedelta(days=3)
    response = client.post(
        "/away/new/",
        {
            "first_day": first.isoformat(),
            "last_day": (first + timedelta(days=2)).isoformat(),
            "message": "Away",
            "message_nl": "Weg",
            "audience": "everyone",
            "invitations": "hold",
        },
    )
    assert response.status_code == 302
    html = client.get("/away/").content.decode()
    assert "nobody gets an automatic reply" not in html
    assert "English, Dutch" in html
