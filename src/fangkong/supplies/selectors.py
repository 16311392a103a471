"""Reads of supplies, always scoped by jurisdiction: stock and days of cover per store and
item, the issue ledger of a receiving unit, requests, purchases in transit, donations, funds
and prices.

Days of cover read the balances (:class:`StockLevel`) and the use of the last seven days
(:class:`DailyUse`), never the whole ledger, so the county's board stays fast however long
the ledger grows (bench/supplies_cover.py: 1,000,000 movements).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from fangkong.core import jurisdiction

from . import cover as coverlib
from .models import (
    DailyUse,
    Donation,
    Fund,
    Item,
    Movement,
    MovementKind,
    OrderStatus,
    PriceReport,
    PriceWatch,
    PurchaseOrder,
    Recipient,
    StockLevel,
    SupplyRequest,
    Warehouse,
)

OPEN_ORDERS = (
    OrderStatus.ORDERED,
    OrderStatus.IN_TRANSIT,
    OrderStatus.DELAYED,
    OrderStatus.INTERCEPTED,
)


def _dec(value: Any, places: str = "0.001") -> Decimal:
    """A database sum as an exact decimal (SQLite adds decimals as floats)."""
    return Decimal(str(value or 0)).quantize(Decimal(places))


def warehouses(actor: Any) -> QuerySet[Warehouse]:
    return jurisdiction.scope(Warehouse.objects.all(), actor)


def recipients(actor: Any) -> QuerySet[Recipient]:
    return jurisdiction.scope(Recipient.objects.select_related("warehouse"), actor)


def window(now: dt.datetime, days: int = coverlib.WINDOW_DAYS) -> tuple[dt.date, dt.date]:
    """The last ``days`` complete local days before ``now``'s day (first, last)."""
    today = timezone.localtime(now).date()
    return today - dt.timedelta(days=days), today - dt.timedelta(days=1)


def planned_use(
    warehouse_ids: Iterable[int] | None = None, items: dict[int, Item] | None = None
) -> dict[tuple[int, int], Decimal]:
    """Planned daily use per (store, item): staff on duty at the units each store supplies
    times the item's use per person per day (masks per checkpoint shift)."""
    staff = Recipient.objects.filter(warehouse__isnull=False)
    if warehouse_ids is not None:
        staff = staff.filter(warehouse_id__in=list(warehouse_ids))
    by_store = dict(staff.order_by().values_list("warehouse_id").annotate(n=Sum("staff_on_duty")))
    if items is None:
        items = {i.pk: i for i in Item.objects.filter(per_staff_daily__gt=0)}
    per_staff = {pk: i.per_staff_daily for pk, i in items.items() if i.per_staff_daily > 0}
    return {
        (wid, iid): Decimal(n or 0) * rate
        for wid, n in by_store.items()
        for iid, rate in per_staff.items()
        if n
    }


def all_covers(
    *,
    now: dt.datetime | None = None,
    warehouse_ids: Iterable[int] | None = None,
    items: dict[int, Item] | None = None,
) -> list[coverlib.Cover]:
    """Stock and days of cover of every item in every store (or the given stores)."""
    if items is None:
        items = {i.pk: i for i in Item.objects.all()}
    now = now or timezone.now()
    ids = list(warehouse_ids) if warehouse_ids is not None else None
    first, last = window(now)
    # One query: each balance with its use over the window (a correlated sum per row on the
    # (warehouse, item, day) unique index).
    use = (
        DailyUse.objects.filter(
            warehouse_id=OuterRef("warehouse_id"),
            item_id=OuterRef("item_id"),
            day__gte=first,
            day__lte=last,
        )
        .order_by()
        .values("warehouse_id")
        .annotate(t=Sum("quantity"))
        .values("t")
    )
    levels = StockLevel.objects.order_by().annotate(used=Subquery(use))
    if ids is not None:
        levels = levels.filter(warehouse_id__in=ids)
    used: dict[tuple[int, int], Decimal] = {}
    stock: dict[tuple[int, int], Decimal] = {}
    for w, i, q, u in levels.values_list("warehouse_id", "item_id", "quantity", "used"):
        stock[(w, i)] = q
        used[(w, i)] = _dec(u)
    alert = {pk: i.alert_days for pk, i in items.items()}
    planned = planned_use(ids, items)
    if now < timezone.now() - dt.timedelta(minutes=1):
        # As of a past moment: take back what moved since.
        later = Movement.objects.filter(at__gt=now).order_by()
        if ids is not None:
            later = later.filter(warehouse_id__in=ids)
        for w, i, q in later.values_list("warehouse_id", "item_id").annotate(t=Sum("quantity")):
            stock[(w, i)] = stock.get((w, i), Decimal(0)) - _dec(q)
    return [
        coverlib.cover_of(
            warehouse_id=w,
            item_id=i,
            stock=q,
            used=[used.get((w, i), Decimal(0))],
            planned=planned.get((w, i), Decimal(0)),
            now=now,
            alert_days=alert.get(i, coverlib.ALERT_DAYS),
        )
        for (w, i), q in stock.items()
    ]


def cover_for(*, warehouse_id: int, item: Item, now: dt.datetime | None = None) -> coverlib.Cover:
    found = [c for c in all_covers(now=now, warehouse_ids=[warehouse_id]) if c.item_id == item.pk]
    if found:
        return found[0]
    return coverlib.cover_of(
        warehouse_id=warehouse_id,
        item_id=item.pk,
        stock=Decimal(0),
        used=[],
        planned=Decimal(0),
        now=now or timezone.now(),
    )


@dataclass
class StockRow:
    item: Item
    cover: coverlib.Cover
    coming: Decimal


@dataclass
class StoreBoard:
    warehouse: Warehouse
    rows: list[StockRow]

    @property
    def short(self) -> list[StockRow]:
        return [r for r in self.rows if r.cover.short]


def in_transit(warehouse_ids: Iterable[int]) -> dict[tuple[int, int], Decimal]:
    rows = (
        PurchaseOrder.objects.filter(warehouse_id__in=list(warehouse_ids), status__in=OPEN_ORDERS)
        .order_by()
        .values_list("warehouse_id", "item_id")
        .annotate(q=Sum("quantity"))
    )
    return {(w, i): _dec(q) for w, i, q in rows}


def stock_board(
    actor: Any, *, now: dt.datetime | None = None, warehouse_id: int | None = None
) -> list[StoreBoard]:
    """Stock by store with days of cover and what is coming, short items first."""
    stores = warehouses(actor)
    if warehouse_id is not None:
        stores = stores.filter(pk=warehouse_id)
    stores_by_id = {w.pk: w for w in stores}
    items = {i.pk: i for i in Item.objects.select_related("category")}
    covers = all_covers(now=now, warehouse_ids=stores_by_id, items=items)
    coming = in_transit(stores_by_id)
    boards: dict[int, StoreBoard] = {pk: StoreBoard(w, []) for pk, w in stores_by_id.items()}
    for found in covers:
        if found.stock == 0 and found.rate == 0:
            continue
        boards[found.warehouse_id].rows.append(
            StockRow(
                items[found.item_id],
                found,
                coming.get((found.warehouse_id, found.item_id), Decimal(0)),
            )
        )
    for board in boards.values():
        board.rows.sort(
            key=lambda r: (
                not r.cover.short,
                r.cover.days if r.cover.days is not None else Decimal(10**9),
                r.item.category.order,
                r.item.order,
            )
        )
    return sorted(boards.values(), key=lambda b: (b.warehouse.region_code, b.warehouse.name))


def shortages(actor: Any, *, now: dt.datetime | None = None) -> list[tuple[Warehouse, StockRow]]:
    return [(b.warehouse, r) for b in stock_board(actor, now=now) for r in b.short]


def movements(actor: Any) -> QuerySet[Movement]:
    return jurisdiction.scope(
        Movement.objects.select_related("item", "warehouse", "recipient", "counterpart", "by_user"),
        actor,
    )


def issue_ledger(actor: Any, recipient_id: int) -> tuple[Recipient, QuerySet[Movement]]:
    """The issues to one receiving unit (领用台账), oldest first. Issues are seen by whoever
    covers the unit or the store that issued."""
    from fangkong.core.errors import NotFound

    recipient = recipients(actor).filter(pk=recipient_id).first()
    if recipient is None:
        raise NotFound("recipient")
    rows = (
        Movement.objects.filter(recipient=recipient, kind=MovementKind.ISSUE)
        .select_related("item", "warehouse", "by_user")
        .order_by("at", "id")
    )
    return recipient, rows


def requests(actor: Any) -> QuerySet[SupplyRequest]:
    return jurisdiction.scope(
        SupplyRequest.objects.select_related("item", "recipient", "recipient__warehouse"), actor
    )


def orders(actor: Any) -> QuerySet[PurchaseOrder]:
    return jurisdiction.scope(PurchaseOrder.objects.select_related("item", "warehouse"), actor)


def donations(actor: Any) -> QuerySet[Donation]:
    return jurisdiction.scope(Donation.objects.select_related("item", "warehouse", "fund"), actor)


def funds(actor: Any) -> QuerySet[Fund]:
    return jurisdiction.scope(Fund.objects.all(), actor)


def watches(actor: Any) -> QuerySet[PriceWatch]:
    return jurisdiction.scope(PriceWatch.objects.all(), actor)


def price_reports(actor: Any) -> QuerySet[PriceReport]:
    return jurisdiction.scope(PriceReport.objects.select_related("watch"), actor)


def donation_totals(actor: Any) -> dict[str, Decimal]:
    rows = donations(actor).aggregate(
        cash=Sum("amount", filter=Q(item__isnull=True)),
        goods=Sum("value", filter=Q(item__isnull=False)),
    )
    cash, goods = _dec(rows["cash"], "0.01"), _dec(rows["goods"], "0.01")
    return {"cash": cash, "goods": goods, "total": cash + goods}


def fund_totals(actor: Any) -> dict[str, Decimal]:
    rows = funds(actor).aggregate(amount=Sum("amount"), spent=Sum("spent"))
    amount, spent = _dec(rows["amount"], "0.01"), _dec(rows["spent"], "0.01")
    return {"amount": amount, "spent": spent, "balance": amount - spent}


def population_under(prefix: str) -> int:
    """Residents in the registry under a region (for the staple-food reserve)."""
    from fangkong.people.models import Person

    return Person.objects.filter(jurisdiction.prefix_q("region_code", [prefix])).count()


@dataclass(frozen=True)
class StapleReserve:
    item: Item
    stock: Decimal
    daily_need: Decimal
    days: Decimal | None


def staple_reserve(actor: Any, prefix: str) -> list[StapleReserve]:
    """Staple food (rice, flour, oil) in every store under ``prefix`` in days of consumption
    of its registered population (主粮储备可供天数)."""
    people = population_under(prefix)
    stock = dict(
        StockLevel.objects.filter(
            jurisdiction.prefix_q("warehouse__region_code", [prefix]), item__is_staple=True
        )
        .order_by()
        .values_list("item_id")
        .annotate(q=Sum("quantity"))
    )
    result = []
    for item in Item.objects.filter(is_staple=True, per_capita_daily__gt=0):
        need = item.per_capita_daily * people
        have = _dec(stock.get(item.pk, 0))
        result.append(StapleReserve(item, have, need, coverlib.days_of_cover(have, need)))
    return result
