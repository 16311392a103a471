"""The supervision JSON API, mounted under /api/v1/supervision: inspections and their
checklist, rectifications (report, verify), discipline cases."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Router, Schema, Status
from pydantic import StringConstraints

from fangkong.core.actors import actor_of
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.core.schemas import (
    ERRORS,
    ErrorOut,
    NoNul,
    ObjectId,
    QueryId,
    RegionCode,
    StrictDate,
    Version,
)

from . import services
from .models import Decision, Inspection, PlaceKind, Rectification

router = Router(tags=["supervision"])
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


class SupervisionItemOut(Schema):
    id: int
    position: int
    aspect: str
    text: str
    result: str
    note: str
    rectification_id: int | None


class SupervisionInspectionOut(Schema):
    id: int
    region_code: str
    place_kind: str
    place_name: str
    unannounced: bool
    planned_for: dt.date
    status: str
    items: list[SupervisionItemOut]
    version: int


class SupervisionInspectionIn(Schema):
    region_code: RegionCode
    place_kind: PlaceKind
    place_name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=80)]
    planned_for: StrictDate
    unannounced: bool = True
    team_id: ObjectId | None = None


class SupervisionItemIn(Schema):
    result: Annotated[str, StringConstraints(pattern="^(pass|fail)$")]
    note: Annotated[str, NoNul, StringConstraints(max_length=500)] = ""


class SupervisionFinishIn(Schema):
    note: Annotated[str, NoNul, StringConstraints(max_length=2000)] = ""
    version: Version


class SupervisionRectificationOut(Schema):
    id: int
    item_id: int
    inspection_id: int
    region_code: str
    aspect: str
    title: str
    deadline: dt.datetime
    status: str
    report: str
    closed_at: dt.datetime | None
    version: int


class SupervisionReportIn(Schema):
    report: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=2000)]
    version: Version


class SupervisionVerifyIn(Schema):
    accepted: bool
    note: Annotated[str, NoNul, StringConstraints(max_length=300)] = ""
    version: Version


class SupervisionCaseOut(Schema):
    id: int
    region_code: str
    person_name: str
    post: str
    offence: str
    evidence: str
    decision: str
    decided_at: dt.datetime | None
    version: int


class SupervisionCaseIn(Schema):
    region_code: RegionCode
    person_name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=32)]
    post: Annotated[str, NoNul, StringConstraints(max_length=64)] = ""
    offence_id: ObjectId
    evidence: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=2000)]


class SupervisionDecideIn(Schema):
    decision: Decision
    note: Annotated[str, NoNul, StringConstraints(max_length=500)] = ""
    version: Version


def _inspection(found: Inspection) -> dict:
    items = list(found.items.select_related("rectification").defer("photo"))
    return {
        "id": found.pk,
        "region_code": found.region_code,
        "place_kind": found.place_kind,
        "place_name": found.place_name,
        "unannounced": found.unannounced,
        "planned_for": found.planned_for,
        "status": found.status,
        "version": found.version,
        "items": [
            {
                "id": i.pk,
                "position": i.position,
                "aspect": i.aspect,
                "text": i.text,
                "result": i.result,
                "note": i.note,
                "rectification_id": getattr(getattr(i, "rectification", None), "pk", None),
            }
            for i in items
        ],
    }


def _rect(r: Rectification) -> dict:
    return {
        "id": r.pk,
        "item_id": r.item_id,
        "inspection_id": r.item.inspection_id,
        "region_code": r.region_code,
        "aspect": r.aspect,
        "title": r.title,
        "deadline": r.deadline,
        "status": r.status,
        "report": r.report,
        "closed_at": r.closed_at,
        "version": r.version,
    }


@router.get(
    "/inspections", response={200: list[SupervisionInspectionOut], **ERRORS}, summary="督查列表"
)
@requires(Action.SUPERVISION_VIEW)
def list_inspections(request, limit: Annotated[int, Field(ge=1, le=200)] = 50):
    qs = services.inspections_in_scope(actor_of(request)).order_by("-planned_for", "-pk")[:limit]
    return [_inspection(i) for i in qs]


@router.post("/inspections", response={201: SupervisionInspectionOut, **ERRORS}, summary="安排督查")
@requires(Action.SUPERVISION_INSPECT)
def plan_inspection(request, payload: SupervisionInspectionIn):
    found = services.plan_inspection(actor=actor_of(request), **payload.model_dump())
    return Status(201, _inspection(found))


@router.get(
    "/inspections/{inspection_id}",
    response={200: SupervisionInspectionOut, **ERRORS},
    summary="督查详情",
)
@requires(Action.SUPERVISION_VIEW)
def get_inspection(request, inspection_id: QueryId):
    return _inspection(services.get_inspection(actor_of(request), inspection_id))


@router.post(
    "/inspections/{inspection_id}/finish",
    response={200: SupervisionInspectionOut, **WRITE_ERRORS},
    summary="完成督查",
)
@requires(Action.SUPERVISION_INSPECT)
def finish_inspection(request, inspection_id: QueryId, payload: SupervisionFinishIn):
    found = services.finish_inspection(
        actor=actor_of(request), inspection_id=inspection_id, **payload.model_dump()
    )
    return _inspection(found)


@router.post(
    "/items/{item_id}", response={200: SupervisionItemOut, **ERRORS}, summary="记录检查项结果"
)
@requires(Action.SUPERVISION_INSPECT)
def record_item(request, item_id: QueryId, payload: SupervisionItemIn):
    i = services.record_item(actor=actor_of(request), item_id=item_id, **payload.model_dump())
    return {
        "id": i.pk,
        "position": i.position,
        "aspect": i.aspect,
        "text": i.text,
        "result": i.result,
        "note": i.note,
        "rectification_id": getattr(getattr(i, "rectification", None), "pk", None),
    }


@router.get(
    "/rectifications",
    response={200: list[SupervisionRectificationOut], **ERRORS},
    summary="整改列表",
)
@requires(Action.SUPERVISION_VIEW)
def list_rectifications(request):
    return [
        _rect(r)
        for r in services.rectifications_in_scope(actor_of(request)).order_by("deadline")[:500]
    ]


@router.post(
    "/rectifications/{rectification_id}/report",
    response={200: SupervisionRectificationOut, **WRITE_ERRORS},
    summary="报送整改情况",
)
@requires(Action.SUPERVISION_RECTIFY)
def report_rectification(request, rectification_id: QueryId, payload: SupervisionReportIn):
    r = services.report_rectification(
        actor=actor_of(request), rectification_id=rectification_id, **payload.model_dump()
    )
    return _rect(r)


@router.post(
    "/rectifications/{rectification_id}/verify",
    response={200: SupervisionRectificationOut, **WRITE_ERRORS},
    summary="核验整改（销号或退回）",
)
@requires(Action.SUPERVISION_INSPECT)
def verify_rectification(request, rectification_id: QueryId, payload: SupervisionVerifyIn):
    r = services.verify_rectification(
        actor=actor_of(request), rectification_id=rectification_id, **payload.model_dump()
    )
    return _rect(r)


def _case(c) -> dict:
    return {
        "id": c.pk,
        "region_code": c.region_code,
        "person_name": c.person_name,
        "post": c.post,
        "offence": c.offence.name,
        "evidence": c.evidence,
        "decision": c.decision,
        "decided_at": c.decided_at,
        "version": c.version,
    }


@router.get("/cases", response={200: list[SupervisionCaseOut], **ERRORS}, summary="纪律处理列表")
@requires(Action.SUPERVISION_VIEW)
def list_cases(request):
    return [_case(c) for c in services.cases_in_scope(actor_of(request))[:500]]


@router.post("/cases", response={201: SupervisionCaseOut, **ERRORS}, summary="纪律立案")
@requires(Action.SUPERVISION_DISCIPLINE)
def open_case(request, payload: SupervisionCaseIn):
    return Status(201, _case(services.open_case(actor=actor_of(request), **payload.model_dump())))


@router.post(
    "/cases/{case_id}/decide",
    response={200: SupervisionCaseOut, **WRITE_ERRORS},
    summary="纪律处理决定",
)
@requires(Action.SUPERVISION_DISCIPLINE)
def decide_case(request, case_id: QueryId, payload: SupervisionDecideIn):
    return _case(
        services.decide_case(actor=actor_of(request), case_id=case_id, **payload.model_dump())
    )
