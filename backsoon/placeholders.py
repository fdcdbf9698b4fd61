"""Placeholders in member text (AWAY-SPEC R7, TRIAGE C3): a pure function, no I/O.

Automatic replies and saved replies both fill ``{name}`` placeholders in text a
member wrote. Only the names given are filled; any other brace text stays as
written, and member text is never evaluated as a template (no ``format()``, no
template engine), so ``{0}`` or ``{x.__class__}`` is inert text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{([a-z_]{1,30})\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` of ``values`` replaced by its value; everything
    else, other brace text included, as written. A value is inserted as is (never
    filled again)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
