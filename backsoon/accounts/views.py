"""Web pages for members: sign up, log in and out, profiles, search."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from backsoon.errors import DomainError, NotFound, RateLimited
from backsoon.web.forms import add_domain_error
from backsoon.web.net import client_ip, current_member, safe_next

from . import actions, queries
from .backends import BACKEND
from .forms import LoginForm, ProfileForm, SignupForm
from .presenters import member_card, member_cards
from .security_views import login_code_begin
from .two_factor import two_factor_enabled


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = actions.member_create(
                username=data["username"],
                email=data["email"],
                password=data["password"],
                display_name=data["display_name"],
                headline=data["headline"],
                language=getattr(request, "LANGUAGE_CODE", "en") or "en",
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            login(request, member, backend=BACKEND)
            messages.success(
                request, _("Welcome to Backsoon, %(name)s!") % {"name": member.first_name}
            )
            return redirect("web:home")
    return render(
        request, "accounts/signup.html", {"form": form}, status=422 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    throttled: RateLimited | None = None
    if request.method == "POST" and form.is_valid():
        try:
            member = actions.member_authenticate(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
            )
        except RateLimited as exc:
            throttled = exc
            minutes = max(1, round(exc.retry_after / 60))
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(minutes)s minutes.")
                % {"minutes": minutes},
            )
            status = 429
        else:
            if member is None:
                form.add_error(None, _("Wrong username or password."))
                status = 401
            elif two_factor_enabled(member):
                return login_code_begin(request, member, safe_next(request) or reverse("web:home"))
            else:
                # login() rotates the session key: no session fixation.
                login(request, member, backend=BACKEND)
                return redirect(safe_next(request) or reverse("web:home"))
    response = render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )
    if throttled is not None:
        response["Retry-After"] = str(throttled.retry_after)
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = ProfileForm(
        request.POST or None,
        initial={
            "display_name": member.display_name,
            "headline": member.headline,
            "language": member.language,
            "timezone": member.timezone,
            "work_days": list(member.work_days),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.member_update_profile(
                member=member,
                display_name=data["display_name"],
                headline=data["headline"],
                language=data["language"],
                timezone_name=data["timezone"],
                work_days=data["work_days"] or None,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:profile", username=member.username)
    return render(
        request, "accounts/profile_edit.html", {"form": form}, status=422 if form.errors else 200
    )


@login_required
def profile(request: HttpRequest, username: str) -> HttpResponse:
    try:
        member = queries.member_by_username(username)
    except NotFound:
        return render(request, "web/not_found.html", status=404)
    viewer = current_member(request)
    card = member_card(viewer, member)
    from backsoon.network.views import profile_actions_context

    return render(
        request,
        "accounts/profile.html",
        {
            "member": member,
            "card": card,
            "is_me": member.pk == viewer.pk,
            **profile_actions_context(viewer, member),
        },
    )


@login_required
def search(request: HttpRequest) -> HttpResponse:
    viewer = current_member(request)
    q = request.GET.get("q", "")[:100]
    # Sliced and counted like a queryset; django-stubs wants an indexable sequence.
    search: Any = queries.members_search(viewer=viewer, q=q)
    page = Paginator(search, 20).get_page(request.GET.get("page"))
    hits = list(page.object_list)
    cards = member_cards(viewer, [hit.member for hit in hits])
    return render(
        request,
        "accounts/search.html",
        {"q": q, "page": page, "results": list(zip(hits, cards, strict=True))},
    )
