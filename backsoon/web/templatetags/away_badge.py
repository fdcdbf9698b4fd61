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


def _back(badge: dict[str, Any] | None, style: str) -> str:
    """The return day of AWAY-SPEC A6 (``back_on``), said one way: the badge's
    ``back_text`` in the long style, else ``back_on`` in the style asked."""
    if not badge:
        return ""
    back = badge.get("back_on")
    if style == "long" and badge.get("back_text"):
        return str(badge["back_text"])
    if isinstance(back, date):
        return formats.date_format(back, _format(style))
    return ""


@register.filter
def back_day(badge: dict[str, Any] | None, style: str = "long") -> str:
    """The badge's return day (A6), or its last day away for a badge without one."""
    return _back(badge, style) or away_day(badge, style)


@register.filter
def away_until(badge: dict[str, Any] | None, style: str = "short") -> str:
    """ "Away, back on <day>" for a badge (A6: the one return day); a badge without
    ``back_on`` says "Away until <last day>"; "" without a badge."""
    back = _back(badge, style)
    if back:
        return gettext("Away, back on %(date)s") % {"date": back}
    day = away_day(badge, style)
    return gettext("Away until %(date)s") % {"date": day} if day else ""


@register.filter
def you_are_away_until(badge: dict[str, Any] | None, style: str = "long") -> str:
    """ "You are away, back on <day>", for your own badge; "" without a badge."""
    back = _back(badge, style)
    if back:
        return gettext("You are away, back on %(date)s") % {"date": back}
    day = away_day(badge, style)
    return gettext("You are away until %(date)s") % {"date": day} if day else ""
