"""A member's calendar settings: keywords, the defaults of imported absences.

Every write takes the member lock that absence writes take, so a settings change,
a sync and a member creating an absence by hand happen one after the other.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.accounts.models import Member
from backsoon.away.actions import MESSAGE_MAX, AbsenceInput, absence_update
from backsoon.away.models import Absence
from backsoon.errors import Invalid

from .models import CalendarFeed, CalendarSettings
from .parse import DEFAULT_KEYWORDS, normalize_keywords

MAX_KEYWORDS = 30
KEYWORD_MAX = 60
DEFAULT_MESSAGES = {
    "en": "I am out of office and back on {return_date}. I will answer your message then.",
    "nl": "Ik ben afwezig en ben terug op {return_date}. Dan beantwoord ik je bericht.",
}


def lock_member(member: Member) -> None:
    """Take the member's row lock (inside a transaction).

    The same lock as absence writes take (``actions._lock_member``): a sync and a
    member creating an absence by hand can not both pass the overlap check.
    """
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()


def calendar_settings_for(member: Member) -> CalendarSettings:
    """The member's calendar settings; defaults (not saved) when they have none yet."""
    found = CalendarSettings.objects.filter(member=member).first()
    if found is not None:
        return found
    return CalendarSettings(
        member=member,
        keywords=list(DEFAULT_KEYWORDS),
        default_message=DEFAULT_MESSAGES.get(member.language, DEFAULT_MESSAGES["en"]),
    )


def settings_for_update(member: Member) -> CalendarSettings:
    """The member's settings row, made with the defaults when missing (inside a transaction)."""
    found = CalendarSettings.objects.select_for_update().filter(member=member).first()
    if found is not None:
        return found
    fresh = calendar_settings_for(member)
    fresh.save(force_insert=True)
    return fresh


def _clean_keywords(keywords: list[str]) -> list[str]:
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise Invalid(gettext("keywords is a list of texts."), code="bad_keywords")
    cleaned = normalize_keywords(keywords)
    if len(cleaned) > MAX_KEYWORDS:
        raise Invalid(
            gettext("At most %(max)s keywords.") % {"max": MAX_KEYWORDS}, code="bad_keywords"
        )
    if too_long := [k for k in cleaned if len(k) > KEYWORD_MAX]:
        raise Invalid(
            gettext("A keyword is at most %(max)s characters: '%(keyword)s'.")
            % {"max": KEYWORD_MAX, "keyword": too_long[0][:80]},
            code="bad_keywords",
        )
    return cleaned


def calendar_settings_update(
    *,
    member: Member,
    keywords: list[str] | None = None,
    default_message: str | None = None,
    default_audience: str | None = None,
) -> CalendarSettings:
    """Change how the member's calendar becomes absences. None leaves a field as it is.

    New keywords apply from the next sync: every feed of the member is due at once.
    A new default message or audience is also given to the imported absences that
    have not ended and still carry the old default (texts the member edited stay).

    Raises:
        Invalid: more than 30 keywords or one over 60 characters, a message over
            2000 characters, an unknown audience.
    """
    fields: dict[str, Any] = {}
    if keywords is not None:
        fields["keywords"] = _clean_keywords(keywords)
    if default_message is not None:
        if len(default_message) > MESSAGE_MAX:
            raise Invalid(
                gettext("The default message is at most %(max)s characters.")
                % {"max": MESSAGE_MAX},
                code="text_too_long",
            )
        fields["default_message"] = default_message
    if default_audience is not None:
        if default_audience not in Absence.Audience.values:
            raise Invalid(
                gettext("audience is one of everyone, connections, nobody."), code="bad_audience"
            )
        fields["default_audience"] = default_audience
    now = timezone.now()
    with transaction.atomic():
        lock_member(member)
        current = settings_for_update(member)
        old_message, old_audience = current.default_message, current.default_audience
        changed = [name for name, value in fields.items() if getattr(current, name) != value]
        for name in changed:
            setattr(current, name, fields[name])
        if changed:
            current.save(update_fields=changed)
        if "keywords" in changed:
            CalendarFeed.objects.filter(member=member).update(last_fetched_at=None)
        if "default_message" in changed or "default_audience" in changed:
            imported = Absence.objects.filter(
                member=member,
                source=Absence.Source.CALENDAR,
                ended_at__isnull=True,
                ends_at__gt=now,
            )
            for absence in imported:
                data = AbsenceInput()
                if "default_message" in changed and absence.message == old_message:
                    data.message = current.default_message
                if "default_audience" in changed and absence.audience == old_audience:
                    data.audience = current.default_audience
                data.given = frozenset(
                    name for name in ("message", "audience") if getattr(data, name) is not None
                )
                if data.given:
                    absence_update(member=member, absence_id=absence.pk, data=data)
    return current
