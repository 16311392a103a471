"""Characters no text in Fangkong may hold, checked at the edge and for names.

Every string that reaches Fangkong — URL path, query, form field, JSON value, imported
cell — is refused when it carries:

- NUL and the other C0/C1 control characters (only tab, line feed and carriage return are
  text); PostgreSQL cannot store NUL at all, and the rest are invisible in a ledger;
- lone UTF-16 surrogates (``"\\ud800"`` in JSON), which no database encoding can store;
- bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and kin) and line/paragraph
  separators, which make a name or an address display as something other than what it is.

Names are stricter still (:func:`name_problem`): no tab or line break, no invisible format
character at all (zero-width joiners included), and at most :data:`NAME_MAX_LENGTH`.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]"
)
NAME_MAX_LENGTH = 64


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that no field may hold, or None."""
    match = _UNSAFE.search(text)
    return match.group() if match else None


def describe(char: str) -> str:
    """``U+202E`` and the character's Unicode name, for an error message."""
    return f"U+{ord(char):04X} {unicodedata.name(char, '')}".strip()


def unsafe_message(char: str) -> str:
    return _("contains a control or direction character that is not allowed (%(char)s)") % {
        "char": describe(char)
    }


def check(value: str) -> str:
    """``value`` unchanged, or ValueError naming the character (a pydantic validator)."""
    char = unsafe_character(value)
    if char is not None:
        raise ValueError(unsafe_message(char))
    return value


def name_problem(name: str) -> str | None:
    """Why a cleaned-up personal name cannot be stored, or None when it can."""
    if not name:
        return _("Name is required")
    if len(name) > NAME_MAX_LENGTH:
        return _("Name is too long (at most %(count)d characters)") % {"count": NAME_MAX_LENGTH}
    for char in name:
        if char in "\t\n\r" or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return unsafe_message(char)
    return None
