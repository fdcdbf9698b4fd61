"""Web forms for members. They only parse input; the actions validate and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .validators import available_timezones


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class SignupForm(forms.Form):
    display_name = forms.CharField(label=_("Full name"), max_length=100)
    username = forms.CharField(
        label=_("Username"),
        max_length=30,
        help_text=_("3 to 30 characters: a-z, 0-9, '_', '.' and '-'."),
    )
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    headline = forms.CharField(label=_("Headline"), max_length=220, required=False)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Full name"), max_length=100)
    headline = forms.CharField(label=_("Headline"), max_length=220, required=False)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("en", "English"), ("nl", "Nederlands")]
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=_timezone_choices)
