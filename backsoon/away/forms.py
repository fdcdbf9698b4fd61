"""Web forms for the out-of-office pages. They parse input; the actions validate and write.

Times are entered in the member's own time zone: whole days by default (AWAY-SPEC A2,
turned into a UTC window by ``rules.whole_days_window``), or exact wall-clock times.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .actions import LANGUAGES, MESSAGE_MAX, AbsenceInput
from .models import Absence
from .rules import MAX_REPEAT_AFTER_DAYS, last_day_away, whole_days_window

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"

AUDIENCE_CHOICES = [
    (Absence.Audience.EVERYONE, _("Everyone")),
    (Absence.Audience.CONNECTIONS, _("My connections")),
    (Absence.Audience.NOBODY, _("Nobody")),
]
AUDIENCE_HELP = {
    Absence.Audience.EVERYONE: _("Everyone who writes to you gets your automatic reply."),
    Absence.Audience.CONNECTIONS: _(
        "Only your connections get your message; others get the text for others below, if any."
    ),
    Absence.Audience.NOBODY: _("No automatic replies. Your profile still shows that you are away."),
}
INVITATION_CHOICES = [
    (Absence.InvitationPolicy.HOLD, _("Keep invitations until I am back")),
    (
        Absence.InvitationPolicy.AUTO_ACCEPT_MUTUAL,
        _("Accept invitations from people who share at least 3 connections with you"),
    ),
]
INVITATION_HELP = {
    Absence.InvitationPolicy.HOLD: _(
        "They wait, never expire, and are listed in your digest when you return."
    ),
    Absence.InvitationPolicy.AUTO_ACCEPT_MUTUAL: _("Every other invitation waits for your return."),
}
OUT_OF_RANGE = _("Choose a date in this century.")
WINDOW_FIELDS = {"first_day", "last_day", "exact_times", "starts_at", "ends_at"}
PREVIEW_LANGUAGES = [("en", "English"), ("nl", "Nederlands")]


@dataclass(frozen=True)
class PreviewValues:
    """What the live preview needs from a form, valid or not (missing parts are empty)."""

    message: str = ""
    translations: dict[str, str] = field(default_factory=dict)
    audience: str = Absence.Audience.EVERYONE
    others_message: str = ""
    others_translations: dict[str, str] = field(default_factory=dict)
    backup: str = ""
    window: tuple[datetime, datetime] | None = None
    language: str = ""


def _repeat_choices() -> list[tuple[str, str]]:
    choices = [("", str(_("Once per absence")))]
    for days in range(1, MAX_REPEAT_AFTER_DAYS + 1):
        label = ngettext("Again after %(days)d day", "Again after %(days)d days", days)
        choices.append((str(days), label % {"days": days}))
    return choices


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time as typed in a ``datetime-local`` input, without a zone.

    Django's own field would read it in the active time zone; this form reads it in
    the member's time zone explicitly (see ``AbsenceForm.clean``), so the result does
    not depend on which middleware ran.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT)

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is not None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.strftime(LOCAL_INPUT_FORMAT)
        return value


def _textarea(rows: int, placeholder: Any = "") -> forms.Textarea:
    attrs: dict[str, Any] = {"rows": rows}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


class AbsenceForm(forms.Form):
    """Schedule or edit an absence, in the member's time zone (``tz_name``)."""

    first_day = forms.DateField(
        label=_("First day away"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last_day = forms.DateField(
        label=_("Last day away"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    exact_times = forms.BooleanField(label=_("Exact times"), required=False)
    starts_at = LocalDateTimeField(label=_("Away from"), required=False)
    ends_at = LocalDateTimeField(label=_("Back at"), required=False)
    message = forms.CharField(
        label=_("Automatic reply"),
        required=False,
        max_length=MESSAGE_MAX,
        widget=_textarea(
            6,
            _(
                "Hi {first_name}, I am away and back on {return_date}. "
                "For anything urgent, please contact {backup}."
            ),
        ),
    )
    message_en = forms.CharField(
        label=_("In English"), required=False, max_length=MESSAGE_MAX, widget=_textarea(4)
    )
    message_nl = forms.CharField(
        label=_("In Dutch"), required=False, max_length=MESSAGE_MAX, widget=_textarea(4)
    )
    audience = forms.ChoiceField(
        label=_("Who gets an automatic reply"),
        choices=AUDIENCE_CHOICES,
        initial=Absence.Audience.EVERYONE,
        widget=forms.RadioSelect,
    )
    others_message = forms.CharField(
        label=_("Text for people who are not your connections (optional)"),
        required=False,
        max_length=MESSAGE_MAX,
        widget=_textarea(3, _("I am out of the office and back on {return_date}.")),
    )
    others_message_en = forms.CharField(
        label=_("In English"), required=False, max_length=MESSAGE_MAX, widget=_textarea(3)
    )
    others_message_nl = forms.CharField(
        label=_("In Dutch"), required=False, max_length=MESSAGE_MAX, widget=_textarea(3)
    )
    backup = forms.CharField(
        label=_("Backup contact (optional)"),
        required=False,
        max_length=31,
        widget=forms.TextInput(
            attrs={
                "list": "away-backup-options",
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "placeholder": _("username"),
            }
        ),
    )
    invitations = forms.ChoiceField(
        label=_("Invitations while you are away"),
        choices=INVITATION_CHOICES,
        initial=Absence.InvitationPolicy.HOLD,
        widget=forms.RadioSelect,
    )
    repeat_after_days = forms.TypedChoiceField(
        label=_("Reply to the same person"),
        choices=_repeat_choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    # Not stored: which language the preview shows the reply in.
    preview_language = forms.ChoiceField(
        label=_("Their language"), choices=PREVIEW_LANGUAGES, required=False
    )

    def __init__(self, *args: Any, tz_name: str, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz_name = tz_name
        # One box per language, the member's own first: ``message`` and
        # ``others_message`` are written in it (R7); the others are translations.
        self.language = language if language in LANGUAGES else "en"
        own = {"en": _("English"), "nl": _("Dutch")}[self.language]
        self.fields["message"].label = _("Automatic reply in %(language)s") % {"language": own}
        self.fields["others_message"].label = _(
            "Text for people who are not your connections, in %(language)s (optional)"
        ) % {"language": own}
        for prefix in ("message", "others_message"):
            del self.fields[f"{prefix}_{self.language}"]

    @property
    def other_languages(self) -> list[str]:
        """The translation languages, after the member's own."""
        return [lang for lang in LANGUAGES if lang != self.language]

    @property
    def message_boxes(self) -> list[Any]:
        """The reply's boxes, one per language, the member's own first."""
        return [self["message"], *(self[f"message_{lang}"] for lang in self.other_languages)]

    @property
    def others_boxes(self) -> list[Any]:
        """The boxes of the text for others, one per language, the member's own first."""
        return [
            self["others_message"],
            *(self[f"others_message_{lang}"] for lang in self.other_languages),
        ]

    # -- presentation helpers for the template ----------------------------------------

    @property
    def audience_options(self) -> list[tuple[Any, Any]]:
        return [(radio, AUDIENCE_HELP.get(radio.data["value"], "")) for radio in self["audience"]]

    @property
    def invitation_options(self) -> list[tuple[Any, Any]]:
        return [
            (radio, INVITATION_HELP.get(radio.data["value"], "")) for radio in self["invitations"]
        ]

    @property
    def translations_open(self) -> bool:
        """Show the translation boxes unfolded when they hold text or an error."""
        names = [f"message_{lang}" for lang in self.other_languages]
        if any(self[name].errors for name in names):
            return True
        return any((self[name].value() or "").strip() for name in names)

    @property
    def uses_exact_times(self) -> bool:
        return bool(self["exact_times"].value())

    # -- parsing ----------------------------------------------------------------------

    def clean_backup(self) -> str:
        value: str = self.cleaned_data.get("backup") or ""
        return value.strip().lstrip("@").lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            window = self._window(data)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                for error in errors:
                    self.add_error(field, error)
        else:
            data["window"] = window
        return data

    def _window(self, data: dict[str, Any]) -> tuple[datetime, datetime]:
        """The UTC window ``[start, end)`` the member chose (A2), or a ValidationError."""
        if data.get("exact_times"):
            start, end = data.get("starts_at"), data.get("ends_at")
            errors: dict[str, Any] = {}
            if start is None and "starts_at" not in self.errors:
                errors["starts_at"] = _("When do you leave?")
            if end is None and "ends_at" not in self.errors:
                errors["ends_at"] = _("When are you back?")
            if errors or start is None or end is None:
                raise ValidationError(errors)
            tz = ZoneInfo(self.tz_name)
            # A wall-clock time that occurs twice (the autumn DST change) is read as
            # the first occurrence; one that does not exist moves forward by the gap.
            try:
                start_utc = start.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))
                end_utc = end.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))
            except OverflowError:  # year 1 or 9999: off the calendar in UTC
                raise ValidationError({"ends_at": OUT_OF_RANGE}) from None
            if end_utc <= start_utc:
                raise ValidationError({"ends_at": _("Your return must be after you leave.")})
            return start_utc, end_utc
        first, last = data.get("first_day"), data.get("last_day")
        errors = {}
        if first is None and "first_day" not in self.errors:
            errors["first_day"] = _("Choose your first day away.")
        if last is None and "last_day" not in self.errors:
            errors["last_day"] = _("Choose your last day away.")
        if errors or first is None or last is None:
            raise ValidationError(errors)
        if last < first:
            raise ValidationError({"last_day": _("The last day can not be before the first day.")})
        try:
            return whole_days_window(first, last, self.tz_name)
        except OverflowError:
            raise ValidationError({"last_day": OUT_OF_RANGE}) from None

    def preview_values(self) -> PreviewValues:
        """The values to preview: the valid part of a bound form, else the initial values."""
        if self.is_bound:
            self.is_valid()
            data = dict(self.cleaned_data)
        else:
            data = {
                name: self.get_initial_for_field(field, name) for name, field in self.fields.items()
            }
            with contextlib.suppress(ValidationError):  # no dates yet: no window
                data["window"] = self._window(data)
        return PreviewValues(
            message=data.get("message") or "",
            translations={lang: data.get(f"message_{lang}") or "" for lang in self.other_languages},
            audience=data.get("audience") or Absence.Audience.EVERYONE,
            others_message=data.get("others_message") or "",
            others_translations={
                lang: data.get(f"others_message_{lang}") or "" for lang in self.other_languages
            },
            backup=(data.get("backup") or "").strip().lstrip("@").lower(),
            window=data.get("window"),
            language=data.get("preview_language") or "",
        )

    @property
    def window_field(self) -> str:
        """The field that shows errors about the window as a whole (A3)."""
        return "ends_at" if self.uses_exact_times else "last_day"

    def to_input(self, *, current: Absence | None = None) -> AbsenceInput:
        """The cleaned form as an action input.

        Args:
            current: the absence being edited. Its window is only given when the
                member changed a date or time field, so editing the text of an
                active absence leaves its times exactly as they were.
        """
        data = self.cleaned_data
        starts_at, ends_at = data["window"]
        given = {
            "message",
            "translations",
            "audience",
            "others_message",
            "others_translations",
            "backup",
            "repeat_after_days",
            "invitations",
        }
        if current is None or set(self.changed_data) & WINDOW_FIELDS:
            given |= {"starts_at", "ends_at"}
        return AbsenceInput(
            starts_at=starts_at,
            ends_at=ends_at,
            message=data["message"],
            translations={lang: data[f"message_{lang}"] for lang in self.other_languages},
            audience=data["audience"],
            others_message=data["others_message"],
            others_translations={
                lang: data[f"others_message_{lang}"] for lang in self.other_languages
            },
            backup=data["backup"],
            repeat_after_days=data["repeat_after_days"],
            invitations=data["invitations"],
            given=frozenset(given),
        )


def is_whole_days(starts_at: datetime, ends_at: datetime, tz_name: str) -> bool:
    """Whether ``[starts_at, ends_at)`` runs from midnight to midnight in ``tz_name``."""
    tz = ZoneInfo(tz_name)
    midnight = time(0, 0)
    return (
        starts_at.astimezone(tz).timetz().replace(tzinfo=None) == midnight
        and ends_at.astimezone(tz).timetz().replace(tzinfo=None) == midnight
    )


def initial_for(absence: Absence, tz_name: str, language: str) -> dict[str, Any]:
    """The form's initial values for editing ``absence``, in the member's time zone."""
    tz = ZoneInfo(tz_name)
    translations = absence.translations or {}
    others = absence.others_translations or {}
    start_local = absence.starts_at.astimezone(tz)
    initial: dict[str, Any] = {
        # The own language's box shows its translation when one was set apart.
        "message": translations.get(language) or absence.message,
        "message_en": translations.get("en", ""),
        "message_nl": translations.get("nl", ""),
        "audience": absence.audience,
        "others_message": others.get(language) or absence.others_message,
        "others_message_en": others.get("en", ""),
        "others_message_nl": others.get("nl", ""),
        "backup": absence.backup.username if absence.backup else "",
        "invitations": absence.invitations,
        "repeat_after_days": absence.repeat_after_days or "",
        "preview_language": language,
        "first_day": start_local.date(),
        "last_day": last_day_away(absence.ends_at, tz_name),
        # Minutes, as a datetime-local input shows them: an untouched input then
        # counts as unchanged (see ``AbsenceForm.to_input``).
        "starts_at": start_local.replace(tzinfo=None, second=0, microsecond=0),
        "ends_at": absence.ends_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0),
    }
    initial["exact_times"] = not is_whole_days(absence.starts_at, absence.ends_at, tz_name)
    return initial


def initial_for_new(today: date, language: str) -> dict[str, Any]:
    """A new absence: whole days, starting today; the member picks the last day."""
    return {"first_day": today, "preview_language": language}
