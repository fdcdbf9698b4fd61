"""Template context: the signed-in member's own active absence, for the banner on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .queries import active_absence
from .rules import last_day_away


def away_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    absence = active_absence(user.pk)
    return {
        "my_absence": absence,
        "my_absence_last_day": (
            last_day_away(absence.effective_end, user.timezone) if absence else None
        ),
    }
