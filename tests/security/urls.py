"""Every URL pattern of the site (not the API, not the admin), for tests that walk them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: URLPattern

    @property
    def params(self) -> list[str]:
        return list(self.pattern.pattern.regex.groupindex)


def _walk(patterns: list, namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith(("admin/", "api/")):
                continue
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, inner)
        elif isinstance(p, URLPattern):
            yield Route(name=f"{namespace}{p.name}", pattern=p)


def site_routes() -> list[Route]:
    """The site's URL patterns, each by its ``namespace:name``."""
    return list(_walk(get_resolver().url_patterns))
