"""The places JSON API, mounted under /api/v1/places.

Handlers translate between schemas and :mod:`.services`, which hold the rules: the role
matrix (403), jurisdiction (404 outside it), masking of the pharmacy buyer's ID number and
phone and of the responsible person's phone by role (unmasked reads audited). Strings are
bounded and NUL-free; every error is declared.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja import Path as PathParam
from pydantic import AfterValidator, BeforeValidator, StringConstraints

from fangkong.core import jurisdiction
from fangkong.core.actors import actor_of
from fangkong.core.permissions import public, requires
from fangkong.core.personal import present_people
from fangkong.core.roles import Action
from fangkong.core.schemas import (
    ERRORS,
    MAX_BIGINT,
    ErrorOut,
    NoNul,
    RegionCode,
    StrictDate,
    Version,
)

from . import services
from .models import (
    ColdBatch,
    DrugClass,
    DrugSale,
    Gathering,
    GatheringKind,
    Outcome,
    Place,
    PlaceKind,
    PlaceStatus,
    ReportedBy,
    Slot,
)

router = Router(tags=["places"])

WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
PathId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]
Name = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]
Short = Annotated[str, NoNul, StringConstraints(max_length=60)]
Text = Annotated[str, NoNul, StringConstraints(max_length=300)]
Phone = Annotated[str, NoNul, StringConstraints(max_length=20)]


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("write the time as an ISO 8601 string")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


When = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_aware)]


class PlacesPlaceOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    region_code: str
    address: str
    manager_name: str
    manager_phone: str
    cadre: str
    status: str
    status_since: dt.datetime
    order_no: str
    version: int


class PlacesPlaceIn(Schema):
    kind: Literal[tuple(PlaceKind.values)]  # type: ignore[valid-type]
    name: Name
    region_code: RegionCode
    address: Text = ""
    manager_name: Annotated[str, NoNul, StringConstraints(max_length=64)] = ""
    manager_phone: Phone = ""
    cadre_id: Annotated[int, Field(ge=1, le=MAX_BIGINT)] | None = None
    staff_count: Annotated[int, Field(ge=0, le=100000)] = 0


class PlacesStatusIn(Schema):
    status: Literal["closed", "reopened"]
    version: Version
    order_no: Short = ""
    reason: Annotated[str, NoNul, StringConstraints(max_length=200)] = ""


class PlacesKindCountOut(Schema):
    kind: str
    label: str
    total: int
    closed: int
    open: int


class PlacesCampaignOut(Schema):
    total: int
    closed: int
    open: int
    by_kind: list[PlacesKindCountOut]
    still_open: list[PlacesPlaceOut]


def _place_rows(actor: Any, places: list[Place], request: HttpRequest) -> list[PlacesPlaceOut]:
    shown = present_people(
        actor,
        places,
        channel="api",
        request=request,
        object_type="places.place",
        fields=("phone",),
        source={"phone": "manager_phone"},
    )
    kinds = services.labels_of(PlaceKind.choices)
    return [
        PlacesPlaceOut(
            id=p.pk,
            kind=p.kind,
            kind_label=kinds.get(p.kind, p.kind),
            name=p.name,
            region_code=p.region_code,
            address=p.address,
            manager_name=p.manager_name,
            manager_phone=s["phone"],
            cadre=(p.cadre.display_name or p.cadre.username) if p.cadre else "",
            status=p.status,
            status_since=p.status_since,
            order_no=p.order_no,
            version=p.version,
        )
        for p, s in zip(places, shown, strict=True)
    ]


@router.get("/places", response={200: list[PlacesPlaceOut], **ERRORS}, summary="场所列表")
@requires(Action.PLACES_VIEW)
def list_places(
    request: HttpRequest,
    kind: Literal[tuple(PlaceKind.values)] | None = None,  # type: ignore[valid-type]
    status: Literal[tuple(PlaceStatus.values)] | None = None,  # type: ignore[valid-type]
    region: RegionCode | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
) -> Any:
    actor = actor_of(request)
    queryset = services.places_of(actor).select_related("cadre")
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if region:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [region]))
    return _place_rows(actor, list(queryset[offset : offset + limit]), request)


@router.post("/places", response={201: PlacesPlaceOut, **WRITE_ERRORS}, summary="登记场所")
@requires(Action.PLACES_MANAGE)
def create_place(request: HttpRequest, body: PlacesPlaceIn) -> Any:
    actor = actor_of(request)
    place = services.register_place(actor=actor, data=services.PlaceInput(**body.dict()))
    return Status(201, _place_rows(actor, [place], request)[0])


@router.get("/places/{place_id}", response={200: PlacesPlaceOut, **ERRORS}, summary="场所详情")
@requires(Action.PLACES_VIEW)
def get_place(request: HttpRequest, place_id: PathId) -> Any:
    actor = actor_of(request)
    return _place_rows(actor, [services.get_place(actor, place_id)], request)[0]


@router.post(
    "/places/{place_id}/status",
    response={200: PlacesPlaceOut, **WRITE_ERRORS},
    summary="关停或复业",
)
@requires(Action.PLACES_MANAGE)
def change_status(request: HttpRequest, place_id: PathId, body: PlacesStatusIn) -> Any:
    actor = actor_of(request)
    place = services.change_status(actor=actor, place_id=place_id, **body.dict())
    return _place_rows(actor, [place], request)[0]


@router.get(
    "/campaign", response={200: PlacesCampaignOut, **ERRORS}, summary="关停专项：未关停清单"
)
@requires(Action.PLACES_VIEW)
def campaign(
    request: HttpRequest,
    limit: Annotated[int, Field(ge=1, le=500)] = 50,
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
) -> Any:
    actor = actor_of(request)
    data = services.campaign(actor)
    return PlacesCampaignOut(
        total=data["total"],
        closed=data["closed"],
        open=data["open_count"],
        by_kind=[PlacesKindCountOut(**row) for row in data["by_kind"]],
        still_open=_place_rows(actor, list(data["still_open"][offset : offset + limit]), request),
    )


# --- inspections ----------------------------------------------------------------------


class PlacesChecklistItemOut(Schema):
    id: int
    label: str


class PlacesItemIn(Schema):
    item_id: Annotated[int, Field(strict=True, ge=1, le=MAX_BIGINT)]
    passed: bool


class PlacesInspectionIn(Schema):
    items: list[PlacesItemIn] = Field(..., max_length=100)
    covert: bool = False
    note: Text = ""


class PlacesResultOut(Schema):
    item_id: int
    label: str
    passed: bool
    deadline: dt.datetime | None


class PlacesInspectionOut(Schema):
    id: int
    place_id: int
    inspected_at: dt.datetime
    covert: bool
    failed: int
    results: list[PlacesResultOut]


@router.get(
    "/places/{place_id}/checklist",
    response={200: list[PlacesChecklistItemOut], **ERRORS},
    summary="该类场所的检查表",
)
@requires(Action.PLACES_VIEW)
def place_checklist(request: HttpRequest, place_id: PathId) -> Any:
    place = services.get_place(actor_of(request), place_id)
    return [PlacesChecklistItemOut(id=i.pk, label=i.label) for i in services.checklist(place.kind)]


@router.post(
    "/places/{place_id}/inspections",
    response={201: PlacesInspectionOut, **WRITE_ERRORS},
    summary="记录检查（不合格项生成问题）",
)
@requires(Action.PLACES_INSPECT)
def inspect(request: HttpRequest, place_id: PathId, body: PlacesInspectionIn) -> Any:
    record = services.record_inspection(
        actor=actor_of(request),
        place_id=place_id,
        outcomes=[services.ItemOutcome(i.item_id, i.passed) for i in body.items],
        covert=body.covert,
        note=body.note,
    )
    results = record.results.select_related("item").order_by("item__position")
    return Status(
        201,
        PlacesInspectionOut(
            id=record.pk,
            place_id=place_id,
            inspected_at=record.inspected_at,
            covert=record.covert,
            failed=record.failed,
            results=[
                PlacesResultOut(
                    item_id=r.item_id, label=r.item.label, passed=r.passed, deadline=r.deadline
                )
                for r in results
            ],
        ),
    )


class PlacesDisinfectionIn(Schema):
    done_by: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
    done_at: When | None = None
    area: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""


class PlacesDisinfectionOut(Schema):
    id: int
    place_id: int
    done_at: dt.datetime
    done_by: str
    area: str


@router.post(
    "/places/{place_id}/disinfections",
    response={201: PlacesDisinfectionOut, **WRITE_ERRORS},
    summary="记录消杀",
)
@requires(Action.PLACES_INSPECT)
def disinfect(request: HttpRequest, place_id: PathId, body: PlacesDisinfectionIn) -> Any:
    row = services.log_disinfection(actor=actor_of(request), place_id=place_id, **body.dict())
    return Status(
        201,
        PlacesDisinfectionOut(
            id=row.pk, place_id=place_id, done_at=row.done_at, done_by=row.done_by, area=row.area
        ),
    )


# --- gatherings -----------------------------------------------------------------------


class PlacesGatheringIn(Schema):
    kind: Literal[tuple(GatheringKind.values)]  # type: ignore[valid-type]
    region_code: RegionCode
    place_text: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=120)]
    organiser_name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
    organiser_phone: Phone = ""
    date: StrictDate
    tables: Annotated[int, Field(ge=0, le=1000)] = 0
    guests: Annotated[int, Field(ge=0, le=20000)] = 0
    reported_by: Literal[tuple(ReportedBy.values)] = "patrol"  # type: ignore[valid-type]
    note: Text = ""


class PlacesOutcomeIn(Schema):
    outcome: Literal["stopped", "postponed", "simplified", "held"]
    version: Version
    note: Text = ""


class PlacesGatheringOut(Schema):
    id: int
    kind: str
    region_code: str
    place_text: str
    organiser_name: str
    organiser_phone: str
    date: dt.date
    tables: int
    guests: int
    reported_by: str
    outcome: str
    persuaded_by: str
    version: int


def _gatherings(
    actor: Any, rows: list[Gathering], request: HttpRequest
) -> list[PlacesGatheringOut]:
    shown = present_people(
        actor,
        rows,
        channel="api",
        request=request,
        object_type="places.gathering",
        fields=("phone",),
        source={"phone": "organiser_phone"},
    )
    return [
        PlacesGatheringOut(
            id=g.pk,
            kind=g.kind,
            region_code=g.region_code,
            place_text=g.place_text,
            organiser_name=g.organiser_name,
            organiser_phone=s["phone"],
            date=g.date,
            tables=g.tables,
            guests=g.guests,
            reported_by=g.reported_by,
            outcome=g.outcome,
            persuaded_by=(g.persuaded_by.display_name or g.persuaded_by.username)
            if g.persuaded_by
            else "",
            version=g.version,
        )
        for g, s in zip(rows, shown, strict=True)
    ]


@router.get("/gatherings", response={200: list[PlacesGatheringOut], **ERRORS}, summary="聚集性活动")
@requires(Action.PLACES_VIEW)
def list_gatherings(
    request: HttpRequest,
    outcome: Literal[tuple(Outcome.values)] | None = None,  # type: ignore[valid-type]
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
) -> Any:
    actor = actor_of(request)
    rows = jurisdiction.scope(Gathering.objects.select_related("persuaded_by"), actor)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return _gatherings(actor, list(rows[:limit]), request)


@router.post(
    "/gatherings", response={201: PlacesGatheringOut, **WRITE_ERRORS}, summary="登记聚集性活动"
)
@requires(Action.PLACES_GATHERINGS)
def create_gathering(request: HttpRequest, body: PlacesGatheringIn) -> Any:
    actor = actor_of(request)
    row = services.record_gathering(actor=actor, data=services.GatheringInput(**body.dict()))
    return Status(201, _gatherings(actor, [row], request)[0])


@router.post(
    "/gatherings/{gathering_id}/outcome",
    response={200: PlacesGatheringOut, **WRITE_ERRORS},
    summary="劝导结果（有条件举办须批准）",
)
@requires(Action.PLACES_GATHERINGS)
def decide_gathering(request: HttpRequest, gathering_id: PathId, body: PlacesOutcomeIn) -> Any:
    actor = actor_of(request)
    row = services.decide_gathering(actor=actor, gathering_id=gathering_id, **body.dict())
    return _gatherings(actor, [row], request)[0]


# --- school checks through the teacher's link -----------------------------------------

Token = Annotated[str, PathParam(min_length=10, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class PlacesCheckIn(Schema):
    member_id: Annotated[int, Field(strict=True, ge=1, le=MAX_BIGINT)]
    present: bool = True
    temperature: Annotated[Decimal, Field(ge=30, le=45, max_digits=3, decimal_places=1)] | None = (
        None
    )
    symptoms: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""
    absence_cause: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""


class PlacesChecksIn(Schema):
    slot: Literal[tuple(Slot.values)] | None = None  # type: ignore[valid-type]
    checks: list[PlacesCheckIn] = Field(..., min_length=1, max_length=200)


class PlacesChecksOut(Schema):
    recorded: int
    slot: str
    day: dt.date


@router.post(
    "/class-link/{token}/checks",
    response={200: PlacesChecksOut, **ERRORS},
    auth=None,
    summary="班主任晨午检（班级链接）",
)
@public("a class teacher's personal check link (no account; the token opens one class)")
def submit_checks(request: HttpRequest, token: Token, body: PlacesChecksIn) -> Any:
    school_class = services.class_by_token(token)
    slot = body.slot or services.current_slot()
    n = services.record_checks(
        school_class=school_class,
        rows=[services.CheckInput(**c.dict()) for c in body.checks],
        slot=slot,
    )
    return PlacesChecksOut(recorded=n, slot=slot, day=timezone.localdate())


# --- cold chain -----------------------------------------------------------------------


class PlacesBatchIn(Schema):
    goods: Name
    origin: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""
    weight_kg: Annotated[Decimal, Field(ge=0, le=999999, max_digits=10, decimal_places=1)] = (
        Decimal("0")
    )
    vehicle_plate: Annotated[str, NoNul, StringConstraints(max_length=12)] = ""
    quarantine_certificate: Short = ""
    test_report: Short = ""
    disinfection_certificate: Short = ""
    trace_code: Short = ""


class PlacesBatchDocsIn(Schema):
    version: Version
    quarantine_certificate: Short = ""
    test_report: Short = ""
    disinfection_certificate: Short = ""
    trace_code: Short = ""


class PlacesVersionIn(Schema):
    version: Version


class PlacesBatchOut(Schema):
    id: int
    storage_id: int
    goods: str
    status: str
    missing_documents: list[str]
    exit_certificate_no: str
    version: int


def _batch_out(batch: ColdBatch) -> PlacesBatchOut:
    return PlacesBatchOut(
        id=batch.pk,
        storage_id=batch.storage_id,
        goods=batch.goods,
        status=batch.status,
        missing_documents=services.missing_documents(batch),
        exit_certificate_no=batch.exit_certificate_no,
        version=batch.version,
    )


@router.post(
    "/cold-storages/{storage_id}/batches",
    response={201: PlacesBatchOut, **WRITE_ERRORS},
    summary="冷链进仓报备",
)
@requires(Action.PLACES_COLD_CHAIN)
def report_batch(request: HttpRequest, storage_id: PathId, body: PlacesBatchIn) -> Any:
    batch = services.report_batch(
        actor=actor_of(request), storage_id=storage_id, data=services.BatchInput(**body.dict())
    )
    return Status(201, _batch_out(batch))


@router.post(
    "/batches/{batch_id}/register",
    response={200: PlacesBatchOut, **WRITE_ERRORS},
    summary="信息登记",
)
@requires(Action.PLACES_COLD_CHAIN)
def register_batch(request: HttpRequest, batch_id: PathId, body: PlacesBatchDocsIn) -> Any:
    data = body.dict()
    version = data.pop("version")
    batch = services.register_batch(
        actor=actor_of(request), batch_id=batch_id, version=version, documents=data
    )
    return _batch_out(batch)


@router.post(
    "/batches/{batch_id}/release",
    response={200: PlacesBatchOut, **WRITE_ERRORS},
    summary="出仓证明（证明不全不能出仓）",
)
@requires(Action.PLACES_COLD_CHAIN)
def release_batch(request: HttpRequest, batch_id: PathId, body: PlacesVersionIn) -> Any:
    batch = services.release_batch(actor=actor_of(request), batch_id=batch_id, version=body.version)
    return _batch_out(batch)


# --- pharmacies -----------------------------------------------------------------------


class PlacesSaleIn(Schema):
    receipt_no: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=40)]
    drug_class: Literal[tuple(DrugClass.values)]  # type: ignore[valid-type]
    drug_name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=60)]
    buyer_name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
    sold_at: When
    buyer_id_number: Annotated[str, NoNul, StringConstraints(max_length=20)] = ""
    buyer_phone: Phone = ""


class PlacesSaleOut(Schema):
    id: int
    pharmacy_id: int
    receipt_no: str
    drug_class: str
    drug_name: str
    buyer_name: str
    buyer_id_number: str
    buyer_phone: str
    person_id: int | None
    follow_up: str
    created: bool = False


def _sales(actor: Any, rows: list[DrugSale], request: HttpRequest) -> list[PlacesSaleOut]:
    shown = present_people(
        actor,
        rows,
        channel="api",
        request=request,
        object_type="places.sale",
        fields=("id_number", "phone"),
        source={"id_number": "buyer_id_number", "phone": "buyer_phone"},
    )
    return [
        PlacesSaleOut(
            id=s.pk,
            pharmacy_id=s.pharmacy_id,
            receipt_no=s.receipt_no,
            drug_class=s.drug_class,
            drug_name=s.drug_name,
            buyer_name=s.buyer_name,
            buyer_id_number=m["id_number"],
            buyer_phone=m["phone"],
            person_id=s.person_id,
            follow_up=s.follow_up,
        )
        for s, m in zip(rows, shown, strict=True)
    ]


@router.post(
    "/pharmacies/{pharmacy_id}/sales",
    response={200: PlacesSaleOut, 201: PlacesSaleOut, **WRITE_ERRORS},
    summary="四类药品实名登记（同一小票重发不重复）",
)
@requires(Action.PLACES_PHARMACY)
def record_sale(request: HttpRequest, pharmacy_id: PathId, body: PlacesSaleIn) -> Any:
    actor = actor_of(request)
    sale, created = services.record_sale(
        actor=actor, pharmacy_id=pharmacy_id, data=services.SaleInput(**body.dict())
    )
    out = _sales(actor, [sale], request)[0]
    out.created = created
    return Status(201 if created else 200, out)


@router.get("/sales", response={200: list[PlacesSaleOut], **ERRORS}, summary="购药登记与跟进")
@requires(Action.PLACES_VIEW)
def list_sales(
    request: HttpRequest,
    follow_up: Literal["open", "done"] | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
) -> Any:
    actor = actor_of(request)
    rows = jurisdiction.scope(DrugSale.objects.all(), actor)
    if follow_up:
        rows = rows.filter(follow_up=follow_up)
    return _sales(actor, list(rows[:limit]), request)
