"""Masking of sensitive personal fields by role.

Whether a user sees a full ID number or phone is decided here, from the permission matrix;
serializers, templates, exports and error messages all call :func:`visible_fields` or the
helpers below, so a field masked in a list is masked everywhere.
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
