"""The demo network tells the story (issue 7), at the small scale."""

from __future__ import annotations

import pytest

from backsoon.accounts.models import Member
from backsoon.away.digest import digest_for
from backsoon.away.models import Absence
from backsoon.demo import SMALL, demo_load
from backsoon.messaging.models import Message
from backsoon.network.models import Invitation
from backsoon.posts.models import Post

pytestmark = pytest.mark.django_db


def test_demo_tells_the_story_and_is_idempotent():
    demo_load(scale=SMALL, quiet=True)
    trainer = Member.objects.get(username="trainer")
    ceo = Member.objects.get(username="ceo.janssen")
    post = Post.objects.filter(author=trainer, is_share=False).latest("created_at")  # the viral one
    assert post.reactions_count == SMALL.reactions == post.reactions.count()
    assert post.comments_count == SMALL.comments == post.comments.count()
    assert post.shares_count == SMALL.shares == post.shares.count()
    assert post.impressions_count == SMALL.impressions
    assert list(post.mentions.all()) == [ceo]
    ceo_comment = post.comments.filter(author=ceo).get()
    assert (ceo_comment.created_at - post.created_at).total_seconds() < 5 * 60
    assert ceo.followers_count >= SMALL.ceo_followers
    absence = Absence.objects.get(member=trainer)
    assert absence.state(absence.starts_at) == "active"
    assert Message.objects.filter(sender=trainer, kind="auto_reply").exists()
    senders = Message.objects.filter(
        conversation__participants__member=trainer, kind="normal", sent_at__gte=absence.starts_at
    ).exclude(sender=trainer)
    assert (
        senders.values("sender").distinct().count()
        == Message.objects.filter(sender=trainer, kind="auto_reply").count()
    )  # one automatic reply per sender
    assert Invitation.objects.filter(to_member=trainer, status="pending").count() > 0
    assert Invitation.objects.filter(to_member=trainer, auto_accepted=True).exists()
    digest = digest_for(trainer, absence)
    assert digest.totals["reactions"] > 0 and digest.totals["invitations"] > 0
    counts = Member.objects.count(), Post.objects.count(), Message.objects.count()
    demo_load(scale=SMALL, quiet=True)
    assert (Member.objects.count(), Post.objects.count(), Message.objects.count()) == counts


def test_demo_is_deterministic_for_a_seed(django_db_blocker):
    demo_load(scale=SMALL, quiet=True, seed=7)
    names = sorted(Member.objects.values_list("username", flat=True))[:50]
    Member.objects.all().delete()
    demo_load(scale=SMALL, quiet=True, seed=7)
    assert sorted(Member.objects.values_list("username", flat=True))[:50] == names


def test_the_ordinary_post_yields_more_than_the_viral_one():
    """TRIAGE-SPEC Y5: huge reach, tiny yield; a few dozen reactions in his field, more."""
    from backsoon.posts.yields import yield_of_post

    demo_load(scale=SMALL, quiet=True)
    trainer = Member.objects.get(username="trainer")
    posts = Post.objects.filter(author=trainer, is_share=False).order_by("created_at")
    ordinary, viral = list(posts)
    assert viral.impressions_count > 10 * ordinary.impressions_count
    assert 20 <= ordinary.reactions_count <= 60 < viral.reactions_count
    small, big = yield_of_post(viral), yield_of_post(ordinary)
    assert big.yield_ > small.yield_
    assert big.two_way >= 4 and len(big.lasting) >= 2 and len(big.connections) >= 12
    assert big.conversations > big.two_way  # one he never answered


def test_the_trainers_invitations_are_labelled_by_the_real_path():
    """TRIAGE L2-L5 in the story: collectors, growth hackers' mass notes, personal
    notes and first contacts, all labelled by ``invitation_send``; pitches copied to a
    dozen members before the trainer."""
    demo_load(scale=SMALL, quiet=True)
    trainer = Member.objects.get(username="trainer")
    received = Invitation.objects.filter(to_member=trainer, status="pending")
    codes = {
        code
        for row in received.values_list("label_codes", flat=True)
        for code in row.split(",")
        if code
    }
    assert {"collector", "mass", "note", "first_contact"} <= codes
    collectors = received.filter(label_codes__contains=",collector,")
    assert collectors.count() >= SMALL.collectors
    mass = received.filter(label_codes__contains=",mass,")
    assert mass.count() == SMALL.growth_hackers
    for invitation in mass:
        [label] = [label for label in invitation.labels if label["code"] == "mass"]
        assert label["count"] == SMALL.note_copies + 1
        # The copies sent before the trainer's are mass too (L2).
        copies = Invitation.objects.filter(from_member=invitation.from_member_id, note__gt="")
        assert all(",mass," in row for row in copies.values_list("label_codes", flat=True))
    senders = Message.objects.filter(conversation__participants__member=trainer, kind="normal")
    wide = [
        sender
        for sender in senders.exclude(sender=trainer).values_list("sender_id", flat=True).distinct()
        if Message.objects.filter(sender_id=sender, kind="normal")
        .values("conversation")
        .distinct()
        .count()
        > SMALL.pitch_copies
    ]
    assert len(wide) == SMALL.mass_pitchers  # each sent their pitch to a dozen first


def test_the_trainers_inbox_and_requests_are_screened_and_labelled_by_the_real_path():
    """TRIAGE S1, L1, L2, L5 in the story: pitches wait in Requests labelled ``mass``
    or ``first_contact``, his contacts' messages are in the inbox labelled ``known``."""
    from backsoon.messaging.models import Participant

    demo_load(scale=SMALL, quiet=True)
    trainer = Member.objects.get(username="trainer")
    rows = Participant.objects.filter(member=trainer, left_at__isnull=True)
    requests = rows.filter(folder="requests")
    request_codes = {label["code"] for row in requests for label in row.labels}
    assert request_codes == {"mass", "first_contact"}
    assert requests.filter(label_codes=",mass,").count() == SMALL.mass_pitchers
    inbox = rows.filter(folder="inbox").exclude(labels=[])
    assert inbox.exists()
    assert {label["code"] for row in inbox for label in row.labels} == {"known"}


def test_issue18_the_progress_starts_at_once_and_its_timer_agrees_with_the_last_line(capsys):
    import re

    demo_load(scale=SMALL)
    out, err = capsys.readouterr()
    draws = [line for line in err.replace("\n", "\r").split("\r") if line]
    first, last = draws[0], draws[-1]
    assert " 0/12 " in first and first.endswith(" 0.0s")  # before the first step ends
    assert " 12/12 " in last
    seconds = re.search(r"(\d+\.\d)s$", last)
    assert seconds is not None
    assert f"loaded in {seconds.group(1)}s." in out


def test_issue18_the_progress_is_redrawn_while_a_step_runs(capsys):
    import time

    from backsoon.demo import Progress

    progress = Progress(quiet=False, steps=2)
    with progress.ticking(every=0.05):
        time.sleep(0.3)  # a long first step
        progress.step("one")
        progress.step("two")
    err = capsys.readouterr().err
    waiting = [draw for draw in err.split("\r") if " 0/2 " in draw]
    assert len(waiting) >= 3
    assert err.endswith("\n") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("now", "back"),
    [
        ("2026-11-30T07:10:00+00:00", "2026-12-02T00:00:00+01:00"),
        ("2026-11-30T23:30:00+00:00", "2026-12-03T00:00:00+01:00"),  # already 1 Dec there
        ("2026-03-27T12:00:00+00:00", "2026-03-29T00:00:00+01:00"),  # summer time that night
        ("2026-03-28T12:00:00+00:00", "2026-03-30T00:00:00+02:00"),
    ],
)
def test_issue18_the_demo_absence_ends_at_the_start_of_a_day(now, back):
    from datetime import datetime

    from backsoon.demo import demo_return_at

    start = datetime.fromisoformat(now)
    ends = demo_return_at(start)
    assert ends == datetime.fromisoformat(back)
    assert ends.utcoffset() == datetime.fromisoformat(back).utcoffset()
    assert 1 <= (ends - start).total_seconds() / 86400 <= 2
