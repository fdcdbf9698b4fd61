"""Keyset ("cursor") pagination for API lists.

A cursor is an opaque, URL-safe token that encodes the sort key of the last
item of a page. Keyset pages stay fast and stable on large tables, unlike
offsets: inserting rows never shifts or repeats items across pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, Model, Q, QuerySet
from django.utils.translation import gettext

from .errors import Invalid

T = TypeVar("T", bound=Model)
R = TypeVar("R")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Invalid(gettext("The cursor is not valid."), code="bad_cursor") from exc
    if not isinstance(values, list) or len(values) != width:
        raise Invalid(gettext("The cursor is not valid."), code="bad_cursor")
    if not all(isinstance(v, str | int | float) for v in values):
        raise Invalid(gettext("The cursor is not valid."), code="bad_cursor")
    return values


# The range of a (big) integer column; a cursor value outside it is forged.
_INT_RANGE = (-(2**63), 2**63 - 1)


def _typed(model: type[Model], order: Sequence[str], values: list[Any]) -> list[Any]:
    """The cursor's values as their fields' Python values.

    A cursor is opaque to clients but comes back from them: one with a value its field
    can not hold (a date that is no date, a number beyond 64 bits) is refused here,
    rather than failing in the query (a 500).

    Raises:
        Invalid: a value that does not fit its field.
    """
    typed = []
    for name, value in zip(order, values, strict=True):
        field = model._meta.get_field(name.lstrip("-"))
        assert isinstance(field, Field), f"{name} is not a concrete field"
        try:
            python = field.to_python(value)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise Invalid(gettext("The cursor is not valid."), code="bad_cursor") from None
        out_of_range = isinstance(python, int) and not _INT_RANGE[0] <= python <= _INT_RANGE[1]
        naive = isinstance(python, datetime) and python.tzinfo is None
        if python is None or out_of_range or naive:
            raise Invalid(gettext("The cursor is not valid."), code="bad_cursor")
        typed.append(python)
    return typed


def _after(order: Sequence[str], values: list[Any]) -> Q:
    """The condition "comes after ``values`` in ``order``" as a Q object."""
    condition = Q()
    for i, field in enumerate(order):
        name = field.lstrip("-")
        op = "lt" if field.startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": values[i]})
        for prev_field, prev_value in zip(order[:i], values[:i], strict=True):
            step &= Q(**{prev_field.lstrip("-"): prev_value})
        condition |= step
    return condition


def keyset_page(
    qs: QuerySet[T],
    *,
    order: Sequence[str],
    cursor: str | None,
    limit: int = DEFAULT_LIMIT,
    key: Callable[[T], list[Any]] | None = None,
) -> tuple[list[T], str | None]:
    """Return one page of ``qs`` and the cursor of the next page (or None).

    Args:
        qs: the rows to page through, already filtered for the member.
        order: sort fields, the last of which must be unique (usually ``id``);
            a leading ``-`` sorts descending. None of them may be NULL.
        cursor: the ``next_cursor`` of the previous page, or None for the first.
        limit: page size, 1..100.
        key: how to read the sort values from a row (default: the attributes
            named in ``order``).

    Raises:
        Invalid: the cursor is malformed or the limit is out of range.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(
            gettext("limit must be between 1 and %(max)s.") % {"max": MAX_LIMIT}, code="bad_limit"
        )
    if cursor:
        values = _typed(qs.model, order, _decode(cursor, len(order)))
        qs = qs.filter(_after(order, values))
    rows = list(qs.order_by(*order)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        values = key(last) if key else [getattr(last, f.lstrip("-")) for f in order]
        next_cursor = _encode(values)
    return rows, next_cursor


def offset_page(
    rows: Sequence[R], *, cursor: str | None, limit: int = DEFAULT_LIMIT
) -> tuple[list[R], str | None]:
    """One page of ``rows``, a list already ranked in memory (a ranking no index
    holds, such as a post's yield), and the cursor of the next page (or None).

    Raises:
        Invalid: the cursor is malformed or the limit is out of range.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(
            gettext("limit must be between 1 and %(max)s.") % {"max": MAX_LIMIT}, code="bad_limit"
        )
    start = 0
    if cursor:
        (start,) = _decode(cursor, 1)
        if not isinstance(start, int) or not 0 <= start <= len(rows):
            raise Invalid(gettext("The cursor is not valid."), code="bad_cursor")
    end = start + limit
    return list(rows[start:end]), _encode([end]) if end < len(rows) else None


def offset_from_cursor(cursor: str | None) -> int:
    """Where a page of a ranked list starts: 0, or the offset ``offset_cursor`` encoded.

    For lists ranked in the database by a score no index holds (member search), read
    a page at a time with ``LIMIT``/``OFFSET``.

    Raises:
        Invalid: the cursor is malformed.
    """
    if not cursor:
        return 0
    (start,) = _decode(cursor, 1)
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < 2**31:
        raise Invalid(gettext("The cursor is not valid."), code="bad_cursor")
    return start


def offset_cursor(offset: int) -> str:
    """The cursor of the page that starts at ``offset``."""
    return _encode([offset])
