"""Chinese resident identity numbers (居民身份证号码, GB 11643-1999).

An 18-character number is six digits of issuing region, eight of birth date (YYYYMMDD),
three of sequence (odd for men, even for women) and one check character computed with
ISO 7064 MOD 11-2 (``X`` stands for 10). A 15-digit legacy number has a two-digit year and
no check character; it converts by inserting ``19`` and computing the check character.

Every function here is pure: parsers raise :class:`IdNumberError` whose ``message`` is a
Chinese sentence fit to show a cadre, and whose ``code`` names the fault for programs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")
EARLIEST_BIRTH = dt.date(1890, 1, 1)


class IdNumberError(ValueError):
    """A resident ID number that cannot be accepted, with a message for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A validated 18-character resident ID number and what it encodes."""

    number: str
    region_code: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = 0
    for weight, char in zip(WEIGHTS, first17, strict=True):
        total += weight * (ord(char) - 48)
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    """Strip spaces and full-width forms people type or paste (＂１２３＂, lower-case x)."""
    table = {ord("Ｘ"): "X", ord("ｘ"): "X", ord("x"): "X"}
    table.update({0xFF10 + i: str(i) for i in range(10)})
    return "".join(raw.split()).translate(table)


def _birth_date(digits: str, today: dt.date) -> dt.date:
    try:
        born = dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise IdNumberError(
            "birth_date",
            _("The date of birth %(digits)s in the ID number is not a valid date")
            % {"digits": digits},
        ) from None
    if born > today:
        raise IdNumberError(
            "birth_date",
            _("The date of birth %(date)s in the ID number is after today")
            % {"date": f"{born:%Y-%m-%d}"},
        )
    if born < EARLIEST_BIRTH:
        raise IdNumberError(
            "birth_date",
            _("The date of birth %(date)s in the ID number is before 1890")
            % {"date": f"{born:%Y-%m-%d}"},
        )
    return born


def parse(raw: str, *, allow_legacy: bool = True, today: dt.date | None = None) -> IdNumber:
    """Validate an ID number and return what it encodes.

    15-digit legacy numbers are converted to 18 digits when ``allow_legacy`` is true (the
    converted number is returned), else rejected with a message asking for the new one.
    """
    today = today or dt.date.today()
    number = normalize(raw)
    if not number:
        raise IdNumberError("empty", _("The ID number is empty"))
    if len(number) == 15:
        if not set(number) <= _DIGITS:
            raise IdNumberError("characters", _("A 15-digit ID number may contain digits only"))
        if not allow_legacy:
            raise IdNumberError(
                "legacy",
                _("This is an old 15-digit ID number; please enter the 18-digit number"),
            )
        first17 = number[:6] + "19" + number[6:]
        _birth_date(first17[6:14], today)
        number = first17 + check_char(first17)
    if len(number) != 18:
        raise IdNumberError(
            "length",
            _("An ID number has 18 characters, this one has %(length)d") % {"length": len(number)},
        )
    first17, last = number[:17], number[17]
    if not set(first17) <= _DIGITS or not (last in _DIGITS or last == "X"):
        raise IdNumberError(
            "characters",
            _("The first 17 characters of an ID number are digits, the last a digit or X"),
        )
    born = _birth_date(first17[6:14], today)
    expected = check_char(first17)
    if last != expected:
        raise IdNumberError(
            "check_digit",
            _(
                "ID number check digit is wrong: the last character should be "
                "%(expected)s, not %(actual)s"
            )
            % {"expected": expected, "actual": last},
        )
    if first17[:2] in {"00", "10"} or first17[0] == "9":
        raise IdNumberError(
            "region",
            _("The region code %(code)s of the ID number does not exist") % {"code": first17[:6]},
        )
    sex = "M" if (ord(first17[16]) - 48) % 2 == 1 else "F"
    return IdNumber(number=number, region_code=first17[:6], birth_date=born, sex=sex)


def is_valid(raw: str) -> bool:
    """True when ``raw`` is an acceptable 18-digit number (legacy numbers are not)."""
    try:
        parse(raw, allow_legacy=False)
    except IdNumberError:
        return False
    return True


def make(region_code: str, birth_date: dt.date, sequence: int, sex: str) -> str:
    """Build a valid number; ``sequence`` 0–499 picks the first two sequence digits.

    Used by the synthetic county generator and tests: the third sequence digit carries the
    sex (odd for men), as on real cards.
    """
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError("region_code must be six digits")
    if not 0 <= sequence <= 499:
        raise ValueError("sequence must be in 0..499")
    sex_digit = (sequence % 5) * 2 + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence // 5:02d}{sex_digit}"
    return first17 + check_char(first17)


def mask(number: str | None) -> str:
    """Show the region prefix and the last four characters: ``2302**********1234``."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
