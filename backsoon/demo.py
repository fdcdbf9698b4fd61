"""The demo network that ``make run`` loads: the story Backsoon was built for.

A LinkedIn trainer (the demo login) asks in a post why the network has no
out-of-office, mentioning a chief executive with a huge following. The post goes
viral: 6,329 reactions, 349 comments, dozens of shares, 3,000,000 impressions
over days; hundreds of invitations (some from "connection collectors" with
thousands of connections and none in common) and dozens of private messages,
mostly pitches, self-promotion and complaints, arrive while the trainer is on
holiday with an active absence: automatic replies, badges, held invitations and
a digest are all there to see.

Deterministic for a seed, idempotent (a second run finds the story and adds
nothing), and fast: members, connections, follows, reactions, comments and
impressions are bulk inserted; the messages go through ``message_send`` so the
automatic replies are the real ones. Times are relative to now.
"""

from __future__ import annotations

import random
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from backsoon.accounts.actions import member_create
from backsoon.accounts.models import Member
from backsoon.demo_yield import ordinary_post_story

DEMO_PASSWORD = "backsoon-demo"  # noqa: S105 - a published demo login, not a secret
DEMO_LOGIN = "trainer"
CEO = "ceo.janssen"


@dataclass(frozen=True)
class Scale:
    """How big the story is. FULL is the real one; SMALL is for tests (same story, fewer rows)."""

    network: int  # members with a full profile and connections among them
    ceo_followers: int
    reactions: int
    comments: int
    shares: int
    impressions: int
    invitations: int
    collectors: int
    collector_connections: int
    # Invitations each collector sends others in the days before the trainer's: 50 or
    # more in 7 days makes a collector too (TRIAGE L3), where its connections do not.
    collector_invitations: int
    # Members who send the same invitation note to ``note_copies`` others before the
    # trainer (L2: mass), and pitch senders who send their pitch to ``pitch_copies``.
    growth_hackers: int
    note_copies: int
    mass_pitchers: int
    pitch_copies: int
    trainer_connections: int
    viewers: int


FULL = Scale(
    network=2_000,
    ceo_followers=50_000,
    reactions=6_329,
    comments=349,
    shares=42,
    impressions=3_000_000,
    invitations=420,
    collectors=6,
    collector_connections=2_500,
    collector_invitations=0,
    growth_hackers=4,
    note_copies=14,
    mass_pitchers=5,
    pitch_copies=14,
    trainer_connections=320,
    viewers=40_000,
)
SMALL = Scale(
    network=300,
    ceo_followers=600,
    reactions=400,
    comments=40,
    shares=6,
    impressions=30_000,
    invitations=60,
    collectors=2,
    collector_connections=200,
    collector_invitations=55,
    growth_hackers=2,
    note_copies=11,
    mass_pitchers=2,
    pitch_copies=12,
    trainer_connections=60,
    viewers=500,
)

T = TypeVar("T")

# (country, time zone, share of Dutch speakers, first names, last names)
COUNTRIES: list[tuple[str, str, float, list[str], list[str]]] = [
    (
        "NL",
        "Europe/Amsterdam",
        0.85,
        [
            "Daan",
            "Sanne",
            "Lotte",
            "Bram",
            "Femke",
            "Jeroen",
            "Anouk",
            "Thijs",
            "Iris",
            "Ruben",
            "Eva",
            "Joost",
            "Marloes",
            "Sven",
            "Noor",
            "Wouter",
            "Esther",
            "Koen",
            "Fleur",
            "Pieter",
        ],
        [
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
            "Bos",
            "Vos",
            "Peters",
            "Hendriks",
            "Dekker",
            "Brouwer",
            "de Wit",
        ],
    ),
    (
        "BE",
        "Europe/Brussels",
        0.6,
        ["Lies", "Wout", "Elke", "Jens", "Hanne", "Pieterjan", "Ines", "Tom", "Charlotte", "Arne"],
        ["Peeters", "Maes", "Claes", "Willems", "Goossens", "Wouters", "Dubois", "Lambert"],
    ),
    (
        "DE",
        "Europe/Berlin",
        0.0,
        [
            "Lukas",
            "Anna",
            "Jonas",
            "Lea",
            "Felix",
            "Marie",
            "Paul",
            "Sophie",
            "Maximilian",
            "Laura",
        ],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"],
    ),
    (
        "GB",
        "Europe/London",
        0.0,
        [
            "Oliver",
            "Amelia",
            "Harry",
            "Isla",
            "George",
            "Emily",
            "Jack",
            "Grace",
            "Charlie",
            "Chloe",
        ],
        ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thomas"],
    ),
    (
        "US",
        "America/New_York",
        0.0,
        ["James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Mason", "Mia", "Ethan", "Harper"],
        ["Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Moore"],
    ),
    (
        "GH",
        "Africa/Accra",
        0.0,
        ["Kwame", "Ama", "Kofi", "Akosua", "Yaw", "Abena", "Kojo", "Efua", "Kwesi", "Adwoa"],
        ["Mensah", "Owusu", "Boateng", "Asante", "Osei", "Appiah", "Addo", "Acheampong"],
    ),
    (
        "NG",
        "Africa/Lagos",
        0.0,
        ["Chinedu", "Ngozi", "Emeka", "Funmilayo", "Tunde", "Amaka", "Segun", "Chioma"],
        ["Okafor", "Adeyemi", "Nwosu", "Balogun", "Eze", "Okonkwo", "Olawale", "Ibrahim"],
    ),
    (
        "JP",
        "Asia/Tokyo",
        0.0,
        ["Yuki", "Haruto", "Sakura", "Ren", "Aoi", "Sota", "Hina", "Kaito", "Yui", "Riku"],
        ["Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi"],
    ),
    (
        "IN",
        "Asia/Kolkata",
        0.0,
        ["Aarav", "Priya", "Vivaan", "Ananya", "Arjun", "Diya", "Rohan", "Isha", "Kabir", "Meera"],
        ["Sharma", "Patel", "Gupta", "Singh", "Kumar", "Reddy", "Iyer", "Nair", "Mehta"],
    ),
    (
        "BR",
        "America/Sao_Paulo",
        0.0,
        ["Lucas", "Julia", "Gabriel", "Beatriz", "Pedro", "Larissa", "Rafael", "Camila"],
        ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida"],
    ),
    (
        "ES",
        "Europe/Madrid",
        0.0,
        ["Pablo", "Lucía", "Alejandro", "María", "Javier", "Carmen", "Diego", "Elena"],
        ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"],
    ),
    (
        "ZA",
        "Africa/Johannesburg",
        0.0,
        ["Thabo", "Naledi", "Sipho", "Lerato", "Johan", "Annelie", "Bongani", "Zanele"],
        ["Nkosi", "Dlamini", "van der Merwe", "Botha", "Mokoena", "Naidoo", "Khumalo"],
    ),
    (
        "ID",
        "Asia/Jakarta",
        0.0,
        ["Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Ayu"],
        ["Santoso", "Wijaya", "Pratama", "Saputra", "Halim", "Kusuma", "Wibowo"],
    ),
]
COUNTRY_WEIGHTS = [30, 6, 6, 8, 8, 6, 5, 5, 9, 4, 4, 4, 5]

ROLES = [
    "Sales director",
    "Recruiter",
    "Marketing manager",
    "Software engineer",
    "HR business partner",
    "Founder",
    "Product owner",
    "Account manager",
    "Data analyst",
    "Project manager",
    "Communications advisor",
    "Financial controller",
    "Operations lead",
    "UX designer",
    "Customer success manager",
    "Business coach",
    "Consultant",
    "Teacher",
    "Nurse",
    "Policy advisor",
    "Lawyer",
    "Architect",
    "Logistics planner",
    "Copywriter",
]
COMPANIES = [
    "Philips",
    "ING",
    "Rabobank",
    "KPN",
    "bol",
    "Coolblue",
    "ASML",
    "Heineken",
    "Ahold Delhaize",
    "a Utrecht scale-up",
    "a Rotterdam agency",
    "the municipality of Amsterdam",
    "NS",
    "Randstad",
    "a Lagos fintech",
    "a Tokyo trading house",
    "a Bangalore SaaS company",
    "a Berlin start-up",
    "the NHS",
    "a Boston hospital",
    "an Accra consultancy",
    "a São Paulo bank",
    "freelance",
]
NOTES = [
    "Hi Pieter, loved your post about out-of-office. Let's connect!",
    "Your post went everywhere in our team. Would love to be in your network.",
    "Hello from {country}! Great insight on LinkedIn etiquette.",
    "I help coaches grow to 6 figures. Let's connect and explore synergies.",
    "We met at the webinar last spring. Happy to stay in touch.",
    "Saw your viral post. I run a growth agency: can I show you what we do?",
    "Agree 100% with your post. Connecting with like-minded professionals.",
    "Former colleague of Sanne. She said I should reach out.",
    "I'm building my network in the Netherlands. Open to new opportunities!",
    "Hi! I share daily tips on personal branding. Follow me for more.",
]
# The growth hackers' notes: one each, sent to a dozen members with their first name.
HACKER_NOTES = [
    "Hi {first_name}, I help experts like you turn one viral post into a 6-figure funnel. "
    "Let's connect!",
    "{first_name}, top voices connect with top voices. Accept and get a free growth audit "
    "(worth 499 euro).",
    "Hey {first_name}! I'm building a community of 10,000 ambitious professionals. You in? "
    "Let's connect.",
    "Dear {first_name}, I came across your profile and was impressed. I'd love to add you to "
    "my network of decision makers.",
]
COMMENT_TEXTS = [
    "So true! I always feel guilty for not answering during my holiday.",
    "Great point. Outlook has had this for decades, why not LinkedIn?",
    "This is why I love your content, Pieter.",
    "Interesting. I wrote about something similar last week, check my profile!",
    "We solved this for our sales team with an AI assistant. DM me for a free demo.",
    "Honestly, just don't check LinkedIn on holiday. Problem solved.",
    "Agree! Also: please stop sending connection requests with a sales pitch.",
    "My invitations sat there for 3 weeks while I was on leave. Felt rude.",
    "Commenting for reach.",
    "Thanks for sharing! Following you for more insights.",
    "LinkedIn should hire you.",
    "Which tools do you recommend for this? Asking for a friend.",
    "I disagree: LinkedIn is not email. Nobody expects an instant answer.",
    "Great post. I help founders build a personal brand: link in bio.",
    "Wat een goed punt! Ik herken dit helemaal.",
    "Eindelijk zegt iemand het. Ik mis dit al jaren.",
    "Goed idee, maar wie leest er nu nog automatische antwoorden?",
]
PITCHES = [
    (
        "Quick question",
        "Hi {first_name}, I noticed your post is doing well. Our agency can "
        "turn that reach into leads. 15 minutes this week?",
    ),
    (
        "Collaboration?",
        "Hey {first_name}! I'd love to feature you on my podcast about personal "
        "branding. It's paid placement, packages start at 499 euro.",
    ),
    (
        "Your post",
        "Hi, I wrote a course on viral LinkedIn posts. Since you clearly know how it "
        "works, want to become an affiliate?",
    ),
    (
        "Complaint",
        "Your post ignores how hard it is for recruiters. We NEED answers, holiday "
        "or not. Disappointed.",
    ),
    (
        "Opportunity",
        "Dear {first_name}, exclusive opportunity: become a ghostwriter for "
        "C-level executives. Reply YES for details.",
    ),
    (
        "Hello",
        "Hi {first_name}, I like to connect with top voices. Please check my profile and "
        "endorse me for leadership.",
    ),
    (
        "Crypto",
        "Hi! Have you considered investing the attention on your post? I can show "
        "you a 30% monthly return strategy.",
    ),
]
CLIENT_MESSAGES = [
    (
        "Training next month",
        "Hi Pieter, can we move the LinkedIn training for our sales team "
        "to the 14th? Let me know when you're back.",
    ),
    (
        "Invoice",
        "Hoi Pieter, de factuur van de workshop is binnen. Klopt het dat de BTW er nog "
        "niet in zit?",
    ),
    ("Congrats!", "Pieter! Your post is everywhere. Coffee when you're back?"),
    (
        "Workshop request",
        "Hello Pieter, our HR team would like an in-company workshop on "
        "profiles and etiquette. Can you send a proposal?",
    ),
]


@dataclass
class Progress:
    """A small progress bar on stderr (one line, redrawn in place).

    Its clock starts when it is made, with the load, and it is drawn at once (0 of
    ``steps``); inside ``ticking()`` it is redrawn every second, so a long step still
    shows time passing. The last step stops the clock: ``elapsed()`` is then the
    figure of the bar's last line, which the load's summary repeats.
    """

    quiet: bool
    steps: int
    done: int = 0
    label: str = "starting"
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def elapsed(self) -> float:
        """Seconds since the start, up to the last step once it is done."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    def step(self, label: str) -> None:
        """Count one step as done, named ``label``."""
        with self._lock:
            self.done += 1
            self.label = label
            if self.done == self.steps:
                self.finished = time.monotonic()
            self._draw()

    @contextmanager
    def ticking(self, every: float = 1.0) -> Iterator[None]:
        """Draw now, then redraw every ``every`` seconds until the block ends."""
        with self._lock:
            self._draw()
        if self.quiet:
            yield
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(every):
                with self._lock:
                    if self.finished is not None:
                        return
                    self._draw()

        ticker = threading.Thread(target=tick, name="demo-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()

    def _draw(self) -> None:
        if self.quiet:
            return
        width = 28
        filled = round(width * self.done / self.steps)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(
            f"\r[{bar}] {self.done}/{self.steps} {self.label:<34} {self.elapsed():5.1f}s"
        )
        if self.finished is not None:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _viral_curve(rng: random.Random, start: datetime, now: datetime) -> datetime:
    """A moment after ``start``: most engagement in the first day, a long tail after."""
    span = (now - start).total_seconds()
    hours = min(rng.lognormvariate(1.6, 1.1), span / 3600 - 0.01)
    return start + timedelta(hours=max(hours, 0.05))


TRAINER_TIME_ZONE = "Europe/Amsterdam"


def demo_return_at(now: datetime) -> datetime:
    """When the trainer's holiday ends: the start of a day (midnight in his time zone,
    Europe/Amsterdam), the day after tomorrow, so it is his return day (one to two
    days from ``now``).

    Args:
        now: the story's "now" (aware).

    Returns:
        An aware datetime at 00:00 in the trainer's time zone.
    """
    zone = ZoneInfo(TRAINER_TIME_ZONE)
    day = timezone.localtime(now, zone).date() + timedelta(days=2)
    return datetime.combine(day, dt_time(0), tzinfo=zone)


def demo_login_hint() -> str | None:
    """How to log in to the demo (``log in as 'trainer' with password ...``), or None
    when the demo is not loaded (or the database has no tables yet)."""
    from django.db import DatabaseError

    try:
        loaded = Member.objects.filter(username=DEMO_LOGIN).exists()
    except DatabaseError:
        return None
    return f"log in as '{DEMO_LOGIN}' with password '{DEMO_PASSWORD}'" if loaded else None


# Every demo member has an address at example.com (a domain reserved for examples).
DEMO_EMAIL_DOMAIN = "@example.com"


@dataclass(frozen=True)
class ResetPlan:
    """What ``backsoon demo --reset`` would delete: ``members`` in all, of whom
    ``others`` (staff, or with an address outside example.com) are not the demo's."""

    members: int
    others: int

    @property
    def only_demo(self) -> bool:
        return self.others == 0


def demo_reset_plan() -> ResetPlan:
    """Count what a reset would delete (see ``demo_reset``)."""
    members = Member.objects.count()
    others = (
        Member.objects.exclude(email__iendswith=DEMO_EMAIL_DOMAIN).count()
        + Member.objects.filter(email__iendswith=DEMO_EMAIL_DOMAIN, is_staff=True).count()
    )
    return ResetPlan(members=members, others=others)


def demo_reset(*, seed: int = 2026, quiet: bool = False, scale: Scale = FULL) -> ResetPlan:
    """Replay the story from the start: empty the database and load the demo again.

    The database is flushed (Django's ``flush``: every row of every table goes,
    sessions and queued background jobs included; the tables stay), which is only
    done when it holds nothing but the demo: no staff member, nobody with an address
    outside example.com. The caller asks for confirmation first.

    Returns:
        The plan that was carried out.

    Raises:
        ValueError: the database holds members who are not the demo's (nothing is
            deleted).
    """
    from django.core.management import call_command

    plan = demo_reset_plan()
    if not plan.only_demo:
        raise ValueError(
            f"the database holds {plan.others:,} member(s) who are not the demo's "
            "(staff, or an address outside example.com); a reset would delete them: "
            "nothing was deleted"
        )
    call_command("flush", interactive=False, verbosity=0)
    demo_load(seed=seed, quiet=quiet, scale=scale)
    return plan


def demo_load(*, seed: int = 2026, quiet: bool = False, scale: Scale = FULL) -> None:
    """Load the demo network; does nothing when the story is already there."""
    from backsoon.posts.models import Post

    if Post.objects.filter(author__username=DEMO_LOGIN).exists():
        if not quiet:
            print("Demo network: already loaded.")
            print(f"Log in as '{DEMO_LOGIN}' with password '{DEMO_PASSWORD}'.")
        return
    progress = Progress(quiet=quiet, steps=12)
    with progress.ticking():
        story = _Story(random.Random(seed), progress, scale)
        story.run()
    if not quiet:
        took = progress.elapsed()  # stopped at the last step: the bar's last figure
        print(f"Demo network: {Member.objects.count():,} members, loaded in {took:.1f}s.")
        print(f"Log in as '{DEMO_LOGIN}' with password '{DEMO_PASSWORD}'.")


class _Story:
    def __init__(self, rng: random.Random, progress: Progress, scale: Scale) -> None:
        self.rng = rng
        self.scale = scale
        self.progress = progress
        self.now = timezone.now()
        # He posts, leaves on holiday two hours later, and the post takes off.
        self.post_at = self.now - timedelta(days=5, hours=3)
        self.away_from = self.post_at + timedelta(hours=2)
        self.away_until = demo_return_at(self.now)
        self.password = make_password(DEMO_PASSWORD)

    def run(self) -> None:
        with transaction.atomic():
            self.members()
            self.progress.step("members")
            self.connections()
            self.progress.step("connections")
            self.follows()
            self.progress.step("follows")
            self.network_posts()
            self.progress.step("posts of the network")
            self.viral_post()
            self.progress.step("the viral post")
            self.reactions()
            self.progress.step(f"{self.scale.reactions:,} reactions")
            self.comments_and_shares()
            self.progress.step(f"{self.scale.comments} comments, {self.scale.shares} shares")
            self.impressions()
            self.progress.step(f"{self.scale.impressions:,} impressions")
            self.absence()
            self.progress.step("the holiday (absence)")
        # Invitations and messages arrive during the absence, through the real paths.
        self.invitations()
        self.progress.step(f"{self.scale.invitations} invitations")
        self.messages()
        self.progress.step("private messages")
        ordinary_post_story(trainer=self.trainer, now=self.now, rng=self.rng)  # TRIAGE-SPEC Y5
        self.progress.step("the ordinary post")

    # -- people ----------------------------------------------------------------------

    def _person(self, i: int) -> Member:
        rng = self.rng
        _country, tz, dutch, firsts, lasts = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)[0]
        first, last = rng.choice(firsts), rng.choice(lasts)
        username = f"{_ascii(first)}.{_ascii(last)}{i}"[:30]
        role, company = rng.choice(ROLES), rng.choice(COMPANIES)
        return Member(
            username=username,
            email=f"{username}@example.com",
            password=self.password,
            display_name=f"{first} {last}",
            headline=f"{role} at {company}",
            language="nl" if rng.random() < dutch else "en",
            timezone=tz,
            date_joined=self.now - timedelta(days=rng.randint(30, 2000)),
        )

    def members(self) -> None:
        self.trainer = member_create(
            username=DEMO_LOGIN,
            email="pieter.devries@example.com",
            password=DEMO_PASSWORD,
            display_name="Pieter de Vries",
            headline="LinkedIn trainer · helping professionals get found, not flooded",
            language="nl",
            timezone_name=TRAINER_TIME_ZONE,
        )
        self.ceo = member_create(
            username=CEO,
            email="marieke.janssen@example.com",
            password=DEMO_PASSWORD,
            display_name="Marieke Janssen",
            headline="Chief Executive Officer at Noordzee Energie",
            language="nl",
            timezone_name="Europe/Amsterdam",
        )
        people = [self._person(i) for i in range(self.scale.network + self.scale.ceo_followers)]
        for chunk in _chunks(people, 2000):
            Member.objects.bulk_create(chunk)
        ids = list(
            Member.objects.exclude(pk__in=[self.trainer.pk, self.ceo.pk])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.network = ids[: self.scale.network]
        self.crowd = ids[self.scale.network :]
        self.collectors = self.network[-self.scale.collectors :]
        Member.objects.filter(pk__in=self.collectors).update(
            headline="Open networker · 30,000+ connections · I accept all invitations"
        )

    def connections(self) -> None:
        from backsoon.network.models import Connection

        rng = self.rng
        pairs: set[tuple[int, int]] = set()
        regular = [m for m in self.network if m not in self.collectors]
        # The trainer's own network: clients, former colleagues, course participants.
        self.trainer_connections = rng.sample(
            regular[: len(regular) * 3 // 5], self.scale.trainer_connections
        )
        for other in self.trainer_connections:
            pairs.add((self.trainer.pk, other))
        for other in rng.sample(regular, len(regular) // 5):
            pairs.add((self.ceo.pk, other))
        # A loose web among the network: each member knows a dozen others.
        for member in regular:
            for other in rng.sample(regular, 6):
                if other != member:
                    pairs.add((min(member, other), max(member, other)))
        # Connection collectors: thousands of connections, none shared with the trainer.
        known = set(self.trainer_connections) | {self.trainer.pk}
        outsiders = [m for m in self.crowd if m not in known]
        for collector in self.collectors:
            for other in rng.sample(outsiders, self.scale.collector_connections):
                pairs.add((min(collector, other), max(collector, other)))
        rows = []
        for a, b in pairs:
            at = self.now - timedelta(days=rng.randint(1, 900))
            rows.append(Connection(member_id=a, other_id=b, created_at=at))
            rows.append(Connection(member_id=b, other_id=a, created_at=at))
        for chunk in _chunks(rows, 5000):
            Connection.objects.bulk_create(chunk)
        # Connected members know each other (TRIAGE S1, L1), as connection_create records.
        from backsoon.triage.models import Contact

        contacts = [
            Contact(
                member_id=row.member_id,
                other_id=row.other_id,
                why="connected",
                since=row.created_at,
            )
            for row in rows
        ]
        Contact.objects.bulk_create(contacts, batch_size=5000)
        counts = Connection.objects.values("member_id").annotate(n=Count("id"))
        self._set_counts("connections_count", {r["member_id"]: r["n"] for r in counts})

    def follows(self) -> None:
        from backsoon.network.models import Connection, Follow

        rows = [
            Follow(follower_id=c.member_id, followee_id=c.other_id, created_at=c.created_at)
            for c in Connection.objects.filter(
                member_id__in=[self.trainer.pk, self.ceo.pk, *self.network[: self.scale.network]]
            ).only("member_id", "other_id", "created_at")
        ]
        already = {(f.follower_id, f.followee_id) for f in rows}
        for follower in [*self.network, *self.crowd]:
            if (follower, self.ceo.pk) not in already:
                rows.append(Follow(follower_id=follower, followee_id=self.ceo.pk))
        for follower in self.rng.sample(self.crowd, len(self.crowd) // 20):
            if (follower, self.trainer.pk) not in already:
                rows.append(Follow(follower_id=follower, followee_id=self.trainer.pk))
        for chunk in _chunks(rows, 5000):
            Follow.objects.bulk_create(chunk, ignore_conflicts=True)
        counts = Follow.objects.values("followee_id").annotate(n=Count("id"))
        self._set_counts("followers_count", {r["followee_id"]: r["n"] for r in counts})

    def _set_counts(self, field: str, counts: dict[int, int]) -> None:
        table = Member._meta.db_table
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {field} = %s WHERE id = %s",  # noqa: S608 - fixed names
                [(n, pk) for pk, n in counts.items()],
            )

    # -- posts -------------------------------------------------------------------------

    def network_posts(self) -> None:
        """Ordinary posts of the last two weeks, so the feed has something to rank."""
        from backsoon.posts.models import Post, Reaction

        rng = self.rng
        topics = [
            "Three things I learned from failing my first product launch.",
            "We are hiring! Looking for a data analyst in Utrecht. DM me.",
            "Proud of our team: 10 years of sustainable logistics.",
            "Unpopular opinion: meetings without an agenda should be cancelled.",
            "Vandaag mijn laatste werkdag. Dank aan alle collega's voor de mooie jaren!",
            "How do you keep your inbox under control after a holiday?",
            "Excited to share that I started a new position!",
            "Our webinar on hybrid work is now online. Link in the comments.",
        ]
        authors = rng.sample(self.network, len(self.network) // 3)
        posts = [
            Post(
                author_id=a,
                body=rng.choice(topics),
                created_at=self.now - timedelta(hours=rng.uniform(1, 14 * 24)),
            )
            for a in authors
        ]
        Post.objects.bulk_create(posts)
        reactions = []
        for post in Post.objects.filter(author_id__in=authors).only("pk", "created_at"):
            for member in rng.sample(self.network, rng.randint(0, 25)):
                reactions.append(
                    Reaction(
                        post_id=post.pk,
                        member_id=member,
                        type="like",
                        created_at=post.created_at + timedelta(minutes=rng.randint(5, 600)),
                    )
                )
        Reaction.objects.bulk_create(reactions, ignore_conflicts=True, batch_size=5000)
        counts = Reaction.objects.values("post_id").annotate(n=Count("id"))
        for row in counts:
            Post.objects.filter(pk=row["post_id"]).update(reactions_count=row["n"])

    def viral_post(self) -> None:
        from backsoon.notifications.actions import notification_add
        from backsoon.posts.models import Comment, Post, PostMention

        self.post = Post.objects.create(
            author=self.trainer,
            body=(
                "Why does LinkedIn have no out-of-office?\n\n"
                "During my holiday (and when I was ill last winter) direct messages sat "
                "unanswered and invitations waited for weeks. Every email client has had an "
                "automatic reply for 30 years. @ceo.janssen, you lead 4,000 people: how do "
                "your teams handle this?\n\n"
                "Waarom heeft LinkedIn geen afwezigheidsmelding?"
            ),
            created_at=self.post_at,
        )
        PostMention.objects.create(post=self.post, member=self.ceo)
        notification_add(
            recipient_id=self.ceo.pk,
            type="mention",
            actor_id=self.trainer.pk,
            subject_type="post",
            subject_id=self.post.pk,
            at=self.post_at,
        )
        # Others mention the trainer while he is away (they show in his digest).
        mention_texts = [
            "Inspired by @trainer's post, we tried a shared out-of-office rota. It works!",
            "Podcast episode 41: why your network needs boundaries, with a nod to @trainer.",
            "@trainer are you available for a keynote in March? Couldn't reach you by DM.",
        ]
        window = (self.now - self.away_from).total_seconds()
        for author, text in zip(self.rng.sample(self.network, 3), mention_texts, strict=True):
            at = self.away_from + timedelta(seconds=self.rng.uniform(0, window))
            mentioning = Post.objects.create(author_id=author, body=text, created_at=at)
            PostMention.objects.create(post=mentioning, member=self.trainer)
            notification_add(
                recipient_id=self.trainer.pk,
                type="mention",
                actor_id=author,
                subject_type="post",
                subject_id=mentioning.pk,
                recipient_away=True,
                at=at,
            )
        # The executive answers within five minutes.
        self.ceo_comment = Comment.objects.create(
            post=self.post,
            author=self.ceo,
            body="Great question, Pieter. Our people switch off on holiday, and so should "
            "their inbox. I'd use this tomorrow.",
            created_at=self.post_at + timedelta(minutes=4),
        )

    def reactions(self) -> None:
        from backsoon.notifications.actions import notification_add
        from backsoon.posts.models import Post, Reaction

        rng = self.rng
        types = ["like", "celebrate", "support", "love", "insightful", "funny"]
        weights = [68, 7, 6, 5, 12, 2]
        reactors = rng.sample([*self.network, *self.crowd], self.scale.reactions)
        rows = [
            Reaction(
                post_id=self.post.pk,
                member_id=m,
                type=rng.choices(types, weights)[0],
                created_at=_viral_curve(rng, self.post_at, self.now),
            )
            for m in reactors
        ]
        Reaction.objects.bulk_create(rows, batch_size=5000)
        last = max(rows, key=lambda r: r.created_at)
        Post.objects.filter(pk=self.post.pk).update(reactions_count=self.scale.reactions)
        notification_add(
            recipient_id=self.trainer.pk,
            type="reaction",
            actor_id=last.member_id,
            subject_type="post",
            subject_id=self.post.pk,
            group_key=f"post:{self.post.pk}:reaction",
            count=self.scale.reactions,
            at=last.created_at,
        )

    def comments_and_shares(self) -> None:
        from backsoon.notifications.actions import notification_add
        from backsoon.posts.models import Comment, Post

        rng = self.rng
        commenters = rng.sample(self.network + self.crowd[:5000], self.scale.comments - 1)
        rows = []
        for m in commenters:
            body = rng.choice(COMMENT_TEXTS)
            rows.append(
                Comment(
                    post_id=self.post.pk,
                    author_id=m,
                    body=body,
                    created_at=_viral_curve(rng, self.post_at, self.now),
                )
            )
        Comment.objects.bulk_create(rows, batch_size=2000)
        shares = [
            Post(
                author_id=m,
                shared_post=self.post,
                is_share=True,
                body=rng.choice(["", "", "Must read.", "This! 👇", "Dit herken ik zo."]),
                created_at=_viral_curve(rng, self.post_at, self.now),
            )
            for m in rng.sample(self.network, self.scale.shares)
        ]
        Post.objects.bulk_create(shares)
        Post.objects.filter(pk=self.post.pk).update(
            comments_count=self.scale.comments, shares_count=self.scale.shares
        )
        last_comment = max(rows, key=lambda c: c.created_at)
        last_share = max(shares, key=lambda s: s.created_at)
        for kind, actor_id, count, at in (
            ("comment", last_comment.author_id, self.scale.comments, last_comment.created_at),
            ("share", last_share.author_id, self.scale.shares, last_share.created_at),
        ):
            notification_add(
                recipient_id=self.trainer.pk,
                type=kind,
                actor_id=actor_id,
                subject_type="post",
                subject_id=self.post.pk,
                group_key=f"post:{self.post.pk}:{kind}",
                count=count,
                at=at,
            )

    def impressions(self) -> None:
        """3,000,000 impressions over the hours since posting, in a viral curve (bulk path:
        hourly buckets and unique viewers, as the buffered counter would write them)."""
        from backsoon.posts.models import Post, PostImpressionHour, PostViewer

        rng = self.rng
        start = self.post_at.replace(minute=0, second=0, microsecond=0)
        hours = int((self.now - start).total_seconds() // 3600) + 1
        weights = [(h + 1) ** 1.3 * (0.93**h) * (0.7 + 0.6 * rng.random()) for h in range(hours)]
        total = sum(weights)
        counts = [int(self.scale.impressions * w / total) for w in weights]
        counts[0] += self.scale.impressions - sum(counts)
        PostImpressionHour.objects.bulk_create(
            [
                PostImpressionHour(post=self.post, hour=start + timedelta(hours=h), count=c)
                for h, c in enumerate(counts)
                if c
            ]
        )
        viewers = rng.sample([*self.network, *self.crowd], self.scale.viewers)
        PostViewer.objects.bulk_create(
            [PostViewer(post=self.post, member_id=m) for m in viewers], batch_size=5000
        )
        Post.objects.filter(pk=self.post.pk).update(
            impressions_count=self.scale.impressions, unique_viewers=len(viewers)
        )

    # -- the holiday -----------------------------------------------------------------

    def absence(self) -> None:
        from backsoon.away.actions import AbsenceInput, absence_create

        backup = Member.objects.get(pk=self.trainer_connections[0])
        data = AbsenceInput(
            starts_at=self.away_from,
            ends_at=self.away_until,
            message=(
                "Hi {first_name}, thanks for your message! I'm on holiday and back on "
                "{return_date}; I read messages then. For training bookings, "
                "please contact {backup}."
            ),
            translations={
                "nl": "Hoi {first_name}, dank voor je bericht! Ik ben op vakantie en terug "
                "op {return_date}; dan lees ik berichten. Voor trainingen kun je "
                "terecht bij {backup}."
            },
            audience="everyone",
            others_message=(
                "Thanks for your message. I'm away and back on {return_date}; I will reply then."
            ),
            backup=backup.username,
            invitations="auto_accept_mutual",
        )
        data.given = frozenset(
            {
                "starts_at",
                "ends_at",
                "message",
                "translations",
                "audience",
                "others_message",
                "backup",
                "invitations",
            }
        )
        self.holiday = absence_create(member=self.trainer, data=data)
        # What he prepared before leaving, to answer his contacts on return (TRIAGE C3).
        from backsoon.messaging.actions import saved_reply_create

        saved_reply_create(
            member=self.trainer,
            name="Back from holiday",
            body="Hi {first_name}, thanks for your message! I'm back and will get to it this week.",
        )

    def invitations(self) -> None:
        """Hundreds of invitations during the holiday, most with a note, from everywhere,
        each sent through ``invitation_send`` at its moment of the holiday: the away badge
        is stored with each (I1), and people sharing 3+ connections are accepted at once
        by the absence's policy (I2).

        Their labels (TRIAGE L1-L5) come from that same path: the collectors' thousands
        of connections (or, at a small scale, the invitations they send others the day
        before), the growth hackers' one note sent to a dozen members first (``mass``),
        and everyone else's own note or none (``note``, ``first_contact``)."""
        from backsoon.network.actions import invitation_send

        rng = self.rng
        known = set(self.trainer_connections)
        candidates = [m for m in self.network if m not in known and m not in self.collectors]
        # Growth hackers come from the crowd: no connections to the trainer's, nor to
        # the members they invite.
        hackers = rng.sample(self.crowd, self.scale.growth_hackers)
        crowd = [m for m in self.crowd if m not in set(hackers)]
        senders = (
            self.collectors
            + hackers
            + rng.sample(candidates, self.scale.invitations // 2)
            + rng.sample(
                crowd,
                self.scale.invitations
                - self.scale.invitations // 2
                - self.scale.collectors
                - self.scale.growth_hackers,
            )
        )
        countries = ["Japan", "Ghana", "India", "Brazil", "Nigeria", "Germany", "the UK", "Spain"]
        window = (self.now - self.away_from).total_seconds()
        moments = sorted(
            self.away_from + timedelta(seconds=rng.uniform(0, window)) for _ in senders
        )
        rng.shuffle(moments)
        hacker_notes = dict(zip(hackers, rng.sample(HACKER_NOTES, len(hackers)), strict=True))
        notes = [
            hacker_notes[sender].format(first_name=self.trainer.display_name.split()[0])
            if sender in hacker_notes
            else ""
            if rng.random() < 0.3
            else rng.choice(NOTES).format(country=rng.choice(countries))
            for sender in senders
        ]
        members = Member.objects.in_bulk(senders)
        regular = [m for m in self.network if m not in self.collectors]
        with transaction.atomic():
            # The day before the holiday: collectors invite dozens, growth hackers copy
            # their note to a dozen members (each with their own first name).
            before = self.away_from - timedelta(days=1)
            floods: list[tuple[int, int, str]] = [
                (c, self.scale.collector_invitations, "") for c in self.collectors
            ]
            floods += [(h, self.scale.note_copies, hacker_notes[h]) for h in hackers]
            for sender, count, note in floods:
                targets = Member.objects.in_bulk(rng.sample(regular, count))
                for n, target in enumerate(targets.values()):
                    invitation_send(
                        sender=members[sender],
                        to_username=target.username,
                        note=note.format(first_name=target.display_name.split()[0]) if note else "",
                        at=before + timedelta(minutes=10 * n + rng.uniform(0, 9)),
                    )
            for sender, at, note in sorted(
                zip(senders, moments, notes, strict=True), key=lambda plan: plan[1]
            ):
                invitation_send(
                    sender=members[sender], to_username=self.trainer.username, note=note, at=at
                )

    def messages(self) -> None:
        """Dozens of conversations during the holiday through message_send, so every
        first message gets the trainer's real automatic reply (once per sender).

        A few pitch senders send their pitch, with each recipient's first name, to a
        dozen other members first, hours to days before they write to the trainer: the
        trainer's copy is then one of many (TRIAGE L2, ``mass``), by the real path."""
        from backsoon.messaging.actions import conversation_start, message_send

        rng = self.rng
        trainer = self.trainer
        window = (self.now - self.away_from).total_seconds()
        plans: list[tuple[Member, str, str]] = []
        clients = Member.objects.filter(pk__in=self.trainer_connections[1:5])
        for member, (subject, body) in zip(clients, CLIENT_MESSAGES, strict=False):
            plans.append((member, subject, body))
        strangers = list(Member.objects.filter(pk__in=rng.sample(self.crowd, 34)).order_by("pk"))
        pitchers = {m.pk for m in rng.sample(strangers, self.scale.mass_pitchers)}
        personal = [pitch for pitch in PITCHES if "{first_name}" in pitch[1]]
        for member in strangers:
            subject, body = rng.choice(personal if member.pk in pitchers else PITCHES)
            plans.append((member, subject, body))
        moments = sorted(
            self.away_from + timedelta(seconds=rng.uniform(60, window - 60)) for _ in plans
        )
        first_name = trainer.display_name.split()[0]
        regular = [m for m in self.network if m not in self.collectors]
        for (member, _subject, body), at in zip(plans, moments, strict=True):
            if member.pk in pitchers:
                self._pitch_around(member, body, before=at, among=regular)
            conversation, _ = conversation_start(
                creator=member, usernames=[trainer.username], at=at
            )
            message_send(
                sender=member,
                conversation_id=conversation.pk,
                body=body.format(first_name=first_name),
                at=at,
            )
            if rng.random() < 0.35:  # the pushy ones write again
                later = min(at + timedelta(hours=rng.uniform(2, 40)), self.now)
                message_send(
                    sender=member,
                    conversation_id=conversation.pk,
                    body="Just following up on my message above. Any thoughts?",
                    at=later,
                )

    def _pitch_around(
        self, member: Member, body: str, *, before: datetime, among: list[int]
    ) -> None:
        """``member`` sends ``body`` to ``pitch_copies`` members of ``among``, one every
        few minutes in the hours before ``before`` (within the 30 messages a minute and
        the 50 new strangers a day that ``message_send`` allows)."""
        from backsoon.messaging.actions import conversation_start, message_send

        targets = Member.objects.in_bulk(self.rng.sample(among, self.scale.pitch_copies))
        start = before - timedelta(hours=self.rng.uniform(3, 48))
        for n, target in enumerate(targets.values()):
            at = start + timedelta(minutes=7 * n + self.rng.uniform(0, 5))
            conversation, _ = conversation_start(creator=member, usernames=[target.username], at=at)
            message_send(
                sender=member,
                conversation_id=conversation.pk,
                body=body.format(first_name=target.display_name.split()[0]),
                at=at,
            )
