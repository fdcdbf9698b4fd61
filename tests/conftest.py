from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from backsoon.accounts.actions import token_issue
from backsoon.accounts.models import Member

from .factories import make_member


class Api:
    """A JSON client for /api/v1 acting as one member (or anonymously)."""

    def __init__(self, member: Member | None = None, token: str | None = None) -> None:
        self.client = Client()
        self.member = member
        self.token = token or (token_issue(member=member) if member else None)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, body: Any = None, **params: Any):
        url = "/api/v1" + path
        kwargs: dict[str, Any] = {"headers": self._headers()}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        elif params:
            kwargs["data"] = params
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **params: Any):
        return self.request("get", path, **params)

    def post(self, path: str, body: Any = None):
        return self.request("post", path, body if body is not None else {})

    def patch(self, path: str, body: Any):
        return self.request("patch", path, body)

    def delete(self, path: str):
        return self.request("delete", path)


@pytest.fixture
def member_factory(db):
    return make_member


@pytest.fixture
def api_for(db):
    def _api_for(member: Member | None = None) -> Api:
        return Api(member)

    return _api_for


@pytest.fixture
def alice(db) -> Member:
    return make_member("alice", display_name="Alice Smit", headline="Designer in Utrecht")


@pytest.fixture
def bob(db) -> Member:
    return make_member("bob", display_name="Bob de Boer", headline="Engineer")


def assert_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert the API error shape: the status, a detail and a machine code."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code"}, body
    assert body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body
