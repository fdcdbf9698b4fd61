"""Helpers to show domain errors on web forms."""

from __future__ import annotations

from django import forms

from backsoon.errors import DomainError

# Which form field a domain error code belongs to; others go to the form as a whole.
FIELD_FOR_CODE = {
    "invalid_username": "username",
    "username_taken": "username",
    "invalid_email": "email",
    "email_taken": "email",
    "weak_password": "password",
    "invalid_display_name": "display_name",
    "invalid_headline": "headline",
    "invalid_language": "language",
    "invalid_timezone": "timezone",
}


def error_text(exc: DomainError) -> str:
    """The human readable part of a domain error (some carry a dict with a message)."""
    detail = exc.detail
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("detail") or exc.code)
    return str(detail)


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    field = FIELD_FOR_CODE.get(exc.code)
    if field not in form.fields:
        field = None
    form.add_error(field, error_text(exc))
