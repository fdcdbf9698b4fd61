"""Web forms for the network pages. They only parse input; the actions validate and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import NOTE_MAX


class InviteForm(forms.Form):
    username = forms.CharField(max_length=30, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Add a note (optional)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "maxlength": NOTE_MAX,
                "placeholder": _("We met at ... I would like to add you to my network."),
            }
        ),
    )


class ConnectionSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, strip=True)
