"""Every write to invitations, connections, follows and blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.accounts.queries import member_by_username
from backsoon.db.chunks import CHUNK, each_in_chunks
from backsoon.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from backsoon.live import publish_on_commit
from backsoon.notifications.actions import notification_add, notifications_mark_subject_read
from backsoon.notifications.models import Notification
from backsoon.triage import rules
from backsoon.triage.actions import (
    contacts_add,
    contacts_add_both,
    contacts_add_to,
    copies_refs,
    print_record,
)
from backsoon.triage.models import Contact, Print
from backsoon.triage.queries import known_why

from . import queries
from .models import Block, Connection, Follow, Invitation

NOTE_MAX = 300
REINVITE_COOLDOWN = timedelta(days=21)
INVITATIONS_PER_WEEK = 100
AUTO_ACCEPT_MIN_MUTUAL = 3  # AWAY-SPEC I2


def invitation_send(
    *, sender: Member, to_username: str, note: str = "", at: datetime | None = None
) -> Invitation:
    """Invite a member to connect.

    If the recipient is away now, the invitation carries their away badge as the
    sender may see it (AWAY-SPEC I1); with the absence's ``auto_accept_mutual``
    policy, an inviter sharing at least 3 connections is accepted at once (I2).

    The invitation carries its labels for the recipient (TRIAGE L1-L5): ``known``,
    ``collector`` (``sender.connections_count`` as loaded, or 50 invitations in 7
    days), ``mass`` or ``note`` for a note, else ``first_contact``. A note to a
    stranger is printed (``triage.actions.print_record``); the one that reaches the
    sender's 10th member labels the earlier copies ``mass`` too (L2).

    Raises:
        NotFound: no such member.
        Invalid: inviting yourself, or the note is too long.
        Forbidden: one of the two blocked the other.
        Conflict: already connected, an invitation is pending either way, or the
            21-day cool-down after an ignored or withdrawn invitation runs.
        RateLimited: more than 100 invitations in 7 days.

    ``at`` is when it is sent: now, unless a story is told afterwards (``backsoon
    demo`` sends its invitations at moments during the holiday it tells of).
    """
    from backsoon.away.queries import active_absence, badge

    recipient = member_by_username(to_username)
    note = (note or "").strip()
    if recipient.pk == sender.pk:
        raise Invalid(gettext("You can not invite yourself."), code="invite_self")
    if len(note) > NOTE_MAX:
        raise Invalid(
            gettext("The note is at most %(max)s characters.") % {"max": NOTE_MAX},
            code="note_too_long",
        )
    if queries.block_between(sender.pk, recipient.pk):
        raise Forbidden(gettext("You can not invite this member."), code="blocked")
    if queries.are_connected(sender.pk, recipient.pk):
        raise Conflict(gettext("You are already connected."), code="already_connected")
    _check_pending(sender, recipient)
    now = at or timezone.now()
    _check_cooldown(sender, recipient, now)
    week_ago = now - timedelta(days=7)
    sent = Invitation.objects.filter(from_member=sender, created_at__gt=week_ago)
    sent_count = sent.count()
    if sent_count >= INVITATIONS_PER_WEEK:
        oldest = sent.order_by("created_at").values_list("created_at", flat=True)[
            INVITATIONS_PER_WEEK - 1
        ]
        retry = int((oldest + timedelta(days=7) - now).total_seconds()) + 1
        raise RateLimited(
            gettext("You can send at most %(max)s invitations a week.")
            % {"max": INVITATIONS_PER_WEEK},
            retry_after=retry,
            code="invitation_rate_limited",
        )

    absence = active_absence(recipient.pk, now)
    away_badge = None
    if absence is not None:
        shown = badge(absence, viewer_is_connection=False, language=sender.language)
        away_badge = {
            "until": shown["until"].isoformat(),
            "until_date": shown["until_date"].isoformat(),
            # AWAY-SPEC A6: the return day, as the badge says it everywhere.
            "back_on": shown["back_on"].isoformat() if shown.get("back_on") else None,
            "message": shown["message"],
            "backup": shown["backup"],
        }
    low, high = sorted((sender.pk, recipient.pk))
    auto_policy = (
        absence is not None and absence.invitations == absence.InvitationPolicy.AUTO_ACCEPT_MUTUAL
    )
    known = known_why(recipient.pk, [sender.pk]).get(sender.pk)
    mutual = None
    if auto_policy or (known is None and sender.connections_count >= rules.COLLECTOR_CONNECTIONS):
        mutual = queries.mutual_connection_count(sender.pk, recipient.pk)
    labels = rules.invitation_labels(
        known_why=known,
        has_note=bool(note),
        note_copies=0,  # counted below, once the note is printed
        connections=sender.connections_count,
        mutual=mutual or 0,
        sent_recently=sent_count + 1,
    )
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                from_member=sender,
                to_member=recipient,
                pair_low=low,
                pair_high=high,
                note=note,
                created_at=now,
                away_badge=away_badge,
                labels=labels,
                label_codes=_codes(labels),
            )
            if note and known is None:
                _note_print(invitation, sender=sender, recipient=recipient)
            auto = auto_policy and (mutual or 0) >= AUTO_ACCEPT_MIN_MUTUAL
            if auto:
                _accept(invitation, now=now, auto=True, recipient_away=True)
            else:
                notification_add(
                    recipient_id=recipient.pk,
                    type=Notification.Type.INVITATION_RECEIVED,
                    actor_id=sender.pk,
                    subject_type="invitation",
                    subject_id=invitation.pk,
                    recipient_away=absence is not None,
                )
                if absence is None:
                    publish_on_commit([recipient.pk], {"type": "invitation", "id": invitation.pk})
    except IntegrityError:
        # A concurrent invitation between the same two members won.
        raise Conflict(
            gettext("An invitation between you two is already pending."), code="invitation_pending"
        ) from None
    invitation.from_member = sender
    invitation.to_member = recipient
    return invitation


def _note_print(invitation: Invitation, *, sender: Member, recipient: Member) -> None:
    """Print the note of a new invitation to a stranger (L2), in the caller's
    transaction. The copy that reaches the sender's 10th member labels itself and the
    earlier copies ``mass``, now and again after commit (a concurrent copy)."""
    at = invitation.created_at
    printed = print_record(
        kind=Print.Kind.NOTE,
        sender_id=sender.pk,
        member_id=recipient.pk,
        ref_id=invitation.pk,
        text=invitation.note,
        names=[recipient.display_name, recipient.username],
        at=at,
    )
    cluster = printed.cluster
    if printed.copies >= rules.MASS_MEMBERS:
        _notes_mass_relabel(
            sender_id=sender.pk,
            copies=printed.copies,
            refs=copies_refs(Print.Kind.NOTE, sender.pk, cluster, at),
        )
        invitation.labels = rules.with_mass(invitation.labels, printed.copies, note=True)
        invitation.label_codes = _codes(invitation.labels)


def _codes(labels: list[rules.Label]) -> str:
    """``label_codes`` of ``labels``: ",collector,note," (filterable with ``contains``)."""
    return "," + ",".join(str(label["code"]) for label in labels) + "," if labels else ""


def _notes_mass_relabel(*, sender_id: int, copies: int, refs: list[tuple[int, int]]) -> int:
    """Label ``mass`` every invitation of ``refs`` (``(invitation id, recipient id)``
    of the copies of a note ``sender_id`` sent; L2: the 10th copy labels the first nine).

    One query and one UPDATE, whatever the number of copies (at most 100 a week).

    Returns:
        How many invitations changed.
    """
    refs_by_id = dict(refs)
    changed = []
    for invitation in Invitation.objects.filter(
        pk__in=list(refs_by_id), from_member_id=sender_id
    ).only("pk", "to_member_id", "labels"):
        if refs_by_id.get(invitation.pk) != invitation.to_member_id:
            continue
        labels = rules.with_mass(invitation.labels or [], copies, note=True)
        if labels != invitation.labels:
            invitation.labels = labels
            invitation.label_codes = _codes(labels)
            changed.append(invitation)
    if changed:
        Invitation.objects.bulk_update(changed, ["labels", "label_codes"])
    return len(changed)


def _check_pending(sender: Member, recipient: Member) -> None:
    pending = queries.pending_between(sender.pk, recipient.pk)
    if pending is None:
        return
    if pending.from_member_id == sender.pk:
        raise Conflict(gettext("Your invitation is already pending."), code="invitation_pending")
    raise Conflict(
        {
            "message": gettext("%(name)s already invited you: accept that invitation.")
            % {"name": recipient.display_name},
            "invitation_id": pending.pk,
        },
        code="invitation_pending_reverse",
    )


def _check_cooldown(sender: Member, recipient: Member, now) -> None:
    last = (
        Invitation.objects.filter(
            from_member=sender,
            to_member=recipient,
            status__in=[Invitation.Status.IGNORED, Invitation.Status.WITHDRAWN],
            responded_at__gt=now - REINVITE_COOLDOWN,
        )
        .order_by("-responded_at")
        .values_list("responded_at", flat=True)
        .first()
    )
    if last is not None:
        again = (last + REINVITE_COOLDOWN).date().isoformat()
        raise Conflict(
            gettext("You can invite this member again from %(date)s.") % {"date": again},
            code="invitation_cooldown",
        )


def _respondable(member: Member, invitation_id: int, *, as_recipient: bool) -> Invitation:
    invitation = queries.invitation_for_member(member, invitation_id)
    owner = invitation.to_member_id if as_recipient else invitation.from_member_id
    if owner != member.pk:
        who = (
            gettext("Only the recipient can do that.")
            if as_recipient
            else gettext("Only the sender can do that.")
        )
        raise Forbidden(who, code="not_allowed")
    if invitation.status != Invitation.Status.PENDING:
        already: dict[str, str] = {
            Invitation.Status.ACCEPTED: gettext("This invitation is already accepted."),
            Invitation.Status.IGNORED: gettext("This invitation is already ignored."),
            Invitation.Status.WITHDRAWN: gettext("This invitation is already withdrawn."),
        }
        raise Conflict(
            already.get(invitation.status, gettext("This invitation was answered already.")),
            code="not_pending",
        )
    return invitation


def invitation_accept(*, member: Member, invitation_id: int) -> Invitation:
    """Accept an invitation you received: connects both members, who follow each other.

    Raises:
        NotFound, Forbidden (not the recipient), Conflict (not pending).
    """
    with transaction.atomic():
        invitation = _respondable(member, invitation_id, as_recipient=True)
        _accept(invitation, now=timezone.now(), auto=False, recipient_away=False)
        _invitation_notification_read(invitation)
    return invitation


def _invitation_notification_read(invitation: Invitation) -> None:
    """Answering an invitation reads its "invited you" notification."""
    notifications_mark_subject_read(
        member_id=invitation.to_member_id,
        type=Notification.Type.INVITATION_RECEIVED,
        subject_type="invitation",
        subject_id=invitation.pk,
    )


def _accept(invitation: Invitation, *, now, auto: bool, recipient_away: bool) -> None:
    claimed = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.ACCEPTED, responded_at=now, auto_accepted=auto
    )
    if not claimed:
        raise Conflict(gettext("This invitation was answered already."), code="not_pending")
    invitation.status = Invitation.Status.ACCEPTED
    invitation.responded_at = now
    invitation.auto_accepted = auto
    connection_create(a_id=invitation.from_member_id, b_id=invitation.to_member_id, at=now)
    notification_add(
        recipient_id=invitation.from_member_id,
        type=Notification.Type.INVITATION_ACCEPTED,
        actor_id=invitation.to_member_id,
        subject_type="invitation",
        subject_id=invitation.pk,
    )


def invitation_ignore(*, member: Member, invitation_id: int) -> Invitation:
    """Ignore an invitation you received (the sender is not told)."""
    return _close(member, invitation_id, Invitation.Status.IGNORED, as_recipient=True)


def invitation_withdraw(*, member: Member, invitation_id: int) -> Invitation:
    """Withdraw an invitation you sent."""
    return _close(member, invitation_id, Invitation.Status.WITHDRAWN, as_recipient=False)


def _close(member: Member, invitation_id: int, status: str, *, as_recipient: bool) -> Invitation:
    with transaction.atomic():
        invitation = _respondable(member, invitation_id, as_recipient=as_recipient)
        now = timezone.now()
        claimed = Invitation.objects.filter(
            pk=invitation.pk, status=Invitation.Status.PENDING
        ).update(status=status, responded_at=now)
        if not claimed:
            raise Conflict(gettext("This invitation was answered already."), code="not_pending")
        invitation.status = status
        invitation.responded_at = now
        if as_recipient:
            _invitation_notification_read(invitation)
    return invitation


BULK_IDS_MAX = 500
# How many of the changed invitations a bulk answer lists (it counts them all).
BULK_SHOWN = 500
# Invitations accepted in one chunk: each writes about eight rows (two connections, two
# follows, two contacts, a notification, counters), so a chunk of 200 holds the write
# lock about as long as one of 500 simpler updates (bench/bench_bulk.py).
ACCEPT_CHUNK = 200


@dataclass(frozen=True)
class InvitationsFilter:
    """TRIAGE C2's filter over a member's pending received invitations (None: any).

    Attributes:
        label: a label code the invitation carries (``triage.rules.CODES``).
        min_mutual, max_mutual: connections in common with the inviter, inclusive.
        has_note: with a personal note (True) or without (False).
        before: sent before this moment (exclusive, UTC).
    """

    label: str | None = None
    min_mutual: int | None = None
    max_mutual: int | None = None
    has_note: bool | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class BulkDone:
    """What a bulk answer to invitations did: how many changed, and the ids of the
    first ``BULK_SHOWN`` of them."""

    changed: int
    ids: list[int]


def invitations_bulk_respond(
    *, member: Member, invitation_ids: list[int], accept: bool
) -> list[Invitation]:
    """Accept or ignore many received pending invitations; others in the list are
    skipped (``invitations_bulk`` without its limit on ids, for the digest).

    Returns:
        The invitations that changed, in id order.
    """
    rows = Invitation.objects.filter(
        to_member_id=member.pk, status=Invitation.Status.PENDING, pk__in=list(invitation_ids)
    )
    done = _respond_in_chunks(member, rows, accept=accept, shown=len(invitation_ids))
    return list(
        Invitation.objects.select_related("from_member", "to_member")
        .filter(pk__in=done.ids)
        .order_by("pk")
    )


def invitations_bulk(
    *,
    member: Member,
    accept: bool,
    invitation_ids: list[int] | None = None,
    filter: InvitationsFilter | None = None,
) -> BulkDone:
    """Accept or ignore many received pending invitations (TRIAGE C2): those of
    ``invitation_ids`` (others in the list are skipped), or every one that matches
    ``filter``, not only a page. The filter is followed exactly (``known`` protects
    conversations only, L1).

    Runs in chunks of ``backsoon.db.chunks.CHUNK``, each its own short transaction;
    each chunk re-checks that its invitations are still pending, so repeating the
    action changes nothing more (idempotent). Accepting does what accepting one does
    (connections both ways, follows, contacts, the inviters' notifications, the
    "invited you" notification read) in a fixed number of statements per chunk.

    Returns:
        How many changed, and the first ``BULK_SHOWN`` of their ids.

    Raises:
        Invalid: both or neither of ids and filter, too many ids, an unknown label, a
            negative or empty mutual range.
    """
    if (invitation_ids is None) == (filter is None):
        raise Invalid(gettext("Give either ids or a filter, not both."), code="ids_or_filter")
    rows = Invitation.objects.filter(to_member_id=member.pk, status=Invitation.Status.PENDING)
    if invitation_ids is not None:
        if len(invitation_ids) > BULK_IDS_MAX:
            raise Invalid(
                gettext("At most %(max)s invitations at once.") % {"max": BULK_IDS_MAX},
                code="too_many_ids",
            )
        rows = rows.filter(pk__in=list(invitation_ids))
    else:
        assert filter is not None
        _check_filter(filter)
        rows = queries.invitations_filtered(
            rows,
            member_id=member.pk,
            box="received",
            label=filter.label,
            min_mutual=filter.min_mutual,
            max_mutual=filter.max_mutual,
            has_note=filter.has_note,
            before=filter.before,
        )
    return _respond_in_chunks(member, rows, accept=accept, shown=BULK_SHOWN)


def _respond_in_chunks(
    member: Member, rows: QuerySet[Invitation], *, accept: bool, shown: int
) -> BulkDone:
    """Accept or ignore ``rows`` (the member's pending received invitations) in
    chunks; the ids of the first ``shown`` that changed."""
    ids: list[int] = []

    def respond(chunk: list[int]) -> int:
        now = timezone.now()
        done = (
            _accept_many(member.pk, chunk, now) if accept else _ignore_many(member.pk, chunk, now)
        )
        ids.extend(done[: max(shown - len(ids), 0)])
        return len(done)

    changed = each_in_chunks(rows, respond, chunk=ACCEPT_CHUNK if accept else CHUNK)
    if changed:
        publish_on_commit([member.pk], {"type": "invitation", "kind": "answered"})
    return BulkDone(changed=changed, ids=ids)


def _check_filter(filter: InvitationsFilter) -> None:
    if filter.label is not None and filter.label not in rules.CODES:
        raise Invalid(
            gettext("Unknown label %(label)s: use one of %(codes)s.")
            % {"label": filter.label, "codes": ", ".join(rules.CODES)},
            code="unknown_label",
        )
    for bound in (filter.min_mutual, filter.max_mutual):
        if bound is not None and bound < 0:
            raise Invalid(gettext("Mutual connections are never negative."), code="negative")
    if (
        filter.min_mutual is not None
        and filter.max_mutual is not None
        and filter.min_mutual > filter.max_mutual
    ):
        raise Invalid(gettext("min_mutual is more than max_mutual."), code="mutual_range_empty")


def _claim(member_id: int, ids: list[int], status: str, now: datetime) -> list[tuple[int, int]]:
    """Lock the still pending invitations of ``ids`` that ``member_id`` received and
    answer them with ``status``; their (id, inviter id), in the caller's transaction."""
    claimed = list(
        Invitation.objects.select_for_update()
        .filter(pk__in=ids, to_member_id=member_id, status=Invitation.Status.PENDING)
        .order_by("pk")
        .values_list("pk", "from_member_id")
    )
    if claimed:
        Invitation.objects.filter(
            pk__in=[pk for pk, _ in claimed], status=Invitation.Status.PENDING
        ).update(status=status, responded_at=now, auto_accepted=False)
    return claimed


def _subjects_read(member_id: int, invitation_ids: list[int], now: datetime) -> None:
    """Answering invitations reads their "invited you" notifications (one UPDATE)."""
    Notification.objects.filter(
        recipient_id=member_id,
        type=Notification.Type.INVITATION_RECEIVED,
        subject_type="invitation",
        subject_id__in=invitation_ids,
        read_at__isnull=True,
    ).update(read_at=now)


def _ignore_many(member_id: int, ids: list[int], now: datetime) -> list[int]:
    claimed = [pk for pk, _ in _claim(member_id, ids, Invitation.Status.IGNORED, now)]
    if claimed:
        _subjects_read(member_id, claimed, now)
    return claimed


def _accept_many(member_id: int, ids: list[int], now: datetime) -> list[int]:
    """``_accept`` for many invitations to one member, in the caller's transaction,
    in about a dozen statements whatever their number."""
    claimed = _claim(member_id, ids, Invitation.Status.ACCEPTED, now)
    if not claimed:
        return []
    inviters = sorted({sender for _, sender in claimed})
    connected = set(
        Connection.objects.filter(member_id=member_id, other_id__in=inviters).values_list(
            "other_id", flat=True
        )
    )
    new = [other for other in inviters if other not in connected]
    if new:
        Connection.objects.bulk_create(
            [Connection(member_id=member_id, other_id=o, created_at=now) for o in new]
            + [Connection(member_id=o, other_id=member_id, created_at=now) for o in new],
            ignore_conflicts=True,
        )
        Member.objects.filter(pk=member_id).update(
            connections_count=F("connections_count") + len(new)
        )
        Member.objects.filter(pk__in=new).update(connections_count=F("connections_count") + 1)
    _follow_both_many(member_id, inviters)
    contacts_add(member_id=member_id, other_ids=inviters, why=Contact.Why.CONNECTED, at=now)
    contacts_add_to(other_id=member_id, member_ids=inviters, why=Contact.Why.CONNECTED, at=now)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=sender,
                type=Notification.Type.INVITATION_ACCEPTED,
                actor_id=member_id,
                subject_type="invitation",
                subject_id=pk,
                created_at=now,
            )
            for pk, sender in claimed
        ]
    )
    publish_on_commit(inviters, {"type": "notification", "kind": "invitation_accepted"})
    accepted = [pk for pk, _ in claimed]
    _subjects_read(member_id, accepted, now)
    return accepted


def _follow_both_many(member_id: int, others: list[int]) -> None:
    """``member_id`` and each of ``others`` follow each other (``_follow`` both ways),
    with the followers' counts, in a fixed number of statements."""
    following = set(
        Follow.objects.filter(follower_id=member_id, followee_id__in=others).values_list(
            "followee_id", flat=True
        )
    )
    followed_by = set(
        Follow.objects.filter(followee_id=member_id, follower_id__in=others).values_list(
            "follower_id", flat=True
        )
    )
    to_follow = [o for o in others if o not in following]
    to_be_followed = [o for o in others if o not in followed_by]
    Follow.objects.bulk_create(
        [Follow(follower_id=member_id, followee_id=o) for o in to_follow]
        + [Follow(follower_id=o, followee_id=member_id) for o in to_be_followed],
        ignore_conflicts=True,
    )
    if to_follow:
        Member.objects.filter(pk__in=to_follow).update(followers_count=F("followers_count") + 1)
    if to_be_followed:
        Member.objects.filter(pk=member_id).update(
            followers_count=F("followers_count") + len(to_be_followed)
        )


def connection_create(*, a_id: int, b_id: int, at=None) -> None:
    """Connect two members (both rows), and make each follow the other. Idempotent."""
    at = at or timezone.now()
    with transaction.atomic():
        for member_id, other_id in ((a_id, b_id), (b_id, a_id)):
            _, created = Connection.objects.get_or_create(
                member_id=member_id, other_id=other_id, defaults={"created_at": at}
            )
            if created:
                Member.objects.filter(pk=member_id).update(
                    connections_count=F("connections_count") + 1
                )
            _follow(member_id, other_id)
        contacts_add_both(a_id=a_id, b_id=b_id, why=Contact.Why.CONNECTED, at=at)


def connection_remove(*, member: Member, username: str) -> None:
    """Remove a connection (both directions). Message history is kept; follows stay.

    Raises:
        NotFound: no such member, or not connected.
    """
    other = member_by_username(username)
    with transaction.atomic():
        deleted, _ = Connection.objects.filter(
            Q(member=member, other=other) | Q(member=other, other=member)
        ).delete()
        if not deleted:
            raise NotFound(gettext("You are not connected to this member."), code="not_connected")
        Member.objects.filter(pk__in=[member.pk, other.pk], connections_count__gt=0).update(
            connections_count=F("connections_count") - 1
        )


def _follow(follower_id: int, followee_id: int) -> bool:
    try:
        with transaction.atomic():
            Follow.objects.create(follower_id=follower_id, followee_id=followee_id)
    except IntegrityError:
        return False
    Member.objects.filter(pk=followee_id).update(followers_count=F("followers_count") + 1)
    return True


def _unfollow(follower_id: int, followee_id: int) -> bool:
    deleted, _ = Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).delete()
    if deleted:
        Member.objects.filter(pk=followee_id, followers_count__gt=0).update(
            followers_count=F("followers_count") - 1
        )
    return bool(deleted)


def follow_create(*, member: Member, username: str) -> Member:
    """Follow a member without connecting. Following twice is harmless.

    Raises:
        NotFound, Invalid (yourself), Forbidden (blocked).
    """
    other = member_by_username(username)
    if other.pk == member.pk:
        raise Invalid(gettext("You can not follow yourself."), code="follow_self")
    if queries.block_between(member.pk, other.pk):
        raise Forbidden(gettext("You can not follow this member."), code="blocked")
    with transaction.atomic():
        _follow(member.pk, other.pk)
    other.refresh_from_db(fields=["followers_count", "connections_count"])
    return other


def follow_remove(*, member: Member, username: str) -> Member:
    other = member_by_username(username)
    with transaction.atomic():
        _unfollow(member.pk, other.pk)
    other.refresh_from_db(fields=["followers_count", "connections_count"])
    return other


def block_create(*, member: Member, username: str) -> None:
    """Block a member: removes the connection, follows both ways and pending invitations.

    The blocked member can no longer message or invite the blocker (403), and the
    blocker disappears from their search.
    """
    other = member_by_username(username)
    if other.pk == member.pk:
        raise Invalid(gettext("You can not block yourself."), code="block_self")
    with transaction.atomic():
        try:
            with transaction.atomic():
                Block.objects.create(blocker=member, blocked=other)
        except IntegrityError:
            return
        if Connection.objects.filter(member=member, other=other).exists():
            connection_remove(member=member, username=other.username)
        _unfollow(member.pk, other.pk)
        _unfollow(other.pk, member.pk)
        Invitation.objects.filter(
            pair_low=min(member.pk, other.pk),
            pair_high=max(member.pk, other.pk),
            status=Invitation.Status.PENDING,
        ).update(status=Invitation.Status.WITHDRAWN, responded_at=timezone.now())


def block_remove(*, member: Member, username: str) -> None:
    other = member_by_username(username)
    Block.objects.filter(blocker=member, blocked=other).delete()
