"""Slicing long value lists for ``IN (...)`` look-ups.

SQLite limits the bound parameters of one statement, and a PostgreSQL ``IN`` list of tens of
thousands of values costs more to build and parse than to run, so look-ups by many keys go
a slice at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

LOOKUP_BATCH = 5000  # values per IN (...) list: well under SQLite's and PostgreSQL's limits


def chunks(values: Sequence[T], size: int = LOOKUP_BATCH) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``values``, ``size`` at most each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
