"""Days of cover (可供天数): plain arithmetic, no database.

The daily rate of an item in a store is the larger of its recent consumption (what was issued
and lost over the last :data:`WINDOW_DAYS` days, divided by those days) and its planned use
(the staff on duty at the units the store supplies, times the item's use per person per day).
Taking the larger keeps a store that has just opened, or whose units just doubled their
shifts, from looking safe. Cover = stock / rate; no rate means no run-out to forecast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

WINDOW_DAYS = 7
ALERT_DAYS = 3


def daily_rate(
    used: Iterable[Decimal], *, window_days: int = WINDOW_DAYS, planned: Decimal = Decimal(0)
) -> Decimal:
    """Average daily use over the window (days with no use count as zero), or the planned
    use when that is higher."""
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    recent = sum(used, Decimal(0)) / window_days
    return max(recent, planned, Decimal(0))


def days_of_cover(stock: Decimal, rate: Decimal) -> Decimal | None:
    """Whole and tenth days the stock lasts at the rate (rounded down); ``None`` when nothing
    is being used."""
    if rate <= 0:
        return None
    if stock <= 0:
        return Decimal(0)
    return (stock / rate).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def run_out(now: dt.datetime, stock: Decimal, rate: Decimal) -> dt.datetime | None:
    """The moment the stock runs out at the rate (``None`` when nothing is being used)."""
    if rate <= 0:
        return None
    if stock <= 0:
        return now
    return now + dt.timedelta(days=float(stock / rate))


def is_short(cover: Decimal | None, alert_days: int = ALERT_DAYS) -> bool:
    """Fewer than ``alert_days`` days of cover (the < 3 days alert)."""
    return cover is not None and cover < alert_days


@dataclass(frozen=True)
class Cover:
    warehouse_id: int
    item_id: int
    stock: Decimal
    rate: Decimal
    days: Decimal | None
    short: bool
    now: dt.datetime

    @property
    def run_out_at(self) -> dt.datetime | None:
        """Computed when shown: a board of thousands of rows shows few of them."""
        return run_out(self.now, self.stock, self.rate)


def cover_of(
    *,
    warehouse_id: int,
    item_id: int,
    stock: Decimal,
    used: Iterable[Decimal],
    planned: Decimal,
    now: dt.datetime,
    alert_days: int = ALERT_DAYS,
    window_days: int = WINDOW_DAYS,
) -> Cover:
    rate = daily_rate(used, window_days=window_days, planned=planned)
    days = days_of_cover(stock, rate)
    return Cover(warehouse_id, item_id, stock, rate, days, is_short(days, alert_days), now)


def fair_share(available: Decimal, demands: list[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """Split ``available`` among requests ``(asked, weight)`` when short (公平分配建议).

    Nobody gets more than asked; what is left after the smaller requests are met is shared
    in proportion to the weights (staff on duty, people isolated, population) — water
    filling. Shares are whole units, rounded down, so their sum never exceeds ``available``;
    when there is enough, everyone gets what they asked.
    """
    if available < 0:
        raise ValueError("available must not be negative")
    shares = [Decimal(0)] * len(demands)
    open_ = {i for i, (asked, _) in enumerate(demands) if asked > 0}
    left = available
    while open_ and left > 0:
        weights = {i: max(demands[i][1], Decimal(0)) for i in open_}
        total = sum(weights.values())
        if total <= 0:
            weights = {i: Decimal(1) for i in open_}
            total = Decimal(len(open_))
        met = [i for i in open_ if demands[i][0] - shares[i] <= left * weights[i] / total]
        if not met:
            for i in open_:
                shares[i] += left * weights[i] / total
            left = Decimal(0)
            break
        for i in met:
            need = demands[i][0] - shares[i]
            shares[i] += need
            left -= need
            open_.discard(i)
    return [s.to_integral_value(rounding=ROUND_DOWN) for s in shares]
