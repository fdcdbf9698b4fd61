"""The one check of ``next`` that every web view uses (issue 13: one helper)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from backsoon.web.net import safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/away/", "/away/"),
        ("/search/?q=x", "/search/?q=x"),
        ("http://testserver/network/", "http://testserver/network/"),
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_only_local_targets_are_followed(target, expected):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request) == expected


def test_the_query_is_read_when_the_form_has_none():
    assert safe_next(RequestFactory().get("/login/", {"next": "/me/"})) == "/me/"


def test_an_https_site_refuses_a_plain_http_target():
    request = RequestFactory().post("/x/", {"next": "http://testserver/a/"}, secure=True)
    assert safe_next(request) is None
