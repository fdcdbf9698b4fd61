"""Posts API (filled in by the posts work)."""

from ninja import Router

router = Router(tags=["posts"])
