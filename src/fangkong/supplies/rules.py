"""What supplies plugs into core: daily figures, self-inspection rules, the shortage job.

- Figures: store items under their alert days of cover (stock), issues today (flow),
  prices flagged today (flow).
- Rules (aspect 物资保障): an item with fewer than 3 days of cover in a store; a shipment
  intercepted or overdue; a price above its rise threshold (哄抬物价).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from fangkong.core import figures, inspection, jurisdiction, periodic
from fangkong.core.roles import Action

from . import selectors, services
from .models import (
    Item,
    Movement,
    MovementKind,
    OrderStatus,
    PriceReport,
    PurchaseOrder,
    StockLevel,
    Warehouse,
)

LOW_COVER = "supplies.low_cover"
SHIPMENT_LATE = "supplies.shipment_late"
PRICE_RISE = "supplies.price_rise"


def _stores(prefix: str) -> dict[int, Warehouse]:
    stores = Warehouse.objects.all()
    if prefix:
        stores = stores.filter(jurisdiction.prefix_q("region_code", [prefix]))
    return {w.pk: w for w in stores}


def short_count(query: figures.FigureQuery) -> dict[str, int]:
    """Items of a store under their alert days of cover, as of the query's moment."""
    stores = _stores(query.prefix)
    counts: Counter[str] = Counter()
    for found in selectors.all_covers(now=query.at, warehouse_ids=stores):
        code = stores[found.warehouse_id].region_code
        if found.short and len(code) >= query.group_length:
            counts[code[: query.group_length]] += 1
    return dict(counts)


def issued_today(query: figures.FigureQuery) -> dict[str, int]:
    rows = Movement.objects.filter(
        kind=MovementKind.ISSUE, at__gte=query.day_start, at__lte=query.at
    )
    return figures.count_by_region(rows, query)


def prices_flagged(query: figures.FigureQuery) -> dict[str, int]:
    return figures.count_by_region(PriceReport.objects.filter(day=query.day, flagged=True), query)


def low_cover(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """An item with fewer days of cover than its alert line (< 3 days) in a store."""
    stores = _stores(query.prefix)
    items = {i.pk: i for i in Item.objects.all()}
    changed = {
        (w, i): at
        for w, i, at in StockLevel.objects.filter(warehouse_id__in=list(stores)).values_list(
            "warehouse_id", "item_id", "updated_at"
        )
    }
    for found in selectors.all_covers(now=query.now, warehouse_ids=stores):
        if not found.short:
            continue
        store, item = stores[found.warehouse_id], items[found.item_id]
        yield inspection.Finding(
            rule=LOW_COVER,
            ref=f"supplies.level:{store.pk}:{item.pk}",
            region_code=store.region_code,
            what=(
                f"{store.name}的{item.name}仅可供{services.fmt(found.days or 0)}天"
                f"（现有{services.fmt(found.stock)}{item.unit}，"
                f"日均消耗{services.fmt(found.rate.quantize(found.rate.__class__('0.1')))}{item.unit}）"
            ),
            since=changed.get((store.pk, item.pk), query.now),
            url=reverse("supplies:warehouse", args=[store.pk]),
            responsible=store.keeper_name,
        )


def shipments_late(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A shipment intercepted on the road, or not arrived by its expected day."""
    today = timezone.localtime(query.now).date()
    orders = PurchaseOrder.objects.select_related("item", "warehouse").filter(
        status__in=selectors.OPEN_ORDERS
    )
    if query.prefix:
        orders = orders.filter(jurisdiction.prefix_q("region_code", [query.prefix]))
    for order in orders:
        late = order.expected_on < today
        if order.status != OrderStatus.INTERCEPTED and not late:
            continue
        state = "被拦截" if order.status == OrderStatus.INTERCEPTED else "逾期未到"
        yield inspection.Finding(
            rule=SHIPMENT_LATE,
            ref=f"supplies.order:{order.pk}",
            region_code=order.region_code,
            what=(
                f"{order.supplier}供应的{order.item.name}{services.fmt(order.quantity)}"
                f"{order.item.unit}{state}（预计{order.expected_on:%m月%d日}到{order.warehouse.name}）"
            ),
            since=timezone.make_aware(dt.datetime.combine(order.expected_on, dt.time()))
            if late
            else order.ordered_at,
            url=reverse("supplies:orders"),
        )


def price_rises(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A watched good priced above its rise threshold in the last two days (哄抬物价)."""
    today = timezone.localtime(query.now).date()
    reports = PriceReport.objects.select_related("watch").filter(
        flagged=True, day__gte=today - dt.timedelta(days=1)
    )
    if query.prefix:
        reports = reports.filter(jurisdiction.prefix_q("region_code", [query.prefix]))
    for report in reports:
        watch = report.watch
        rise = (report.price / watch.baseline - 1) * 100 if watch.baseline else 0
        yield inspection.Finding(
            rule=PRICE_RISE,
            ref=f"supplies.price:{watch.pk}:{report.day.isoformat()}",
            region_code=report.region_code,
            what=(
                f"{watch.shop}的{watch.goods}售价{report.price}元/{watch.unit}，"
                f"比基准价{watch.baseline}元上涨{rise:.0f}%"
            ),
            since=timezone.make_aware(dt.datetime.combine(report.day, dt.time())),
            url=reverse("supplies:prices"),
        )


def register() -> None:
    figures.register(
        figures.Figure(
            key="supplies.items_short",
            label="可供不足3天的物资",
            module="supplies",
            compute=short_count,
            kind=figures.STOCK,
            unit="项",
            order=800,
            list_url=lambda code: reverse("supplies:home"),
            permission=Action.SUPPLIES_VIEW,
            help_text="各仓库中可供天数低于预警线的物资品目数",
        )
    )
    figures.register(
        figures.Figure(
            key="supplies.issued_today",
            label="今日物资发放",
            module="supplies",
            compute=issued_today,
            kind=figures.FLOW,
            unit="笔",
            order=810,
            list_url=lambda code: reverse("supplies:home"),
            permission=Action.SUPPLIES_VIEW,
            higher_is_better=True,
        )
    )
    figures.register(
        figures.Figure(
            key="supplies.prices_flagged",
            label="今日价格超涨幅",
            module="supplies",
            compute=prices_flagged,
            kind=figures.FLOW,
            unit="处",
            order=820,
            list_url=lambda code: reverse("supplies:prices"),
            permission=Action.SUPPLIES_PRICES,
        )
    )
    inspection.register(
        inspection.Rule(
            key=LOW_COVER,
            label="物资可供不足3天",
            module="supplies",
            aspect=inspection.Aspect.SUPPLIES,
            run=low_cover,
            description="按近7天消耗或计划用量，库存可供天数低于预警线（3天）的仓库物资",
            deadline_hours=24,
            order=800,
        )
    )
    inspection.register(
        inspection.Rule(
            key=SHIPMENT_LATE,
            label="物资在途被拦截或逾期",
            module="supplies",
            aspect=inspection.Aspect.SUPPLIES,
            run=shipments_late,
            description="采购物资在途被拦截，或超过预计到货日期仍未入库",
            deadline_hours=24,
            order=810,
        )
    )
    inspection.register(
        inspection.Rule(
            key=PRICE_RISE,
            label="哄抬物价",
            module="supplies",
            aspect=inspection.Aspect.RISK,
            run=price_rises,
            description="监测商品价格比基准价上涨超过设定比例",
            deadline_hours=12,
            order=820,
        )
    )
    periodic.register(
        "supplies.shortage_notices",
        getattr(settings, "FANGKONG_MONITOR_INTERVAL_SECONDS", 900),
        lambda: services.notify_shortages(),
    )
