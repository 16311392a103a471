"""The emergency JSON API, mounted under /api/v1/emergency.

Handlers translate HTTP to :mod:`.services`, which hold the rules: the role matrix (403),
jurisdiction (404 outside it), versions (409). Volunteers sign up without an account.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Router, Schema, Status
from pydantic import StringConstraints

from fangkong.core import jurisdiction, personal
from fangkong.core.actors import actor_of
from fangkong.core.errors import NotFound
from fangkong.core.permissions import public, requires
from fangkong.core.roles import Action
from fangkong.core.schemas import ERRORS, ErrorOut, NoNul, ObjectId, RegionCode, Version

from . import risk, services
from .models import Volunteer, ZoneMeasure

router = Router(tags=["emergency"])
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
Text = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=300)]
ShortText = Annotated[str, NoNul, StringConstraints(max_length=200)]


class EmergencyModeIn(Schema):
    region_code: RegionCode
    mode: Literal["peacetime", "wartime"]
    reason: Text


class EmergencyModeOut(Schema):
    switch_id: int
    region_code: str
    mode: str
    at: dt.datetime
    created: bool
    notified: int


class EmergencyReportingOut(Schema):
    switch_id: int
    mode: str
    total: int
    reported: int


class EmergencyZoneIn(Schema):
    name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]
    kind: Literal["sealed", "controlled", "prevention"]
    region_codes: list[RegionCode] = Field(default_factory=list, max_length=2000)
    household_ids: list[ObjectId] = Field(default_factory=list, max_length=5000)
    movement: Literal["", "none", "one", "free"] = ""
    test_every_days: int | None = Field(default=None, ge=1, le=14)
    legal_basis: Text
    approved_by: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]


class EmergencyZoneOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str
    status: str
    movement: str
    test_every_days: int
    legal_basis: str
    approved_by: str
    version: int
    declared_at: dt.datetime
    region_codes: list[str]
    household_ids: list[int]
    people_under_measures: int


class EmergencyLiftIn(Schema):
    version: Version
    legal_basis: Text
    approved_by: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]


class EmergencyTileOut(Schema):
    region_code: str
    name: str
    level: Literal["red", "orange", "yellow", "blue", "green"]
    cases: int
    contacts: int
    isolated: int
    zones: list[str]


class EmergencyVolunteerIn(Schema):
    name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
    phone: Annotated[str, NoNul, StringConstraints(min_length=3, max_length=20)]
    region_code: RegionCode
    skills: ShortText = ""
    availability: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""


class EmergencyVolunteerOut(Schema):
    id: int
    name: str
    phone: str
    region_code: str
    kind: str
    status: str
    post: str
    version: int


def _zone_out(actor: Any, zone: Any) -> dict[str, Any]:
    areas = list(zone.areas.values_list("region_code", "household_id"))
    return {
        "id": zone.pk,
        "name": zone.name,
        "kind": zone.kind,
        "region_code": zone.region_code,
        "status": zone.status,
        "movement": zone.movement,
        "test_every_days": zone.test_every_days,
        "legal_basis": zone.legal_basis,
        "approved_by": zone.approved_by,
        "version": zone.version,
        "declared_at": zone.declared_at,
        "region_codes": sorted(code for code, household in areas if household is None),
        "household_ids": sorted(household for _code, household in areas if household is not None),
        "people_under_measures": jurisdiction.scope(
            ZoneMeasure.objects.filter(zone=zone), actor
        ).count(),
    }


@router.post("/mode", response={200: EmergencyModeOut, **WRITE_ERRORS}, summary="平战转换")
@requires(Action.EMERGENCY_COMMAND)
def switch_mode(request: Any, payload: EmergencyModeIn) -> Any:
    result = services.switch_mode(
        actor=actor_of(request),
        region_code=payload.region_code,
        mode=payload.mode,
        reason=payload.reason,
    )
    switch = result.switch
    return {
        "switch_id": switch.pk,
        "region_code": switch.region_code,
        "mode": switch.mode,
        "at": switch.at,
        "created": result.created,
        "notified": result.notified,
    }


@router.get(
    "/mode/{switch_id}/reporting",
    response={200: EmergencyReportingOut, **ERRORS},
    summary="战时到岗情况",
)
@requires(Action.EMERGENCY_VIEW)
def reporting(request: Any, switch_id: int) -> Any:
    board = services.reporting_board(actor=actor_of(request), switch_id=switch_id)
    return {
        "switch_id": board.switch.pk,
        "mode": board.switch.mode,
        "total": board.total,
        "reported": board.reported,
    }


@router.get("/zones", response={200: list[EmergencyZoneOut], **ERRORS}, summary="封控区列表")
@requires(Action.EMERGENCY_VIEW)
def list_zones(request: Any, all: bool = False) -> Any:
    actor = actor_of(request)
    return [_zone_out(actor, z) for z in services.zones_for(actor, active_only=not all)[:200]]


@router.post("/zones", response={201: EmergencyZoneOut, **WRITE_ERRORS}, summary="划定封控区")
@requires(Action.EMERGENCY_COMMAND)
def declare_zone(request: Any, payload: EmergencyZoneIn) -> Any:
    actor = actor_of(request)
    zone = services.declare_zone(
        actor=actor,
        draft=services.ZoneDraft(
            name=payload.name,
            kind=payload.kind,
            region_codes=list(payload.region_codes),
            household_ids=list(payload.household_ids),
            movement=payload.movement,
            test_every_days=payload.test_every_days,
            legal_basis=payload.legal_basis,
            approved_by=payload.approved_by,
        ),
    )
    return Status(201, _zone_out(actor, zone))


@router.get("/zones/{zone_id}", response={200: EmergencyZoneOut, **ERRORS}, summary="封控区详情")
@requires(Action.EMERGENCY_VIEW)
def get_zone(request: Any, zone_id: int) -> Any:
    actor = actor_of(request)
    return _zone_out(actor, services.zone_for(actor, zone_id))


@router.post(
    "/zones/{zone_id}/lift", response={200: EmergencyZoneOut, **WRITE_ERRORS}, summary="解除封控区"
)
@requires(Action.EMERGENCY_COMMAND)
def lift_zone(request: Any, zone_id: int, payload: EmergencyLiftIn) -> Any:
    actor = actor_of(request)
    zone = services.lift_zone(
        actor=actor,
        zone_id=zone_id,
        version=payload.version,
        legal_basis=payload.legal_basis,
        approved_by=payload.approved_by,
    )
    return _zone_out(actor, zone)


@router.get("/risk-map", response={200: list[EmergencyTileOut], **ERRORS}, summary="五色风险图")
@requires(Action.EMERGENCY_VIEW)
def risk_map(request: Any, level: Literal["township", "village"] = "township") -> Any:
    actor = actor_of(request)
    codes = [c for c in jurisdiction.user_codes(actor) if c]
    if not codes:
        raise NotFound("region")
    area = min(codes, key=len)
    tiles = risk.tiles(area, 12 if level == "village" or len(area) >= 9 else 9)
    return [
        {
            "region_code": t.code,
            "name": t.name,
            "level": t.level,
            "cases": t.cases,
            "contacts": t.contacts,
            "isolated": t.isolated,
            "zones": t.zones,
        }
        for t in tiles
    ]


@router.get(
    "/volunteers", response={200: list[EmergencyVolunteerOut], **ERRORS}, summary="志愿者名单"
)
@requires(Action.EMERGENCY_VIEW)
def list_volunteers(request: Any) -> Any:
    actor = actor_of(request)
    rows = list(jurisdiction.scope(Volunteer.objects.all(), actor)[:500])
    shown = personal.present_people(
        actor,
        rows,
        channel="api",
        request=request,
        object_type="emergency.volunteer",
        fields=("phone",),
    )
    return [
        {
            "id": v.pk,
            "name": v.name,
            "phone": p["phone"],
            "region_code": v.region_code,
            "kind": v.kind,
            "status": v.status,
            "post": v.post,
            "version": v.version,
        }
        for v, p in zip(rows, shown, strict=True)
    ]


@router.post(
    "/volunteers/sign-up",
    auth=None,
    response={201: dict[str, str], 429: ErrorOut, **ERRORS},
    summary="志愿者网上报名（无需登录）",
)
@public("volunteers sign up online without an account, like the public tip-off form")
def sign_up(request: Any, payload: EmergencyVolunteerIn) -> Any:
    try:
        services.sign_up_volunteer(
            name=payload.name,
            phone=payload.phone,
            region_code=payload.region_code,
            skills=payload.skills,
            availability=payload.availability,
            client=services.client_key(request),
        )
    except services.RateLimited:
        return Status(429, {"detail": "该设备报名过于频繁，请一小时后再试。"})
    return Status(201, {"detail": "报名成功，村（社区）需要时会联系您。"})
