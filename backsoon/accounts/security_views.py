"""Web pages for a member's credentials: password, API tokens, two-factor authentication,
the code step of signing in, and ``/.well-known/security.txt``."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backsoon.errors import DomainError, NotFound, RateLimited
from backsoon.web.forms import add_domain_error, error_text
from backsoon.web.net import client_ip, current_member, safe_url, with_retry_after

from . import actions, queries, two_factor
from .forms import CodeForm, PasswordChangeForm, TokenCreateForm, TwoFactorDisableForm
from .middleware import SESSION_PENDING, SESSION_TWO_FACTOR
from .models import Member

# The secret shown on the set-up page, kept in the session until a code confirms it.
SESSION_SETUP_SECRET = "backsoon_2fa_setup_secret"  # noqa: S105 - a session key name
# How long the code step waits after the password, in seconds.
PENDING_SECONDS = 5 * 60


# -- signing in: the code step -------------------------------------------------------


def login_code_begin(request: HttpRequest, member: Member, next_url: str) -> HttpResponse:
    """After a right password for a member with two-factor authentication: ask the code.

    Nobody is signed in yet; the session (a new key, no fixation) remembers who
    gave the right password, for ``PENDING_SECONDS``.
    """
    request.session.cycle_key()
    request.session[SESSION_PENDING] = {
        "member": member.pk,
        "at": int(time.time()),
        "next": next_url,
    }
    return redirect("accounts:login_code")


def _pending_member(request: HttpRequest) -> tuple[Member | None, str]:
    pending = request.session.get(SESSION_PENDING) or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, ""
    member = Member.objects.filter(pk=int(pending.get("member") or 0), is_active=True).first()
    return member, safe_url(request, pending.get("next")) or reverse("web:home")


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    member, next_url = _pending_member(request)
    if member is None:
        request.session.pop(SESSION_PENDING, None)
        return redirect("accounts:login")
    form = CodeForm(request.POST or None).focused()
    status, throttled = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            kind = two_factor.two_factor_check(
                member=member, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except RateLimited as exc:
            throttled, status = exc, 429
            minutes = max(1, round(exc.retry_after / 60))
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(minutes)s minutes.")
                % {"minutes": minutes},
            )
        except DomainError as exc:
            status = 401
            form.add_error("code", error_text(exc))
        else:
            # login() rotates the session key again and keeps the session's data.
            login(request, member)
            request.session.pop(SESSION_PENDING, None)
            request.session[SESSION_TWO_FACTOR] = "verified"
            if kind == "recovery":
                messages.warning(
                    request,
                    _("You used a recovery code; %(count)s are left.")
                    % {"count": two_factor.recovery_codes_left(member)},
                )
            return redirect(next_url)
    response = render(request, "accounts/login_code.html", {"form": form}, status=status)
    return with_retry_after(response, throttled)


# -- the security settings page ------------------------------------------------------


def _security_page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    member = current_member(request)
    enabled = two_factor.two_factor_enabled(member)
    context.setdefault("password_form", PasswordChangeForm())
    context.setdefault("token_form", TokenCreateForm(initial={"expires_in_days": 90}))
    context.setdefault("disable_form", TwoFactorDisableForm())
    context.setdefault("codes_form", CodeForm(auto_id="id_codes_%s"))
    return render(
        request,
        "accounts/security.html",
        {
            "tokens": list(queries.tokens_working(member, now=timezone.now())),
            "two_factor_on": enabled,
            "recovery_codes_left": two_factor.recovery_codes_left(member) if enabled else 0,
            **context,
        },
        status=status,
    )


@login_required
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@login_required
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = PasswordChangeForm(request.POST)
    if not form.is_valid():
        return _security_page(request, password_form=form, status=422)
    try:
        actions.member_change_password(
            member=member,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["new_password"],
            ip=client_ip(request),
        )
    except DomainError as exc:
        form.add_error(
            "new_password" if exc.code == "weak_password" else "current_password", error_text(exc)
        )
        response = _security_page(request, password_form=form, status=exc.status)
        return with_retry_after(response, exc)
    # Every other session ends with the old password's hash; this one goes on.
    update_session_auth_hash(request, member)
    messages.success(
        request,
        _("Your password is changed. Other sessions are signed out and API tokens revoked."),
    )
    return redirect("accounts:security")


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _security_page(request, token_form=form, status=422)
    try:
        token, row = actions.token_create(
            member=current_member(request),
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _security_page(request, token_form=form, status=exc.status)
    # Shown in this answer only: the token is never stored, nor kept in the session.
    return _security_page(request, new_token=token, new_token_row=row, status=201)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        actions.token_revoke(member=current_member(request), token_id=token_id)
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    messages.success(request, _("The token is revoked."))
    return redirect("accounts:security")


# -- two-factor authentication -------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    next_url = safe_url(request, request.POST.get("next") or request.GET.get("next"))
    if two_factor.two_factor_enabled(member):
        return redirect(next_url or reverse("accounts:security"))
    secret = request.session.get(SESSION_SETUP_SECRET)
    if not secret:
        secret = request.session[SESSION_SETUP_SECRET] = two_factor.secret_new()
    form = CodeForm(request.POST or None).focused(recovery=False)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.two_factor_enable(
                member=member, secret=secret, code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error("code", error_text(exc))
            status = exc.status
        else:
            request.session.pop(SESSION_SETUP_SECRET, None)
            request.session[SESSION_TWO_FACTOR] = "verified"
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": next_url or reverse("accounts:security"), "new": True},
                status=201,
            )
    uri = two_factor.provisioning_uri(secret=secret, username=member.username)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": two_factor.qr_data_uri(uri),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": next_url or "",
            "required": member.is_staff,
        },
        status=status,
    )


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = TwoFactorDisableForm(request.POST)
    if not form.is_valid():
        return _security_page(request, disable_form=form, status=422)
    try:
        two_factor.two_factor_disable(
            member=current_member(request),
            password=form.cleaned_data["password"],
            code=form.cleaned_data["code"],
            ip=client_ip(request),
        )
    except DomainError as exc:
        form.add_error("password" if exc.code == "wrong_password" else "code", error_text(exc))
        response = _security_page(request, disable_form=form, status=exc.status)
        return with_retry_after(response, exc)
    request.session[SESSION_TWO_FACTOR] = "none"
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:security")


@login_required
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST, auto_id="id_codes_%s")
    if not form.is_valid():
        return _security_page(request, codes_form=form, status=422)
    try:
        codes = two_factor.recovery_codes_regenerate(
            member=current_member(request), code=form.cleaned_data["code"], ip=client_ip(request)
        )
    except DomainError as exc:
        form.add_error("code", error_text(exc))
        response = _security_page(request, codes_form=form, status=exc.status)
        return with_retry_after(response, exc)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": reverse("accounts:security"), "new": False},
        status=201,
    )


# -- /.well-known/security.txt -------------------------------------------------------


@require_GET
def security_txt(request: HttpRequest) -> HttpResponse:
    """RFC 9116: where to report a vulnerability (``SECURITY_CONTACT``), until when."""
    contact = settings.SECURITY_CONTACT.strip()
    if not contact:
        raise Http404
    if "@" in contact and not contact.startswith(("mailto:", "https://", "http://")):
        contact = f"mailto:{contact}"
    expires = timezone.now() + timedelta(days=settings.SECURITY_TXT_EXPIRES_DAYS)
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: en, nl",
        f"Canonical: {request.build_absolute_uri(request.path)}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
