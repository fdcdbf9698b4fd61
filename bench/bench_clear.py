"""Clearing the demo's return inbox (TRIAGE C5): actions needed one by one against the
actions the digest needs.

Loads the SMALL demo into a fresh database, counts what one-by-one handling needs
(one action per invitation and per conversation of the digest, one per unread
notification group; ``tests/browser/clearing.py: one_by_one_count``), then clears it
with the browser journey's plan, one digest action per click, called directly (no
browser: the same plan as ``tests/browser/test_journey_clear.py``, whose Playwright run
asserts the same ratio through the web pages). Prints both counts and the ratio.

Run: .venv/bin/python bench/bench_clear.py   (SQLite in a temp folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, report, setup_django


def main() -> None:
    setup_django()
    sys.path.insert(0, str(ROOT))
    from backsoon.accounts.models import Member
    from backsoon.away import actions
    from backsoon.away.models import Absence
    from backsoon.demo import DEMO_LOGIN, SMALL, demo_load
    from backsoon.messaging import digest
    from backsoon.messaging.models import SavedReply
    from tests.browser.clearing import one_by_one_count

    demo_load(scale=SMALL, quiet=True)
    trainer = Member.objects.get(username=DEMO_LOGIN)
    absence = Absence.objects.get(member=trainer)
    one_by_one = one_by_one_count(trainer, absence)
    kwargs = {"member": trainer, "absence_id": absence.pk}
    saved = SavedReply.objects.filter(member=trainer).order_by("pk").first()
    assert saved is not None, "the demo's trainer has a saved reply"
    # The journey's clicks, in its order: each is one action.
    plan = [
        lambda: actions.absence_end(member=trainer, absence_id=absence.pk),
        lambda: actions.digest_invitations_respond(**kwargs, accept=True, likely=True),
        lambda: actions.digest_invitations_respond(**kwargs, accept=False, rest=True),
        lambda: digest.digest_reply_rest(**kwargs, template=saved.pk),
        lambda: digest.digest_conversations_handle(**kwargs, action="rest", section="others"),
        lambda: actions.digest_notifications_read(**kwargs),
    ]
    for step in plan:
        step()
    clicks = len(plan)
    ratio = clicks / one_by_one["total"]
    print(f"one by one: {one_by_one}")
    print(f"digest clicks: {clicks}; ratio {ratio:.3f} (1/{1 / ratio:.1f})")
    report("clear_one_by_one", one_by_one["total"], "actions", "", None)
    report(
        "clear_clicks", clicks, "clicks", "<= one by one / 20", clicks <= one_by_one["total"] / 20
    )
    report("clear_ratio", ratio, "", "<= 0.05", ratio <= 0.05)


if __name__ == "__main__":
    main()
