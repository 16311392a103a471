"""Building blocks for API schemas: bounded text, strict dates, bounded ids, the error shape.

Every string an API accepts carries :data:`NoNul` and a maximum length: text longer than a
column is a 500 on PostgreSQL, not a validation error, and NUL bytes cannot be stored in a
PostgreSQL text column at all (SQLite would silently accept both). Dates accept only
``YYYY-MM-DD`` strings: pydantic's lax mode would take ``0`` or ``"20200101"``. Integer ids
are bounded to what a 64-bit column holds, so a huge id is a 422, not a database overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from . import text

MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def reject_nul(value: str) -> str:
    """Refuse NUL (no PostgreSQL text column can hold it), the other control characters,
    lone surrogates and direction overrides (:mod:`fangkong.core.text`)."""
    return text.check(value)


NoNul = AfterValidator(reject_nul)
"""Put in an ``Annotated[str, NoNul, StringConstraints(max_length=...)]`` for every string."""


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(_("a date must be written YYYY-MM-DD"))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("%(value)s is not a valid date") % {"value": value}) from None


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def not_sent(**field: Any) -> Any:
    """The default of a field of a partial update (PATCH) that may be left out but never
    sent as ``null`` (a name, a date a record cannot lack).

    Declare it with its plain type, ``place: Place = not_sent()``: the field is then optional,
    JSON ``null`` is a 422 naming it, and the document does not call it nullable. Handlers
    read such bodies with ``exclude_unset=True``, so the ``None`` behind it is never used.
    A field that may really be emptied keeps ``X | None = None``.
    """
    return Field(None, json_schema_extra=_drop_default, **field)


StrictDate = Annotated[dt.date, BeforeValidator(_iso_date)]
ObjectId = Annotated[int, Field(strict=True, ge=1, le=MAX_BIGINT)]
Version = Annotated[int, Field(strict=True, ge=1, le=MAX_INT)]
QueryId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
"""An id in a query string or path, where it arrives as text (so it cannot be strict)."""
RegionCode = Annotated[str, NoNul, StringConstraints(min_length=2, max_length=15, pattern=r"^\d+$")]
"""A region code or code prefix: digits only (a subtree is a code prefix)."""
Cursor = Annotated[str, NoNul, StringConstraints(max_length=400)]


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """DESIGN.md's error shape: a sentence for people, and the fields at fault."""

    detail: str
    errors: list[FieldErrorOut] = []


# The error statuses every endpoint that reads or writes personal data may answer with.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}
