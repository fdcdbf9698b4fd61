"""Settings for the test suite: the real settings, with test-only speed-ups."""

from backsoon.settings import *  # noqa: F403

# PBKDF2's full work factor dominates a suite that creates hundreds of members;
# the hasher is Django's own and not under test here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests render templates without running collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
IMPRESSIONS_FLUSH_SECONDS = 0  # tests flush explicitly; no background flusher thread
# The page tests pin calendar years whose weekdays they name (2059: Mon 22 Dec); the
# two-year default is tested on its own (tests/away/test_api_absences.py, F3 tests).
ABSENCE_MAX_START_AHEAD_DAYS = 100 * 366
# pytest-django's live_server is one server for the whole session: the streams of
# pages closed by earlier browser tests linger until their next keepalive (20 s), so
# production's per-process cap would refuse later tests' pages. The caps themselves
# are tested with their own settings (tests/web/test_live.py).
LIVE_STREAMS_PER_PROCESS = 1000
