"""Every write about absences, and the claim of an automatic reply (R6) for message_send."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.accounts.queries import member_by_username
from backsoon.errors import Conflict, Invalid, NotFound
from backsoon.notifications.actions import notification_add
from backsoon.notifications.models import Notification

from . import queries, storage
from .models import Absence
from .rules import (
    MAX_REPEAT_AFTER_DAYS,
    MAX_START_AHEAD_DAYS,
    ReplyPlan,
    missing_placeholder_values,
    window_problem,
)

log = logging.getLogger(__name__)

MESSAGE_MAX = 2000
LANGUAGES = ("en", "nl")
TEXT_FIELDS = ("message", "translations", "others_message", "others_translations")


@dataclass
class AbsenceInput:
    """Absence fields as given by a client; None means "not given" (for PATCH)."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    message: str | None = None
    translations: dict[str, str] | None = None
    audience: str | None = None
    others_message: str | None = None
    others_translations: dict[str, str] | None = None
    backup: str | None = None  # username; "" clears it
    repeat_after_days: int | None = None
    invitations: str | None = None
    given: frozenset[str] = frozenset()


def _clean(member: Member, data: AbsenceInput) -> dict[str, Any]:
    """Validate the given fields (A3, R3, R4) and return model field values."""
    fields: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if name in data.given:
            if value is None:
                raise Invalid(
                    gettext("%(name)s is required.") % {"name": name}, code="invalid_window"
                )
            if timezone.is_naive(value):
                raise Invalid(
                    gettext("%(name)s needs a time zone offset, such as +01:00 or Z.")
                    % {"name": name},
                    code="naive_datetime",
                )
            fields[name] = value.astimezone(UTC)
    for name in ("message", "others_message"):
        if name in data.given:
            text = getattr(data, name) or ""
            if len(text) > MESSAGE_MAX:
                raise Invalid(
                    gettext("%(name)s is at most %(max)s characters.")
                    % {"name": name, "max": MESSAGE_MAX},
                    code="text_too_long",
                )
            fields[name] = text
    for name in ("translations", "others_translations"):
        if name in data.given:
            fields[name] = _clean_translations(getattr(data, name) or {})
    if "audience" in data.given:
        if data.audience not in Absence.Audience.values:
            raise Invalid(
                gettext("audience is one of everyone, connections, nobody."), code="bad_audience"
            )
        fields["audience"] = data.audience
    if "invitations" in data.given:
        if data.invitations not in Absence.InvitationPolicy.values:
            raise Invalid(
                gettext("invitations is one of hold, auto_accept_mutual."),
                code="bad_invitation_policy",
            )
        fields["invitations"] = data.invitations
    if "repeat_after_days" in data.given:
        days = data.repeat_after_days
        if days is not None and not 1 <= days <= MAX_REPEAT_AFTER_DAYS:
            raise Invalid(
                gettext("repeat_after_days is 1 to %(max)s, or null.")
                % {"max": MAX_REPEAT_AFTER_DAYS},
                code="bad_repeat",
            )
        fields["repeat_after_days"] = days
    if "backup" in data.given:
        if data.backup:
            try:
                backup = member_by_username(data.backup)
            except NotFound:
                raise Invalid(
                    gettext("The backup contact is not a member."), code="bad_backup"
                ) from None
            if backup.pk == member.pk:
                raise Invalid(gettext("You can not be your own backup."), code="bad_backup")
            fields["backup"] = backup
        else:
            fields["backup"] = None
    return fields


def _clean_translations(translations: dict[str, str]) -> dict[str, str]:
    """R7: texts per language, for 'en' and 'nl' only; empty ones dropped."""
    unknown = set(translations) - set(LANGUAGES)
    if unknown:
        raise Invalid(
            gettext("Translations are for 'en' and 'nl' only, not %(languages)s.")
            % {"languages": sorted(unknown)},
            code="bad_translation",
        )
    for lang, text in translations.items():
        if not isinstance(text, str) or len(text) > MESSAGE_MAX:
            raise Invalid(
                gettext("The '%(language)s' translation is text of at most %(max)s characters.")
                % {"language": lang, "max": MESSAGE_MAX},
                code="bad_translation",
            )
    return {k: v for k, v in translations.items() if v.strip()}


def _check_placeholders(absence: Absence) -> None:
    """A reply that would read wrong can not be saved: ``{backup}`` needs a backup.

    Raises:
        Invalid: (code ``empty_placeholder``) a placeholder would be filled with nothing.
    """
    texts = [
        absence.message,
        absence.others_message,
        *(absence.translations or {}).values(),
        *(absence.others_translations or {}).values(),
    ]
    backup = absence.backup.username if absence.backup_id and absence.backup else ""
    if any(missing_placeholder_values(text, backup=backup) for text in texts):
        raise Invalid(
            gettext(
                "Your text uses {backup} but you chose no backup contact: choose one, "
                "or take {backup} out of the text."
            ),
            code="empty_placeholder",
        )


def _lock_member(member: Member) -> None:
    # Serialises absence writes of one member, so two concurrent creations can not
    # both pass the overlap check (SQLite serialises writers anyway).
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()


def _check_overlap(member: Member, starts_at: datetime, ends_at: datetime, exclude_id=None) -> None:
    other = queries.overlapping(member.pk, starts_at, ends_at, exclude_id=exclude_id)
    if other is not None:
        raise Conflict(
            {
                "message": gettext("This absence overlaps another one (%(start)s to %(end)s).")
                % {"start": other.starts_at.isoformat(), "end": other.effective_end.isoformat()},
                "absence_id": other.pk,
            },
            code="absence_overlap",
        )


def _window_problem(starts_at: datetime, ends_at: datetime, now: datetime) -> str | None:
    """A3 with the start at most ``settings.ABSENCE_MAX_START_AHEAD_DAYS`` ahead."""
    ahead = getattr(settings, "ABSENCE_MAX_START_AHEAD_DAYS", MAX_START_AHEAD_DAYS)
    return window_problem(starts_at, ends_at, now, max_start_ahead_days=ahead)


def absence_create(
    *, member: Member, data: AbsenceInput, source: str = Absence.Source.MANUAL
) -> Absence:
    """Schedule an absence.

    Raises:
        Invalid: a bad field or window (A3).
        Conflict: it overlaps another absence of the member (A3).
    """
    required = {"starts_at", "ends_at"}
    if missing := required - data.given:
        raise Invalid(
            gettext("Missing: %(fields)s.") % {"fields": ", ".join(sorted(missing))},
            code="invalid_window",
        )
    fields = _clean(member, data)
    now = timezone.now()
    if problem := _window_problem(fields["starts_at"], fields["ends_at"], now):
        raise Invalid(problem, code="invalid_window")
    _check_placeholders(Absence(member=member, **fields))
    with transaction.atomic():
        _lock_member(member)
        _check_overlap(member, fields["starts_at"], fields["ends_at"])
        absence = Absence.objects.create(member=member, created_at=now, source=source, **fields)
    absence.member = member
    return absence


def absence_update(*, member: Member, absence_id: int, data: AbsenceInput) -> Absence:
    """Change an absence that has not ended. Editing any reply text starts the
    once-per-sender record over (R3).

    Raises:
        NotFound, Invalid, Conflict (ended already, or the new window overlaps).
    """
    fields = _clean(member, data)
    now = timezone.now()
    with transaction.atomic():
        _lock_member(member)
        absence = queries.absence_for_member(member, absence_id)
        if absence.state(now) == "ended":
            raise Conflict(gettext("An ended absence can not be changed."), code="absence_ended")
        starts_at = fields.get("starts_at", absence.starts_at)
        ends_at = fields.get("ends_at", absence.ends_at)
        if "starts_at" in fields or "ends_at" in fields:
            if absence.state(now) == "active" and starts_at > now:
                raise Invalid(
                    gettext("An active absence can not start in the future: end it instead."),
                    code="invalid_window",
                )
            if problem := _window_problem(starts_at, ends_at, now):
                raise Invalid(problem, code="invalid_window")
            _check_overlap(member, starts_at, ends_at, exclude_id=absence.pk)
        changed = [name for name, value in fields.items() if getattr(absence, name) != value]
        for name in changed:
            setattr(absence, name, fields[name])
        if changed:
            _check_placeholders(absence)
        if any(name in TEXT_FIELDS for name in changed):
            absence.message_version += 1
            changed.append("message_version")
        if changed:
            absence.save(update_fields=changed)
    return absence


def absence_end(*, member: Member, absence_id: int) -> Absence | None:
    """End an absence now (back early): no automatic reply, badge or notice afterwards (A4).

    A scheduled absence (not started yet) is cancelled: deleted, as ``absence_delete``
    does, rather than given an ``ended_at`` before its start (issue 14, finding 3).

    Returns:
        The ended absence, or None when a scheduled one was cancelled.

    Raises:
        NotFound, Conflict (it has ended already).
    """
    now = timezone.now()
    with transaction.atomic():
        absence = queries.absence_for_member(member, absence_id)
        state = absence.state(now)
        if state == "ended":
            raise Conflict(gettext("This absence has ended already."), code="absence_ended")
        if state == "scheduled":
            absence.delete()
            return None
        absence.ended_at = now
        absence.save(update_fields=["ended_at"])
        absence_welcome_back(absence=absence)
    return absence


def absence_delete(*, member: Member, absence_id: int) -> None:
    """Delete a scheduled absence; an active one is ended instead and kept (A4).

    Raises:
        NotFound, Conflict (ended absences stay in the history).
    """
    now = timezone.now()
    with transaction.atomic():
        absence = queries.absence_for_member(member, absence_id)
        state = absence.state(now)
        if state == "ended":
            raise Conflict(
                gettext("Ended absences stay in your history with their digest."),
                code="absence_ended",
            )
        if state == "active":
            absence_end(member=member, absence_id=absence.pk)
        else:
            absence.delete()


def absence_welcome_back(*, absence: Absence) -> None:
    """D2: one "welcome back" notification per absence, pointing to its digest."""
    claimed = Absence.objects.filter(pk=absence.pk, welcomed_at__isnull=True).update(
        welcomed_at=timezone.now()
    )
    if claimed:
        notification_add(
            recipient_id=absence.member_id,
            type=Notification.Type.WELCOME_BACK,
            actor_id=None,
            subject_type="absence",
            subject_id=absence.pk,
        )


def absence_remind_if_away(*, absence_id: int, member_id: int) -> None:
    """D3: the away member sent a normal message; remind them the absence is still on.

    One unread reminder per absence at a time (grouped).
    """
    notification_add(
        recipient_id=member_id,
        type=Notification.Type.ABSENCE_REMINDER,
        actor_id=None,
        subject_type="absence",
        subject_id=absence_id,
        group_key=f"absence-reminder:{absence_id}",
    )


def auto_reply_claim(plan: ReplyPlan) -> bool:
    """Take the right to send a planned reply (R6): True for exactly one transaction.

    ``message_send`` calls this inside its transaction, in the savepoint that holds
    the reply (R5), and writes the reply itself when it gets True.
    """
    return storage.reply_claim(
        absence_id=plan.absence_id,
        sender_id=plan.sender_id,
        message_version=plan.message_version,
        record_id=plan.record_id,
        last_sent_at=plan.last_sent_at,
        at=plan.at,
    )


def digest_invitations_respond(
    *,
    member: Member,
    absence_id: int,
    accept: bool,
    ids: list[int] | None = None,
    min_mutual: int | None = None,
    max_mutual: int | None = None,
    label: str | None = None,
    has_note: bool | None = None,
    rest: bool = False,
    likely: bool = False,
) -> list[int]:
    """Accept or ignore, in bulk, pending invitations listed in an absence's digest
    (I3, TRIAGE C2, C4): those received in the absence's window and still pending.

    Args:
        ids: only these invitations (others in the list that are not in the digest
            are skipped).
        min_mutual, max_mutual: only invitations from members sharing at least / at
            most this many connections ("accept all from people with 3+ mutual").
        label: only invitations carrying this label (TRIAGE L1-L5).
        has_note: only those with (True) or without (False) a personal note.
        rest: every pending one of the window ("ignore the rest").
        likely: those from people the member likely knows: at least one mutual
            connection, or a personal note that is not a mass note (TRIAGE C5's
            decision, one action).

    Returns:
        The ids of the invitations answered: those that matched when asked, each
        answered through the network app's one path, in chunks of ``CHUNK``.

    Raises:
        NotFound: not the member's absence.
        Invalid: no selection at all.
    """
    from backsoon.db.chunks import CHUNK
    from backsoon.network.actions import invitations_bulk_respond
    from backsoon.network.models import Invitation
    from backsoon.network.queries import invitations_filtered

    from .digest import window_of

    filters = (min_mutual, max_mutual, label, has_note)
    if ids is None and all(f is None for f in filters) and not rest and not likely:
        raise Invalid(
            gettext("Choose invitations, or a minimum of mutual connections."), code="no_selection"
        )
    absence = queries.absence_for_member(member, absence_id)
    start, end = window_of(absence)
    pending = Invitation.objects.filter(
        to_member=member,
        status=Invitation.Status.PENDING,
        created_at__gte=start,
        created_at__lt=end,
    )
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    pending = invitations_filtered(
        pending,
        member_id=member.pk,
        box="received",
        label=label,
        min_mutual=min_mutual,
        max_mutual=max_mutual,
        has_note=has_note,
    )
    # What matches now, read once: accepting adds connections, and with them mutual
    # ones, so reading chunk after chunk would let the filter grow while it runs.
    chosen = list(pending.order_by("pk").values_list("pk", flat=True))
    if likely:
        mutual = invitations_filtered(
            pending,
            member_id=member.pk,
            box="received",
            label=None,
            min_mutual=1,
            max_mutual=None,
            has_note=None,
        )
        noted = pending.filter(note__gt="").exclude(label_codes__contains=",mass,")
        chosen = sorted(
            set(mutual.values_list("pk", flat=True)) | set(noted.values_list("pk", flat=True))
        )
    done: list[int] = []
    for at in range(0, len(chosen), CHUNK):
        answered = invitations_bulk_respond(
            member=member, invitation_ids=chosen[at : at + CHUNK], accept=accept
        )
        done.extend(inv.pk for inv in answered)
    return done


def digest_notifications_read(
    *, member: Member, absence_id: int, ids: list[int] | None = None
) -> int:
    """Mark read the member's notifications since the absence began (TRIAGE C4): those
    of ``ids``, or all of them ("mark the rest read"), in chunks.

    Returns:
        How many were marked read.

    Raises:
        NotFound: not the member's absence.
    """
    from backsoon.db.chunks import chunked_ids
    from backsoon.notifications.actions import notifications_mark_read

    absence = queries.absence_for_member(member, absence_id)
    unread = Notification.objects.filter(
        recipient=member, read_at__isnull=True, created_at__gte=absence.starts_at
    )
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    changed = 0
    for chunk in chunked_ids(unread):
        with transaction.atomic():
            changed += notifications_mark_read(member=member, ids=chunk)
    return changed


WELCOME_BACK_WITHIN = timedelta(days=7)
REMIND_BEFORE_END = timedelta(days=1)
REMIND_BEFORE_START = timedelta(days=1)


def _remind_once(absences: Any, claim: str, type: str, group: str, now: datetime) -> int:
    """Notify the member of each of ``absences`` once (D3, D4): the notification goes
    out only with the claim of the absence's ``claim`` field (a conditional UPDATE),
    so two workers never send it twice. Returns how many were sent."""
    sent = 0
    for absence in absences.only("pk", "member_id"):
        with transaction.atomic():
            claimed = Absence.objects.filter(pk=absence.pk, **{f"{claim}__isnull": True}).update(
                **{claim: now}
            )
            if claimed:
                notification_add(
                    recipient_id=absence.member_id,
                    type=type,
                    actor_id=None,
                    subject_type="absence",
                    subject_id=absence.pk,
                    group_key=f"{group}:{absence.pk}",
                )
                sent += 1
    return sent


def absences_notify_due(*, now: datetime) -> dict[str, int]:
    """The worker's periodic pass over absences (D2, D3); safe to run twice or concurrently.

    - "Welcome back" for every absence that ended on time in the last 7 days and has
      not had one (early ends get theirs from absence_end at once).
    - "Ends tomorrow" reminder for every active absence within a day of its end.
    - "Starts tomorrow" reminder (D4) for every scheduled absence within a day of its
      start, created at least a day before it starts.

    Each notification is claimed by a conditional UPDATE of ``welcomed_at`` /
    ``reminded_at`` / ``start_reminded_at``, so two workers never send the same one twice.
    """
    ended = Absence.objects.filter(
        welcomed_at__isnull=True,
        ended_at__isnull=True,
        ends_at__lte=now,
        ends_at__gt=now - WELCOME_BACK_WITHIN,
    )
    welcomed = 0
    for absence in ended.only("pk", "member_id"):
        with transaction.atomic():
            before = Absence.objects.filter(pk=absence.pk, welcomed_at__isnull=True).exists()
            absence_welcome_back(absence=absence)
            welcomed += int(before)
    ending = Absence.objects.filter(queries.active_filter(now)).filter(
        reminded_at__isnull=True, ends_at__lte=now + REMIND_BEFORE_END
    )
    reminded = _remind_once(
        ending, "reminded_at", Notification.Type.ABSENCE_REMINDER, "absence-ends", now
    )
    starting = Absence.objects.filter(
        start_reminded_at__isnull=True,
        ended_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + REMIND_BEFORE_START,
        # Not for an absence planned less than a day ahead: its member just saw it.
        created_at__lte=F("starts_at") - REMIND_BEFORE_START,
    )
    starts = _remind_once(
        starting, "start_reminded_at", Notification.Type.ABSENCE_STARTS, "absence-starts", now
    )
    return {"welcomed": welcomed, "reminded": reminded, "starts": starts}
