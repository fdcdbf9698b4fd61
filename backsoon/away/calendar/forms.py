"""Web forms of the calendar page. They only parse input; the actions validate and write."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from backsoon.away.actions import MESSAGE_MAX
from backsoon.away.choices import Audience

from .fetch import FEED_URL_MAX, MAX_ICS_BYTES


class CalendarUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Calendar file (.ics)"),
        help_text=_(
            "Export your calendar from Outlook, Google Calendar, Apple Calendar or "
            "Nextcloud; at most 2 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_ICS_BYTES:
            raise forms.ValidationError(_("A calendar file is at most 2 MB."), code="too_large")
        return upload


class CalendarFeedForm(forms.Form):
    url = forms.CharField(
        label=_("Feed address"),
        max_length=FEED_URL_MAX,
        help_text=_(
            "The secret ICS or webcal address your calendar app shares. Fetched every 15 minutes."
        ),
        widget=forms.TextInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )


class CalendarSettingsForm(forms.Form):
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        help_text=_("One per line. An event whose title contains one of them is an absence."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    default_message = forms.CharField(
        label=_("Message for imported absences"),
        required=False,
        max_length=MESSAGE_MAX,
        help_text=_(
            "{first_name}, {return_date} and {backup} are filled in. Empty: no automatic replies."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX}),
    )
    default_audience = forms.ChoiceField(
        label=_("Who gets the automatic reply"),
        choices=[
            (Audience.EVERYONE, _("Everyone")),
            (Audience.CONNECTIONS, _("My connections only")),
            (Audience.NOBODY, _("Nobody (only the away badge)")),
        ],
    )

    def clean_keywords(self) -> list[str]:
        text = self.cleaned_data.get("keywords") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]
