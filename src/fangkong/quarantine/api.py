"""JSON API of isolation: orders, checks (one and in batches), alerts, sites, supplies.

Handlers only translate between schemas and :mod:`.services` / :mod:`.selectors`; every
rule and every jurisdiction check lives there. Strings are bounded and NUL-free, dates strict
(a number is not a date), and every error response is declared.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator, BeforeValidator

from fangkong.core import idempotency, replica
from fangkong.core.actors import actor_of
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.core.schemas import ErrorOut, NoNul

from . import documents, selectors, services
from .models import Alert, HealthCheck, IsolationOrder, SupplyRequest

router = Router(tags=["quarantine"])


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("give an ISO 8601 string")
    return value


def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), NoNul]


When = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_aware)]
Day = Annotated[date, BeforeValidator(_text_only)]
ClockTime = Annotated[time, BeforeValidator(_text_only)]
Id = Annotated[int, Field(ge=1, le=2**62)]


ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


# Schemas ----------------------------------------------------------------------------------


class WindowIn(Schema):
    opens_at: ClockTime
    closes_at: ClockTime


class OrderIn(Schema):
    person_id: Id
    kind: Literal["home", "centralised", "monitoring"]
    starts_at: When
    days: int | None = Field(None, ge=1, le=60)
    ends_at: When | None = None
    policy_version: Text(100) = ""
    manual_reason: Text(300) = ""
    address: Text(200) = ""
    required_test_days: list[Annotated[int, Field(ge=0, le=60)]] = Field([], max_length=10)
    responsible_ids: list[Id] = Field([], max_length=10)
    household_member_ids: list[Id] = Field([], max_length=20)
    agreement_signed_on: Day | None = None
    cost_bearer: Literal["", "self", "government", "employer"] = ""
    next_kind: Literal["", "home", "centralised", "monitoring"] = ""
    next_days: int | None = Field(None, ge=1, le=60)
    check_windows: list[WindowIn] = Field([], max_length=6)


class TestOut(Schema):
    day: int
    result: str
    sampled_on: date | None


class OrderOut(Schema):
    id: int
    person_id: int
    person_name: str
    id_number: str
    region_code: str
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    policy_version: str
    manual_reason: str
    address: str
    lead_id: int | None
    previous_id: int | None
    room: str
    agreement_signed: bool
    cost_bearer: str
    next_kind: str
    next_days: int | None
    tests: list[TestOut]
    responsible_ids: list[int]
    closed_at: datetime | None
    close_reason: str
    override_reason: str
    transferred_to: str
    version: int


class OrderPage(Schema):
    items: list[OrderOut]
    count: int


class ExtendIn(Schema):
    version: int = Field(..., ge=1)
    ends_at: When
    reason: Text(300, 1)


class TransferIn(Schema):
    version: int = Field(..., ge=1)
    to: Literal["home", "centralised", "hospital"]
    reason: Text(300, 1)
    hospital: Text(100) = ""
    cost_bearer: Literal["", "self", "government", "employer"] = ""


class EndIn(Schema):
    version: int = Field(..., ge=1)
    reason: Text(300, 1)


class ReleaseIn(Schema):
    version: int = Field(..., ge=1)
    override_reason: Text(300) = ""


class ReleaseOut(Schema):
    released: OrderOut
    next_order: OrderOut | None


class TestResultIn(Schema):
    result: Literal["negative", "positive"]
    sampled_on: Day


class RoomAssignIn(Schema):
    version: int = Field(..., ge=1)
    room_id: Id


class LinkOut(Schema):
    token: str
    path: str


class RevokedOut(Schema):
    revoked: int


Symptoms = list[
    Literal[
        "cough",
        "sore_throat",
        "short_breath",
        "fatigue",
        "muscle_ache",
        "loss_of_smell",
        "diarrhoea",
        "chills",
    ]
]


class ReadingIn(Schema):
    order_id: Id
    taken_at: When | None = None
    temperature: Decimal | None = Field(None, max_digits=3, decimal_places=1)
    normal: bool = False
    symptoms: Symptoms = Field([], max_length=8)
    at_home: bool = True
    method: Literal["door", "phone", "site"] = "door"
    note: Text(200) = ""
    client_id: Text(64) | None = None


class BatchIn(Schema):
    readings: list[ReadingIn] = Field(..., min_length=1, max_length=services.MAX_BATCH)


class BatchOut(Schema):
    stored: int
    duplicates: int
    alerts: int


class AlertOut(Schema):
    id: int
    order_id: int
    person_name: str
    region_code: str
    kind: str
    slot: datetime | None
    temperature: Decimal | None
    raised_at: datetime
    level: int
    outcome: str
    outcome_note: str
    handled_at: datetime | None


class CheckOut(Schema):
    id: int
    order_id: int
    taken_at: datetime
    slot: datetime | None
    temperature: Decimal | None
    reported_normal: bool
    symptoms: list[str]
    at_home: bool
    method: str
    alerts: list[str]


class ReadingResult(Schema):
    check: CheckOut
    alerts: list[AlertOut]


class OutcomeIn(Schema):
    outcome: Literal[
        "checked_late",
        "false_alarm",
        "home_observation",
        "fever_clinic",
        "hospital",
        "returned",
        "other",
    ]
    note: Text(300) = ""
    at: When | None = None


class RoundEntryOut(Schema):
    order_id: int
    person_name: str
    household_id: int | None
    address: str
    kind: str
    slot: datetime | None
    done: bool
    last_temperature: Decimal | None
    open_alerts: list[str]
    version: int


class BoardOut(Schema):
    region_code: str
    total: dict[str, int]
    by_region: dict[str, dict[str, int]]


class SiteIn(Schema):
    name: Text(100, 1)
    region_code: Annotated[str, Field(pattern=r"^\d{6}(\d{3})?$")]
    address: Text(200) = ""
    phone: Text(20) = ""


class SiteOut(Schema):
    id: int
    name: str
    region_code: str
    address: str
    phone: str
    rooms: int
    beds: int
    occupants: int
    free_rooms: int
    free_beds: int


class RoomsIn(Schema):
    numbers: list[Text(20, 1)] = Field(..., min_length=1, max_length=200)
    capacity: int = Field(1, ge=1, le=20)


class RoomOut(Schema):
    id: int
    number: str
    capacity: int
    occupants: int
    free_beds: int


class RosterOut(Schema):
    day: date
    in_room: list[dict[str, Any]]
    arriving: list[dict[str, Any]]
    leaving: list[dict[str, Any]]


class SupplyIn(Schema):
    category: Literal["food", "medicine", "daily", "other"]
    items: Text(300, 1)


class SupplyOut(Schema):
    id: int
    order_id: int
    person_name: str
    category: str
    items: str
    requested_at: datetime
    requested_via_link: bool
    delivered_at: datetime | None
    delivery_note: str


class DeliveryIn(Schema):
    note: Text(200) = ""


class WasteIn(Schema):
    order_id: Id | None = None
    site_id: Id | None = None
    bags: int = Field(..., ge=1, le=1000)
    picked_at: When | None = None
    note: Text(200) = ""


class WasteOut(Schema):
    id: int
    order_id: int | None
    site_id: int | None
    bags: int
    picked_at: datetime


class SelfOrderOut(Schema):
    name: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    checks: list[CheckOut]


class SelfReadingIn(Schema):
    temperature: Decimal = Field(..., max_digits=3, decimal_places=1)
    symptoms: Symptoms = Field([], max_length=8)
    note: Text(200) = ""
    client_id: Text(64) | None = None


# Presenters -------------------------------------------------------------------------------


def order_out(order: IsolationOrder, id_number: str) -> dict[str, Any]:
    return {
        "id": order.pk,
        "person_id": order.person_id,
        "person_name": order.person.name,
        "id_number": id_number,
        "region_code": order.region_code,
        "kind": order.kind,
        "status": order.status,
        "starts_at": order.starts_at,
        "ends_at": order.ends_at,
        "policy_version": order.policy_version,
        "manual_reason": order.manual_reason,
        "address": order.address,
        "lead_id": order.lead_id,
        "previous_id": order.previous_id,
        "room": str(order.room) if order.room_id else "",
        "agreement_signed": order.has_agreement,
        "cost_bearer": order.cost_bearer,
        "next_kind": order.next_kind,
        "next_days": order.next_days,
        "tests": [
            {"day": t.day, "result": t.result, "sampled_on": t.sampled_on}
            for t in order.tests.all()
        ],
        # .all() so a list's prefetch serves every row (values_list would query per order).
        "responsible_ids": sorted(user.pk for user in order.responsible.all()),
        "closed_at": order.closed_at,
        "close_reason": order.close_reason,
        "override_reason": order.override_reason,
        "transferred_to": order.transferred_to,
        "version": order.version,
    }


def check_out(check: HealthCheck, alerts: list[Alert] | None = None) -> dict[str, Any]:
    return {
        "id": check.pk,
        "order_id": check.order_id,
        "taken_at": check.taken_at,
        "slot": check.slot,
        "temperature": check.temperature,
        "reported_normal": check.reported_normal,
        "symptoms": list(check.symptoms),
        "at_home": check.at_home,
        "method": check.method,
        "alerts": [a.kind for a in (alerts if alerts is not None else check.alerts.all())],
    }


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "order_id": alert.order_id,
        "person_name": alert.order.person.name,
        "region_code": alert.region_code,
        "kind": alert.kind,
        "slot": alert.slot,
        "temperature": alert.reading.temperature if alert.reading_id else None,
        "raised_at": alert.raised_at,
        "level": alert.level,
        "outcome": alert.outcome,
        "outcome_note": alert.outcome_note,
        "handled_at": alert.handled_at,
    }


def supply_out(req: SupplyRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "order_id": req.order_id,
        "person_name": req.order.person.name,
        "category": req.category,
        "items": req.items,
        "requested_at": req.requested_at,
        "requested_via_link": req.requested_via_link,
        "delivered_at": req.delivered_at,
        "delivery_note": req.delivery_note,
    }


def _reading(payload: ReadingIn) -> services.Reading:
    return services.Reading(
        order_id=payload.order_id,
        taken_at=payload.taken_at,
        temperature=payload.temperature,
        normal=payload.normal,
        symptoms=tuple(payload.symptoms),
        at_home=payload.at_home,
        method=payload.method,
        note=payload.note,
        client_id=payload.client_id,
    )


def orders_out(orders: list[IsolationOrder], request: Any) -> list[dict[str, Any]]:
    numbers = selectors.id_numbers_for(request.auth, orders, channel="api", request=request)
    return [order_out(o, numbers[o.pk]) for o in orders]


def _reload(order_id: int, request: Any) -> dict[str, Any]:
    return orders_out([selectors.get_order(request.auth, order_id)], request)[0]


# Orders -----------------------------------------------------------------------------------


@router.get("/orders", response={200: OrderPage, **ERRORS}, summary="隔离对象列表")
def list_orders(
    request,
    status: Literal["", "active", "released", "ended_early", "transferred"] = "",
    kind: Literal["", "home", "centralised", "monitoring"] = "",
    region_code: Annotated[str, Field(pattern=r"^\d{0,15}$")] = "",
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
):
    items, count = selectors.list_orders(
        request.auth,
        status=status,
        kind=kind,
        region_code=region_code,
        limit=limit,
        offset=offset,
    )
    return {"items": orders_out(items, request), "count": count}


@router.post("/orders", response={201: OrderOut, **ERRORS}, summary="下达隔离")
def create_order(request, payload: OrderIn):
    """Create an isolation order; send ``Idempotency-Key`` to make retries safe."""
    user = request.auth

    def perform() -> tuple[int, Any]:
        data = services.OrderInput(
            **payload.dict(
                exclude={
                    "check_windows",
                    "required_test_days",
                    "responsible_ids",
                    "household_member_ids",
                }
            ),
            required_test_days=tuple(payload.required_test_days),
            responsible_ids=tuple(payload.responsible_ids),
            household_member_ids=tuple(payload.household_member_ids),
            check_windows=tuple((w.opens_at, w.closes_at) for w in payload.check_windows),
        )
        order = services.order_isolation(user=user, data=data, channel="api")
        return 201, _reload(order.pk, request)

    outcome = idempotency.run(
        user=user,
        key=request.headers.get(idempotency.HEADER),
        endpoint="quarantine.orders",
        payload=payload.dict(),
        perform=perform,
    )
    return Status(outcome.status, outcome.body)


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def get_order(request, order_id: Id):
    return _reload(order_id, request)


@router.post("/orders/{order_id}/extend", response={200: OrderOut, **ERRORS})
def extend(request, order_id: Id, payload: ExtendIn):
    services.extend_order(
        user=request.auth,
        order_id=order_id,
        version=payload.version,
        ends_at=payload.ends_at,
        reason=payload.reason,
    )
    return _reload(order_id, request)


@router.post("/orders/{order_id}/transfer", response={200: OrderOut, **ERRORS})
def transfer(request, order_id: Id, payload: TransferIn):
    """Transfer up: home/centralised returns the new order; hospital returns the closed one."""
    order = services.transfer_order(
        user=request.auth,
        order_id=order_id,
        version=payload.version,
        to=payload.to,
        reason=payload.reason,
        hospital=payload.hospital,
        cost_bearer=payload.cost_bearer,
    )
    return _reload(order.pk, request)


@router.post("/orders/{order_id}/end", response={200: OrderOut, **ERRORS})
def end_early(request, order_id: Id, payload: EndIn):
    services.end_order_early(
        user=request.auth, order_id=order_id, version=payload.version, reason=payload.reason
    )
    return _reload(order_id, request)


@router.post("/orders/{order_id}/release", response={200: ReleaseOut, **ERRORS})
def release(request, order_id: Id, payload: ReleaseIn):
    order, next_order = services.release_order(
        user=request.auth,
        order_id=order_id,
        version=payload.version,
        override_reason=payload.override_reason,
    )
    return {
        "released": _reload(order.pk, request),
        "next_order": _reload(next_order.pk, request) if next_order else None,
    }


@router.get(
    "/orders/{order_id}/release-notice",
    response={200: None, **ERRORS},
    summary="解除隔离通知书（Word）",
)
def release_notice(request, order_id: Id):
    order = selectors.get_order(request.auth, order_id)
    content = documents.release_notice(order, request.auth, channel="api", request=request)
    response = HttpResponse(content, content_type=documents.DOCX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="release-notice-{order.pk}.docx"'
    return response


@router.post("/orders/{order_id}/tests/{day}", response={200: TestOut, **ERRORS})
def record_test(
    request, order_id: Id, day: Annotated[int, Field(ge=0, le=60)], payload: TestResultIn
):
    test = services.record_test_result(
        user=request.auth,
        order_id=order_id,
        day=day,
        result=payload.result,
        sampled_on=payload.sampled_on,
    )
    return {"day": test.day, "result": test.result, "sampled_on": test.sampled_on}


@router.post("/orders/{order_id}/room", response={200: OrderOut, **ERRORS})
def assign_room(request, order_id: Id, payload: RoomAssignIn):
    services.assign_room(
        user=request.auth, order_id=order_id, version=payload.version, room_id=payload.room_id
    )
    return _reload(order_id, request)


@router.post(
    "/orders/{order_id}/link", response={201: LinkOut, **ERRORS}, summary="生成本人自报链接"
)
def issue_link(request, order_id: Id):
    token = services.issue_self_report_link(user=request.auth, order_id=order_id)
    return Status(201, {"token": token, "path": reverse("quarantine:self_report", args=[token])})


@router.delete("/orders/{order_id}/link", response={200: RevokedOut, **ERRORS})
def revoke_link(request, order_id: Id):
    return {"revoked": services.revoke_self_report_links(user=request.auth, order_id=order_id)}


@router.get("/orders/{order_id}/checks", response={200: list[CheckOut], **ERRORS})
def order_checks(request, order_id: Id):
    order = selectors.get_order(request.auth, order_id)
    return [check_out(c) for c in selectors.order_readings(order)]


@router.post("/orders/{order_id}/supplies", response={201: SupplyOut, **ERRORS})
def request_supplies(request, order_id: Id, payload: SupplyIn):
    req = services.request_supplies(
        user=request.auth, order_id=order_id, category=payload.category, items=payload.items
    )
    return Status(201, supply_out(req))


# Checks and alerts ------------------------------------------------------------------------


@router.post("/checks", response={201: ReadingResult, **ERRORS}, summary="录入一次体温")
def record_check(request, payload: ReadingIn):
    check, alerts = services.record_check(user=request.auth, reading=_reading(payload))
    body = {"check": check_out(check, alerts), "alerts": [alert_out(a) for a in alerts]}
    return Status(201, body)


@router.post(
    "/checks/batch", response={200: BatchOut, **ERRORS}, summary="批量录入体温（按 client_id 幂等）"
)
def record_checks_batch(request, payload: BatchIn):
    outcome = services.bulk_record_readings(
        user=request.auth, readings=[_reading(r) for r in payload.readings]
    )
    return {"stored": outcome.stored, "duplicates": outcome.duplicates, "alerts": outcome.alerts}


@router.get("/round", response={200: list[RoundEntryOut], **ERRORS}, summary="今日巡查名单")
def todays_round(request):
    return [
        {
            "order_id": e.order.pk,
            "person_name": e.order.person.name,
            "household_id": e.order.person.household_id,
            "address": e.order.address,
            "kind": e.order.kind,
            "slot": e.slot,
            "done": e.done,
            "last_temperature": e.last.temperature if e.last else None,
            "open_alerts": [a.kind for a in e.open_alerts],
            "version": e.order.version,
        }
        for e in selectors.todays_round(request.auth)
    ]


@router.get("/alerts", response={200: list[AlertOut], **ERRORS})
def list_alerts(
    request,
    open_only: bool = True,
    min_level: Annotated[int, Field(ge=0, le=2)] = 0,
    mine: bool = False,
):
    return [
        alert_out(a)
        for a in selectors.list_alerts(
            request.auth, open_only=open_only, min_level=min_level, mine=mine
        )
    ]


@router.post("/alerts/{alert_id}/outcome", response={200: AlertOut, **ERRORS})
def alert_outcome(request, alert_id: Id, payload: OutcomeIn):
    alert = services.handle_alert(
        user=request.auth,
        alert_id=alert_id,
        outcome=payload.outcome,
        note=payload.note,
        at=payload.at,
    )
    return alert_out(selectors.get_alert(request.auth, alert.pk))


@router.get("/board", response={200: BoardOut, **ERRORS}, summary="隔离看板")
def board(request, region_code: Annotated[str, Field(pattern=r"^\d{0,15}$")] = ""):
    with replica.reading():
        return selectors.board(request.auth, region_code=region_code)


# Sites ------------------------------------------------------------------------------------


@router.get("/sites", response={200: list[SiteOut], **ERRORS}, summary="隔离点床位")
def list_sites(request):
    return selectors.site_occupancy(request.auth)


@router.post("/sites", response={201: SiteOut, **ERRORS})
def create_site(request, payload: SiteIn):
    site = services.create_site(user=request.auth, **payload.dict())
    row = next(s for s in selectors.site_occupancy(request.auth) if s["id"] == site.pk)
    return Status(201, row)


@router.get("/sites/{site_id}/rooms", response={200: list[RoomOut], **ERRORS})
def site_rooms(request, site_id: Id):
    site = selectors.get_site(request.auth, site_id)
    return [
        {
            "id": r.pk,
            "number": r.number,
            "capacity": r.capacity,
            "occupants": r.occupants,
            "free_beds": r.free_beds,
        }
        for r in selectors.site_rooms(site)
    ]


@router.post("/sites/{site_id}/rooms", response={201: list[RoomOut], **ERRORS})
def add_rooms(request, site_id: Id, payload: RoomsIn):
    rooms = services.add_rooms(
        user=request.auth, site_id=site_id, numbers=payload.numbers, capacity=payload.capacity
    )
    return Status(
        201,
        [
            {
                "id": r.pk,
                "number": r.number,
                "capacity": r.capacity,
                "occupants": 0,
                "free_beds": r.capacity,
            }
            for r in rooms
        ],
    )


@router.get(
    "/sites/{site_id}/roster", response={200: RosterOut, **ERRORS}, summary="隔离点当日进出名单"
)
def site_roster(request, site_id: Id, day: Day | None = None):
    site = selectors.get_site(request.auth, site_id)
    day = day or timezone.localdate()
    roster = selectors.site_roster(request.auth, site, day)

    def rows(orders: list[IsolationOrder]) -> list[dict[str, Any]]:
        return [
            {
                "order_id": o.pk,
                "person_name": o.person.name,
                "room": o.room.number if o.room_id else "",
                "starts_at": o.starts_at,
                "ends_at": o.ends_at,
                "status": o.status,
            }
            for o in orders
        ]

    return {"day": day, **{key: rows(value) for key, value in roster.items()}}


# Supplies and waste -----------------------------------------------------------------------


@router.get("/supplies", response={200: list[SupplyOut], **ERRORS})
def list_supplies(request, open_only: bool = True):
    return [
        supply_out(r) for r in selectors.list_supply_requests(request.auth, open_only=open_only)
    ]


@router.post("/supplies/{request_id}/delivery", response={200: SupplyOut, **ERRORS})
def deliver(request, request_id: Id, payload: DeliveryIn):
    req = services.deliver_supplies(user=request.auth, request_id=request_id, note=payload.note)
    return supply_out(req)


@router.post("/waste-pickups", response={201: WasteOut, **ERRORS})
def waste_pickup(request, payload: WasteIn):
    pickup = services.record_waste_pickup(user=request.auth, **payload.dict())
    return Status(
        201,
        {
            "id": pickup.pk,
            "order_id": pickup.order_id,
            "site_id": pickup.site_id,
            "bags": pickup.bags,
            "picked_at": pickup.picked_at,
        },
    )


# Personal link (no account) ---------------------------------------------------------------

Token = Annotated[str, Field(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get(
    "/self/{token}", auth=None, response={200: SelfOrderOut, **ERRORS}, summary="本人查看自己的隔离"
)
def self_order(request, token: Token):
    order = services.order_for_token(token)
    return {
        # Masked like a receipt: the person knows who they are, a leaked link tells little.
        "name": order.person.name[:1] + "*" * (len(order.person.name) - 1),
        "kind": order.kind,
        "starts_at": order.starts_at,
        "ends_at": order.ends_at,
        "checks": [check_out(c) for c in selectors.order_readings(order, limit=10)],
    }


@router.post(
    "/self/{token}/checks", auth=None, response={201: CheckOut, **ERRORS}, summary="本人自报体温"
)
def self_check(request, token: Token, payload: SelfReadingIn):
    check, alerts = services.record_self_report(
        token=token,
        reading=services.Reading(
            order_id=0,
            temperature=payload.temperature,
            symptoms=tuple(payload.symptoms),
            note=payload.note,
            client_id=payload.client_id,
        ),
    )
    return Status(201, check_out(check, alerts))


@router.post(
    "/self/{token}/supplies",
    auth=None,
    response={201: dict[str, int], **ERRORS},
    summary="本人申请生活物资",
)
def self_supplies(request, token: Token, payload: SupplyIn):
    req = services.request_supplies_by_link(
        token=token, category=payload.category, items=payload.items
    )
    return Status(201, {"id": req.pk})


# Rooms for many centralised orders at once ------------------------------------------------


class QuarantineRoomPlanOut(Schema):
    order_id: int
    person_name: str
    suggested_room_id: int | None
    suggested_room: str


class QuarantineRoomPairIn(Schema):
    order_id: Id
    room_id: Id


class QuarantineBulkRoomsIn(Schema):
    assignments: list[QuarantineRoomPairIn] = Field(..., min_length=1, max_length=500)


class QuarantineBulkRoomErrorOut(Schema):
    order_id: int
    message: str


class QuarantineBulkRoomsOut(Schema):
    assigned: list[int]
    errors: list[QuarantineBulkRoomErrorOut]


@router.get("/rooms/suggestions", response={200: list[QuarantineRoomPlanOut], **ERRORS})
@requires(Action.QUARANTINE_VIEW)
def room_suggestions(request):
    """Centralised orders without a room, each with the free room suggested for it."""
    from . import ordering

    return [
        {
            "order_id": plan.order.pk,
            "person_name": plan.order.person.name,
            "suggested_room_id": plan.suggested.room_id if plan.suggested else None,
            "suggested_room": plan.suggested.label if plan.suggested else "",
        }
        for plan in ordering.suggest_rooms(actor_of(request))
    ]


@router.post("/rooms/assign", response={200: QuarantineBulkRoomsOut, **ERRORS})
@requires(Action.QUARANTINE_SITES)
def assign_rooms(request, payload: QuarantineBulkRoomsIn):
    """Book many rooms at once; each failure is reported by order, the others go through."""
    from . import ordering

    outcome = ordering.assign_rooms(
        user=actor_of(request), pairs=[(a.order_id, a.room_id) for a in payload.assignments]
    )
    return {
        "assigned": outcome.assigned,
        "errors": [{"order_id": o, "message": m} for o, m in outcome.errors],
    }


# The offline round's work set and sync (issue 20): /api/v1/quarantine/field/...
from .field import router as field_router  # noqa: E402

router.add_router("/field", field_router)
