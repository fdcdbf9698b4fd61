"""Web forms for messaging. They only parse input; the actions validate and write."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import BODY_MAX, GROUP_MAX_OTHERS, SUBJECT_MAX

_SEPARATORS = re.compile(r"[\s,;]+")


def parse_usernames(text: str) -> list[str]:
    """Usernames typed as "alice, @bob carol": lower-cased, without '@', duplicates dropped."""
    seen: dict[str, None] = {}
    for part in _SEPARATORS.split(text or ""):
        name = part.strip().lstrip("@").lower()
        if name:
            seen.setdefault(name, None)
    return list(seen)


def new_client_key() -> str:
    return uuid.uuid4().hex


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Write a message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(
            attrs={"rows": 3, "maxlength": BODY_MAX, "placeholder": _("Write a message…")}
        ),
    )
    # An idempotency key per rendered form: a double submit stores one message.
    client_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("client_key", new_client_key())
        super().__init__(*args, **kwargs)


class UsernamesField(forms.Field):
    """Several usernames from repeated inputs (checkboxes); the actions check they exist."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [u for v in value for u in parse_usernames(str(v))]


class NewConversationForm(forms.Form):
    """One member (1:1, reusing the existing conversation) or several (a group)."""

    connections = UsernamesField(label=_("Your connections"), required=False)
    to = forms.CharField(
        label=_("To"),
        required=False,
        max_length=2000,
        help_text=_("Usernames, separated by commas or spaces."),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. alice, bob"), "autocomplete": "off"}),
    )
    subject = forms.CharField(
        label=_("Subject (groups only, optional)"), required=False, max_length=SUBJECT_MAX
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(
            attrs={"rows": 5, "maxlength": BODY_MAX, "placeholder": _("Write a message…")}
        ),
    )
    client_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("client_key", new_client_key())
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        data = super().clean() or {}
        picked = [*data.get("connections", []), *parse_usernames(data.get("to", ""))]
        usernames = list(dict.fromkeys(picked))
        if not usernames:
            raise forms.ValidationError(_("Pick at least one member to write to."))
        if len(usernames) > GROUP_MAX_OTHERS:
            raise forms.ValidationError(
                _("A group has at most %(n)s other members.") % {"n": GROUP_MAX_OTHERS}
            )
        data["usernames"] = usernames
        return data


class AddMembersForm(forms.Form):
    to = forms.CharField(
        label=_("Add people"),
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("Usernames, e.g. alice, bob")}),
    )

    def clean_to(self) -> list[str]:
        usernames = parse_usernames(self.cleaned_data["to"])
        if not usernames:
            raise forms.ValidationError(_("Name at least one member."))
        return usernames


class SavedReplyForm(forms.Form):
    """A saved reply (TRIAGE C3); the rules are ``actions.saved_reply_create``'s."""

    name = forms.CharField(label=_("Name"), max_length=100)
    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX,
        help_text=_("{first_name} becomes the first name of the member you reply to."),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": BODY_MAX}),
    )
