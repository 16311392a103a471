"""Masking of sensitive personal fields by role.

Whether a user sees a full ID number or phone is decided here, from the permission matrix.
Pages, the API, exports and error messages present personal fields through
:mod:`fangkong.core.personal`, which uses these helpers, so a field masked in a list is
masked everywhere.

The birth date is masked with the ID number: a masked number (``2302**********0183``) hides
the county digits and the birth date, and a clear birth date beside a region code rebuilds
it. Where the ID number is masked, only the birth year is shown (ISO 8601 reduced
precision, ``"1985"``).
"""

from __future__ import annotations

from typing import Any

from . import idnumbers, phones
from .roles import Action, can

SENSITIVE_FIELDS = ("id_number", "phone")

_PERMISSION = {"id_number": Action.VIEW_ID_NUMBER, "phone": Action.VIEW_PHONE}
_MASKERS = {"id_number": idnumbers.mask, "phone": phones.mask}


def visible_fields(user: Any) -> frozenset[str]:
    """The sensitive fields ``user`` may see unmasked."""
    return frozenset(f for f, action in _PERMISSION.items() if can(user, action))


def mask_value(field: str, value: str | None) -> str:
    """The masked form of one sensitive value."""
    return _MASKERS[field](value)


def present(field: str, value: str | None, visible: frozenset[str]) -> str:
    """``value`` as the user may see it: whole when ``field`` is visible, else masked."""
    if value is None:
        return ""
    return value if field in visible else mask_value(field, value)


def present_birth_date(value: Any, visible: frozenset[str]) -> str | None:
    """A birth date as the user may see it: ``1985-03-14`` where the ID number is visible,
    only the year ``1985`` where it is masked.

    A masked ID number hides the county digits and the birth date; a full birth date shown
    beside it (with the residence code) would rebuild the number but for a few candidates.
    ``value`` is a date or its ISO text (as kept in change history); None stays None.
    """
    if value is None or value == "":
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if "id_number" in visible else text[:4]
