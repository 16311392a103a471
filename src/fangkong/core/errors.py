"""Exceptions that services raise and the API/UI turn into clear, field-named messages.

The API renders them in DESIGN.md's shape: ``{"detail": ..., "errors": [{"field", "message"}]}``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.utils.translation import gettext

logger = logging.getLogger(__name__)


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class ValidationFailed(Exception):
    """Input that breaks a rule; nothing was stored."""

    errors: list[FieldError] = field(default_factory=list)
    detail: str = field(default_factory=lambda: gettext("The submitted data is not valid"))

    def __str__(self) -> str:
        return "; ".join(f"{e.field}: {e.message}" for e in self.errors) or self.detail


class NotFound(Exception):
    """The record does not exist or lies outside the user's jurisdiction (the same to them)."""


class PermissionDenied(Exception):
    """The user's role does not allow the action."""


@dataclass
class VersionConflict(Exception):
    """A write named an older version than the stored one: someone else changed it first."""

    current_version: int
    detail: str = field(
        default_factory=lambda: gettext(
            "This record was changed by someone else; refresh and try again"
        )
    )

    def __str__(self) -> str:
        return self.detail


def public_message(exc: BaseException) -> str:
    """What a user may read about ``exc``: the sentence of a rule Fangkong enforces, or for
    anything else (a database error, a bug) a reference to the server log — never the raw
    text, which can quote SQL, column names and the values of other rows.
    """
    if isinstance(exc, ValidationFailed | VersionConflict):
        return str(exc)
    if isinstance(exc, NotFound):
        return gettext("The record does not exist or is outside your jurisdiction")
    if isinstance(exc, PermissionDenied):
        return gettext("Your role does not allow this action")
    reference = secrets.token_hex(4)
    logger.error("unexpected error, reference %s", reference, exc_info=exc)
    return gettext(
        "An unexpected error occurred (reference %(reference)s); nothing was changed. "
        "The administrator can find the details in the server log."
    ) % {"reference": reference}
