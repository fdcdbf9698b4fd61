"""The main journeys in a real browser, in English and in Dutch, on a laptop and a phone.

(a) sign up, connect, message (and switch the language in the footer);
(b) set an absence; someone else sees the badge and the notice in the compose box,
    writes, and gets the automatic reply;
(c) come back early and work through the digest, accepting invitations in bulk;
(d) post, get reactions and a comment, read the analytics chart.

Each member's profile language and the browser's locale are the run's language. The
texts the tests look for are written out per language below, so a missing Dutch
translation shows up as English on the page and fails the Dutch run. Screenshots of
every step go to var/screenshots/<test>/.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from backsoon.accounts.models import Member
from backsoon.away.models import Absence
from backsoon.away.texts import format_back_on, member_back_on
from backsoon.messaging.actions import conversation_start, message_send
from backsoon.network.actions import invitation_send
from backsoon.network.models import Invitation
from backsoon.network.queries import are_connected
from backsoon.posts.actions import reaction_set
from tests.browser.conftest import Shots
from tests.factories import PASSWORD, connect, make_absence, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
VIEWPORTS = {"laptop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-GB", "nl": "nl-NL"}

#: What the pages say, per language: written out, never looked up in the catalogue.
T = {
    "en": {
        "landing": "The professional network that knows when you are away.",
        "join": "Join now",
        "full_name": "Full name",
        "username": "Username",
        "email": "Email",
        "password": "Password",
        "agree_join": "Agree and join",
        "welcome": "Welcome to Backsoon, {name}!",
        "log_in": "Log in",
        "connect": "Connect",
        "invitation_sent": "Invitation sent to {name}.",
        "invitations": "Invitations",
        "accept_from": "Accept invitation from {name}",
        "now_connected": "You are now connected with {name}.",
        "connected": "Connected",
        "message": "Message",
        "send": "Send",
        "messaging": "Messaging",
        "not_away": "You are not away",
        "first_day": "First day away",
        "last_day": "Last day away",
        "auto_reply": "Automatic reply",
        "reply_text": "Hi {first_name}, I am walking the Pieterpad and back on {return_date}.",
        "preview": "Hi Sam, I am walking the Pieterpad",
        "schedule": "Schedule",
        "you_are_away": "You are away, back on {date}",
        "away_now": "Away now",
        "away_until": "Away, back on {date}",
        "is_away_until": "{name} is away, back on {date}",
        "automatic_reply_label": "Automatic reply",
        "reply_start": "Hi Bob, I am walking the Pieterpad and back on {date}.",
        "welcome_back": "Welcome back, {name}. Your automatic replies are off.",
        "welcome_back_note": "Welcome back!",
        "while_away": "While you were away",
        "waiting": "Invitations received while you were away",
        "select": "Select",
        "accept_selected": "Accept selected",
        "accepted": "{n} invitations accepted.",
        "accepted_one": "1 invitation accepted.",
        "accept": "Accept",
        "none_waiting": "No invitations are waiting.",
        "from_connections": "1 message from connections",
        "start_post": "Start a post",
        "post": "Post",
        "published": "Your post is published.",
        "celebrate": "Celebrate",
        "one_reaction": "1 reaction",
        "two_reactions": "2 reactions",
        "comment_link": "Comment",
        "add_comment": "Add a comment",
        "comment_button": "Comment",
        "one_comment": "1 comment",
        "commented": "Bob de Boer commented on your post",
        "analytics": "Analytics",
        "post_analytics": "Post analytics",
        "per_hour": "The first three days, per hour",
        "impressions_label": "Impressions (estimate)",
        "other_language": "nl",
        "other_messaging": "Berichten",
    },
    "nl": {
        "landing": "Het professionele netwerk dat weet wanneer je weg bent.",
        "join": "Word lid",
        "full_name": "Volledige naam",
        "username": "Gebruikersnaam",
        "email": "E-mailadres",
        "password": "Wachtwoord",
        "agree_join": "Akkoord en lid worden",
        "welcome": "Welkom bij Backsoon, {name}!",
        "log_in": "Inloggen",
        "connect": "Verbinden",
        "invitation_sent": "Uitnodiging verstuurd naar {name}.",
        "invitations": "Uitnodigingen",
        "accept_from": "Uitnodiging van {name} accepteren",
        "now_connected": "Je hebt nu een connectie met {name}.",
        "connected": "Verbonden",
        "message": "Bericht",
        "send": "Versturen",
        "messaging": "Berichten",
        "not_away": "Je bent niet afwezig",
        "first_day": "Eerste dag afwezig",
        "last_day": "Laatste dag afwezig",
        "auto_reply": "Automatisch antwoord",
        "reply_text": "Hoi {first_name}, ik loop het Pieterpad en ben terug op {return_date}.",
        "preview": "Hoi Sam, ik loop het Pieterpad",
        "schedule": "Inplannen",
        "you_are_away": "Je bent afwezig, terug op {date}",
        "away_now": "Nu afwezig",
        "away_until": "Afwezig, terug op {date}",
        "is_away_until": "{name} is afwezig, terug op {date}",
        "automatic_reply_label": "Automatisch antwoord",
        "reply_start": "Hoi Bob, ik loop het Pieterpad en ben terug op {date}.",
        "welcome_back": "Welkom terug, {name}. Je automatische antwoorden staan uit.",
        "welcome_back_note": "Welkom terug!",
        "while_away": "Terwijl je weg was",
        "waiting": "Uitnodigingen ontvangen terwijl je weg was",
        "select": "Selecteren",
        "accept_selected": "Selectie accepteren",
        "accepted": "{n} uitnodigingen geaccepteerd.",
        "accepted_one": "1 uitnodiging geaccepteerd.",
        "accept": "Accepteren",
        "none_waiting": "Er wachten geen uitnodigingen.",
        "from_connections": "1 bericht van connecties",
        "start_post": "Begin een bijdrage",
        "post": "Plaatsen",
        "published": "Je bijdrage is geplaatst.",
        "celebrate": "Bravo",
        "one_reaction": "1 reactie",
        "two_reactions": "2 reacties",
        "comment_link": "Opmerking",
        "add_comment": "Opmerking toevoegen",
        "comment_button": "Plaatsen",
        "one_comment": "1 opmerking",
        "commented": "Bob de Boer heeft een opmerking geplaatst bij je bijdrage",
        "analytics": "Statistieken",
        "post_analytics": "Statistieken van je bijdrage",
        "per_hour": "De eerste drie dagen, per uur",
        "impressions_label": "Weergaven (schatting)",
        "other_language": "en",
        "other_messaging": "Messaging",
    },
}


@pytest.fixture(params=["en", "nl"])
def language(request) -> str:
    return request.param


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


class Browsers:
    """One browser window per person, all in the run's language, viewport and time zone."""

    def __init__(self, browser, base: str, language: str, viewport: str, name: str) -> None:
        self.browser, self.base, self.language, self.viewport = browser, base, language, viewport
        self.contexts: list = []
        self.shots: Shots | None = None
        self.name = name

    def open(self):
        context = self.browser.new_context(
            viewport=VIEWPORTS[self.viewport],
            locale=LOCALES[self.language],
            timezone_id="Europe/Amsterdam",
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.base_url = self.base
        if self.shots is None:
            self.shots = Shots(page, self.name)
        return page

    def log_in(self, username: str):
        page = self.open()
        t = T[self.language]
        page.goto(self.base + "/login/")
        page.get_by_label(t["username"]).fill(username)
        page.get_by_label(t["password"]).fill(PASSWORD)
        page.get_by_role("button", name=t["log_in"], exact=True).click()
        page.wait_for_url(self.base + "/")
        return page

    def shot(self, page, step: str) -> None:
        assert self.shots is not None
        self.shots.page = page
        self.shots(step)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(request, browser, wsgi_server, language, viewport):
    # The site as `backsoon serve` runs it, one request at a time on the test's
    # in-memory SQLite database: live_server's concurrent threads could meet SQLite's
    # shared-cache table locks while the pages poll their counts.
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    browsers = Browsers(browser, wsgi_server, language, viewport, name)
    yield browsers
    browsers.close()


def spelled(day, language: str, fmt: str = "l j F") -> str:
    """A date as the pages write it; day and month names come from Django's catalogue."""
    with translation.override(language):
        return formats.date_format(day, fmt)


def local_today():
    return timezone.now().astimezone(AMSTERDAM).date()


def test_a_sign_up_connect_and_message(people, language):
    t = T[language]
    make_member("bob", display_name="Bob de Boer", headline="Engineer", language=language)

    # A visitor: the landing page speaks the browser's language.
    eva = people.open()
    eva.goto(people.base + "/")
    expect(eva.get_by_role("heading", level=1)).to_have_text(t["landing"])
    people.shot(eva, "landing")
    eva.get_by_role("link", name=t["join"]).first.click()
    eva.get_by_label(t["full_name"]).fill("Eva Kuipers")
    eva.get_by_label(t["username"]).fill("eva")
    eva.get_by_label(t["email"]).fill("eva@example.com")
    eva.get_by_label(t["password"]).fill("a-very-private-passphrase")
    people.shot(eva, "signup-form")
    eva.get_by_role("button", name=t["agree_join"]).click()
    eva.wait_for_url(people.base + "/")
    expect(eva.locator(".flash")).to_contain_text(t["welcome"].format(name="Eva"))
    people.shot(eva, "home-after-signup")
    # The language she signed up in is her profile's language.
    assert Member.objects.get(username="eva").language == language

    # She invites Bob from his profile.
    eva.goto(people.base + "/in/bob/")
    actions = eva.get_by_test_id("profile-actions")
    actions.get_by_role("button", name=t["connect"], exact=True).click()
    eva.wait_for_url(people.base + "/in/bob/")
    expect(eva.locator(".flash")).to_contain_text(t["invitation_sent"].format(name="Bob de Boer"))
    people.shot(eva, "invited-bob")

    # Bob accepts on his network page.
    bob = people.log_in("bob")
    bob.goto(people.base + "/network/")
    expect(bob.locator("#received h2")).to_have_text(t["invitations"])
    bob.get_by_role("button", name=t["accept_from"].format(name="Eva Kuipers")).click()
    expect(bob.locator(".flash")).to_contain_text(t["now_connected"].format(name="Eva Kuipers"))
    people.shot(bob, "bob-accepted")

    # Eva writes to her new connection.
    eva.goto(people.base + "/in/bob/")
    expect(eva.get_by_test_id("connected")).to_contain_text(t["connected"])
    eva.get_by_test_id("profile-actions").get_by_role("link", name=t["message"]).click()
    eva.wait_for_url("**/messaging/new/?to=bob")
    eva.get_by_role("textbox", name=t["message"], exact=True).fill("Hoi Bob! Thanks for accepting.")
    people.shot(eva, "new-message")
    eva.get_by_role("button", name=t["send"], exact=True).click()
    expect(eva.get_by_test_id("messages")).to_contain_text("Thanks for accepting.")
    people.shot(eva, "conversation")

    bob.goto(people.base + "/messaging/")
    expect(bob.get_by_role("heading", level=1)).to_have_text(t["messaging"])
    bob.get_by_test_id("conversation-list").get_by_text("Eva Kuipers").click()
    expect(bob.get_by_test_id("messages")).to_contain_text("Thanks for accepting.")
    people.shot(bob, "bob-reads-it")

    # Eva switches the language in the footer; her profile keeps the choice.
    eva.get_by_test_id(f"language-{t['other_language']}").click()
    eva.wait_for_url("**/messaging/*/")
    expect(eva.locator(".pane-head h1")).to_have_text(t["other_messaging"])
    assert Member.objects.get(username="eva").language == t["other_language"]
    people.shot(eva, "switched-language")


def test_b_away_badge_notice_and_automatic_reply(people, language):
    t = T[language]
    make_member("alice", display_name="Alice Smit", headline="Notary", language=language)
    bob_member = make_member("bob", display_name="Bob de Boer", language=language)
    connect(Member.objects.get(username="alice"), bob_member)

    alice = people.log_in("alice")
    alice.goto(people.base + "/away/")
    expect(alice.get_by_test_id("away-current")).to_contain_text(t["not_away"])
    people.shot(alice, "away-page")

    today = local_today()
    last = today + timedelta(days=4)
    alice.get_by_label(t["first_day"]).fill(today.isoformat())
    alice.get_by_label(t["last_day"]).fill(last.isoformat())
    # One box per language, the member's own first (issue 18).
    alice.locator(".away-text textarea").first.fill(t["reply_text"])
    expect(alice.get_by_test_id("preview-connection")).to_contain_text(t["preview"])
    people.shot(alice, "form-with-preview")
    alice.get_by_role("button", name=t["schedule"], exact=True).click()
    alice.wait_for_url(people.base + "/away/")
    # AWAY-SPEC A6: one return day, said one way, past the non-working days.
    absence = Absence.objects.get(member__username="alice")
    back = member_back_on(absence.effective_end, absence.member).day
    back_text = format_back_on(member_back_on(absence.effective_end, absence.member), language)
    expect(alice.get_by_test_id("away-banner")).to_contain_text(
        t["you_are_away"].format(date=back_text)
    )
    expect(alice.get_by_test_id("away-current")).to_contain_text(t["away_now"])
    people.shot(alice, "away-now")

    # Bob sees the badge on Alice's profile (P1) ...
    bob = people.log_in("bob")
    bob.goto(people.base + "/in/alice/")
    expect(bob.get_by_test_id("away-badge")).to_contain_text(t["away_until"].format(date=back_text))
    people.shot(bob, "bob-sees-badge")

    # ... and the notice in the compose box before he writes (P2).
    bob.get_by_test_id("profile-actions").get_by_role("link", name=t["message"]).click()
    bob.wait_for_url("**/messaging/new/?to=alice")
    notice = bob.get_by_test_id("away-notice")
    expect(notice).to_contain_text(t["is_away_until"].format(name="Alice Smit", date=back_text))
    bob.get_by_role("textbox", name=t["message"], exact=True).fill("Can we meet next week?")
    people.shot(bob, "bob-compose-with-notice")
    bob.get_by_role("button", name=t["send"], exact=True).click()

    # The automatic reply arrives at once, in Bob's language (R5, R7).
    messages = bob.get_by_test_id("messages")
    expect(messages).to_contain_text("Can we meet next week?")
    expect(messages.get_by_test_id("auto-reply-label")).to_have_text(t["automatic_reply_label"])
    expect(messages).to_contain_text(
        t["reply_start"].format(date=spelled(back, language, "l j F Y"))
    )
    expect(bob.locator(".compose").get_by_test_id("away-notice")).to_be_visible()
    people.shot(bob, "bob-gets-automatic-reply")


def test_c_come_back_and_work_through_the_digest(people, language):
    t = T[language]
    alice = make_member("alice", display_name="Alice Smit", language=language)
    frank = make_member("frank", display_name="Frank Visser", language=language)
    bob = make_member("bob", display_name="Bob de Boer", language=language)
    connect(alice, frank)
    connect(alice, bob)
    absence = make_absence(alice, hours_from_now=-72, hours=144, message="Weg / away.")
    inviters = {}
    names = {"carol": "Carol Jansen", "dave": "Dave Peters", "erin": "Erin Bos"}
    for username, name in names.items():
        inviters[username] = make_member(username, display_name=name, language=language)
        if username != "erin":
            connect(inviters[username], frank)  # one mutual connection with Alice
        invitation_send(sender=inviters[username], to_username="alice", note="Hoi Alice!")
    conversation, _created = conversation_start(creator=bob, usernames=["alice"])
    message_send(sender=bob, conversation_id=conversation.pk, body="Welcome back soon!")
    assert Invitation.objects.filter(to_member=alice, status="pending").count() == 3

    page = people.log_in("alice")
    expect(page.get_by_test_id("away-banner")).to_be_visible()
    people.shot(page, "still-away")
    page.get_by_test_id("banner-end-now").click()
    page.wait_for_url(f"**/away/{absence.pk}/digest/**")  # ending leads to the digest (C4)
    expect(page.locator(".flash")).to_contain_text(t["welcome_back"].format(name="Alice"))
    expect(page.get_by_test_id("away-banner")).to_have_count(0)
    people.shot(page, "back-early")

    # The welcome-back notification leads to the digest (D2).
    page.goto(people.base + "/notifications/")
    page.get_by_role("button", name=t["welcome_back_note"]).click()
    page.wait_for_url(f"**/away/{absence.pk}/digest/**")
    expect(page.get_by_role("heading", level=1)).to_have_text(t["while_away"])
    expect(page.get_by_test_id("digest-totals")).to_contain_text(t["from_connections"])
    section = page.get_by_test_id("digest-invitations")
    expect(section.get_by_role("heading", level=2)).to_have_text(t["waiting"])
    expect(section.get_by_role("checkbox")).to_have_count(3)
    people.shot(page, "digest")

    # Two by hand, in one go ...
    for name in ("Carol Jansen", "Dave Peters"):
        section.locator("li", has_text=name).get_by_role("checkbox", name=t["select"]).check()
    people.shot(page, "two-selected")
    section.get_by_role("button", name=t["accept_selected"]).click()
    page.wait_for_url(f"**/away/{absence.pk}/digest/**")
    expect(page.locator(".flash")).to_contain_text(t["accepted"].format(n=2))
    expect(section.get_by_role("checkbox")).to_have_count(1)
    people.shot(page, "two-accepted")

    # ... then everyone left with at least 0 mutual connections.
    section.locator("#min-mutual").fill("0")
    section.get_by_test_id("accept-mutual").get_by_role("button", name=t["accept"]).click()
    page.wait_for_url(f"**/away/{absence.pk}/digest/**")
    expect(page.locator(".flash")).to_contain_text(t["accepted_one"])
    expect(section.get_by_role("checkbox")).to_have_count(0)
    expect(section.locator('[data-state="accepted"]')).to_have_count(3)
    people.shot(page, "all-accepted")
    assert all(are_connected(alice.pk, m.pk) for m in inviters.values())


def test_d_post_reactions_comments_and_analytics(people, language):
    t = T[language]
    alice = make_member("alice", display_name="Alice Smit", language=language)
    bob_member = make_member("bob", display_name="Bob de Boer", language=language)
    carol = make_member("carol", display_name="Carol Jansen", language=language)
    connect(alice, bob_member)
    connect(alice, carol)
    problems: list[str] = []

    author = people.log_in("alice")
    author.on("pageerror", lambda e: problems.append(str(e)))
    author.get_by_label(t["start_post"]).fill("Wie heeft tips voor toegankelijke formulieren?")
    author.get_by_role("button", name=t["post"], exact=True).click()
    author.wait_for_url(people.base + "/")
    expect(author.locator(".flash")).to_contain_text(t["published"])
    people.shot(author, "posted")

    bob = people.log_in("bob")
    post = bob.get_by_test_id("post").first
    post.get_by_role("button", name=t["celebrate"]).click()
    bob.wait_for_url("**/#post-*")
    post = bob.get_by_test_id("post").first
    expect(post.get_by_test_id("reaction-count")).to_have_text(t["one_reaction"])
    people.shot(bob, "bob-reacted")
    post.get_by_role("link", name=t["comment_link"], exact=True).click()
    bob.get_by_label(t["add_comment"]).fill("Label elk veld, en test met een schermlezer.")
    bob.get_by_role("button", name=t["comment_button"], exact=True).click()
    bob.wait_for_url("**/posts/*/#comment-*")
    expect(bob.get_by_test_id("comment-count").first).to_have_text(t["one_comment"])
    people.shot(bob, "bob-commented")

    post_id = int(author.get_by_test_id("post").first.get_attribute("data-post-id") or 0)
    reaction_set(member=carol, post_id=post_id, type="insightful")

    author.reload()
    expect(author.get_by_test_id("post-activity")).to_contain_text(t["commented"])
    post = author.get_by_test_id("post").first
    expect(post.get_by_test_id("reaction-count")).to_have_text(t["two_reactions"])
    expect(post.get_by_test_id("comment-count")).to_have_text(t["one_comment"])
    people.shot(author, "author-sees-activity")
    post.locator("summary").click()
    post.get_by_role("link", name=t["analytics"]).click()
    author.wait_for_url("**/analytics/")
    expect(author.get_by_role("heading", level=1)).to_have_text(t["post_analytics"])
    expect(author.get_by_test_id("stat-reactions")).to_have_text("2")
    expect(author.get_by_role("heading", name=t["per_hour"])).to_be_visible()
    author.wait_for_function(
        "() => document.getElementById('chart-hour').getBoundingClientRect().height > 100"
    )
    legend = author.evaluate(
        "() => Object.values(window.Chart.instances)[0].data.datasets.map(d => d.label)"
    )
    assert legend[0] == t["impressions_label"]
    people.shot(author, "analytics")
    assert problems == []
