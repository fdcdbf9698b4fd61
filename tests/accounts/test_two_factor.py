"""Two-factor authentication (issue 14, item 11): TOTP codes computed by pyotp in the
tests, recovery codes, the web and admin login, the API token, staff."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from backsoon.accounts import two_factor
from backsoon.accounts.models import RecoveryCode, TwoFactor
from tests.conftest import Api, assert_error
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.django_db


def _signed_in(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _enable(client: Client) -> tuple[str, list[str]]:
    """Set up two-factor authentication on the web page; returns the secret and codes."""
    page = client.get("/settings/security/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', html)[1].replace(" ", "")
    response = client.post("/settings/security/two-factor/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 201, response.content[:500]
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.content.decode())
    return secret, codes


def _next_code(secret: str, steps: int = 1) -> str:
    return pyotp.TOTP(secret).at(timezone.now() + timedelta(seconds=30 * steps))


def _password_step(client: Client, username: str = "alice", next_url: str = ""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def _make_staff(member) -> None:
    member.is_staff = member.is_superuser = True
    member.save(update_fields=["is_staff", "is_superuser"])


@pytest.fixture
def alice_2fa(alice):
    """alice with two-factor authentication: (alice, secret, recovery codes, the client
    whose session set it up, which counts as verified)."""
    client = _signed_in(alice)
    secret, codes = _enable(client)
    return alice, secret, codes, client


def test_item11_enable_with_a_real_totp_code(alice):
    secret, codes = _enable(_signed_in(alice))
    device = TwoFactor.objects.get(member=alice)
    assert device.secret == secret
    assert len(codes) == 10 and len(set(codes)) == 10
    # Recovery codes are stored as digests only.
    stored = set(RecoveryCode.objects.filter(member=alice).values_list("digest", flat=True))
    assert stored == {two_factor.recovery_code_digest(c) for c in codes}
    assert not any(c in stored for c in codes)


def test_item11_enable_refuses_a_wrong_code(alice):
    client = _signed_in(alice)
    client.get("/settings/security/two-factor/")
    response = client.post("/settings/security/two-factor/", {"code": "000000"})
    assert response.status_code == 403
    assert not TwoFactor.objects.filter(member=alice).exists()


def test_item11_a_session_signed_in_without_the_code_is_sent_to_it(alice_2fa):
    alice, _, _, _ = alice_2fa
    client = _signed_in(alice)  # force_login: no code given
    assert client.get("/settings/security/")["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session


def test_item11_web_login_asks_for_the_code(alice_2fa):
    _, secret, _, _ = alice_2fa
    client = Client()
    response = _password_step(client, next_url="/away/")
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    # Not signed in yet: pages still send to the login.
    assert client.get("/settings/security/")["Location"].startswith("/login/")
    response = client.post("/login/code/", {"code": _next_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/away/"
    assert client.get("/settings/security/").status_code == 200


def test_item11_web_login_without_the_right_code_does_not_sign_in(alice_2fa):
    client = Client()
    _password_step(client)
    response = client.post("/login/code/", {"code": "123456"})
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/security/").status_code == 302
    # Without the password step there is no code step at all.
    assert Client().get("/login/code/")["Location"] == "/login/"


def test_item11_a_code_is_accepted_once(alice_2fa):
    _, secret, _, _ = alice_2fa
    code = _next_code(secret)
    first = Client()
    _password_step(first)
    assert first.post("/login/code/", {"code": code}).status_code == 302
    second = Client()
    _password_step(second)
    assert second.post("/login/code/", {"code": code}).status_code == 401


def test_item11_recovery_code_signs_in_once(alice_2fa):
    alice, _, codes, _ = alice_2fa
    client = Client()
    _password_step(client)
    response = client.post("/login/code/", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert two_factor.recovery_codes_left(alice) == 9
    again = Client()
    _password_step(again)
    assert again.post("/login/code/", {"code": codes[0]}).status_code == 401


def test_item11_wrong_codes_are_throttled_and_a_right_password_does_not_reset_that(alice_2fa):
    _, secret, _, _ = alice_2fa
    for i in range(5):
        # A right password every time, from addresses of its own (the address limit,
        # shared with passwords, would stop this sooner).
        client = Client(REMOTE_ADDR=f"10.0.0.{i}")
        assert _password_step(client)["Location"] == "/login/code/"
        assert client.post("/login/code/", {"code": "000000"}).status_code == 401
    client = Client(REMOTE_ADDR="10.0.1.1")
    assert _password_step(client)["Location"] == "/login/code/"
    response = client.post("/login/code/", {"code": _next_code(secret)})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_item11_the_code_step_expires(alice_2fa):
    _, secret, _, _ = alice_2fa
    client = Client()
    _password_step(client)
    session = client.session
    session["backsoon_2fa_pending"]["at"] -= 10 * 60
    session.save()
    assert client.post("/login/code/", {"code": _next_code(secret)})["Location"] == "/login/"


def test_item11_api_token_needs_otp_when_enabled(alice_2fa):
    _, secret, codes, _ = alice_2fa
    api = Api()
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD})
    assert_error(response, 401, "otp_required")
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD, "otp": "000000"})
    assert_error(response, 401, "bad_otp")
    response = api.post(
        "/auth/token", {"username": "alice", "password": PASSWORD, "otp": _next_code(secret)}
    )
    assert response.status_code == 200
    assert Api(token=response.json()["token"]).get("/me").status_code == 200
    response = api.post("/auth/token", {"username": "alice", "password": PASSWORD, "otp": codes[1]})
    assert response.status_code == 200
    # Without two-factor authentication an `otp` is simply not needed.
    make_member("bob")
    assert api.post("/auth/token", {"username": "bob", "password": PASSWORD}).status_code == 200


def test_item11_api_token_wrong_otp_is_throttled(alice_2fa):
    _, secret, _, _ = alice_2fa
    api = Api()
    for _ in range(5):
        api.post("/auth/token", {"username": "alice", "password": PASSWORD, "otp": "000000"})
    response = api.post(
        "/auth/token", {"username": "alice", "password": PASSWORD, "otp": _next_code(secret)}
    )
    assert_error(response, 429, "login_throttled")


def test_item11_making_a_token_in_the_api_needs_the_code_too(alice_2fa):
    alice, secret, _, _ = alice_2fa
    api = Api(alice)
    response = api.post("/me/tokens", {"name": "x", "password": PASSWORD})
    assert_error(response, 403, "otp_required")
    response = api.post(
        "/me/tokens", {"name": "x", "password": PASSWORD, "otp": _next_code(secret)}
    )
    assert response.status_code == 201


def test_item11_disable_needs_password_and_code(alice_2fa):
    alice, secret, _, client = alice_2fa
    url = "/settings/security/two-factor/disable/"
    response = client.post(url, {"password": "wrong", "code": _next_code(secret)})
    assert response.status_code == 403
    response = client.post(url, {"password": PASSWORD, "code": "000000"})
    assert response.status_code == 403
    assert TwoFactor.objects.filter(member=alice).exists()
    response = client.post(url, {"password": PASSWORD, "code": _next_code(secret)})
    assert response.status_code == 302
    assert not TwoFactor.objects.filter(member=alice).exists()
    assert not RecoveryCode.objects.filter(member=alice).exists()
    assert Api().post("/auth/token", {"username": "alice", "password": PASSWORD}).status_code == 200


def test_item11_new_recovery_codes_replace_the_old_ones(alice_2fa):
    _alice, secret, old, client = alice_2fa
    response = client.post(
        "/settings/security/two-factor/recovery-codes/", {"code": _next_code(secret)}
    )
    assert response.status_code == 201
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    api = Api()
    body = {"username": "alice", "password": PASSWORD}
    assert_error(api.post("/auth/token", {**body, "otp": old[0]}), 401, "bad_otp")
    assert api.post("/auth/token", {**body, "otp": new[0]}).status_code == 200


def test_item11_staff_without_two_factor_are_sent_to_set_it_up(alice):
    _make_staff(alice)
    client = Client()
    assert _password_step(client, next_url="/admin/")["Location"] == "/admin/"
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/security/two-factor/?next=%2Fadmin%2F"
    page = client.get(response["Location"])
    assert "Staff members need two-factor authentication" in page.content.decode()
    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', page.content.decode())[
        1
    ].replace(" ", "")
    response = client.post(
        "/settings/security/two-factor/", {"code": pyotp.TOTP(secret).now(), "next": "/admin/"}
    )
    assert response.status_code == 201
    assert 'href="/admin/"' in response.content.decode()
    assert client.get("/admin/").status_code == 200


def test_item11_staff_with_two_factor_reach_the_admin_after_the_code(alice_2fa):
    alice, secret, _, _ = alice_2fa
    _make_staff(alice)
    client = Client()
    _password_step(client, next_url="/admin/")
    response = client.post("/login/code/", {"code": _next_code(secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_item11_the_admin_login_form_honours_two_factor(alice_2fa):
    alice, secret, _, _ = alice_2fa
    _make_staff(alice)
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    # The admin's own form signed in with the password alone: the next page turns
    # that into the code step, signed out.
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    response = client.post("/login/code/", {"code": _next_code(secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_item11_pure_core_matches_codes_within_one_step():
    secret = two_factor.secret_new()
    now = timezone.now()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    assert two_factor.totp_step_matching(secret, totp.at(now), now) == step
    assert (
        two_factor.totp_step_matching(secret, totp.at(now - timedelta(seconds=30)), now) == step - 1
    )
    assert two_factor.totp_step_matching(secret, totp.at(now + timedelta(seconds=90)), now) is None
    assert two_factor.totp_step_matching(secret, "12345", now) is None
    assert two_factor.totp_step_matching(secret, "abcdef", now) is None
