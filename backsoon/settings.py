"""Django settings for Backsoon.

Everything that differs between machines comes from the environment:

- ``DATABASE_URL``: defaults to the embedded SQLite file ``var/backsoon.sqlite3``;
  ``postgres://user@host:5432/name`` uses PostgreSQL.
- ``REDIS_URL``: when set, caches, rate limits and live updates go through Redis so
  that several app processes share them.
- ``SECRET_KEY``: when unset, one is generated once and kept in ``var/secret_key``.
- ``ALLOWED_HOSTS``: comma separated; defaults to local addresses.
- ``DEBUG``: off unless set to 1/true/yes.
- ``REDIS_NAMESPACE``: the prefix of every Redis key and channel (default
  ``backsoon:<database name>``).
- ``BACKSOON_VAR``: the folder for local state (database, secret key, static files).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BACKSOON_VAR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Written once with owner-only permissions; kept across restarts so that
        # sessions and signed values stay valid.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    # The admin with the login throttle on its login form (backsoon/accounts/admin_site.py).
    "backsoon.accounts.admin_config.BacksoonAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "backsoon.web",
    "backsoon.accounts",
    "backsoon.network",
    "backsoon.messaging",
    "backsoon.notifications",
    "backsoon.away",
    "backsoon.posts",
    "backsoon.triage",
]

MIDDLEWARE = [
    # Outermost: every error answer under /api/ in the {detail, code} shape.
    "backsoon.web.errors.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "backsoon.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backsoon.accounts.middleware.MemberLocaleMiddleware",
    # A member with two-factor authentication is signed in only after the code; staff
    # reach the admin only with it set up.
    "backsoon.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Refuses oversized bodies (413) and NUL characters before any view (or CSRF
    # check) reads the request; placed late so that its 413 page knows the member.
    "backsoon.web.middleware.RequestLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A view failing on a full or read-only database answers 503 (backsoon/web/errors.py).
    "backsoon.web.errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "backsoon.urls"
WSGI_APPLICATION = "backsoon.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "backsoon.away.context.away_banner",
                "backsoon.web.context.header_counts",
            ],
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'backsoon.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db), conn_max_age=600, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's own SQLite backend, with its own options (Django 5.1+):
    # - WAL lets readers run beside the one writer; NORMAL sync is durable across
    #   application crashes in WAL mode;
    # - IMMEDIATE takes the write lock at BEGIN, so two writers queue in SQLite's busy
    #   handler instead of failing with "database is locked" halfway through;
    # - ``timeout`` bounds that wait (SQLite's busy timeout): a writer stuck behind a
    #   long transaction gets "database is locked" after SQLITE_TIMEOUT seconds (5 by
    #   default) instead of holding its request thread; the send path's
    #   transactions take well under a millisecond.
    # Each server thread keeps its connection: opening one and running the PRAGMAs
    # per request would cost more than most requests.
    # The threads of one process take turns at write transactions on a lock with the
    # same deadline, instead of in SQLite's busy handler (backsoon/db/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "backsoon.db.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
        ),
        "timeout": float(os.environ.get("SQLITE_TIMEOUT", "5")),
        "transaction_mode": "IMMEDIATE",
    }

# Background jobs: a database queue, so the worker needs nothing beyond the database
# (SQLite or PostgreSQL, where several workers claim jobs with SKIP LOCKED).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.Member"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# API tokens: lifetime when the creator does not choose one, and the longest allowed.
API_TOKEN_DEFAULT_DAYS = 90
API_TOKEN_MAX_DAYS = 365
# Where to report a vulnerability (SECURITY.md): an email address or a URL, served in
# /.well-known/security.txt (RFC 9116); that file is dated to expire after this many days.
SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT", "")
SECURITY_TXT_EXPIRES_DAYS = 180

REDIS_URL = os.environ.get("REDIS_URL", "")
# Every Redis key and channel starts with this (issue 14, finding 8), so that two
# deployments sharing one Redis never see each other's cache, counters or live events.
REDIS_NAMESPACE = os.environ.get("REDIS_NAMESPACE") or (
    "backsoon:" + Path(str(DATABASES["default"]["NAME"] or "default")).stem
)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_NAMESPACE,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Open live-update streams (/live/), each holding a server thread: at most this many
# per member and per server process; beyond them the stream answers 429.
LIVE_STREAMS_PER_MEMBER = int(os.environ.get("LIVE_STREAMS_PER_MEMBER", "10"))
LIVE_STREAMS_PER_PROCESS = int(os.environ.get("LIVE_STREAMS_PER_PROCESS", "32"))
# Seconds between writes of the impressions buffered in a process's memory (no Redis).
IMPRESSIONS_FLUSH_SECONDS = float(os.environ.get("IMPRESSIONS_FLUSH_SECONDS", "2"))

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
# Compiled from django.po by `backsoon manage compiletranslations` (make run / make test).
LOCALE_PATHS = [BASE_DIR / "backsoon" / "locale"]
# Counts shown to people go through `intcomma` ("6.329 reacties", "6,329 reactions");
# a global thousand separator would also group ids in attributes and URLs ("?before=1.234").
USE_THOUSAND_SEPARATOR = False
# The footer's language switch (and Django's set_language) remembers the choice for a
# year; a signed-in member's profile language wins over it.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = _env_bool("SECURE_COOKIES")
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_MEMBER_TIMEZONE = "Europe/Amsterdam"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security headers and cookies.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Database sessions that fall back to a signed cookie while the database is full or
# read-only, so signing in still works then (backsoon/accounts/sessions.py).
SESSION_ENGINE = "backsoon.accounts.sessions"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Login throttling: this many failures for one username or one address within
# the window locks further attempts until the window has passed.
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
# How far ahead an absence may start (issue 14 finding 3; year 9999 broke the pages).
ABSENCE_MAX_START_AHEAD_DAYS = 731
# The one way a password is checked (site, API token, admin): behind that throttle.
AUTHENTICATION_BACKENDS = ["backsoon.accounts.backends.ThrottledModelBackend"]

# Calendar feeds on loopback or private addresses (an intranet calendar server).
# Off by default: a feed URL must not become a way to probe the server's network.
CALENDAR_ALLOW_PRIVATE_URLS = _env_bool("CALENDAR_ALLOW_PRIVATE_URLS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
