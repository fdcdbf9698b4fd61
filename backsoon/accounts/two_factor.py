"""Two-factor authentication: TOTP codes (RFC 6238, through pyotp) and recovery codes.

The pure part (secrets, codes, matching a code to a time step) comes first and
touches no database; the actions after it (``two_factor_*``) do every write.

Wrong codes count against the login throttle (``actions.login_check_throttle`` and
``actions.login_failure_record``) under their own key, ``otp:<username>``: a right
password clears the failures of the username, and must not clear those of the code,
or knowing the password would give unlimited guesses at the code. The address limit
is shared with password failures.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
import segno
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from backsoon.errors import Conflict, Forbidden, NotFound

from . import actions
from .models import Member, RecoveryCode, TwoFactor

ISSUER = "Backsoon"
STEP_SECONDS = 30
# A code of the previous or the next step is accepted too (clocks drift, people type slowly).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 10  # 10 of 31 symbols: about 50 bits


# -- the pure core --------------------------------------------------------------------


def secret_new() -> str:
    """A fresh random TOTP secret, base32 (160 bits)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(*, secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (the CSP allows ``img-src data:``)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def totp_code(secret: str, at: datetime) -> str:
    """The code of ``secret`` at ``at`` (what an authenticator app shows then)."""
    return str(pyotp.TOTP(secret, interval=STEP_SECONDS).at(at))


def totp_step_matching(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code is ``code``, within ``DRIFT_STEPS`` of ``at``, or None.

    Args:
        secret: the base32 secret.
        code: what the member typed; spaces are ignored; anything but 6 digits is None.
        at: the time to check against (aware).
    """
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = totp.timecode(at)
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def recovery_code_new() -> str:
    """A random recovery code such as ``k7mq2-x9trh``."""
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{chars[:5]}-{chars[5:]}"


def recovery_code_digest(code: str) -> str:
    """The stored digest of a recovery code; case, spaces and dashes do not matter."""
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def otp_throttle_key(member: Member) -> str:
    """The throttle's username for wrong codes of ``member`` (see the module docstring)."""
    return f"otp:{member.username}"


# -- reads ----------------------------------------------------------------------------


def two_factor_enabled(member: Member) -> bool:
    """Whether ``member`` has a confirmed authenticator (one query)."""
    return TwoFactor.objects.filter(member=member).exists()


def recovery_codes_left(member: Member) -> int:
    return RecoveryCode.objects.filter(member=member, used_at__isnull=True).count()


# -- actions --------------------------------------------------------------------------


def _store_recovery_codes(member: Member) -> list[str]:
    """Replace ``member``'s recovery codes with new ones; returns them (shown once)."""
    codes = [recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.filter(member=member).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(member=member, digest=recovery_code_digest(c)) for c in codes]
    )
    return codes


def two_factor_enable(
    *, member: Member, secret: str, code: str, now: datetime | None = None
) -> list[str]:
    """Turn on two-factor authentication with ``secret``, proven by a current ``code``.

    Args:
        member: the signed-in member.
        secret: the secret shown to the member (kept in their session until now).
        code: a code their authenticator app computed from it.
        now: the time to check the code against (UTC; defaults to now).

    Returns:
        The new recovery codes, in clear text: the only time they are shown.

    Raises:
        Forbidden: ``bad_otp``, the code does not match the secret.
        Conflict: ``two_factor_enabled``, it is on already (the first secret stays).
    """
    now = now or timezone.now()
    step = totp_step_matching(secret, code, now)
    if step is None:
        raise Forbidden(
            gettext("That code is not right. Check your phone's clock."), code="bad_otp"
        )
    try:
        with transaction.atomic():
            TwoFactor.objects.create(member=member, secret=secret, enabled_at=now, last_step=step)
            return _store_recovery_codes(member)
    except IntegrityError as exc:
        raise Conflict(
            gettext("Two-factor authentication is on already."), code="two_factor_enabled"
        ) from exc


def two_factor_check(*, member: Member, code: str, ip: str, now: datetime | None = None) -> str:
    """Accept a TOTP code or an unused recovery code of ``member``, once.

    A TOTP code is accepted only for a time step later than the last one accepted
    (no replay, also under concurrency: a conditional UPDATE decides); a recovery
    code is marked used in the same way. Wrong codes count against the login
    throttle under ``otp_throttle_key``; a right one clears that count.

    Returns:
        ``"totp"`` or ``"recovery"``: which kind of code was used.

    Raises:
        RateLimited: too many wrong codes for this member or from this address.
        Forbidden: ``otp_required`` (no code given), ``bad_otp`` (wrong, used or replayed).
        NotFound: the member has no two-factor authentication.
    """
    now = now or timezone.now()
    if not code.strip():
        raise Forbidden(gettext("Enter the code from your authenticator app."), code="otp_required")
    key = otp_throttle_key(member)
    # Stored before it is checked (the throttle's one way in): a right code clears it.
    actions.login_attempt_begin(username=key, ip=ip)
    device = TwoFactor.objects.filter(member=member).first()
    if device is None:
        raise NotFound(gettext("Two-factor authentication is off."), code="two_factor_off")
    step = totp_step_matching(device.secret, code, now)
    kind = ""
    if step is not None:
        if TwoFactor.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step):
            kind = "totp"
    elif (
        RecoveryCode.objects.filter(
            member=member, digest=recovery_code_digest(code), used_at__isnull=True
        ).update(used_at=now)
        == 1
    ):
        kind = "recovery"
    if not kind:
        raise Forbidden(gettext("That code is not right."), code="bad_otp")
    actions.login_success_record(username=key)
    return kind


def two_factor_disable(*, member: Member, password: str, code: str, ip: str) -> None:
    """Turn two-factor authentication off; needs the password and a code.

    Raises:
        RateLimited: too many wrong passwords or codes.
        Forbidden: ``wrong_password``, ``otp_required`` or ``bad_otp``.
        NotFound: it is off already.
    """
    if actions.member_authenticate(username=member.username, password=password, ip=ip) is None:
        raise Forbidden(gettext("Your password is not right."), code="wrong_password")
    two_factor_check(member=member, code=code, ip=ip)
    with transaction.atomic():
        TwoFactor.objects.filter(member=member).delete()
        RecoveryCode.objects.filter(member=member).delete()


def recovery_codes_regenerate(*, member: Member, code: str, ip: str) -> list[str]:
    """New recovery codes for ``member`` (the old ones stop working), after a code.

    Raises:
        RateLimited, Forbidden, NotFound: as ``two_factor_check``.
    """
    two_factor_check(member=member, code=code, ip=ip)
    with transaction.atomic():
        return _store_recovery_codes(member)
