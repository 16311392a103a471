"""Mainland China mobile and fixed-line phone numbers.

Mobiles are 11 digits starting with 1 and a second digit 3–9. Fixed lines are an area code
starting with 0 (3 or 4 digits) and a 7–8 digit subscriber number, written with or without a
hyphen. A ``+86``/``0086`` prefix, spaces and hyphens are tolerated on input and removed.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_MOBILE = re.compile(r"1[3-9]\d{9}")
_FIXED = re.compile(r"0\d{2,3}-?[2-9]\d{6,7}")
_STRIP = re.compile(r"[\s()（）]")


class PhoneError(ValueError):
    """A phone number that cannot be accepted, with a message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize(raw: str) -> str:
    """Return the canonical form (``13912345678`` or ``0452-1234567``) or raise PhoneError."""
    text = _STRIP.sub("", raw or "")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :].lstrip("-")
    if not text:
        raise PhoneError(_("The phone number is empty"))
    digits_only = text.replace("-", "")
    if _MOBILE.fullmatch(digits_only):
        return digits_only
    if _FIXED.fullmatch(text) or _FIXED.fullmatch(digits_only):
        if "-" in text:
            return text
        area_len = 3 if digits_only[1] in "12" else 4
        return digits_only[:area_len] + "-" + digits_only[area_len:]
    raise PhoneError(
        _(
            "Phone number %(phone)s is not valid: a mobile number has 11 digits and "
            "starts with 1, a landline needs its area code"
        )
        % {"phone": raw}
    )


def is_valid(raw: str) -> bool:
    try:
        normalize(raw)
    except PhoneError:
        return False
    return True


def mask(phone: str | None) -> str:
    """Keep the first three and last four digits: ``139****5678``."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
