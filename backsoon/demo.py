"""The demo network that ``make run`` loads: idempotent and deterministic."""

from __future__ import annotations

from django.db import transaction

from backsoon.accounts.actions import member_create
from backsoon.accounts.models import Member

DEMO_PASSWORD = "backsoon-demo"  # noqa: S105 - a published demo login, not a secret
DEMO_LOGIN = "trainer"

DEMO_MEMBERS: list[tuple[str, str, str, str, str]] = [
    # username, display name, headline, language, time zone
    (
        "trainer",
        "Pieter de Vries",
        "LinkedIn trainer · helping professionals be found",
        "nl",
        "Europe/Amsterdam",
    ),
    (
        "ceo.janssen",
        "Marieke Janssen",
        "Chief Executive Officer at Noordzee Energie",
        "nl",
        "Europe/Amsterdam",
    ),
    (
        "sanne.bakker",
        "Sanne Bakker",
        "HR business partner · former colleague of Pieter",
        "nl",
        "Europe/Amsterdam",
    ),
    ("kwame.mensah", "Kwame Mensah", "Growth consultant in Accra", "en", "Africa/Accra"),
    ("yuki.tanaka", "Yuki Tanaka", "Recruiter, Tokyo", "en", "Asia/Tokyo"),
    (
        "lotte.visser",
        "Lotte Visser",
        "Marketing lead at a Utrecht scale-up",
        "nl",
        "Europe/Amsterdam",
    ),
    ("sam.oconnor", "Sam O'Connor", "Sales coach · 30,000+ connections", "en", "Europe/Dublin"),
    ("ana.silva", "Ana Silva", "Product manager, Lisbon", "en", "Europe/Lisbon"),
]


def demo_load(*, seed: int = 2026, quiet: bool = False) -> None:
    """Create the demo members that do not exist yet; a second run changes nothing."""
    created = 0
    with transaction.atomic():
        existing = set(
            Member.objects.filter(username__in=[m[0] for m in DEMO_MEMBERS]).values_list(
                "username", flat=True
            )
        )
        for username, name, headline, language, tz in DEMO_MEMBERS:
            if username in existing:
                continue
            member_create(
                username=username,
                email=f"{username}@example.com",
                password=DEMO_PASSWORD,
                display_name=name,
                headline=headline,
                language=language,
                timezone_name=tz,
            )
            created += 1
    if not quiet:
        print(f"Demo network: {created} members created, {len(existing)} already there.")
        print(f"Log in as '{DEMO_LOGIN}' with password '{DEMO_PASSWORD}'.")
