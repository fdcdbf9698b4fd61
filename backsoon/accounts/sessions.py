"""Sessions in the database, held in a signed cookie while the database refuses writes.

With the disk full or the database read-only, Django's database sessions can not be
saved, so nobody could sign in (issue 14, finding 7). This store keeps sessions in the
database as before; only when saving one fails because the database is unavailable
(``backsoon.db.failures``) does it put the session data, signed, in the cookie itself.
Such a session lasts at most ``COOKIE_SESSION_MAX_AGE`` and moves back into the
database at its first save once the database takes writes again.

Trade-off (SECURITY.md): a cookie-held session can not be ended on the server, so
signing out ends it in that browser only; a stolen cookie stays valid until it
expires (one hour) or the password changes (Django checks the password hash stored
in every session).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core import signing
from django.db import DatabaseError

from backsoon.db.failures import database_unavailable

log = logging.getLogger(__name__)

# Database session keys are 32 characters of [a-z0-9]; a cookie-held one starts so.
COOKIE_PREFIX = "signed:"
COOKIE_SESSION_MAX_AGE = 60 * 60
SALT = "backsoon.accounts.sessions"


class SessionStore(DatabaseSessionStore):
    """Django's database session store with the signed-cookie fallback above."""

    def _held_in_cookie(self, session_key: str | None) -> bool:
        return bool(session_key) and str(session_key).startswith(COOKIE_PREFIX)

    def load(self) -> dict[str, Any]:
        key = self.session_key
        if self._held_in_cookie(key):
            try:
                data = signing.loads(
                    str(key)[len(COOKIE_PREFIX) :],
                    salt=SALT,
                    serializer=self.serializer,
                    max_age=COOKIE_SESSION_MAX_AGE,
                )
            except signing.BadSignature:
                self._session_key = None
                return {}
            return data if isinstance(data, dict) else {}
        return super().load()

    def exists(self, session_key: str) -> bool:
        if self._held_in_cookie(session_key):
            return False
        return bool(super().exists(session_key))

    def save(self, must_create: bool = False) -> None:
        if self._held_in_cookie(self.session_key):
            # Back into the database (a new key) as soon as it takes writes again.
            self._session_key = None
            must_create = False
        try:
            super().save(must_create=must_create)
        except DatabaseError as exc:
            if not database_unavailable(exc):
                raise
            self._hold_in_cookie()
        except Exception as exc:  # UpdateError / CreateError wrap the database's error
            if not database_unavailable(exc.__context__):
                raise
            self._hold_in_cookie()

    def _hold_in_cookie(self) -> None:
        log.warning("database unavailable: session kept in a signed cookie")
        data = dict(self.items())
        self._session_key = COOKIE_PREFIX + signing.dumps(
            data, salt=SALT, serializer=self.serializer, compress=True
        )

    def delete(self, session_key: str | None = None) -> None:
        key = self.session_key if session_key is None else session_key
        if self._held_in_cookie(key):
            return  # nothing on the server: the cookie is removed by the caller
        try:
            super().delete(session_key)
        except DatabaseError as exc:
            if not database_unavailable(exc):
                raise
            log.warning("database unavailable: session %s not deleted", "<key>")
