"""Web forms for members. They only parse input; the actions validate and write."""

from __future__ import annotations

from typing import Any

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
    work_days = forms.TypedMultipleChoiceField(
        label=_("Days you work"),
        help_text=_("Your out-of-office says you are back on the first of these days."),
        choices=[
            ("1", _("Monday")),
            ("2", _("Tuesday")),
            ("3", _("Wednesday")),
            ("4", _("Thursday")),
            ("5", _("Friday")),
            ("6", _("Saturday")),
            ("7", _("Sunday")),
        ],
        coerce=int,
        required=False,  # none ticked (or an older form): the days stay as they are
        widget=forms.CheckboxSelectMultiple(attrs={"class": "work-days"}),
    )


class CodeForm(forms.Form):
    """A code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6 digits your authenticator app shows, or a recovery code."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def focused(self, *, recovery: bool = True) -> CodeForm:
        """The form as the only field of its page: focused; ``recovery=False`` where a
        recovery code does not count (setting up)."""
        field = self.fields["code"]
        field.widget.attrs["autofocus"] = True
        if not recovery:
            field.help_text = ""
            field.widget.attrs["inputmode"] = "numeric"
        return self


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"), widget=forms.PasswordInput, max_length=128
    )
    new_password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
    )
    new_password_again = forms.CharField(
        label=_("New password, again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


TOKEN_LIFETIMES = [
    (7, _("7 days")),
    (30, _("30 days")),
    (90, _("90 days")),
    (180, _("180 days")),
    (365, _("1 year")),
]


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"), choices=TOKEN_LIFETIMES, coerce=int, initial=90
    )


class TwoFactorDisableForm(forms.Form):
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
