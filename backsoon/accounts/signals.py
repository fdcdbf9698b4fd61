"""Receivers of Django's auth signals."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import update_last_login
from django.db import DatabaseError, transaction

from backsoon.db.failures import database_unavailable

log = logging.getLogger(__name__)


def last_login_update(sender: Any, user: Any, **kwargs: Any) -> None:
    """Django's ``update_last_login``, skipped while the database refuses writes: the
    time of a sign-in is not worth refusing the sign-in for."""
    try:
        with transaction.atomic():
            update_last_login(sender, user, **kwargs)
    except DatabaseError as exc:
        if not database_unavailable(exc):
            raise
        log.warning("database unavailable: last_login of %s not updated", user.pk)
