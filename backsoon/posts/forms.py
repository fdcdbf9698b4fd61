"""Forms of the post pages. Lengths and rules are checked by the actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import COMMENT_MAX, POST_MAX
from .models import Reaction


class PostForm(forms.Form):
    body = forms.CharField(
        label=_("Start a post"),
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "maxlength": POST_MAX,
                "placeholder": _("What do you want to talk about? Mention people with @username."),
            }
        ),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Add a comment"),
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 2, "maxlength": COMMENT_MAX, "placeholder": _("Add a comment…")}
        ),
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class ShareForm(forms.Form):
    comment = forms.CharField(
        label=_("Add your thoughts (optional)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": POST_MAX}),
    )


class ReactionForm(forms.Form):
    type = forms.ChoiceField(choices=Reaction.Type.choices, required=False)
    remove = forms.BooleanField(required=False)
