"""System checks of the accounts app (``backsoon manage check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


def security_contact_is_set(**kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when nobody can be told about a vulnerability (SECURITY.md, RFC 9116)."""
    if settings.SECURITY_CONTACT.strip():
        return []
    return [
        checks.Warning(
            "SECURITY_CONTACT is not set: /.well-known/security.txt answers 404 and "
            "nobody knows where to report a vulnerability.",
            hint="Set SECURITY_CONTACT to an email address or an https:// URL.",
            id="backsoon.W001",
        )
    ]
