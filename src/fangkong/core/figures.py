"""Daily figures (每日数字): the extension point through which reports read every module.

A module registers, in its ``AppConfig.ready``, the named figures it can count for a region
at a moment — "people in home isolation", "samples taken today" — and the command boards,
daily reports and Word reports read them here, never another module's tables.

A figure answers :class:`FigureQuery`: counts for every region at one level under a prefix
(the county's townships, a township's villages), as of a moment. A *stock* figure is the
state at that moment (people isolated now); a *flow* figure counts what happened on that
moment's calendar day up to the moment (fevers today). Counting "as of" a past moment lets
the worker fill a 14-day trend the first time it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from .jurisdiction import prefix_q

STOCK = "stock"
FLOW = "flow"


@dataclass(frozen=True)
class FigureQuery:
    """Count under ``prefix`` (a region code; ``""`` is everything), grouped by the first
    ``group_length`` digits of the region code (9: townships, 12: villages), as of ``at``."""

    prefix: str
    group_length: int
    at: dt.datetime

    @property
    def day(self) -> dt.date:
        return timezone.localtime(self.at).date()

    @property
    def day_start(self) -> dt.datetime:
        """Midnight (Asia/Shanghai) of the query's day, as an aware datetime."""
        local = timezone.localtime(self.at)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Figure:
    """A named count a module can compute.

    ``compute(query)`` returns ``{region code of group_length digits: count}`` (missing
    regions count 0). ``list_url(region_code)`` is the page listing what is counted, for the
    number's link; ``permission`` is the action a reader needs to follow that link.
    """

    key: str
    label: Any
    module: str
    compute: Callable[[FigureQuery], dict[str, int]]
    kind: str = STOCK
    unit: Any = ""
    order: int = 100
    list_url: Callable[[str], str] | None = None
    permission: str = ""
    help_text: Any = ""
    # A figure where a higher number is better (coverage, reports filed): the board colours
    # its change the other way round.
    higher_is_better: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)


def list_page(name: str, *, region: str = "", **params: str) -> Callable[[str], str]:
    """A figure's ``list_url``: the named page with its filters (``status="closed"``) and,
    when ``region`` names the page's region parameter, the board row's region code."""

    def url(code: str) -> str:
        from urllib.parse import urlencode

        from django.urls import reverse

        query = {**params, **({region: code} if region and code else {})}
        return reverse(name) + (f"?{urlencode(query)}" if query else "")

    return url


_FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> None:
    """Register (or replace, on a second ``ready``) a figure under its unique key."""
    if figure.kind not in (STOCK, FLOW):
        raise ValueError(f"figure {figure.key}: kind must be {STOCK!r} or {FLOW!r}")
    _FIGURES[figure.key] = figure


def figures(keys: Iterable[str] | None = None) -> list[Figure]:
    """Registered figures in board order (or the given keys, in that order)."""
    if keys is not None:
        return [_FIGURES[k] for k in keys if k in _FIGURES]
    return sorted(_FIGURES.values(), key=lambda f: (f.order, f.key))


def get(key: str) -> Figure:
    return _FIGURES[key]


def compute(key: str, query: FigureQuery) -> dict[str, int]:
    """The counts of one figure, with every value an int (a module's ``None`` is 0)."""
    counts = _FIGURES[key].compute(query)
    return {code: int(n or 0) for code, n in counts.items() if code}


def count_by_region(
    queryset: QuerySet[Any], query: FigureQuery, *, field: str = "region_code"
) -> dict[str, int]:
    """The usual body of a figure: rows of ``queryset`` under the query's prefix, counted by
    the first ``group_length`` digits of ``field`` (one GROUP BY on either database)."""
    if query.prefix:
        queryset = queryset.filter(prefix_q(field, [query.prefix]))
    rows = (
        queryset.order_by()
        .annotate(_group=Substr(field, 1, query.group_length))
        .values_list("_group")
        .annotate(_n=Count("pk"))
    )
    return {code: n for code, n in rows if code and len(code) == query.group_length}


def total(counts: dict[str, int]) -> int:
    return sum(counts.values())
