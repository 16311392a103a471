"""The checkpoints JSON API, mounted under /api/v1/checkpoints.

Handlers translate HTTP to :mod:`.services`, which hold the rules: the role matrix (403),
jurisdiction (404 outside it, filtered out of lists), masking of ID numbers by role. A phone
sends its queued passages as a batch; each carries its own ``client_key`` and a key already
stored is answered with the stored passage (``created: false``), never stored twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja import Path as PathParam
from pydantic import StringConstraints

from fangkong.core.actors import actor_of
from fangkong.core.errors import FieldError, ValidationFailed
from fangkong.core.permissions import requires
from fangkong.core.personal import Disclosure
from fangkong.core.roles import Action
from fangkong.core.schemas import (
    ERRORS,
    MAX_BIGINT,
    ErrorOut,
    NoNul,
    ObjectId,
    StrictDate,
    Version,
)

from . import services
from .models import Inspection

router = Router(tags=["checkpoints"])

WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
PathId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]
Text = Annotated[str, NoNul, StringConstraints(max_length=64)]
Key = Annotated[str, NoNul, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")]
Colour = Literal["green", "yellow", "red", "none"]
OutcomeIn = Literal["", "passed", "turned_back", "isolation", "referred"]
Temp = Annotated[Decimal, Field(ge=30, le=45, max_digits=3, decimal_places=1)]


class CheckpointPostOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str
    location: str
    enclosed: bool
    container_hut: bool
    disinfections_per_day: int
    emergency_vehicle: str
    gaps: list[str]
    version: int


class CheckpointOccupantIn(Schema):
    person_id: ObjectId | None = None
    name: Text = ""
    id_number: Annotated[str, NoNul, StringConstraints(max_length=18)] = ""
    temperature: Temp | None = None
    code_colour: Colour = "green"
    itinerary_ok: bool = True
    mask: bool = True
    client_key: Key = ""


class CheckpointPassageIn(Schema):
    kind: Literal["person", "vehicle"] = "person"
    direction: Literal["in", "out"] = "in"
    person_id: ObjectId | None = None
    name: Text = ""
    id_number: Annotated[str, NoNul, StringConstraints(max_length=18)] = ""
    phone: Annotated[str, NoNul, StringConstraints(max_length=20)] = ""
    plate: Annotated[str, NoNul, StringConstraints(max_length=16)] = ""
    origin: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""
    temperature: Temp | None = None
    code_colour: Colour = "green"
    itinerary_ok: bool = True
    mask: bool = True
    disinfected: bool = False
    outcome: OutcomeIn = ""
    at: dt.datetime | None = None
    client_key: Key = ""
    occupants: Annotated[list[CheckpointOccupantIn], Field(max_length=60)] = []


class CheckpointBatchIn(Schema):
    items: Annotated[list[CheckpointPassageIn], Field(min_length=1, max_length=500)]


class CheckpointRecordedOut(Schema):
    id: int
    client_key: str
    created: bool
    verdict: str
    outcome: str
    reasons: str
    risk_area: str


class CheckpointBatchOut(Schema):
    items: list[CheckpointRecordedOut]
    created: int


class CheckpointVerdictOut(Schema):
    verdict: str
    outcome: str
    reasons: list[str]
    outings_left: int | None
    unknown_resident: bool


class CheckpointPassageOut(Schema):
    id: int
    post_id: int
    at: dt.datetime
    kind: str
    direction: str
    person_id: int | None
    name: str
    id_number: str
    plate: str
    occupants: int
    origin: str
    temperature: Decimal | None
    code_colour: str
    verdict: str
    outcome: str
    reasons: str
    risk_area: str


class CheckpointPassageQuery(Schema):
    post_id: Annotated[int, Field(ge=1, le=MAX_BIGINT)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class CheckpointCardIn(Schema):
    person_id: ObjectId
    outings_per_week: Annotated[int, Field(strict=True, ge=1, le=21)] = 3


class CheckpointCardOut(Schema):
    id: int
    number: str
    person_id: int
    region_code: str
    outings_per_week: int
    outings_left: int
    valid_from: dt.date


class CheckpointRosterIn(Schema):
    township: Annotated[str, NoNul, StringConstraints(min_length=9, max_length=9, pattern=r"^\d+$")]
    starts_on: StrictDate
    days: Annotated[int, Field(strict=True, ge=1, le=31)] = 7


class CheckpointRosterOut(Schema):
    id: int
    township_code: str
    starts_on: dt.date
    days: int
    status: str
    solve_seconds: float
    note: str
    version: int
    violations: list[str] = []


class CheckpointShiftOut(Schema):
    id: int
    post_id: int
    staff_id: int
    staff_name: str
    day: dt.date
    shift: int
    starts_at: dt.datetime
    checked_in_at: dt.datetime | None


class CheckpointRosterDetailOut(CheckpointRosterOut):
    shifts: list[CheckpointShiftOut]


class CheckpointRosterEditIn(Schema):
    version: Version
    day: StrictDate
    shift: Annotated[int, Field(strict=True, ge=0, le=2)]
    post_id: ObjectId
    remove_staff_id: ObjectId | None = None
    add_staff_id: ObjectId | None = None


class CheckpointInfeasibleOut(Schema):
    detail: str
    errors: list[dict[str, str]]


class CheckpointInspectionIn(Schema):
    post_id: ObjectId
    at: dt.datetime
    staff_present: bool = True
    awake: bool = True
    logging: bool = True
    temperature: bool = True
    disinfection: bool = True
    risk_areas: bool = True
    note: Annotated[str, NoNul, StringConstraints(max_length=500)] = ""


class CheckpointInspectionOut(Schema):
    id: int
    post_id: int
    at: dt.datetime
    failed: list[str]
    note: str
    problem_ids: str


def _post_out(p: Any) -> dict[str, Any]:
    return {
        **{f: getattr(p, f) for f in CheckpointPostOut.model_fields if f != "gaps"},
        "gaps": p.gaps,
    }


@router.get("/posts", response={200: list[CheckpointPostOut], **ERRORS}, summary="卡点列表")
@requires(Action.CHECKPOINT_VIEW)
def list_posts(request):
    return [_post_out(p) for p in services.posts(actor_of(request))[:1000]]


@router.get("/posts/{post_id}", response={200: CheckpointPostOut, **ERRORS}, summary="卡点详情")
@requires(Action.CHECKPOINT_VIEW)
def get_post(request, post_id: PathId):
    return _post_out(services.post(actor_of(request), post_id))


def _item(p: CheckpointPassageIn) -> services.PassageInput:
    data = p.dict()
    occupants = [services.PassageInput(**o) for o in data.pop("occupants")]
    return services.PassageInput(**data, occupants=occupants)


@router.post(
    "/posts/{post_id}/passages",
    response={200: CheckpointBatchOut, 201: CheckpointBatchOut, **WRITE_ERRORS},
    summary="批量登记通行（按 client_key 幂等）",
)
@requires(Action.CHECKPOINT_LOG)
def record_passages(request, post_id: PathId, payload: CheckpointBatchIn):
    done = services.record_passages(
        actor=actor_of(request), post_id=post_id, items=[_item(i) for i in payload.items]
    )
    items = [
        {
            "id": r.passage.pk,
            "client_key": r.passage.client_key or "",
            "created": r.created,
            "verdict": r.passage.verdict,
            "outcome": r.passage.outcome,
            "reasons": r.passage.reasons,
            "risk_area": r.passage.risk_area,
        }
        for r in done
    ]
    created = sum(1 for r in done if r.created)
    return Status(201 if created else 200, {"items": items, "created": created})


@router.post(
    "/posts/{post_id}/check",
    response={200: CheckpointVerdictOut, **ERRORS},
    summary="通行判定（不登记）",
)
@requires(Action.CHECKPOINT_LOG)
def check_passage(request, post_id: PathId, payload: CheckpointPassageIn):
    actor = actor_of(request)
    seen = services.preview(actor, services.post(actor, post_id), _item(payload))
    return {
        "verdict": seen.ruling.verdict,
        "outcome": seen.outcome,
        "reasons": list(seen.ruling.reasons),
        "outings_left": seen.outings_left,
        "unknown_resident": seen.unknown_resident,
    }


@router.get("/passages", response={200: list[CheckpointPassageOut], **ERRORS}, summary="通行记录")
@requires(Action.CHECKPOINT_VIEW)
def list_passages(request, filters: Query[CheckpointPassageQuery]):
    actor = actor_of(request)
    rows = services.passages(actor)
    if filters.post_id:
        rows = rows.filter(post_id=filters.post_id)
    out = []
    with Disclosure(actor, channel="api", request=request) as d:
        for p in rows[: filters.limit]:
            out.append(
                {
                    **{
                        f: getattr(p, f)
                        for f in CheckpointPassageOut.model_fields
                        if f != "id_number"
                    },
                    "id_number": d.id_number(p.id_number, ref=("person", p.person_id or p.pk)),
                }
            )
    return out


def _card_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "number": c.number,
        "person_id": c.person_id,
        "region_code": c.region_code,
        "outings_per_week": c.outings_per_week,
        "outings_left": services.card_outings_left(c, services.timezone.now()),
        "valid_from": c.valid_from,
    }


@router.get("/cards", response={200: list[CheckpointCardOut], **ERRORS}, summary="出入证")
@requires(Action.CHECKPOINT_VIEW)
def list_cards(request):
    return [_card_out(c) for c in services.cards(actor_of(request))[:1000]]


@router.post("/cards", response={201: CheckpointCardOut, **WRITE_ERRORS}, summary="发放出入证")
@requires(Action.CHECKPOINT_MANAGE)
def issue_card(request, payload: CheckpointCardIn):
    card = services.issue_card(
        actor=actor_of(request),
        person_id=payload.person_id,
        outings_per_week=payload.outings_per_week,
    )
    return Status(201, _card_out(card))


def _roster_out(r: Any, *, detail: bool = False) -> dict[str, Any]:
    out = {f: getattr(r, f) for f in CheckpointRosterOut.model_fields if f != "violations"}
    out["violations"] = services.roster_violations(r) if detail else []
    if detail:
        out["shifts"] = [
            {
                "id": a.pk,
                "post_id": a.post_id,
                "staff_id": a.staff_id,
                "staff_name": a.staff.name,
                "day": a.day,
                "shift": a.shift,
                "starts_at": a.starts_at,
                "checked_in_at": a.checked_in_at,
            }
            for a in r.assignments.select_related("staff")
        ]
    return out


@router.get("/rosters", response={200: list[CheckpointRosterOut], **ERRORS}, summary="排班表")
@requires(Action.CHECKPOINT_VIEW)
def list_rosters(request):
    return [_roster_out(r) for r in services.rosters(actor_of(request))[:200]]


@router.post(
    "/rosters",
    response={201: CheckpointRosterDetailOut, **WRITE_ERRORS},
    summary="自动排班（CP-SAT）；排不出时说明原因",
)
@requires(Action.CHECKPOINT_MANAGE)
def solve_roster(request, payload: CheckpointRosterIn):
    made, why = services.solve_roster(
        actor=actor_of(request),
        township=payload.township,
        starts_on=payload.starts_on,
        days=payload.days,
    )
    if made is None:
        raise ValidationFailed([FieldError("roster", w) for w in why], detail="无法排班")
    return Status(201, _roster_out(made, detail=True))


@router.get(
    "/rosters/{roster_id}", response={200: CheckpointRosterDetailOut, **ERRORS}, summary="排班详情"
)
@requires(Action.CHECKPOINT_VIEW)
def get_roster(request, roster_id: PathId):
    return _roster_out(services.roster_of(actor_of(request), roster_id), detail=True)


@router.patch(
    "/rosters/{roster_id}",
    response={200: CheckpointRosterOut, **WRITE_ERRORS},
    summary="手工调整一个班次",
)
@requires(Action.CHECKPOINT_MANAGE)
def edit_roster(request, roster_id: PathId, payload: CheckpointRosterEditIn):
    obj, broken = services.edit_roster(
        actor=actor_of(request), roster_id=roster_id, **payload.dict()
    )
    return {**_roster_out(obj), "violations": broken}


@router.post(
    "/rosters/{roster_id}/publish",
    response={200: CheckpointRosterOut, **WRITE_ERRORS},
    summary="发布排班",
)
@requires(Action.CHECKPOINT_MANAGE)
def publish_roster(request, roster_id: PathId):
    return _roster_out(services.publish_roster(actor=actor_of(request), roster_id=roster_id))


@router.post(
    "/shifts/{assignment_id}/check-in",
    response={200: CheckpointShiftOut, **WRITE_ERRORS},
    summary="到岗签到",
)
@requires(Action.CHECKPOINT_LOG)
def check_in(request, assignment_id: PathId):
    a = services.check_in(actor=actor_of(request), assignment_id=assignment_id)
    return {
        "id": a.pk,
        "post_id": a.post_id,
        "staff_id": a.staff_id,
        "staff_name": a.staff.name,
        "day": a.day,
        "shift": a.shift,
        "starts_at": a.starts_at,
        "checked_in_at": a.checked_in_at,
    }


def _inspection_out(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "post_id": i.post_id,
        "at": i.at,
        "failed": i.failed,
        "note": i.note,
        "problem_ids": i.problem_ids,
    }


@router.get(
    "/inspections", response={200: list[CheckpointInspectionOut], **ERRORS}, summary="夜间督查"
)
@requires(Action.CHECKPOINT_VIEW)
def list_inspections(request):
    return [_inspection_out(i) for i in services.inspections(actor_of(request))[:500]]


@router.post(
    "/inspections", response={201: CheckpointInspectionOut, **WRITE_ERRORS}, summary="记录督查"
)
@requires(Action.CHECKPOINT_INSPECT)
def record_inspection(request, payload: CheckpointInspectionIn):
    data = payload.dict()
    obj = services.record_inspection(
        actor=actor_of(request),
        post_id=data.pop("post_id"),
        at=data.pop("at"),
        note=data.pop("note"),
        items=data,
    )
    return Status(201, _inspection_out(obj))
