"""The supplies JSON API, mounted under /api/v1/supplies.

Handlers translate between schemas and :mod:`.services` / :mod:`.selectors`; every rule and
jurisdiction check lives there. Strings are bounded and NUL-free, quantities are decimals
with at most three places, dates strict, and every error response declared. Too little stock
is a 400 naming the field ``quantity``; a stale version a 409.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import AfterValidator, BeforeValidator

from fangkong.core import replica
from fangkong.core.actors import actor_of
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.core.schemas import ErrorOut, NoNul, ObjectId, StrictDate, Version

from . import selectors, services, spreadsheets
from .models import Item, Movement

router = Router(tags=["supplies"])

ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), NoNul]


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("give an ISO 8601 string")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


When = Annotated[dt.datetime, BeforeValidator(_text_only), AfterValidator(_aware)]
Quantity = Annotated[
    Decimal, Field(ge=0, lt=Decimal("1000000000"), max_digits=14, decimal_places=3)
]
Money = Annotated[
    Decimal, Field(ge=0, lt=Decimal("1000000000000"), max_digits=16, decimal_places=2)
]


# Schemas ----------------------------------------------------------------------------------


class SuppliesItemOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    pack_size: int
    category: str
    alert_days: int


class SuppliesWarehouseOut(Schema):
    id: int
    name: str
    level: str
    region_code: str
    keeper_name: str
    keeper_phone: str


class SuppliesRecipientOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str
    warehouse_id: int | None
    staff_on_duty: int
    people_isolated: int
    population: int


class SuppliesStockOut(Schema):
    warehouse_id: int
    warehouse: str
    item_id: int
    item: str
    unit: str
    stock: Decimal
    daily_rate: Decimal
    days_of_cover: Decimal | None
    run_out_at: dt.datetime | None
    short: bool
    in_transit: Decimal


class SuppliesMovementIn(Schema):
    warehouse_id: ObjectId
    item_id: ObjectId
    kind: Literal["receipt", "issue", "loss", "stocktake"]
    quantity: Quantity
    at: When | None = None
    recipient_id: ObjectId | None = None
    reason: Text(200) = ""
    document: Text(64) = ""
    batch_no: Text(64) = ""
    expires_on: StrictDate | None = None
    received_by: Text(50) = ""
    client_id: Text(40) = ""


class SuppliesMovementOut(Schema):
    id: int
    warehouse_id: int
    item_id: int
    kind: str
    quantity: Decimal
    balance_after: Decimal
    at: dt.datetime
    recipient_id: int | None
    reason: str
    document: str
    received_by: str


class SuppliesTransferIn(Schema):
    from_id: ObjectId
    to_id: ObjectId
    item_id: ObjectId
    quantity: Quantity
    reason: Text(200) = ""
    document: Text(64) = ""


class SuppliesTransferOut(Schema):
    out: SuppliesMovementOut
    into: SuppliesMovementOut


class SuppliesRequestIn(Schema):
    recipient_id: ObjectId
    item_id: ObjectId
    quantity: Quantity
    reason: Text(200) = ""


class SuppliesRequestOut(Schema):
    id: int
    recipient_id: int
    item_id: int
    quantity: Decimal
    approved_quantity: Decimal | None
    status: str
    reason: str
    version: int


class SuppliesApproveIn(Schema):
    version: Version
    warehouse_id: ObjectId
    quantity: Quantity
    received_by: Text(50) = ""


class SuppliesVersionIn(Schema):
    version: Version


class SuppliesOrderIn(Schema):
    supplier: Text(100, 1)
    channel: Literal["tender", "green", "public_lead", "allocation"]
    item_id: ObjectId
    quantity: Quantity
    unit_price: Money = Decimal(0)
    warehouse_id: ObjectId
    expected_on: StrictDate


class SuppliesOrderStatusIn(Schema):
    version: Version
    status: Literal["in_transit", "delayed", "intercepted", "cancelled"]
    note: Text(200) = ""


class SuppliesOrderOut(Schema):
    id: int
    supplier: str
    channel: str
    item_id: int
    quantity: Decimal
    warehouse_id: int
    expected_on: dt.date
    status: str
    status_note: str
    received_at: dt.datetime | None
    version: int


class SuppliesDonationIn(Schema):
    donor: Text(100, 1)
    donor_kind: Literal["firm", "individual", "cadre", "organisation"]
    publish_name: bool = True
    amount: Money = Decimal(0)
    item_id: ObjectId | None = None
    quantity: Quantity = Decimal(0)
    value: Money = Decimal(0)
    warehouse_id: ObjectId | None = None
    fund_id: ObjectId | None = None
    region_code: Annotated[str, NoNul, Field(max_length=15, pattern=r"^\d*$")] = ""


class SuppliesDonationOut(Schema):
    id: int
    donor: str
    donor_kind: str
    publish_name: bool
    amount: Decimal
    item_id: int | None
    quantity: Decimal
    value: Decimal
    certificate_no: str
    received_at: dt.datetime


class SuppliesFundIn(Schema):
    name: Text(100, 1)
    holder: Text(100, 1)
    region_code: Annotated[str, NoNul, Field(min_length=6, max_length=15, pattern=r"^\d+$")]
    amount: Money
    allocated_on: StrictDate
    document: Text(64) = ""


class SuppliesFundOut(Schema):
    id: int
    name: str
    holder: str
    region_code: str
    initial_amount: Decimal
    amount: Decimal
    spent: Decimal
    balance: Decimal
    version: int


class SuppliesFundEntryIn(Schema):
    kind: Literal["spend", "reward", "penalty", "top_up"]
    amount: Money
    purpose: Text(200, 1)
    document: Text(64) = ""


class SuppliesFundEntryOut(Schema):
    id: int
    fund_id: int
    kind: str
    amount: Decimal
    purpose: str
    document: str


class SuppliesWatchIn(Schema):
    goods: Text(64, 1)
    unit: Text(16, 1)
    shop: Text(100, 1)
    region_code: Annotated[str, NoNul, Field(min_length=6, max_length=15, pattern=r"^\d+$")]
    baseline: Money
    threshold_pct: Annotated[Decimal, Field(ge=0, lt=1000, decimal_places=2)] = Decimal(10)


class SuppliesWatchOut(Schema):
    id: int
    goods: str
    unit: str
    shop: str
    region_code: str
    baseline: Decimal
    threshold_pct: Decimal


class SuppliesPriceIn(Schema):
    watch_id: ObjectId
    day: StrictDate
    price: Money


class SuppliesPriceOut(Schema):
    id: int
    watch_id: int
    day: dt.date
    price: Decimal
    flagged: bool


class SuppliesRowErrorOut(Schema):
    row: int
    column: str
    message: str


class SuppliesImportErrorOut(Schema):
    detail: str
    errors: list[SuppliesRowErrorOut]


class SuppliesImportOut(Schema):
    applied: int


class SuppliesTotalsOut(Schema):
    donations_cash: Decimal
    donations_goods: Decimal
    donations_total: Decimal
    funds_amount: Decimal
    funds_spent: Decimal
    funds_balance: Decimal


def _movement(m: Movement) -> dict[str, Any]:
    return {
        "id": m.pk,
        "warehouse_id": m.warehouse_id,
        "item_id": m.item_id,
        "kind": m.kind,
        "quantity": m.quantity,
        "balance_after": m.balance_after,
        "at": m.at,
        "recipient_id": m.recipient_id,
        "reason": m.reason,
        "document": m.document,
        "received_by": m.received_by,
    }


# Catalogue, stores, stock -----------------------------------------------------------------


@router.get("/items", response={200: list[SuppliesItemOut], **ERRORS})
@requires(Action.SUPPLIES_VIEW)
def list_items(request: Any) -> Any:
    return [
        {
            "id": i.pk,
            "code": i.code,
            "name": i.name,
            "unit": i.unit,
            "pack_size": i.pack_size,
            "category": i.category.name,
            "alert_days": i.alert_days,
        }
        for i in Item.objects.select_related("category")
    ]


@router.get("/warehouses", response={200: list[SuppliesWarehouseOut], **ERRORS})
@requires(Action.SUPPLIES_VIEW)
def list_warehouses(request: Any) -> Any:
    return list(selectors.warehouses(actor_of(request)))


@router.get("/recipients", response={200: list[SuppliesRecipientOut], **ERRORS})
@requires(Action.SUPPLIES_VIEW)
def list_recipients(request: Any) -> Any:
    return list(selectors.recipients(actor_of(request)))


@router.get("/stock", response={200: list[SuppliesStockOut], **ERRORS})
@requires(Action.SUPPLIES_VIEW)
def stock(request: Any, warehouse_id: int | None = None, short_only: bool = False) -> Any:
    """Stock and days of cover of every item in every store of the caller's area."""
    with replica.reading():
        boards = selectors.stock_board(actor_of(request), warehouse_id=warehouse_id)
    rows = []
    for board in boards:
        for r in board.rows:
            if short_only and not r.cover.short:
                continue
            rows.append(
                {
                    "warehouse_id": board.warehouse.pk,
                    "warehouse": board.warehouse.name,
                    "item_id": r.item.pk,
                    "item": r.item.name,
                    "unit": r.item.unit,
                    "stock": r.cover.stock,
                    "daily_rate": r.cover.rate.quantize(Decimal("0.001")),
                    "days_of_cover": r.cover.days,
                    "run_out_at": r.cover.run_out_at,
                    "short": r.cover.short,
                    "in_transit": r.coming,
                }
            )
    return rows


@router.get("/movements", response={200: list[SuppliesMovementOut], **ERRORS})
@requires(Action.SUPPLIES_VIEW)
def list_movements(
    request: Any,
    warehouse_id: int | None = None,
    recipient_id: int | None = None,
    limit: int = 100,
) -> Any:
    limit = max(1, min(limit, 1000))
    rows = selectors.movements(actor_of(request))
    if warehouse_id is not None:
        rows = rows.filter(warehouse_id=warehouse_id)
    if recipient_id is not None:
        rows = rows.filter(recipient_id=recipient_id)
    return [_movement(m) for m in rows[:limit]]


@router.post("/movements", response={201: SuppliesMovementOut, **ERRORS})
@requires(Action.SUPPLIES_MOVE)
def create_movement(request: Any, payload: SuppliesMovementIn) -> Any:
    """Receipt, issue, loss or stock-take (quantity = the count). ``client_id`` makes a
    retried post record once."""
    data = payload.dict()
    client_id = data.pop("client_id")
    movement = services.record_movement(
        actor=actor_of(request),
        data=services.MovementInput(
            **data, source=f"supplies.client:{client_id}" if client_id else ""
        ),
    )
    return Status(201, _movement(movement))


@router.post("/transfers", response={201: SuppliesTransferOut, **ERRORS})
@requires(Action.SUPPLIES_MOVE)
def create_transfer(request: Any, payload: SuppliesTransferIn) -> Any:
    out, into = services.transfer(actor=actor_of(request), **payload.dict())
    return Status(201, {"out": _movement(out), "into": _movement(into)})


@router.post(
    "/stock-counts",
    response={
        201: SuppliesImportOut,
        400: SuppliesImportErrorOut,
        **{k: v for k, v in ERRORS.items() if k != 400},
    },
)
@requires(Action.SUPPLIES_MOVE)
def import_stock_counts(request: Any, file: File[UploadedFile]) -> Any:
    """A stock-count sheet (.xlsx): every row checked first, errors by row and column,
    nothing stored when any row is wrong."""
    if file.size and file.size > 5 * 1024 * 1024:
        return Status(400, {"detail": "文件不能超过5MB", "errors": []})
    try:
        applied = spreadsheets.import_counts(
            actor=actor_of(request), content=file.read(), file_name=(file.name or "")[:100]
        )
    except spreadsheets.ImportRejected as exc:
        return Status(400, {"detail": exc.detail, "errors": [e.as_dict() for e in exc.rows]})
    return Status(201, {"applied": applied})


# Requests ---------------------------------------------------------------------------------


@router.get("/requests", response={200: list[SuppliesRequestOut], **ERRORS})
@requires(Action.SUPPLIES_REQUEST, Action.SUPPLIES_MANAGE, any_of=True)
def list_requests(request: Any, status: str = "") -> Any:
    rows = selectors.requests(actor_of(request))
    if status[:16]:
        rows = rows.filter(status=status[:16].replace("\x00", ""))
    return list(rows[:500])


@router.post("/requests", response={201: SuppliesRequestOut, **ERRORS})
@requires(Action.SUPPLIES_REQUEST)
def create_request(request: Any, payload: SuppliesRequestIn) -> Any:
    return Status(201, services.create_request(actor=actor_of(request), **payload.dict()))


@router.post("/requests/{request_id}/approve", response={200: SuppliesRequestOut, **ERRORS})
@requires(Action.SUPPLIES_MANAGE)
def approve_request(request: Any, request_id: int, payload: SuppliesApproveIn) -> Any:
    return services.approve_request(
        actor=actor_of(request), request_id=request_id, **payload.dict()
    )


@router.post("/requests/{request_id}/reject", response={200: SuppliesRequestOut, **ERRORS})
@requires(Action.SUPPLIES_MANAGE)
def reject_request(request: Any, request_id: int, payload: SuppliesVersionIn) -> Any:
    return services.reject_request(
        actor=actor_of(request), request_id=request_id, version=payload.version
    )


# Purchases --------------------------------------------------------------------------------


@router.get("/orders", response={200: list[SuppliesOrderOut], **ERRORS})
@requires(Action.SUPPLIES_VIEW)
def list_orders(request: Any) -> Any:
    return list(selectors.orders(actor_of(request))[:500])


@router.post("/orders", response={201: SuppliesOrderOut, **ERRORS})
@requires(Action.SUPPLIES_MANAGE)
def create_order(request: Any, payload: SuppliesOrderIn) -> Any:
    return Status(201, services.create_order(actor=actor_of(request), **payload.dict()))


@router.post("/orders/{order_id}/status", response={200: SuppliesOrderOut, **ERRORS})
@requires(Action.SUPPLIES_MANAGE)
def order_status(request: Any, order_id: int, payload: SuppliesOrderStatusIn) -> Any:
    return services.set_order_status(actor=actor_of(request), order_id=order_id, **payload.dict())


@router.post("/orders/{order_id}/receive", response={200: SuppliesOrderOut, **ERRORS})
@requires(Action.SUPPLIES_MOVE)
def receive_order(request: Any, order_id: int, payload: SuppliesVersionIn) -> Any:
    return services.receive_order(
        actor=actor_of(request), order_id=order_id, version=payload.version
    )


# Donations and funds ----------------------------------------------------------------------


@router.get("/donations", response={200: list[SuppliesDonationOut], **ERRORS})
@requires(Action.SUPPLIES_FUNDS)
def list_donations(request: Any) -> Any:
    return list(selectors.donations(actor_of(request))[:1000])


@router.post("/donations", response={201: SuppliesDonationOut, **ERRORS})
@requires(Action.SUPPLIES_FUNDS)
def create_donation(request: Any, payload: SuppliesDonationIn) -> Any:
    return Status(201, services.record_donation(actor=actor_of(request), **payload.dict()))


@router.get("/funds", response={200: list[SuppliesFundOut], **ERRORS})
@requires(Action.SUPPLIES_FUNDS)
def list_funds(request: Any) -> Any:
    return list(selectors.funds(actor_of(request)))


@router.post("/funds", response={201: SuppliesFundOut, **ERRORS})
@requires(Action.SUPPLIES_FUNDS)
def create_fund(request: Any, payload: SuppliesFundIn) -> Any:
    return Status(201, services.allocate_fund(actor=actor_of(request), **payload.dict()))


@router.post("/funds/{fund_id}/entries", response={201: SuppliesFundEntryOut, **ERRORS})
@requires(Action.SUPPLIES_FUNDS)
def create_fund_entry(request: Any, fund_id: int, payload: SuppliesFundEntryIn) -> Any:
    entry = services.post_to_fund(actor=actor_of(request), fund_id=fund_id, **payload.dict())
    return Status(201, entry)


@router.get("/totals", response={200: SuppliesTotalsOut, **ERRORS})
@requires(Action.SUPPLIES_FUNDS)
def totals(request: Any) -> Any:
    actor = actor_of(request)
    d, f = selectors.donation_totals(actor), selectors.fund_totals(actor)
    return {
        "donations_cash": d["cash"],
        "donations_goods": d["goods"],
        "donations_total": d["total"],
        "funds_amount": f["amount"],
        "funds_spent": f["spent"],
        "funds_balance": f["balance"],
    }


# Prices -----------------------------------------------------------------------------------


@router.get("/prices/watches", response={200: list[SuppliesWatchOut], **ERRORS})
@requires(Action.SUPPLIES_PRICES)
def list_watches(request: Any) -> Any:
    return list(selectors.watches(actor_of(request)))


@router.post("/prices/watches", response={201: SuppliesWatchOut, **ERRORS})
@requires(Action.SUPPLIES_PRICES)
def create_watch(request: Any, payload: SuppliesWatchIn) -> Any:
    return Status(201, services.create_watch(actor=actor_of(request), **payload.dict()))


@router.post("/prices/reports", response={201: SuppliesPriceOut, **ERRORS})
@requires(Action.SUPPLIES_PRICES)
def report_price(request: Any, payload: SuppliesPriceIn) -> Any:
    return Status(201, services.report_price(actor=actor_of(request), **payload.dict()))
