"""How the Away badge says the return day: the one place that picks the day and words it.

Every page that shows a member's Away badge (profile, search, invitations, the
conversation list and header, post and comment authors, notifications) goes
through these filters, so the day shown (today the last day away, ``until_date``;
``back_on`` once the badge carries it) and its wording change here alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext, pgettext

register = template.Library()


def _format(style: str) -> str:
    """The date format of a style: ``short`` ("3 Dec") or ``long`` ("Thursday 3 December 2026")."""
    if style == "long":
        return "l j F Y"
    return pgettext("date format", "j M")


def badge_day(badge: dict[str, Any] | None) -> date | None:
    """The day an Away badge names (its last day away), or None without a badge."""
    if not badge:
        return None
    day = badge.get("until_date")
    return day if isinstance(day, date) else None


@register.filter
def away_day(badge: dict[str, Any] | None, style: str = "short") -> str:
    """The badge's day in the active language, ``short`` or ``long``; "" without a badge."""
    day = badge_day(badge)
    return formats.date_format(day, _format(style)) if day is not None else ""


@register.filter
def away_until(badge: dict[str, Any] | None, style: str = "short") -> str:
    """ "Away until <day>" for a badge (see ``away_day``); "" without a badge."""
    day = away_day(badge, style)
    return gettext("Away until %(date)s") % {"date": day} if day else ""


@register.filter
def you_are_away_until(badge: dict[str, Any] | None, style: str = "long") -> str:
    """ "You are away until <day>", for your own badge; "" without a badge."""
    day = away_day(badge, style)
    return gettext("You are away until %(date)s") % {"date": day} if day else ""
