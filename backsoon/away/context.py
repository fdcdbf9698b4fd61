"""Template context: the signed-in member's own active absence, for the banner on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation

from .queries import active_absence
from .rules import last_day_away
from .texts import format_back_on, member_back_on


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
        # A6: the return day as every page says it, in the page's language.
        "my_absence_back": (
            format_back_on(
                member_back_on(absence.effective_end, user), translation.get_language() or "en"
            )
            if absence
            else None
        ),
    }
