"""Every write to members, tokens and login attempts goes through here."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.db.failures import database_unavailable
from backsoon.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited

from .models import ApiToken, LoginFailure, Member
from .validators import (
    LANGUAGES,
    is_valid_timezone,
    name_problem,
    normalize_username,
    username_problem,
)

TOKEN_PREFIX = "bs_"  # noqa: S105 - a marker, not a secret
# A token's last use is written at most this often: the API's hot path stays read-only.
TOKEN_TOUCH_SECONDS = 60
MAX_DISPLAY_NAME = 100
MAX_HEADLINE = 220


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored (tokens are random, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_profile(
    *,
    display_name: str | None,
    headline: str | None,
    language: str | None,
    timezone_name: str | None,
    inbox_policy: str | None = None,
    work_days: list[int] | None = None,
) -> dict[str, str]:
    fields: dict[str, str] = {}
    if work_days is not None:
        if not work_days or any(not 1 <= day <= 7 for day in work_days):
            raise Invalid(
                gettext("Working days are one or more weekdays, 1 (Monday) to 7 (Sunday)."),
                code="invalid_work_days",
            )
        fields["work_days"] = "".join(str(day) for day in sorted(set(work_days)))
    if inbox_policy is not None:
        if inbox_policy not in Member.InboxPolicy.values:
            raise Invalid(
                gettext("Who may write to your inbox is 'screen' or 'everyone'."),
                code="invalid_inbox_policy",
            )
        fields["inbox_policy"] = inbox_policy
    if display_name is not None:
        display_name = display_name.strip()
        if not display_name:
            raise Invalid(gettext("Display name may not be empty."), code="invalid_display_name")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise Invalid(
                gettext("Display name is at most %(max)s characters.") % {"max": MAX_DISPLAY_NAME},
                code="invalid_display_name",
            )
        if problem := name_problem(display_name, field=gettext("Full name")):
            raise Invalid(problem, code="invalid_display_name")
        fields["display_name"] = display_name
    if headline is not None:
        headline = headline.strip()
        if len(headline) > MAX_HEADLINE:
            raise Invalid(
                gettext("Headline is at most %(max)s characters.") % {"max": MAX_HEADLINE},
                code="invalid_headline",
            )
        if problem := name_problem(headline, field=gettext("Headline")):
            raise Invalid(problem, code="invalid_headline")
        fields["headline"] = headline
    if language is not None:
        if language not in LANGUAGES:
            raise Invalid(gettext("Language must be 'en' or 'nl'."), code="invalid_language")
        fields["language"] = language
    if timezone_name is not None:
        if not is_valid_timezone(timezone_name):
            raise Invalid(
                gettext("'%(name)s' is not an IANA time zone such as Europe/Amsterdam.")
                % {"name": timezone_name},
                code="invalid_timezone",
            )
        fields["timezone"] = timezone_name
    return fields


def member_create(
    *,
    username: str,
    email: str,
    password: str,
    display_name: str,
    headline: str = "",
    language: str = "en",
    timezone_name: str = settings.DEFAULT_MEMBER_TIMEZONE,
    is_bot: bool = False,
    is_staff: bool = False,
) -> Member:
    """Create a member after validating every field.

    Raises:
        Invalid: a field is malformed, or the password is too weak.
        Conflict: the username or the email address is taken (compared case-insensitively).
    """
    username = normalize_username(username)
    if problem := username_problem(username):
        raise Invalid(problem, code="invalid_username")
    email = email.strip()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise Invalid(gettext("Enter a valid email address."), code="invalid_email") from exc
    profile = _clean_profile(
        display_name=display_name,
        headline=headline,
        language=language,
        timezone_name=timezone_name,
    )
    member = Member(username=username, email=email, is_bot=is_bot, is_staff=is_staff, **profile)
    try:
        password_validation.validate_password(password, user=member)
    except DjangoValidationError as exc:
        raise Invalid(" ".join(exc.messages), code="weak_password") from exc
    member.set_password(password)
    if Member.objects.filter(username=username).exists():
        raise Conflict(gettext("That username is taken."), code="username_taken")
    if Member.objects.filter(email__iexact=email).exists():
        raise Conflict(gettext("That email address is already registered."), code="email_taken")
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        # A concurrent sign-up won the race between the checks above and the insert;
        # the unique constraints decide.
        raise Conflict(gettext("That username or email address is taken."), code="taken") from exc
    return member


def member_update_profile(
    *,
    member: Member,
    display_name: str | None = None,
    headline: str | None = None,
    language: str | None = None,
    timezone_name: str | None = None,
    inbox_policy: str | None = None,
    work_days: list[int] | None = None,
) -> Member:
    """Change a member's own profile fields; None leaves a field as it is.

    ``inbox_policy``: ``screen`` (strangers' new conversations wait in Requests,
    TRIAGE S1) or ``everyone``. ``work_days``: ISO weekdays (1 Monday .. 7 Sunday)
    the member works; an absence's return day moves past the others (AWAY-SPEC A6).

    Raises:
        Invalid: a field is malformed; nothing is changed then.
    """
    fields = _clean_profile(
        display_name=display_name,
        headline=headline,
        language=language,
        timezone_name=timezone_name,
        inbox_policy=inbox_policy,
        work_days=work_days,
    )
    if fields:
        for name, value in fields.items():
            setattr(member, name, value)
        member.save(update_fields=list(fields))
    return member


def token_create(
    *, member: Member, name: str = "", expires_in_days: int | None = None
) -> tuple[str, ApiToken]:
    """Create an API token for ``member``; only its digest is stored.

    Args:
        member: the owner.
        name: what the member calls it (at most 100 characters; longer is cut).
        expires_in_days: 1..``API_TOKEN_MAX_DAYS``; None gives ``API_TOKEN_DEFAULT_DAYS``.

    Returns:
        The token itself (shown once, never stored) and its row.

    Raises:
        Invalid: ``invalid_expiry``, the lifetime is out of range.
    """
    days = settings.API_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise Invalid(
            gettext("A token lives 1 to %(max)s days.") % {"max": settings.API_TOKEN_MAX_DAYS},
            code="invalid_expiry",
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    row = ApiToken.objects.create(
        member=member,
        digest=token_digest(token),
        prefix=token[:10],
        name=name.strip()[:100],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return token, row


def token_issue(*, member: Member, name: str = "", expires_in_days: int | None = None) -> str:
    """Create an API token for ``member`` and return it (see ``token_create``)."""
    return token_create(member=member, name=name, expires_in_days=expires_in_days)[0]


def token_revoke(*, member: Member, token_id: int) -> None:
    """Revoke one of ``member``'s working tokens.

    Raises:
        NotFound: no working (unrevoked, unexpired) token of ``member`` has that id.
    """
    now = timezone.now()
    revoked = ApiToken.objects.filter(
        member=member, pk=token_id, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now)
    if not revoked:
        raise NotFound(gettext("No such token."), code="token_not_found")


def token_touch(*, token_id: int, now: datetime) -> None:
    """Record that a token was used now, unless that was recorded in the last minute.

    Called only when ``queries.token_owner`` says the stored time is older than
    ``TOKEN_TOUCH_SECONDS``; the condition is repeated in the UPDATE so that
    concurrent requests write at most once.
    """
    stale = now - timedelta(seconds=TOKEN_TOUCH_SECONDS)
    touched = ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token_id
    )
    # Inside a transaction a savepoint keeps a refused write from breaking it; in
    # autocommit (a request's authentication) the UPDATE alone is one statement.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard:
            touched.update(last_used_at=now)
    except DatabaseError as exc:
        # A full or read-only database must not turn every read into a 503: the
        # last-use time is a hint, written again on a later request (issue 14, 7).
        if not database_unavailable(exc):
            raise


def member_change_password(
    *, member: Member, current_password: str, new_password: str, ip: str
) -> None:
    """Change ``member``'s password after checking the current one.

    Every API token of the member is revoked. Web sessions hold a hash of the
    password, so every session ends with it; the web view keeps the one in use.

    Raises:
        RateLimited: too many wrong passwords (the current password goes through
            the login throttle, so a stolen session or token can not guess it).
        Forbidden: ``wrong_password``, the current password is not right.
        Invalid: ``weak_password``, the new one fails the password validators.
    """
    if member_authenticate(username=member.username, password=current_password, ip=ip) is None:
        raise Forbidden(gettext("Your current password is not right."), code="wrong_password")
    try:
        password_validation.validate_password(new_password, user=member)
    except DjangoValidationError as exc:
        raise Invalid(" ".join(exc.messages), code="weak_password") from exc
    now = timezone.now()
    with transaction.atomic():
        member.set_password(new_password)
        member.save(update_fields=["password"])
        ApiToken.objects.filter(member=member, revoked_at__isnull=True).update(revoked_at=now)


def login_attempt_begin(*, username: str, ip: str) -> LoginFailure | None:
    """Count a login attempt against its username and address, before checking it.

    The attempt is stored first (one INSERT that commits on its own, outside any
    transaction of the caller's making), then the attempts of the window are counted
    (one SELECT). Two concurrent attempts therefore always see each other: the k-th
    attempt to count sees at least k rows, so of any number of simultaneous attempts
    at most ``LOGIN_FAILURE_LIMIT`` are evaluated (finding 6 of issue 14: checking
    first and recording the failure after let 8 of 40 parallel attempts through).

    The stored row is the failure: ``login_success_record`` deletes it (and the
    username's earlier failures) when the password was right.

    While the database refuses writes (full disk, read-only) the attempts are counted
    in the cache instead (``_login_attempt_count_in_cache``), so signing in still works
    and is still throttled.

    Returns:
        The stored attempt (None when counted in the cache).

    Raises:
        RateLimited: more than ``LOGIN_FAILURE_LIMIT`` attempts for this username or
            this address in the window, counting this one; this attempt is then not
            kept, with the seconds until the oldest counted one leaves the window.
    """
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    limit = settings.LOGIN_FAILURE_LIMIT
    username = normalize_username(username)[:150]
    ip = ip[:45]
    try:
        with transaction.atomic():  # a savepoint when called inside a transaction
            attempt = LoginFailure.objects.create(username=username, ip=ip, at=now)
    except DatabaseError as exc:
        if not database_unavailable(exc):
            raise
        _login_attempt_count_in_cache(username=username, ip=ip)
        return None
    recent = LoginFailure.objects.filter(at__gt=now - window)
    counts = recent.filter(Q(username=username) | Q(ip=ip)).aggregate(
        by_username=Count("id", filter=Q(username=username)), by_ip=Count("id", filter=Q(ip=ip))
    )
    over = [
        condition
        for condition, count in (
            (Q(username=username), counts["by_username"]),
            (Q(ip=ip), counts["by_ip"]),
        )
        if count > limit
    ]
    if not over:
        return attempt
    attempt.delete()
    retry_after = 1.0
    for condition in over:
        times = list(recent.filter(condition).order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            retry_after = max(retry_after, (times[-1] + window - now).total_seconds())
    raise RateLimited(
        gettext("Too many failed login attempts. Try again later."),
        retry_after=int(retry_after) + 1,
        code="login_throttled",
    )


def _login_attempt_count_in_cache(*, username: str, ip: str) -> None:
    """The throttle while the database can not record attempts: a counter per username
    and per address in the cache (Redis when set: shared by every process; else this
    process's memory), for a fixed window from the first attempt.

    Raises:
        RateLimited: more than ``LOGIN_FAILURE_LIMIT`` attempts in the window.
    """
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in (f"login-attempts:u:{username}", f"login-attempts:ip:{ip}"):
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
            count = 1
        if count > settings.LOGIN_FAILURE_LIMIT:
            raise RateLimited(
                gettext("Too many failed login attempts. Try again later."),
                retry_after=window,
                code="login_throttled",
            )


def login_failure_prune(*, now: datetime | None = None) -> None:
    """Forget attempts older than a day (run after a failure, so the table stays small)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            LoginFailure.objects.filter(at__lt=now - timedelta(days=1)).delete()
    except DatabaseError as exc:
        if not database_unavailable(exc):
            raise


def login_success_record(*, username: str) -> None:
    """A successful login clears the failures counted against that username (left for
    the window to expire while the database refuses writes)."""
    username = normalize_username(username)
    cache.delete(f"login-attempts:u:{username}")
    try:
        with transaction.atomic():
            LoginFailure.objects.filter(username=username).delete()
    except DatabaseError as exc:
        if not database_unavailable(exc):
            raise


def member_authenticate(*, username: str, password: str, ip: str) -> Member | None:
    """Check a username and password, counting the attempt for throttling.

    Every login form (the site's, ``POST /auth/token`` and the admin's) ends in
    ``backends.ThrottledModelBackend``, which holds the one throttle.

    Returns:
        The member, or None for wrong credentials (never saying which part was wrong).

    Raises:
        RateLimited: too many recent attempts for this username or address.
    """
    from django.contrib.auth import authenticate

    member = authenticate(username=username, password=password, ip=ip)
    return member if isinstance(member, Member) else None
