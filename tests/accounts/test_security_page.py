"""The security settings page (tokens in the web UI) and /.well-known/security.txt."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backsoon.accounts.actions import token_create
from backsoon.accounts.models import ApiToken
from tests.conftest import Api, assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_item10_page_lists_working_tokens_with_their_times(client, alice, bob):
    token_create(member=alice, name="laptop script")
    _, expired = token_create(member=alice, name="expired one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    token_create(member=bob, name="bob's token")
    html = client.get("/settings/security/").content.decode()
    assert "laptop script" in html
    assert "expired one" not in html and "bob&#x27;s token" not in html
    assert "never" in html  # not used yet


def test_item10_create_shows_the_token_once(client, alice):
    response = client.post("/settings/security/tokens/", {"name": "cli", "expires_in_days": 30})
    assert response.status_code == 201
    html = response.content.decode()
    token = re.search(r'data-testid="new-token-value">(bs_[A-Za-z0-9_-]+)<', html)[1]
    assert 'data-copy="new-token-value"' in html
    assert Api(token=token).get("/me").status_code == 200
    row = ApiToken.objects.get(member=alice, name="cli")
    assert abs(row.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert token not in client.get("/settings/security/").content.decode()


def test_item10_create_refuses_a_lifetime_out_of_range(client, alice):
    response = client.post("/settings/security/tokens/", {"name": "cli", "expires_in_days": 400})
    assert response.status_code == 422
    assert not ApiToken.objects.filter(member=alice).exists()


def test_item10_revoke_on_the_page(client, alice, bob):
    token, row = token_create(member=alice, name="old")
    response = client.post(f"/settings/security/tokens/{row.pk}/revoke/")
    assert response.status_code == 302
    assert_error(Api(token=token).get("/me"), 401)
    _, bobs = token_create(member=bob, name="bob's")
    assert client.post(f"/settings/security/tokens/{bobs.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=bobs.pk).revoked_at is None


def test_security_txt_serves_the_reporting_address(settings):
    settings.SECURITY_CONTACT = "security@backsoon.nl"
    response = Client().get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    fields = dict(line.split(": ", 1) for line in response.content.decode().splitlines())
    assert fields["Contact"] == "mailto:security@backsoon.nl"
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert timezone.now() + timedelta(days=30) < expires < timezone.now() + timedelta(days=366)
    assert fields["Canonical"] == "http://testserver/.well-known/security.txt"
    settings.SECURITY_CONTACT = "https://backsoon.nl/security"
    response = Client().get("/.well-known/security.txt")
    assert "Contact: https://backsoon.nl/security\n" in response.content.decode()


def test_security_txt_is_absent_without_a_contact(settings):
    settings.SECURITY_CONTACT = ""
    assert Client().get("/.well-known/security.txt").status_code == 404
