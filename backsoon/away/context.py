"""Template context: the signed-in member's own active absence, for the banner on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .queries import active_absence


def away_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_absence": active_absence(user.pk)}
