"""backsoon.wsgi around Django's handler: chunked bodies and trusted proxies."""

from __future__ import annotations

import io
from typing import Any

from backsoon.wsgi import behind_proxies, read_chunked_body


def test_a_chunked_body_gets_its_length_and_is_read_at_most_one_past_the_limit():
    environ: dict[str, Any] = {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(b"x" * 50),
    }
    read_chunked_body(environ, limit=10)
    assert environ["CONTENT_LENGTH"] == "11"  # over the limit: the middleware says 413
    assert environ["wsgi.input"].read() == b"x" * 11
    small: dict[str, Any] = {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(b'{"a": 1}'),
    }
    read_chunked_body(small, limit=10)
    assert (small["CONTENT_LENGTH"], small["wsgi.input"].read()) == ("8", b'{"a": 1}')


def test_a_body_with_a_declared_length_is_left_to_django():
    body = io.BytesIO(b"abc")
    environ: dict[str, Any] = {"CONTENT_LENGTH": "3", "wsgi.input": body}
    read_chunked_body(environ, limit=10)
    assert environ["wsgi.input"] is body


def test_forwarded_headers_are_trusted_from_the_listed_proxies_only():
    seen: list[tuple[str, str]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append((environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]))
        return []

    wrapped = behind_proxies(app, "10.0.0.5, 10.0.0.6")
    for remote in ("10.0.0.5", "192.0.2.9"):
        wrapped(
            {
                "REMOTE_ADDR": remote,
                "wsgi.url_scheme": "http",
                "HTTP_X_FORWARDED_FOR": "203.0.113.7",
                "HTTP_X_FORWARDED_PROTO": "https",
            },
            None,
        )
    assert seen == [("203.0.113.7", "https"), ("192.0.2.9", "http")]
