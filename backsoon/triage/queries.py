"""Reads of the flood rules."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Contact


def known_why(member_id: int, other_ids: Iterable[int]) -> dict[int, str]:
    """Which of ``other_ids`` ``member_id`` knows (S1, L1), with why."""
    return dict(
        Contact.objects.filter(member_id=member_id, other_id__in=list(other_ids)).values_list(
            "other_id", "why"
        )
    )


def knowers_of(member_id: int, other_ids: Iterable[int]) -> dict[int, str]:
    """Which of ``other_ids`` know ``member_id``, with why."""
    return dict(
        Contact.objects.filter(other_id=member_id, member_id__in=list(other_ids)).values_list(
            "member_id", "why"
        )
    )
