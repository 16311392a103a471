"""HTTP-level rules shared by every API module: versions in ETag/If-Match, refused requests.

A write to a versioned record names the version it read, either as ``If-Match: "3"`` (the
ETag a GET returned) or as a ``version`` field in the body. Neither is optional: a client
that sends no version would silently overwrite someone else's change, so it gets 428.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from .schemas import MAX_INT

_ETAG = re.compile(r'(?:W/)?"?(\d{1,10})"?')


class RequestRejected(Exception):
    """A request refused before any rule of the domain is asked, naming the field at fault."""

    def __init__(self, status: int, detail: str, field: str, message: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.message = message


def etag(version: int) -> str:
    """The ETag of a record version (strong, quoted)."""
    return f'"{version}"'


def parse_if_match(value: str) -> int:
    """The version in an ``If-Match`` header: ``"3"``, ``3`` or ``W/"3"``."""
    match = _ETAG.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(1)) <= MAX_INT:
        raise RequestRejected(
            400,
            _("The request is malformed"),
            "If-Match",
            _('If-Match must carry one version number, such as "3"'),
        )
    return int(match.group(1))


def expected_version(request: Any, body_version: int | None) -> int:
    """The version a write expects, from ``If-Match`` or the body; 428 when there is none."""
    header = request.headers.get("If-Match")
    from_header = parse_if_match(header) if header is not None else None
    if from_header is not None and body_version is not None and from_header != body_version:
        raise RequestRejected(
            400,
            _("The request is malformed"),
            "version",
            _("The version in the body differs from the one in If-Match"),
        )
    version = from_header if from_header is not None else body_version
    if version is None:
        raise RequestRejected(
            428,
            _("A version is required to change this record"),
            "version",
            _("Send the version you read, as If-Match or as a version field"),
        )
    return version


def bulk_body() -> dict[str, Any]:
    """``openapi_extra`` of an endpoint whose documented batch is larger than Django's
    request cap (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB): such a body may be up to
    ``FANGKONG_BULK_MAX_BYTES``, and the document says so (``x-max-body-bytes``).
    Every other endpoint keeps the small cap."""
    from django.conf import settings

    return {"x-fangkong-bulk": True, "x-max-body-bytes": settings.FANGKONG_BULK_MAX_BYTES}
