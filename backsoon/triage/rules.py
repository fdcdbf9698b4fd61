"""Labels: why something is in front of a member (TRIAGE L1-L6). Pure.

A label is stored as a small dict, ``{"code": ..., <the figures of its reason>}``,
computed when the message or invitation arrives; :func:`label_out` turns it into
``{code, reason}`` in the active language when it is shown (to its recipient only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

KNOWN, MASS, COLLECTOR, NOTE, FIRST_CONTACT = "known", "mass", "collector", "note", "first_contact"
CODES = (KNOWN, MASS, COLLECTOR, NOTE, FIRST_CONTACT)
# L2: a similar text to this many members in WINDOW_DAYS is mass.
MASS_MEMBERS = 10
WINDOW_DAYS = 7
# L3: a collector has this many connections and none in common, or sent this many
# invitations in WINDOW_DAYS.
COLLECTOR_CONNECTIONS = 1000
COLLECTOR_INVITATIONS = 50

Label = dict[str, Any]


def message_labels(*, known_why: str | None, copies: int) -> list[Label]:
    """The labels of a message for its recipient.

    Args:
        known_why: why the recipient knows the sender (``Contact.Why``), None if not.
        copies: members the sender sent a similar text to in the last week, this one
            included (only counted for strangers).
    """
    if known_why is not None:
        return [{"code": KNOWN, "why": known_why}]
    if copies >= MASS_MEMBERS:
        return [{"code": MASS, "count": copies}]
    return [{"code": FIRST_CONTACT}]


def invitation_labels(
    *,
    known_why: str | None,
    has_note: bool,
    note_copies: int,
    connections: int,
    mutual: int,
    sent_recently: int,
) -> list[Label]:
    """The labels of an invitation for its recipient (L1-L5).

    Args:
        note_copies: members the sender sent a similar note to in the last week.
        connections: the sender's connections; ``mutual``: connections in common.
        sent_recently: invitations the sender sent in the last week, this one included.
    """
    if known_why is not None:
        labels: list[Label] = [{"code": KNOWN, "why": known_why}]
        if has_note:
            labels.append({"code": NOTE})
        return labels
    labels = []
    if connections >= COLLECTOR_CONNECTIONS and mutual == 0:
        labels.append({"code": COLLECTOR, "connections": connections})
    elif sent_recently >= COLLECTOR_INVITATIONS:
        labels.append({"code": COLLECTOR, "invitations": sent_recently})
    if has_note and note_copies >= MASS_MEMBERS:
        labels.append({"code": MASS, "count": note_copies, "note": True})
    elif has_note:
        labels.append({"code": NOTE})
    return labels or [{"code": FIRST_CONTACT}]


def with_mass(labels: Sequence[Label], copies: int, *, note: bool = False) -> list[Label]:
    """``labels`` of an earlier copy once its sender reached ``copies`` members (L2:
    the 10th copy labels the first nine). Known stays known (L1); ``note`` and
    ``first_contact`` give way to ``mass``."""
    if any(label["code"] == KNOWN for label in labels):
        return list(labels)
    kept = [label for label in labels if label["code"] in (COLLECTOR,)]
    mass: Label = {"code": MASS, "count": copies}
    if note:
        mass["note"] = True
    return [*kept, mass]


def reason(label: Label) -> str:
    """The human reason of a label, in the active language."""
    code = label.get("code")
    if code == KNOWN:
        why = label.get("why")
        if why == "connected":
            return gettext("You are connected")
        if why == "accepted":
            return gettext("You accepted their request or invitation")
        return gettext("You have written to them")
    if code == MASS:
        count = int(label.get("count", MASS_MEMBERS))
        if label.get("note"):
            return ngettext(
                "Sent a similar note to %(count)s member",
                "Sent a similar note to %(count)s members",
                count,
            ) % {"count": number_format(count, force_grouping=True)}
        return ngettext(
            "Sent a similar message to %(count)s member",
            "Sent a similar message to %(count)s members",
            count,
        ) % {"count": number_format(count, force_grouping=True)}
    if code == COLLECTOR:
        if "connections" in label:
            count = int(label["connections"])
            return ngettext(
                "%(count)s connection, none in common",
                "%(count)s connections, none in common",
                count,
            ) % {"count": number_format(count, force_grouping=True)}
        count = int(label.get("invitations", COLLECTOR_INVITATIONS))
        return ngettext(
            "Sent %(count)s invitation in the last 7 days",
            "Sent %(count)s invitations in the last 7 days",
            count,
        ) % {"count": number_format(count, force_grouping=True)}
    if code == NOTE:
        return gettext("Wrote you a personal note")
    return gettext("First contact: you have not been in touch before")


def label_title(code: str) -> str:
    """A label's short name, in the active language."""
    return {
        KNOWN: gettext("Known"),
        MASS: gettext("Mass message"),
        COLLECTOR: gettext("Collector"),
        NOTE: gettext("Personal note"),
        FIRST_CONTACT: gettext("First contact"),
    }.get(code, code)


def label_out(label: Label) -> dict[str, str]:
    """A label as the API and the pages show it: ``{code, reason}`` (and its title)."""
    return {"code": str(label.get("code")), "reason": reason(label)}


def labels_out(labels: Sequence[Label] | None) -> list[dict[str, str]]:
    return [label_out(label) for label in labels or ()]
