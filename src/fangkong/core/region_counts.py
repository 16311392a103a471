"""Per-region counts of personal records, contributed by the domain apps, within jurisdiction.

The region endpoints show how many persons (and households) live under each region. Those
records belong to domain apps, and core never imports a domain app, so each app registers a
counter here from its ``AppConfig.ready()``. A counter answers, for one user and one code
prefix, ``{region_code: n}`` for the records under that prefix *that the user may see* (it
goes through the app's scoped selector), or ``None`` when the user's role may not see that
kind of record at all. Rolling the counts up to every ancestor region happens here, once.

So a township official looking at the county sees the county's count of *their* township's
people, never the whole county's: a count is personal data in aggregate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from .models import LEVEL_BY_LENGTH

Counter = Callable[[Any, str], "dict[str, int] | None"]

_COUNTERS: dict[str, Counter] = {}
_LENGTHS = sorted(LEVEL_BY_LENGTH)


def register(name: str, counter: Counter) -> None:
    """Make ``name`` (e.g. ``"persons"``) appear in region counts, computed by ``counter``."""
    _COUNTERS[name] = counter


def registered() -> tuple[str, ...]:
    return tuple(_COUNTERS)


class RegionTotals:
    """Counts under one prefix, rolled up so that any region under it can be asked."""

    def __init__(self, by_name: dict[str, dict[str, int] | None]) -> None:
        self._by_name = by_name

    def for_region(self, code: str) -> dict[str, int | None]:
        """``{name: count}`` for one region; ``None`` where the user may not see that kind."""
        return {
            name: (None if rolled is None else rolled.get(code, 0))
            for name, rolled in self._by_name.items()
        }


def totals(user: Any, prefix: str = "") -> RegionTotals:
    """Every registered count for the regions under ``prefix`` ("" for all), for ``user``."""
    by_name: dict[str, dict[str, int] | None] = {}
    for name, counter in _COUNTERS.items():
        leaves = counter(user, prefix)
        if leaves is None:
            by_name[name] = None
            continue
        rolled: dict[str, int] = defaultdict(int)
        for code, n in leaves.items():
            for length in _LENGTHS:
                if length > len(code):
                    break
                rolled[code[:length]] += n
        by_name[name] = dict(rolled)
    return RegionTotals(by_name)
