"""Members (the custom user model), API tokens and login attempts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now as utc_now

from .validators import normalize_username


class MemberManager(BaseUserManager["Member"]):
    def get_by_natural_key(self, username: str | None) -> Member:
        return self.get(username=normalize_username(username or ""))

    def create_user(self, username: str, email: str, password: str | None = None, **extra):
        # Kept for Django's own tooling (createsuperuser, tests of contrib apps);
        # application code goes through accounts.actions.member_create.
        member = self.model(
            username=normalize_username(username), email=self.normalize_email(email), **extra
        )
        member.set_password(password)
        member.save(using=self._db)
        return member

    def create_superuser(self, username: str, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("display_name", username)
        return self.create_user(username, email, password, **extra)


class Member(AbstractBaseUser, PermissionsMixin):
    """A member of the network. ``username`` is stored lower-cased (case-insensitive)."""

    class Language(models.TextChoices):
        EN = "en", "English"
        NL = "nl", "Nederlands"

    username = models.CharField(max_length=30, unique=True)
    email = models.EmailField(max_length=254)
    display_name = models.CharField(max_length=100)
    headline = models.CharField(max_length=220, blank=True, default="")
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    timezone = models.CharField(max_length=64, default=settings.DEFAULT_MEMBER_TIMEZONE)
    is_bot = models.BooleanField(
        default=False, help_text="System or bot account: never gets automatic replies."
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=utc_now)
    # Stored counters, kept up to date by the actions that change them, so that
    # accounts with a huge following cost the same to show as any other.
    connections_count = models.PositiveIntegerField(default=0)
    followers_count = models.PositiveIntegerField(default=0)

    class InboxPolicy(models.TextChoices):
        # A stranger's new conversation waits in Requests (TRIAGE S1).
        SCREEN = "screen"
        EVERYONE = "everyone"

    inbox_policy = models.CharField(
        max_length=8, choices=InboxPolicy.choices, default=InboxPolicy.SCREEN
    )

    # The weekdays the member works, as ISO digits ("1" Monday .. "7" Sunday): an
    # absence's return day moves past the others (AWAY-SPEC A6).
    work_days = models.CharField(max_length=7, default="12345")

    objects: ClassVar[MemberManager] = MemberManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["email"]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="member_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(username=Lower("username")), name="member_username_lower"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def first_name(self) -> str:
        return self.display_name.split(" ", 1)[0] if self.display_name else self.username


def token_default_expiry() -> datetime:
    """When a token made now expires unless its creator chose otherwise."""
    return utc_now() + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 digest of the token is stored.

    A token works while it is not revoked and ``expires_at`` is in the future;
    ``last_used_at`` is refreshed at most once a minute (see ``actions.token_touch``).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    name = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=utc_now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=token_default_expiry)

    def __str__(self) -> str:
        return f"{self.prefix}... ({self.member_id})"


class TwoFactor(models.Model):
    """A member's TOTP authenticator (RFC 6238), once confirmed with a first code.

    The shared secret must be readable to check codes, so it is stored as it is
    (base32); recovery codes are stored as digests only.
    """

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="two_factor")
    secret = models.CharField(max_length=64)
    enabled_at = models.DateTimeField(default=utc_now)
    # The 30-second step of the last code accepted: a code is never accepted twice.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"2FA of {self.member_id}"


class RecoveryCode(models.Model):
    """A single-use code that stands in for a TOTP code; only its SHA-256 digest is kept."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of {self.member_id}"


class LoginFailure(models.Model):
    """One failed login, kept for throttling (shared by every app process)."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(default=utc_now, db_index=True)

    def __str__(self) -> str:
        return f"{self.username}@{self.ip} {self.at:%Y-%m-%d %H:%M}"
