"""The Away badge says its day wherever a name appears (issue 18, item 3), in English
and Dutch, with the query count of each page pinned (no N+1); your own profile shows
your status, not the reply others get; the calendar page is reachable and its private
address has a copy button (item 4).

The texts are written out per language, never looked up in the catalogue, so a
missing Dutch translation fails the Dutch run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.away.texts import member_back_on
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.network.actions import invitation_send
from backsoon.posts.actions import comment_create, post_create
from tests.factories import connect, make_member

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

T = {
    "en": {
        "away_until": "Away, back on {date}",
        "short": "j M",
        "you_are_away": "You are away, back on {date}",
        "calendar_link": "Calendar import and export",
        "copy": "Copy",
        "edit": "Edit",
        "end_now": "End now",
    },
    "nl": {
        "away_until": "Afwezig, terug op {date}",
        "short": "j b",
        "you_are_away": "Je bent afwezig, terug op {date}",
        "calendar_link": "Agenda importeren en exporteren",
        "copy": "Kopiëren",
        "edit": "Bewerken",
        "end_now": "Nu beëindigen",
    },
}


def away_until_midnight(member: Member, *, days: int = 5) -> date:
    """``member`` away from an hour ago until the start of the day ``days`` from today
    (Amsterdam): returns the day they are back (AWAY-SPEC A6: past their non-working
    days), the day the badge names."""
    back = timezone.localdate(timezone=AMSTERDAM) + timedelta(days=days)
    absence = Absence.objects.create(
        member=member,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=datetime.combine(back, time(0, 0), tzinfo=AMSTERDAM),
        message="Hi {first_name}, thanks for your message! Back on {return_date}.",
    )
    return member_back_on(absence.effective_end, member).day


@dataclass
class World:
    language: str
    alice: Member
    bob: Member
    back_day: date
    direct_id: int
    group_id: int
    bob_post_id: int
    alice_post_id: int

    def client(self) -> Client:
        client = Client()
        client.force_login(self.alice)
        return client

    def said(self, style: str) -> str:
        """What the badge says in the world's language, in the ``short`` or ``long`` style."""
        t = T[self.language]
        fmt = t["short"] if style == "short" else "l j F Y"
        with translation.override(self.language):
            day = formats.date_format(self.back_day, fmt)
        return t["away_until"].format(date=day)


def build_world(language: str) -> World:
    """Alice (the viewer, in ``language``) meets away members everywhere: Bob (a
    connection) in a conversation, a group, a post and a comment on hers, Carol who
    invited her, Dave whom she invited."""
    alice = make_member("alice", display_name="Alice Smit", language=language)
    bob = make_member("bob", display_name="Bob de Boer", headline="Trainer")
    carol = make_member("carol", display_name="Carol Jansen")
    dave = make_member("dave", display_name="Dave Visser")
    erin = make_member("erin", display_name="Erin Bakker")
    connect(alice, bob)
    connect(alice, erin)
    direct, _ = conversation_start(creator=bob, usernames=["alice"])
    message_send(sender=bob, conversation_id=direct.pk, body="See you after my holiday")
    group, _ = conversation_start(creator=alice, usernames=["bob", "erin"], subject="Pieterpad")
    message_send(sender=alice, conversation_id=group.pk, body="Who walks along?")
    bob_post = post_create(author=bob, body="Off to walk the Pieterpad").post
    alice_post = post_create(author=alice, body="My first post").post
    comment_create(author=bob, post_id=alice_post.pk, body="Congratulations!")
    invitation_send(sender=carol, to_username="alice")
    back_day = away_until_midnight(bob)
    away_until_midnight(carol)
    away_until_midnight(dave)
    invitation_send(sender=alice, to_username="dave")
    return World(
        language=language,
        alice=alice,
        bob=bob,
        back_day=back_day,
        direct_id=direct.pk,
        group_id=group.pk,
        bob_post_id=bob_post.pk,
        alice_post_id=alice_post.pk,
    )


@pytest.fixture(params=["en", "nl"])
def world(request) -> World:
    return build_world(request.param)


def page(world: World, url: str, budget: int, assert_max) -> str:
    client = world.client()
    with assert_max(budget):
        response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    pills = re.findall(r'<span class="away-pill"[^>]*>(.*?)</span>', html)
    prefix = T[world.language]["away_until"].split("{")[0]
    assert all(prefix in pill for pill in pills), f"an Away badge without its day on {url}"
    return html


def test_badge_with_day_on_profile(world, django_assert_max_num_queries):
    html = page(world, "/in/bob/", 13, django_assert_max_num_queries)
    assert world.said("long") in html


def test_badge_with_day_in_search_results(world, django_assert_max_num_queries):
    html = page(world, "/search/?q=Bob", 10, django_assert_max_num_queries)
    assert world.said("long") in html


def test_badge_with_day_on_invitations_received_and_sent(world, django_assert_max_num_queries):
    html = page(world, "/network/", 16, django_assert_max_num_queries)
    received = html.split('id="received"', 1)[1].split('id="suggestions"', 1)[0]
    sent = html.split('id="sent"', 1)[1]
    assert "Carol Jansen" in received and world.said("long") in received
    assert "Dave Visser" in sent and world.said("long") in sent


def test_badge_with_day_in_conversation_list_and_group_rows(world, django_assert_max_num_queries):
    html = page(world, "/messaging/", 12, django_assert_max_num_queries)
    direct_row = html.split(f'data-testid="row-{world.direct_id}"', 1)[1].split("</li>", 1)[0]
    group_row = html.split(f'data-testid="row-{world.group_id}"', 1)[1].split("</li>", 1)[0]
    assert world.said("short") in direct_row
    assert f"Bob de Boer: {world.said('short')}" in group_row


def test_badge_with_day_in_conversation_header(world, django_assert_max_num_queries):
    html = page(world, f"/messaging/{world.direct_id}/", 20, django_assert_max_num_queries)
    header = html.split('class="convo-head"', 1)[1].split("</header>", 1)[0]
    assert world.said("short") in header
    html = page(world, f"/messaging/{world.group_id}/", 20, django_assert_max_num_queries)
    assert f"Bob de Boer: {world.said('short')}" in html


def test_badge_with_day_on_post_and_comment_authors(world, django_assert_max_num_queries):
    html = page(world, f"/posts/{world.bob_post_id}/", 13, django_assert_max_num_queries)
    head = html.split('class="post-head"', 1)[1].split("</header>", 1)[0]
    assert "Bob de Boer" in head and world.said("short") in head
    html = page(world, f"/posts/{world.alice_post_id}/", 16, django_assert_max_num_queries)
    comment = html.split('data-testid="comment"', 1)[1].split('data-testid="comment-body"', 1)[0]
    assert "Bob de Boer" in comment and world.said("short") in comment
    html = page(world, "/", 18, django_assert_max_num_queries)
    assert world.said("short") in html  # Bob's post in the feed


def test_badge_with_day_on_notifications(world, django_assert_max_num_queries):
    html = page(world, "/notifications/", 11, django_assert_max_num_queries)
    rows = [r.split("</li>", 1)[0] for r in html.split('data-testid="notification"')[1:]]
    for name in ("Bob de Boer", "Carol Jansen"):
        theirs = [r for r in rows if name in r]
        assert theirs and all(world.said("short") in r for r in theirs), name


def test_own_profile_shows_your_status_not_your_reply(world):
    client = Client()
    client.force_login(world.bob)
    world.bob.language = world.language
    world.bob.save(update_fields=["language"])
    html = client.get("/in/bob/").content.decode()
    t = T[world.language]
    status = html.split('data-testid="away-self"', 1)[1].split("</div>\n    </div>", 1)[0]
    with translation.override(world.language):
        day = formats.date_format(world.back_day, "l j F Y")
    assert t["you_are_away"].format(date=day) in status
    absence = Absence.objects.get(member=world.bob)
    assert f'href="/away/{absence.pk}/edit/"' in status and t["edit"] in status
    assert f'action="/away/{absence.pk}/end/"' in status and t["end_now"] in status
    assert "thanks for your message" not in html


def test_end_now_from_own_profile_leads_to_the_digest(world):
    client = Client()
    client.force_login(world.bob)
    absence = Absence.objects.get(member=world.bob)
    response = client.post(f"/away/{absence.pk}/end/")
    assert response.status_code == 302
    assert response["Location"] == f"/away/{absence.pk}/digest/"


def test_others_still_see_the_reply_on_a_profile(world):
    html = world.client().get("/in/bob/").content.decode()
    assert 'data-testid="away-self"' not in html
    assert "Hi Alice, thanks for your message!" in html


@pytest.mark.parametrize("language", ["en", "nl"])
def test_out_of_office_page_links_the_calendar_page(language):
    member = make_member("zoe", language=language)
    client = Client()
    client.force_login(member)
    html = client.get("/away/").content.decode()
    assert 'href="/away/calendar/"' in html and T[language]["calendar_link"] in html
    calendar = client.get("/away/calendar/").content.decode()
    assert 'href="/away/"' in calendar  # and back


@pytest.mark.parametrize("language", ["en", "nl"])
def test_private_calendar_address_has_a_copy_button(language):
    member = make_member("zoe", language=language)
    client = Client()
    client.force_login(member)
    response = client.post("/away/calendar/export/", follow=True)
    html = response.content.decode()
    field = html.split('data-testid="export-url"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert '<input id="export-url" type="text" readonly' in field  # the no-JS way
    assert 'data-copy="export-url"' in field and T[language]["copy"] in field
    assert "hidden" in field.split('data-copy="export-url"', 1)[1].split(">", 1)[0]
    assert "web/copy.js" in html
