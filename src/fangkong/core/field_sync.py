"""What the field app's sync endpoints share (the doctor's round, the grid worker's visits).

A phone queues records offline, each with its own idempotency key, and sends up to
:data:`MAX_SYNC` of them in one request; the module answers per record (stored, duplicate,
conflict, invalid, not_found) and the endpoint adds the counts. Keys are printable ASCII so
they can be stored and compared as they are; times sent without a zone are local times.
"""

from __future__ import annotations

from datetime import datetime
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
