"""Jurisdiction: the one place that decides which regions' personal data a user may touch.

A user holds region codes; a record is inside the user's jurisdiction when its region code
starts with one of them. "Starts with" is computed as a half-open range of codes
(``code >= p AND code < next(p)``) so that a plain B-tree index serves it on SQLite and
PostgreSQL alike, whatever the database collation (codes are digits only).

Every selector of personal data calls :func:`scope`; views and API handlers never filter by
region themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from .roles import Role

M = TypeVar("M", bound=Model)

NOTHING = Q(pk__in=[])


def next_prefix(prefix: str) -> str | None:
    """The smallest digit string greater than every string that starts with ``prefix``.

    ``"230231"`` → ``"230232"``, ``"2302319"`` → ``"230232"``; ``None`` for ``"999"``.
    """
    digits = prefix.rstrip("9")
    if not digits:
        return None
    return digits[:-1] + chr(ord(digits[-1]) + 1)


def collapse(codes: Iterable[str]) -> list[str]:
    """Drop codes covered by a shorter code in the same set (``2302`` covers ``230231``)."""
    kept: list[str] = []
    for code in sorted(set(codes), key=lambda c: (len(c), c)):
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return sorted(kept)


def prefix_q(field: str, codes: Iterable[str]) -> Q:
    """Q matching rows whose ``field`` starts with any of ``codes``."""
    condition = NOTHING
    for code in collapse(codes):
        if not code.isdigit():
            continue
        upper = next_prefix(code)
        part = Q(**{f"{field}__gte": code})
        if upper is not None:
            part &= Q(**{f"{field}__lt": upper})
        condition = part if condition is NOTHING else condition | part
    return condition


def range_sql(column: str, codes: tuple[str, ...] | list[str]) -> tuple[str, list[str]]:
    """Raw SQL for "``column`` starts with one of ``codes``" as the same index-friendly
    ranges as :func:`prefix_q`, for bulk paths written in SQL. ``""`` among the codes means
    everything; no codes means nothing."""
    if "" in codes:
        return "TRUE", []
    parts: list[str] = []
    params: list[str] = []
    for code in collapse(c for c in codes if c.isdigit()):
        upper = next_prefix(code)
        if upper is None:
            parts.append(f"{column} >= %s")
            params.append(code)
        else:
            parts.append(f"({column} >= %s AND {column} < %s)")
            params += [code, upper]
    return ("(" + " OR ".join(parts) + ")") if parts else "FALSE", params


def inside_or_above_q(field: str, codes: Iterable[str]) -> Q:
    """Rows whose ``field`` lies inside one of ``codes`` or is one of the regions above them
    (the county's and township's policies apply in a village; its sites serve it)."""
    from .regions import ancestor_codes

    wanted = tuple(codes)
    condition = prefix_q(field, wanted)
    above = ancestor_codes(wanted)
    if above:
        condition |= Q(**{f"{field}__in": sorted(above)})
    return condition


def scope_inside_or_above(
    queryset: QuerySet[M], user: Any, *, field: str = "region_code"
) -> QuerySet[M]:
    """:func:`scope`, widened to the regions above the user's (rules and sites of the county
    and township apply to a village; their personal data never does: use :func:`scope`)."""
    codes = user_codes(user)
    if not codes:
        return queryset.none()
    if "" in codes:
        return queryset
    return queryset.filter(inside_or_above_q(field, codes))


def user_codes(user: Any) -> tuple[str, ...]:
    """The region codes a user's data access is bounded by (empty: no access)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return ()
    if getattr(user, "role", None) == Role.ADMIN and getattr(user, "is_superuser", False):
        # A superuser administrator without regions administers the whole installation.
        return tuple(user.region_codes) or ("",)
    return tuple(user.region_codes)


def covers_any(user: Any, region_codes: Iterable[str]) -> bool:
    """True when at least one of ``region_codes`` lies inside the user's jurisdiction."""
    return any(covers(user, code) for code in region_codes)


def covers(user: Any, region_code: str | None) -> bool:
    """True when ``region_code`` lies inside the user's jurisdiction."""
    if region_code is None:
        return False
    return any(region_code.startswith(code) for code in user_codes(user))


def scope(queryset: QuerySet[M], user: Any, *, field: str = "region_code") -> QuerySet[M]:
    """Restrict ``queryset`` to the rows inside the user's jurisdiction.

    A user with no region codes sees nothing. The empty code (whole installation) is only
    ever given to a superuser administrator.
    """
    codes = user_codes(user)
    if not codes:
        return queryset.none()
    if "" in codes:
        return queryset
    return queryset.filter(prefix_q(field, codes))
