"""What the field app's sync endpoints share (the doctor's round, the grid worker's visits).

A phone queues records offline, each with its own idempotency key, and sends up to
:data:`MAX_SYNC` of them in one request; the module answers per record (stored, duplicate,
conflict, invalid, not_found) and the endpoint adds the counts. Keys are printable ASCII so
they can be stored and compared as they are; times sent without a zone are local times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field

from .schemas import ErrorOut, NoNul

MAX_SYNC = 500
KeyText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[!-~]+$"), NoNul]
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


def aware(value: datetime) -> datetime:
    """A phone's time as an aware datetime (naive times are the server's local time)."""
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def answer(results: list[dict]) -> dict:
    """The sync endpoints' body: the per-record results and how many were stored, were
    duplicates of records already stored, or conflicted with the server."""
    return {
        "results": results,
        "stored": sum(1 for r in results if r["status"] == "stored"),
        "duplicates": sum(1 for r in results if r["status"] == "duplicate"),
        "conflicts": sum(1 for r in results if r["status"] == "conflict"),
    }


# ---------------------------------------------------------------- work-set cursors
#
# A phone that has its work set asks only for what changed since its last download: the
# answer carries a cursor, the phone sends it back as ``since``. The cursor is the time of
# that answer (less an overlap, so that a change committed late by a slower transaction is
# sent again rather than missed: entries are idempotent on the phone) and a digest of the
# user's jurisdiction: a cursor from another scope (the user moved to another grid), a
# malformed, future or too old one gets the whole set again, flagged ``full``.

CURSOR_OVERLAP = timedelta(minutes=5)
CURSOR_MAX_AGE = timedelta(days=7)


def _scope_digest(codes: Iterable[str]) -> str:
    return hashlib.sha256(",".join(sorted(codes)).encode()).hexdigest()[:12]


def make_cursor(now: datetime, codes: Iterable[str]) -> str:
    """The cursor of a work set generated at ``now`` for a user over ``codes``."""
    micros = int((now - CURSOR_OVERLAP).timestamp() * 1_000_000)
    return f"v1.{micros}.{_scope_digest(codes)}"


def read_cursor(value: str | None, codes: Iterable[str], now: datetime) -> datetime | None:
    """The time a phone's cursor stands for, or ``None`` when it must get the whole set."""
    parts = (value or "").split(".")
    if len(parts) != 3 or parts[0] != "v1" or not parts[1].isdigit():
        return None
    if parts[2] != _scope_digest(codes):
        return None
    since = datetime.fromtimestamp(int(parts[1]) / 1_000_000, tz=UTC)
    if since > now or now - since > CURSOR_MAX_AGE:
        return None
    return since
