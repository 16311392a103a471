"""Writes and rules of supplies: the stock ledger, requests, purchases, donations, funds, prices.

The rule this module keeps above all: **stock is the sum of its movements and never goes
negative.** Every change of stock goes through :func:`_post`, which, inside one transaction,
locks the store's balance row of the item (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
IMMEDIATE transactions serialise writers), checks the balance, writes the movement with the
balance after it, updates the balance and the day's use. Two issues racing for the last box:
the second waits for the first and then finds too little, with a clear error naming the item
and the balance. Services check the role (``require``) and the jurisdiction (a store or unit
outside the actor's regions is :class:`NotFound`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from fangkong.core import jurisdiction, notices
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.models import Notice
from fangkong.core.permissions import require
from fangkong.core.roles import Action, Role
from fangkong.core.shortcache import ShortCache

from . import cover as coverlib
from .models import (
    OUTGOING,
    Channel,
    DailyUse,
    Donation,
    DonorKind,
    Fund,
    FundEntry,
    Item,
    Movement,
    MovementKind,
    OrderStatus,
    PriceReport,
    PriceWatch,
    PurchaseOrder,
    Recipient,
    RecipientKind,
    RequestStatus,
    StockLevel,
    SupplyRequest,
    Warehouse,
    WarehouseLevel,
)

MAX_QUANTITY = Decimal("1000000000")
MAX_MONEY = Decimal("1000000000000")
CONSUMPTION = (MovementKind.ISSUE, MovementKind.LOSS)


# Helpers ----------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, message)], detail=message)


def _decimal(
    value: Any, field: str, *, allow_zero: bool = False, limit: Decimal = MAX_QUANTITY
) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise _invalid(field, "请填写数字") from None
    if not number.is_finite():
        raise _invalid(field, "请填写数字")
    if number < 0 or (number == 0 and not allow_zero):
        raise _invalid(field, "数量必须大于0" if not allow_zero else "不能为负数")
    if number >= limit:
        raise _invalid(field, "数值过大")
    if number != number.quantize(Decimal("0.001")):
        raise _invalid(field, "最多保留3位小数")
    return number


def _text(value: str, field: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise _invalid(field, "含有非法字符")
    if required and not value:
        raise _invalid(field, "必填")
    if len(value) > max_length:
        raise _invalid(field, f"不能超过{max_length}个字")
    return value


def fmt(quantity: Decimal) -> str:
    """A quantity as a cadre writes it: 3, 2.5 (no trailing zeros)."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _by_pk(queryset: QuerySet[Any], pk: int) -> Any:
    """The row ``pk`` of ``queryset`` or None, without ``first()``'s ORDER BY (building that
    SQL was a third of an issue's cost)."""
    return next(iter(queryset.filter(pk=pk).order_by()[:1]), None)


# Stores, receiving units and catalogue items, kept a few seconds per process: an issue
# reads all three, and reading them was a third of its cost (issue 16). The jurisdiction
# is checked on every call.
_rows = ShortCache(seconds=5.0)


def warehouse_for(actor: Any, warehouse_id: int) -> Warehouse:
    """The store, if inside the actor's jurisdiction (else NotFound)."""
    found = _rows.get(
        ("warehouse", warehouse_id), lambda: _by_pk(Warehouse.objects.all(), warehouse_id)
    )
    if found is None or not jurisdiction.covers(actor, found.region_code):
        raise NotFound("warehouse")
    return found


def recipient_for(actor: Any, recipient_id: int) -> Recipient:
    found = _rows.get(
        ("recipient", recipient_id), lambda: _by_pk(Recipient.objects.all(), recipient_id)
    )
    if found is None or not jurisdiction.covers(actor, found.region_code):
        raise NotFound("recipient")
    return found


def item_of(item_id: int) -> Item:
    item = _rows.get(("item", item_id), lambda: _by_pk(Item.objects.all(), item_id))
    if item is None:
        raise _invalid("item_id", "没有这种物资")
    return item


def _level_id(warehouse_id: int, item_id: int) -> int:
    """The balance row of an item in a store, made on first use (outside the movement's
    transaction, so the lock taken there is on an existing row)."""
    level = StockLevel.objects.filter(warehouse_id=warehouse_id, item_id=item_id).first()
    if level is None:
        try:
            with transaction.atomic():
                level = StockLevel.objects.create(warehouse_id=warehouse_id, item_id=item_id)
        except IntegrityError:
            level = StockLevel.objects.get(warehouse_id=warehouse_id, item_id=item_id)
    return level.pk


# The ledger -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovementInput:
    warehouse_id: int
    item_id: int
    kind: str
    quantity: Any
    at: dt.datetime | None = None
    recipient_id: int | None = None
    reason: str = ""
    document: str = ""
    batch_no: str = ""
    expires_on: dt.date | None = None
    received_by: str = ""
    source: str = ""


def _short(
    warehouse: Warehouse, item: Item, kind: str, have: Decimal, amount: Decimal
) -> ValidationFailed:
    """The error of a movement the stock cannot cover (both ledger paths)."""
    return ValidationFailed(
        [
            FieldError(
                "quantity",
                f"库存不足：{warehouse.name}的{item.name}现有{fmt(have)}{item.unit}，"
                f"不能{MovementKind(kind).label}{fmt(amount)}{item.unit}",
            )
        ],
        detail=f"{item.name}库存不足（现有{fmt(have)}{item.unit}）",
    )


def _post(
    *,
    level_id: int,
    warehouse: Warehouse,
    item: Item,
    kind: str,
    delta: Decimal | None,
    counted: Decimal | None = None,
    at: dt.datetime,
    by_user: Any,
    **fields: Any,
) -> Movement:
    """Lock the balance, check it, write the movement and the new balance (inside a
    transaction the caller opened). ``counted`` (stock-take) sets the balance instead.

    A change by a delta is one conditional ``UPDATE … WHERE quantity + delta >= 0 RETURNING``:
    the update itself takes the row lock, so the lock is held for the fewest statements (the
    movement and the day's use), which is what bounds the rate of issues of one item."""
    now = timezone.now()
    if counted is not None:
        level = StockLevel.objects.select_for_update().get(pk=level_id)
        delta = counted - level.quantity
        StockLevel.objects.filter(pk=level_id).update(quantity=counted, updated_at=now)
        new = counted
    else:
        assert delta is not None
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {StockLevel._meta.db_table} SET quantity = quantity + %s, updated_at = %s"
                " WHERE id = %s AND quantity + %s >= 0 RETURNING quantity",
                [delta, now, level_id, delta],
            )
            row = cursor.fetchone()
        if row is None:
            have = StockLevel.objects.get(pk=level_id).quantity
            raise _short(warehouse, item, kind, have, -delta)
        new = Decimal(str(row[0])).quantize(Decimal("0.001"))
    movement = Movement.objects.create(
        warehouse=warehouse,
        item=item,
        kind=kind,
        quantity=delta,
        balance_after=new,
        at=at,
        by_user=by_user if getattr(by_user, "pk", None) else None,
        region_code=warehouse.region_code,
        **fields,
    )
    if kind in CONSUMPTION and delta < 0:
        day = timezone.localtime(at).date()
        used = DailyUse.objects.filter(warehouse=warehouse, item=item, day=day)
        if not used.update(quantity=F("quantity") - delta):
            DailyUse.objects.create(warehouse=warehouse, item=item, day=day, quantity=-delta)
    return movement


def _post_outgoing(
    *,
    warehouse: Warehouse,
    item: Item,
    kind: str,
    quantity: Decimal,
    at: dt.datetime,
    by_user: Any,
    **fields: Any,
) -> Movement:
    """An issue or a loss on PostgreSQL: the balance, the ledger line and the day's use in
    one statement (data-modifying CTEs), so the balance row is locked for one statement and
    the commit, and the request builds no ORM SQL (issue 16: 50 clients racing for the same
    items). The balance update is conditional as in :func:`_post`: no row, no ledger line,
    and the stock is reported short. Same rows, same checks as :func:`_post`."""
    movement = Movement(
        warehouse=warehouse,
        item=item,
        kind=kind,
        quantity=-quantity,
        balance_after=Decimal(0),
        at=at,
        by_user=by_user if getattr(by_user, "pk", None) else None,
        region_code=warehouse.region_code,
        **fields,
    )
    columns = [f for f in Movement._meta.concrete_fields if not f.primary_key]
    values = []
    params: list[Any] = [-quantity, timezone.now(), warehouse.pk, item.pk, -quantity]
    for f in columns:
        if f.attname == "balance_after":
            values.append("upd.quantity")
        else:
            values.append(f"%s::{f.db_type(connection)}")
            params.append(f.get_db_prep_save(getattr(movement, f.attname), connection))
    day = timezone.localtime(at).date()
    params += [warehouse.pk, item.pk, day, quantity]
    level, ledger, use = (
        StockLevel._meta.db_table,
        Movement._meta.db_table,
        DailyUse._meta.db_table,
    )
    sql = (
        f"WITH upd AS (UPDATE {level} SET quantity = quantity + %s, updated_at = %s"
        " WHERE warehouse_id = %s AND item_id = %s AND quantity + %s >= 0 RETURNING quantity),"
        f" mv AS (INSERT INTO {ledger} ({', '.join(f.column for f in columns)})"
        f" SELECT {', '.join(values)} FROM upd RETURNING id, balance_after),"
        f" du AS (INSERT INTO {use} (warehouse_id, item_id, day, quantity)"
        " SELECT %s, %s, %s::date, %s FROM upd"
        " ON CONFLICT (warehouse_id, item_id, day)"
        f" DO UPDATE SET quantity = {use}.quantity + EXCLUDED.quantity)"
        " SELECT id, balance_after FROM mv"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        have = (
            StockLevel.objects.filter(warehouse=warehouse, item=item)
            .values_list("quantity", flat=True)
            .first()
        ) or Decimal(0)
        raise _short(warehouse, item, kind, have, quantity)
    movement.pk = row[0]
    movement.balance_after = Decimal(str(row[1])).quantize(Decimal("0.001"))
    movement._state.adding = False
    movement._state.db = connection.alias
    return movement


def _check_time(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        raise _invalid("at", "时间不能晚于现在")
    if at < now - dt.timedelta(days=366):
        raise _invalid("at", "时间过早")
    return at


def record_movement(*, actor: Any, data: MovementInput, notify: bool = True) -> Movement:
    """Record a receipt, issue, loss or stock-take (a transfer is :func:`transfer`).

    Issues name the receiving unit (inside the actor's jurisdiction); a stock-take gives the
    counted quantity and records the difference; nothing takes a balance below zero.
    """
    require(actor, Action.SUPPLIES_MOVE)
    warehouse = warehouse_for(actor, data.warehouse_id)
    item = item_of(data.item_id)
    kind = data.kind
    if kind not in (
        MovementKind.RECEIPT,
        MovementKind.ISSUE,
        MovementKind.LOSS,
        MovementKind.STOCKTAKE,
    ):
        raise _invalid("kind", "类型不对（调拨请用调拨）")
    quantity = _decimal(data.quantity, "quantity", allow_zero=kind == MovementKind.STOCKTAKE)
    at = _check_time(data.at)
    recipient = None
    if kind == MovementKind.ISSUE:
        if not data.recipient_id:
            raise _invalid("recipient_id", "请选择领用单位")
        recipient = recipient_for(actor, data.recipient_id)
    fields = {
        "recipient": recipient,
        "reason": _text(data.reason, "reason", 200, required=kind == MovementKind.LOSS),
        "document": _text(data.document, "document", 64),
        "batch_no": _text(data.batch_no, "batch_no", 64),
        "expires_on": data.expires_on,
        "received_by": _text(data.received_by, "received_by", 50),
        "source": _text(data.source, "source", 64),
    }
    outgoing = kind in CONSUMPTION and connection.vendor == "postgresql"
    level_id = 0 if outgoing else _level_id(warehouse.pk, item.pk)
    try:
        with transaction.atomic():
            if outgoing:
                movement = _post_outgoing(
                    warehouse=warehouse,
                    item=item,
                    kind=kind,
                    quantity=quantity,
                    at=at,
                    by_user=actor,
                    **fields,
                )
            else:
                movement = _post(
                    level_id=level_id,
                    warehouse=warehouse,
                    item=item,
                    kind=kind,
                    delta=None
                    if kind == MovementKind.STOCKTAKE
                    else (-quantity if kind in OUTGOING else quantity),
                    counted=quantity if kind == MovementKind.STOCKTAKE else None,
                    at=at,
                    by_user=actor,
                    **fields,
                )
    except IntegrityError:
        if data.source and Movement.objects.filter(source=data.source).exists():
            return Movement.objects.get(source=data.source)
        raise
    if notify and kind in CONSUMPTION:
        transaction.on_commit(lambda: notify_if_short(warehouse=warehouse, item=item))
    return movement


def transfer(
    *,
    actor: Any,
    from_id: int,
    to_id: int,
    item_id: int,
    quantity: Any,
    reason: str = "",
    document: str = "",
    at: dt.datetime | None = None,
) -> tuple[Movement, Movement]:
    """Move stock from one store to another: a transfer out and a transfer in, together.

    The actor needs both stores in the jurisdiction; balances are locked in id order so two
    opposite transfers cannot deadlock."""
    require(actor, Action.SUPPLIES_MOVE)
    source = warehouse_for(actor, from_id)
    target = warehouse_for(actor, to_id)
    if source.pk == target.pk:
        raise _invalid("to_id", "调入仓库不能与调出仓库相同")
    item = item_of(item_id)
    amount = _decimal(quantity, "quantity")
    when = _check_time(at)
    reason = _text(reason, "reason", 200)
    document = _text(document, "document", 64)
    out_level, in_level = _level_id(source.pk, item.pk), _level_id(target.pk, item.pk)
    with transaction.atomic():
        for pk in sorted((out_level, in_level)):
            StockLevel.objects.select_for_update().filter(pk=pk).first()
        out = _post(
            level_id=out_level,
            warehouse=source,
            item=item,
            kind=MovementKind.TRANSFER_OUT,
            delta=-amount,
            at=when,
            by_user=actor,
            counterpart=target,
            reason=reason,
            document=document,
        )
        in_ = _post(
            level_id=in_level,
            warehouse=target,
            item=item,
            kind=MovementKind.TRANSFER_IN,
            delta=amount,
            at=when,
            by_user=actor,
            counterpart=source,
            reason=reason,
            document=document,
        )
    return out, in_


def rebuild_balances() -> int:
    """Recompute every balance and day of use from the ledger (after a bulk load, or to prove
    the balances right). Returns the number of balances."""
    with transaction.atomic():
        StockLevel.objects.all().delete()
        DailyUse.objects.all().delete()
        sums = (
            Movement.objects.order_by()
            .values("warehouse_id", "item_id")
            .annotate(total=Sum("quantity"))
        )
        StockLevel.objects.bulk_create(
            [
                StockLevel(
                    warehouse_id=r["warehouse_id"],
                    item_id=r["item_id"],
                    # SQLite sums decimals as floats: back to the ledger's three places.
                    quantity=Decimal(str(r["total"])).quantize(Decimal("0.001")),
                )
                for r in sums
            ],
            batch_size=2000,
        )
        uses: dict[tuple[int, int, dt.date], Decimal] = {}
        rows = (
            Movement.objects.filter(kind__in=CONSUMPTION)
            .order_by()
            .values_list("warehouse_id", "item_id", "at", "quantity")
        )
        for wid, iid, at, qty in rows.iterator(chunk_size=20000):
            key = (wid, iid, timezone.localtime(at).date())
            uses[key] = uses.get(key, Decimal(0)) - qty
        DailyUse.objects.bulk_create(
            [
                DailyUse(warehouse_id=w, item_id=i, day=d, quantity=q)
                for (w, i, d), q in uses.items()
            ],
            batch_size=5000,
        )
    return len(sums)


# Low-stock notices ------------------------------------------------------------------------


def notify_if_short(
    *, warehouse: Warehouse, item: Item, now: dt.datetime | None = None
) -> Notice | None:
    """Tell the supply officers (and the township office of a township store) when an item
    falls under its alert days of cover; once per store, item and day."""
    from .selectors import cover_for

    now = now or timezone.now()
    found = cover_for(warehouse_id=warehouse.pk, item=item, now=now)
    if not found.short:
        return None
    day = timezone.localtime(now).date()
    days = fmt(found.days or Decimal(0))
    county = warehouse.region_code[:6]
    return notices.publish(
        draft=notices.NoticeDraft(
            title=f"物资预警：{warehouse.name}{item.name}仅可供{days}天",
            body=(
                f"{warehouse.name}的{item.name}现有{fmt(found.stock)}{item.unit}，"
                f"近{coverlib.WINDOW_DAYS}天日均消耗{fmt(found.rate.quantize(Decimal('0.1')))}"
                f"{item.unit}，预计可供{days}天（预警线{item.alert_days}天）。请及时调拨或采购。"
            ),
            region_codes=tuple(sorted({warehouse.region_code, county})),
            roles=(Role.SUPPLY_OFFICER, Role.TOWNSHIP)
            if warehouse.level != WarehouseLevel.COUNTY
            else (Role.SUPPLY_OFFICER,),
            level=Notice.Level.URGENT,
            link=f"/supplies/warehouses/{warehouse.pk}/",
        ),
        sender=None,
        source=f"supplies.low:{warehouse.pk}:{item.pk}:{day.isoformat()}",
    )


def notify_shortages(now: dt.datetime | None = None) -> int:
    """The periodic job: a notice for every store and item under its alert days."""
    from .selectors import all_covers

    sent = 0
    items = {i.pk: i for i in Item.objects.all()}
    stores = {w.pk: w for w in Warehouse.objects.all()}
    for found in all_covers(now=now):
        if found.short:
            notify_if_short(
                warehouse=stores[found.warehouse_id], item=items[found.item_id], now=now
            )
            sent += 1
    return sent


# Stores and units -------------------------------------------------------------------------


def _region_inside(actor: Any, code: str, field: str = "region_code") -> str:
    code = (code or "").strip()
    if not code.isdigit() or not jurisdiction.covers(actor, code):
        raise _invalid(field, "请选择您辖区内的区划")
    return code


def create_warehouse(
    *,
    actor: Any,
    name: str,
    level: str,
    region_code: str,
    keeper_name: str,
    keeper_phone: str = "",
    address: str = "",
) -> Warehouse:
    """A store with a named keeper (专人管理), inside the actor's jurisdiction."""
    require(actor, Action.SUPPLIES_MANAGE)
    if level not in WarehouseLevel.values:
        raise _invalid("level", "级别不对")
    return Warehouse.objects.create(
        name=_text(name, "name", 100, required=True),
        level=level,
        region_code=_region_inside(actor, region_code),
        keeper_name=_text(keeper_name, "keeper_name", 50, required=True),
        keeper_phone=_text(keeper_phone, "keeper_phone", 20),
        address=_text(address, "address", 200),
    )


def create_recipient(
    *,
    actor: Any,
    name: str,
    kind: str,
    region_code: str,
    warehouse_id: int | None = None,
    staff_on_duty: int = 0,
    people_isolated: int = 0,
    population: int = 0,
    contact: str = "",
) -> Recipient:
    """A receiving unit (卡点、村、隔离点、医院、企业) that stores issue to."""
    require(actor, Action.SUPPLIES_MANAGE)
    if kind not in RecipientKind.values:
        raise _invalid("kind", "类型不对")
    warehouse = warehouse_for(actor, warehouse_id) if warehouse_id else None
    for field, value in (
        ("staff_on_duty", staff_on_duty),
        ("people_isolated", people_isolated),
        ("population", population),
    ):
        if not 0 <= int(value) <= 10_000_000:
            raise _invalid(field, "人数不对")
    return Recipient.objects.create(
        name=_text(name, "name", 100, required=True),
        kind=kind,
        region_code=_region_inside(actor, region_code),
        warehouse=warehouse,
        staff_on_duty=staff_on_duty,
        people_isolated=people_isolated,
        population=population,
        contact=_text(contact, "contact", 50),
    )


# Requests and allocation ------------------------------------------------------------------


def create_request(
    *, actor: Any, recipient_id: int, item_id: int, quantity: Any, reason: str = ""
) -> SupplyRequest:
    """A unit asks for an item (物资申领); the township or county approves."""
    require(actor, Action.SUPPLIES_REQUEST)
    recipient = recipient_for(actor, recipient_id)
    item = item_of(item_id)
    return SupplyRequest.objects.create(
        recipient=recipient,
        item=item,
        quantity=_decimal(quantity, "quantity"),
        reason=_text(reason, "reason", 200),
        requested_by=actor if getattr(actor, "pk", None) else None,
        region_code=recipient.region_code,
    )


def _request_for(actor: Any, request_id: int) -> SupplyRequest:
    found = (
        jurisdiction.scope(SupplyRequest.objects.select_related("item", "recipient"), actor)
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound("request")
    return found


def approve_request(
    *,
    actor: Any,
    request_id: int,
    version: int,
    warehouse_id: int,
    quantity: Any,
    received_by: str = "",
) -> SupplyRequest:
    """Approve a request and issue the approved quantity from a store at once."""
    require(actor, Action.SUPPLIES_MANAGE, Action.SUPPLIES_MOVE)
    request = _request_for(actor, request_id)
    if request.status != RequestStatus.PENDING:
        raise _invalid("status", "该申领已处理")
    amount = _decimal(quantity, "quantity")
    with transaction.atomic():
        claimed = SupplyRequest.objects.filter(pk=request.pk, version=version).update(
            version=F("version") + 1,
            status=RequestStatus.ISSUED,
            approved_quantity=amount,
            decided_at=timezone.now(),
        )
        if not claimed:
            raise VersionConflict(current_version=request.version)
        movement = record_movement(
            actor=actor,
            data=MovementInput(
                warehouse_id=warehouse_id,
                item_id=request.item_id,
                kind=MovementKind.ISSUE,
                quantity=amount,
                recipient_id=request.recipient_id,
                reason=f"申领单 {request.pk}：{request.reason}"[:200],
                received_by=received_by,
                source=f"supplies.request:{request.pk}",
            ),
        )
        SupplyRequest.objects.filter(pk=request.pk).update(movement=movement)
    request.refresh_from_db()
    return request


def reject_request(*, actor: Any, request_id: int, version: int) -> SupplyRequest:
    require(actor, Action.SUPPLIES_MANAGE)
    request = _request_for(actor, request_id)
    if request.status != RequestStatus.PENDING:
        raise _invalid("status", "该申领已处理")
    updated = SupplyRequest.objects.filter(pk=request.pk, version=version).update(
        version=F("version") + 1, status=RequestStatus.REJECTED, decided_at=timezone.now()
    )
    if not updated:
        raise VersionConflict(current_version=request.version)
    request.refresh_from_db()
    return request


def weight_of(recipient: Recipient) -> Decimal:
    """A unit's claim when stock is short: its staff on duty, its people isolated, and one
    per hundred residents it serves."""
    return (
        Decimal(recipient.staff_on_duty + recipient.people_isolated)
        + Decimal(recipient.population) / 100
    )


# Procurement ------------------------------------------------------------------------------


def create_order(
    *,
    actor: Any,
    supplier: str,
    channel: str,
    item_id: int,
    quantity: Any,
    warehouse_id: int,
    expected_on: dt.date,
    unit_price: Any = 0,
) -> PurchaseOrder:
    """A purchase order by supplier and channel, to be received into a store."""
    require(actor, Action.SUPPLIES_MANAGE)
    if channel not in Channel.values:
        raise _invalid("channel", "渠道不对")
    warehouse = warehouse_for(actor, warehouse_id)
    item = item_of(item_id)
    return PurchaseOrder.objects.create(
        supplier=_text(supplier, "supplier", 100, required=True),
        channel=channel,
        item=item,
        quantity=_decimal(quantity, "quantity"),
        unit_price=_decimal(unit_price, "unit_price", allow_zero=True, limit=MAX_MONEY),
        warehouse=warehouse,
        expected_on=expected_on,
        region_code=warehouse.region_code,
    )


def _order_for(actor: Any, order_id: int) -> PurchaseOrder:
    found = (
        jurisdiction.scope(PurchaseOrder.objects.select_related("item", "warehouse"), actor)
        .filter(pk=order_id)
        .first()
    )
    if found is None:
        raise NotFound("order")
    return found


def set_order_status(
    *, actor: Any, order_id: int, version: int, status: str, note: str = ""
) -> PurchaseOrder:
    """Follow a shipment: in transit, delayed, intercepted (在路上被拦截), cancelled."""
    require(actor, Action.SUPPLIES_MANAGE)
    order = _order_for(actor, order_id)
    if status not in (
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELAYED,
        OrderStatus.INTERCEPTED,
        OrderStatus.CANCELLED,
    ):
        raise _invalid("status", "状态不对（入库请用“到货入库”）")
    if order.status in (OrderStatus.RECEIVED, OrderStatus.CANCELLED):
        raise _invalid("status", "订单已结束")
    updated = PurchaseOrder.objects.filter(pk=order.pk, version=version).update(
        status=status, status_note=_text(note, "note", 200), version=F("version") + 1
    )
    if not updated:
        raise VersionConflict(current_version=order.version)
    order.refresh_from_db()
    return order


def receive_order(
    *,
    actor: Any,
    order_id: int,
    version: int,
    quantity: Any = None,
    batch_no: str = "",
    expires_on: dt.date | None = None,
) -> PurchaseOrder:
    """The shipment arrives: a receipt into the order's store (once)."""
    require(actor, Action.SUPPLIES_MOVE)
    order = _order_for(actor, order_id)
    if order.status in (OrderStatus.RECEIVED, OrderStatus.CANCELLED):
        raise _invalid("status", "订单已结束")
    amount = order.quantity if quantity in (None, "") else _decimal(quantity, "quantity")
    with transaction.atomic():
        updated = PurchaseOrder.objects.filter(pk=order.pk, version=version).update(
            status=OrderStatus.RECEIVED, received_at=timezone.now(), version=F("version") + 1
        )
        if not updated:
            raise VersionConflict(current_version=order.version)
        record_movement(
            actor=actor,
            data=MovementInput(
                warehouse_id=order.warehouse_id,
                item_id=order.item_id,
                kind=MovementKind.RECEIPT,
                quantity=amount,
                reason=f"采购入库：{order.supplier}（{order.get_channel_display()}）",
                document=f"采购单{order.pk}",
                batch_no=batch_no,
                expires_on=expires_on,
                source=f"supplies.po:{order.pk}",
            ),
            notify=False,
        )
    order.refresh_from_db()
    return order


# Donations --------------------------------------------------------------------------------


def record_donation(
    *,
    actor: Any,
    donor: str,
    donor_kind: str,
    publish_name: bool = True,
    amount: Any = 0,
    item_id: int | None = None,
    quantity: Any = 0,
    value: Any = 0,
    warehouse_id: int | None = None,
    fund_id: int | None = None,
    region_code: str = "",
) -> Donation:
    """Cash or goods from a donor (捐赠). Goods are received into a store; cash may go to a
    fund (a top-up posted against it). Each donation gets a certificate number."""
    require(actor, Action.SUPPLIES_FUNDS)
    if donor_kind not in DonorKind.values:
        raise _invalid("donor_kind", "捐赠方类型不对")
    donor = _text(donor, "donor", 100, required=True)
    now = timezone.now()
    certificate = f"JZ{timezone.localtime(now):%Y%m%d}{secrets.token_hex(3).upper()}"
    with transaction.atomic():
        if item_id:
            if not warehouse_id:
                raise _invalid("warehouse_id", "捐赠物资请选择入库仓库")
            warehouse = warehouse_for(actor, warehouse_id)
            number = _decimal(quantity, "quantity")
            donation = Donation.objects.create(
                donor=donor,
                donor_kind=donor_kind,
                publish_name=publish_name,
                item=item_of(item_id),
                quantity=number,
                value=_decimal(value, "value", allow_zero=True, limit=MAX_MONEY),
                warehouse=warehouse,
                received_at=now,
                certificate_no=certificate,
                region_code=warehouse.region_code,
            )
            movement = record_movement(
                actor=actor,
                data=MovementInput(
                    warehouse_id=warehouse.pk,
                    item_id=item_id,
                    kind=MovementKind.RECEIPT,
                    quantity=number,
                    reason=f"捐赠：{donor}",
                    document=certificate,
                    source=f"supplies.donation:{donation.pk}",
                ),
                notify=False,
            )
            Donation.objects.filter(pk=donation.pk).update(movement=movement)
            donation.movement = movement
            return donation
        money = _decimal(amount, "amount", limit=MAX_MONEY)
        fund = _fund_for(actor, fund_id) if fund_id else None
        code = fund.region_code if fund else _region_inside(actor, region_code)
        donation = Donation.objects.create(
            donor=donor,
            donor_kind=donor_kind,
            publish_name=publish_name,
            amount=money,
            value=money,
            fund=fund,
            received_at=now,
            certificate_no=certificate,
            region_code=code,
        )
        if fund is not None:
            post_to_fund(
                actor=actor,
                fund_id=fund.pk,
                kind=FundEntry.Kind.TOP_UP,
                amount=money,
                purpose=f"捐款：{donor}",
                document=certificate,
                source=f"supplies.donation:{donation.pk}",
            )
        return donation


def donor_label(donation: Donation) -> str:
    """The donor's name as published: hidden when the donor asked for it (爱心人士)."""
    if donation.publish_name:
        return donation.donor
    return "爱心企业（匿名）" if donation.donor_kind == DonorKind.FIRM else "爱心人士（匿名）"


# Funds ------------------------------------------------------------------------------------


def _fund_for(actor: Any, fund_id: int) -> Fund:
    found = jurisdiction.scope(Fund.objects.all(), actor).filter(pk=fund_id).first()
    if found is None:
        raise NotFound("fund")
    return found


def allocate_fund(
    *,
    actor: Any,
    name: str,
    holder: str,
    region_code: str,
    amount: Any,
    allocated_on: dt.date,
    document: str = "",
) -> Fund:
    """An allocation (经费拨付): county → hospitals, townships, villages' prevention funds."""
    require(actor, Action.SUPPLIES_FUNDS)
    money = _decimal(amount, "amount", limit=MAX_MONEY)
    return Fund.objects.create(
        name=_text(name, "name", 100, required=True),
        holder=_text(holder, "holder", 100, required=True),
        region_code=_region_inside(actor, region_code),
        initial_amount=money,
        amount=money,
        allocated_on=allocated_on,
        document=_text(document, "document", 64),
    )


def post_to_fund(
    *,
    actor: Any,
    fund_id: int,
    kind: str,
    amount: Any,
    purpose: str,
    document: str = "",
    source: str = "",
) -> FundEntry:
    """Post spending (with its document), a reward paid, a penalty received or a top-up.

    Spending and rewards may not exceed the balance: the check and the update are one
    conditional UPDATE, so two spendings racing for the last yuan cannot both pass."""
    require(actor, Action.SUPPLIES_FUNDS)
    fund = _fund_for(actor, fund_id)
    if kind not in FundEntry.Kind.values:
        raise _invalid("kind", "类型不对")
    money = _decimal(amount, "amount", limit=MAX_MONEY)
    purpose = _text(purpose, "purpose", 200, required=True)
    document = _text(document, "document", 64)
    if kind in (FundEntry.Kind.SPEND, FundEntry.Kind.REWARD) and not document:
        raise _invalid("document", "支出须填写凭证号")
    if source and FundEntry.objects.filter(source=source).exists():
        return FundEntry.objects.get(source=source)
    with transaction.atomic():
        funds = Fund.objects.filter(pk=fund.pk)
        if kind in (FundEntry.Kind.SPEND, FundEntry.Kind.REWARD):
            done = funds.filter(spent__lte=F("amount") - money).update(
                spent=F("spent") + money, version=F("version") + 1
            )
            if not done:
                fund.refresh_from_db()
                raise _invalid("amount", f"余额不足：{fund.name}余额{fund.balance}元")
        else:
            funds.update(amount=F("amount") + money, version=F("version") + 1)
        return FundEntry.objects.create(
            fund=fund,
            kind=kind,
            amount=money,
            purpose=purpose,
            document=document,
            source=source,
            by_user=actor if getattr(actor, "pk", None) else None,
        )


def village_fund(region_code: str) -> Fund | None:
    """The prevention fund of the village of ``region_code`` (the newest), if any."""
    village = region_code[:12]
    return Fund.objects.filter(region_code=village).order_by("-allocated_on", "-id").first()


# Prices -----------------------------------------------------------------------------------


def create_watch(
    *,
    actor: Any,
    goods: str,
    unit: str,
    shop: str,
    region_code: str,
    baseline: Any,
    threshold_pct: Any = 10,
) -> PriceWatch:
    require(actor, Action.SUPPLIES_PRICES)
    return PriceWatch.objects.create(
        goods=_text(goods, "goods", 64, required=True),
        unit=_text(unit, "unit", 16, required=True),
        shop=_text(shop, "shop", 100, required=True),
        region_code=_region_inside(actor, region_code),
        baseline=_decimal(baseline, "baseline", limit=MAX_MONEY),
        threshold_pct=_decimal(threshold_pct, "threshold_pct", limit=Decimal(1000)),
    )


def is_price_rise(baseline: Decimal, price: Decimal, threshold_pct: Decimal) -> bool:
    """A price more than ``threshold_pct`` per cent above the baseline (哄抬物价 flag)."""
    return price * 100 > baseline * (100 + threshold_pct)


def report_price(*, actor: Any, watch_id: int, day: dt.date, price: Any) -> PriceReport:
    """Record the day's price of a watched good (one a day; a second report corrects it)."""
    require(actor, Action.SUPPLIES_PRICES)
    watch = jurisdiction.scope(PriceWatch.objects.all(), actor).filter(pk=watch_id).first()
    if watch is None:
        raise NotFound("price watch")
    if day > timezone.localdate():
        raise _invalid("day", "日期不能晚于今天")
    money = _decimal(price, "price", limit=MAX_MONEY)
    report, _ = PriceReport.objects.update_or_create(
        watch=watch,
        day=day,
        defaults={
            "price": money,
            "flagged": is_price_rise(watch.baseline, money, watch.threshold_pct),
            "by_user": actor if getattr(actor, "pk", None) else None,
            "region_code": watch.region_code,
        },
    )
    return report


def stock_total_q(prefix: str) -> Q:
    return jurisdiction.prefix_q("region_code", [prefix]) if prefix else Q()
