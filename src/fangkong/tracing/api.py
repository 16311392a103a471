"""API of contact tracing, mounted at /api/v1/tracing.

Handlers translate HTTP to selectors and services, which hold every rule: the role check
first (403 for any id), then jurisdiction (404 outside it, like an absent id).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja import Path as PathParam
from ninja.files import UploadedFile
from pydantic import StringConstraints

from fangkong.core import replica
from fangkong.core.errors import FieldError, PermissionDenied, ValidationFailed
from fangkong.core.roles import Action, can
from fangkong.core.schemas import (
    ERRORS,
    MAX_BIGINT,
    ErrorOut,
    NoNul,
    ObjectId,
    RegionCode,
    StrictDate,
    Version,
)

from . import exports, linelist, selectors, services
from .models import CaseStatus, Certainty, EventKind, ExposureType, FoundVia

router = Router(tags=["tracing"])

Text = Annotated[str, NoNul, StringConstraints(max_length=200)]
Name = Annotated[str, NoNul, StringConstraints(max_length=64)]
LongText = Annotated[str, NoNul, StringConstraints(max_length=5000)]
PathId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
MAX_UPLOAD = 20 * 1024 * 1024


def _require(request: Any, action: Action) -> None:
    if not can(request.auth, action):
        raise PermissionDenied(action)


def _channel(request: Any) -> str:
    return getattr(request, "fangkong_channel", "api")


# ---- schemas ---------------------------------------------------------------------------


class ReferralOut(Schema):
    campaign_name: str
    tube_barcode: str
    sampled_at: dt.datetime
    resulted_at: dt.datetime


class CaseOut(Schema):
    id: int
    external_id: str
    person_id: int | None
    name: str
    region_code: str
    status: str
    onset_date: dt.date | None
    report_date: dt.date | None
    confirmation_date: dt.date | None
    window_start: dt.date | None
    found_via: str
    hospital: str
    infected_by_id: int | None
    exposure_type: str
    investigator: str
    team: str
    version: int
    referrals: list[ReferralOut] = Field(
        [], description="核酸检测阳性移交来源：轮次、管码、采样与出结果时间"
    )


class CaseIn(Schema):
    status: CaseStatus
    person_id: ObjectId | None = Field(None, description="登记库中的人员；未登记时给姓名和区划")
    name: Name = ""
    region_code: RegionCode | None = None
    external_id: Annotated[str, NoNul, StringConstraints(max_length=40)] = ""
    onset_date: StrictDate | None = None
    report_date: StrictDate | None = None
    confirmation_date: StrictDate | None = None
    found_via: FoundVia = FoundVia.OTHER
    hospital: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""
    infected_by_id: ObjectId | None = None
    exposure_type: Annotated[str, NoNul, StringConstraints(max_length=40)] = ""
    investigator_id: ObjectId | None = None
    team_id: ObjectId | None = None
    investigation_summary: LongText = ""


class CaseStatusIn(Schema):
    status: CaseStatus
    version: Version
    confirmation_date: StrictDate | None = None


class TimelineIn(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    place: Text
    activity: Text = ""
    people: Annotated[str, NoNul, StringConstraints(max_length=300)] = ""


class TimelineOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    activity: str
    people: str


class AttendeeIn(Schema):
    person_id: ObjectId
    certainty: Certainty = Certainty.CONFIRMED


class EventIn(Schema):
    kind: EventKind
    title: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]
    place: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=200)]
    region_code: RegionCode
    starts_at: dt.datetime
    ends_at: dt.datetime
    organiser_id: ObjectId | None = None
    organiser_name: Name = ""
    reported: bool = False
    attendees: list[AttendeeIn] = Field([], max_length=2000)


class AttendeesIn(Schema):
    attendees: list[AttendeeIn] = Field(..., min_length=1, max_length=2000)


class EventOut(Schema):
    id: int
    kind: str
    title: str
    place: str
    region_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    organiser_name: str
    reported: bool


class ElsewhereIn(Schema):
    name: Name
    phone: Annotated[str, NoNul, StringConstraints(max_length=20)] = ""
    id_number: Annotated[str, NoNul, StringConstraints(max_length=18)] = ""
    region_code: RegionCode | None = None
    destination: Annotated[str, NoNul, StringConstraints(max_length=100)] = ""


class ContactIn(Schema):
    exposure_type: ExposureType
    contact_person_id: ObjectId | None = None
    from_person_id: ObjectId | None = Field(None, description="接触者接触的是谁（默认为病例本人）")
    elsewhere: ElsewhereIn | None = Field(None, description="居住在外地的接触者：发协查函")
    last_exposure_date: StrictDate | None = None
    event_id: ObjectId | None = None


class ContactOut(Schema):
    link_id: int | None
    notice_id: int | None


class ContactRow(Schema):
    person_id: int | None
    name: str
    phone: str
    region_code: str
    level: str
    via: str
    exposure_date: dt.date | None
    measure: str
    isolation_order_id: int | None
    task_id: int | None
    task_status: str
    assignee: str


class ContactsOut(Schema):
    items: list[ContactRow]


class UnreachedRow(Schema):
    region_code: str
    region_name: str
    close: int
    secondary: int
    oldest_age_hours: int


class TaskRow(Schema):
    id: int
    person_id: int
    name: str
    phone: str
    region_code: str
    level: str
    assignee: str
    created_at: dt.datetime


class UnreachedOut(Schema):
    regions: list[UnreachedRow]
    tasks: list[TaskRow]


class ReachIn(Schema):
    note: Text = ""


class NoticeOut(Schema):
    id: int
    direction: str
    status: str
    from_region_code: str
    to_region_code: str
    destination: str
    case_name: str
    case_id: int | None
    subject_name: str
    subject_phone: str
    subject_id_number: str
    subject_person_id: int | None
    exposure_type: str
    last_exposure_date: dt.date | None
    result: str
    sent_at: dt.datetime
    received_at: dt.datetime | None
    accepted_at: dt.datetime | None
    result_at: dt.datetime | None


class NoticesOut(Schema):
    items: list[NoticeOut]


class AcceptIn(Schema):
    person_id: ObjectId


class NoticeResultIn(Schema):
    result: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=300)]


class ChainQuery(Schema):
    region_code: RegionCode | None = None
    date_from: StrictDate | None = None
    date_to: StrictDate | None = None
    status: CaseStatus | None = None
    with_contacts: bool = True


class ChainOut(Schema):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    clusters: list[dict[str, Any]]


class AttackRateRow(Schema):
    event_id: int
    title: str
    kind: str
    starts_on: dt.date
    attendees: int
    exposed: int
    secondary_cases: int
    attack_rate: float | None


class TeamIn(Schema):
    name: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
    region_code: RegionCode
    is_reserve: bool = False
    on_call: bool = True
    skills: Text = ""
    member_ids: list[ObjectId] = Field([], max_length=200)


class TeamOut(Schema):
    id: int
    name: str
    region_code: str
    is_reserve: bool
    on_call: bool
    skills: str
    members: list[str]


class WorkloadRow(Schema):
    user_id: int
    name: str
    open_cases: int
    teams: list[str]


class AssignIn(Schema):
    investigator_id: ObjectId


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class ImportOut(Schema):
    created: int
    linked: int
    clusters: int
    largest_cluster: int
    errors: list[RowErrorOut]


class CaseQuery(Schema):
    status: CaseStatus | None = None
    region_code: RegionCode | None = None
    date_from: StrictDate | None = None
    date_to: StrictDate | None = None
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)
    offset: int = Field(0, ge=0, le=1_000_000)


def _filters(q: Any) -> selectors.CaseFilters:
    return selectors.CaseFilters(
        status=q.status or "",
        region_code=q.region_code or "",
        date_from=q.date_from,
        date_to=q.date_to,
    )


# ---- cases -----------------------------------------------------------------------------


@router.get("/cases", response={200: list[CaseOut], **ERRORS}, summary="病例列表")
def list_cases(request, q: Query[CaseQuery]):
    cases = selectors.list_cases(request.auth, _filters(q), limit=q.limit, offset=q.offset)
    return [selectors.present_case(request.auth, c) for c in cases]


@router.post("/cases", response={201: CaseOut, **WRITE_ERRORS}, summary="登记病例")
def create_case(request, payload: CaseIn):
    _require(request, Action.TRACING_INVESTIGATE)
    data = services.CaseInput(
        **{
            **payload.model_dump(exclude={"region_code"}),
            "region_code": payload.region_code or "",
        }
    )
    case = services.record_case(user=request.auth, data=data, channel=_channel(request))
    return Status(201, selectors.present_case(request.auth, case))


@router.get("/cases/{case_id}", response={200: CaseOut, **ERRORS}, summary="病例详情")
def get_case(request, case_id: PathId):
    return selectors.present_case(request.auth, selectors.get_case(request.auth, case_id))


@router.post(
    "/cases/{case_id}/status",
    response={200: CaseOut, **WRITE_ERRORS},
    summary="确诊、排除等：改变病例状态并重新判定密接/次密接",
)
def change_status(request, case_id: PathId, payload: CaseStatusIn):
    _require(request, Action.TRACING_INVESTIGATE)
    case = services.change_case_status(
        user=request.auth,
        case_id=case_id,
        version=payload.version,
        status=payload.status,
        confirmation_date=payload.confirmation_date,
        channel=_channel(request),
    )
    return selectors.present_case(request.auth, case)


@router.post(
    "/cases/{case_id}/timeline",
    response={201: TimelineOut, **ERRORS},
    summary="流调轨迹：添加一个地点",
)
def add_timeline(request, case_id: PathId, payload: TimelineIn):
    _require(request, Action.TRACING_INVESTIGATE)
    entry = services.add_timeline_entry(user=request.auth, case_id=case_id, **payload.dict())
    return Status(201, entry)


@router.get(
    "/cases/{case_id}/contacts",
    response={200: ContactsOut, **ERRORS},
    summary="病例的密接与次密接，以及负责追踪的人",
)
def case_contacts(request, case_id: PathId):
    case = selectors.get_case(request.auth, case_id)
    return {"items": selectors.contacts_of_case(request.auth, case)}


@router.post(
    "/cases/{case_id}/contacts",
    response={201: ContactOut, **ERRORS},
    summary="登记接触者（外地居住的自动发协查函）",
)
def add_contact(request, case_id: PathId, payload: ContactIn):
    _require(request, Action.TRACING_INVESTIGATE)
    elsewhere = None
    if payload.elsewhere is not None:
        elsewhere = services.ElsewhereContact(
            **{
                **payload.elsewhere.model_dump(),
                "region_code": payload.elsewhere.region_code or "",
            }
        )
    outcome = services.record_contact(
        user=request.auth,
        case_id=case_id,
        exposure_type=payload.exposure_type,
        contact_person_id=payload.contact_person_id,
        from_person_id=payload.from_person_id,
        elsewhere=elsewhere,
        last_exposure_date=payload.last_exposure_date,
        event_id=payload.event_id,
        channel=_channel(request),
    )
    return Status(
        201,
        {
            "link_id": outcome.link.pk if outcome.link else None,
            "notice_id": outcome.notice.pk if outcome.notice else None,
        },
    )


@router.post("/cases/{case_id}/assign", response={200: CaseOut, **ERRORS}, summary="指派流调人员")
def assign_case(request, case_id: PathId, payload: AssignIn):
    _require(request, Action.TRACING_MANAGE)
    case = services.assign_case(
        user=request.auth, case_id=case_id, investigator_id=payload.investigator_id
    )
    return selectors.present_case(request.auth, case)


# ---- events ----------------------------------------------------------------------------


@router.post(
    "/events",
    response={201: EventOut, **ERRORS},
    summary="登记暴露事件或报备的聚集性活动（婚丧宴请等）",
)
def create_event(request, payload: EventIn):
    _require(request, Action.TRACING_INVESTIGATE)
    data = services.EventInput(
        **payload.model_dump(exclude={"attendees"}),
        attendees=tuple((a.person_id, a.certainty) for a in payload.attendees),
    )
    return Status(
        201, services.record_event(user=request.auth, data=data, channel=_channel(request))
    )


@router.post(
    "/events/{event_id}/attendees", response={200: dict[str, int], **ERRORS}, summary="添加在场人员"
)
def add_attendees(request, event_id: PathId, payload: AttendeesIn):
    _require(request, Action.TRACING_INVESTIGATE)
    added = services.add_attendees(
        user=request.auth,
        event_id=event_id,
        attendees=tuple((a.person_id, a.certainty) for a in payload.attendees),
        channel=_channel(request),
    )
    return {"added": added}


@router.get(
    "/events/attack-rates",
    response={200: list[AttackRateRow], **ERRORS},
    summary="各暴露事件的续发率",
)
def attack_rates(request):
    return selectors.event_attack_rates(request.auth)


# ---- contacts to reach -----------------------------------------------------------------


@router.get(
    "/unreached",
    response={200: UnreachedOut, **ERRORS},
    summary="尚未联系到的密接/次密接（按村，最久的时长）",
)
def unreached(request):
    return {
        "regions": selectors.unreached(request.auth),
        "tasks": selectors.open_tasks(request.auth),
    }


@router.post(
    "/tasks/{task_id}/reached",
    response={200: dict[str, str], **ERRORS},
    summary="已联系到：关闭追踪任务",
)
def reached(request, task_id: PathId, payload: ReachIn):
    _require(request, Action.TRACING_REACH)
    task = services.mark_reached(user=request.auth, task_id=task_id, note=payload.note)
    return {"status": task.status}


@router.post(
    "/isolation-handover",
    response={200: dict[str, int], **ERRORS},
    summary="为辖区内尚无隔离令的密接、次密接下达应有的隔离（需隔离管理权限）",
)
def isolation_handover(request):
    _require(request, Action.TRACING_VIEW)
    made = services.order_required_isolation(user=request.auth, channel=_channel(request))
    return {"ordered": made}


# ---- notices ---------------------------------------------------------------------------


@router.get("/notices", response={200: NoticesOut, **ERRORS}, summary="协查函：收件箱或发件箱")
def list_notices(request, box: Annotated[str, Query(pattern="^(in|out)$")] = "in"):
    return {"items": selectors.notices(request.auth, box=box)}


@router.get("/notices/{notice_id}", response={200: NoticeOut, **ERRORS}, summary="协查函详情")
def get_notice(request, notice_id: PathId):
    return selectors.present_notice(request.auth, selectors.get_notice(request.auth, notice_id))


@router.post(
    "/notices/{notice_id}/receive", response={200: NoticeOut, **ERRORS}, summary="签收协查函"
)
def receive_notice(request, notice_id: PathId):
    _require(request, Action.TRACING_NOTICES)
    notice = services.mark_notice_received(user=request.auth, notice_id=notice_id)
    return selectors.present_notice(request.auth, notice)


@router.post(
    "/notices/{notice_id}/accept",
    response={200: NoticeOut, **ERRORS},
    summary="接收协查：指明本辖区登记的人员",
)
def accept_notice(request, notice_id: PathId, payload: AcceptIn):
    _require(request, Action.TRACING_NOTICES)
    notice = services.accept_notice(
        user=request.auth,
        notice_id=notice_id,
        person_id=payload.person_id,
        channel=_channel(request),
    )
    return selectors.present_notice(request.auth, notice)


@router.post(
    "/notices/{notice_id}/result", response={200: NoticeOut, **ERRORS}, summary="反馈协查结果"
)
def notice_result(request, notice_id: PathId, payload: NoticeResultIn):
    _require(request, Action.TRACING_NOTICES)
    notice = services.record_notice_result(
        user=request.auth, notice_id=notice_id, result=payload.result
    )
    return selectors.present_notice(request.auth, notice)


# ---- chains ----------------------------------------------------------------------------


@router.get(
    "/chains",
    response={200: ChainOut, **ERRORS},
    url_name="tracing_chains",
    summary="传播链：节点、连线、代数、聚集性疫情汇总",
)
def chains(request, q: Query[ChainQuery]):
    return selectors.chain_graph(request.auth, _filters(q), with_contacts=q.with_contacts)


@router.get("/chains.xlsx", response={200: None, **ERRORS}, summary="传播链导出为Excel表")
def chains_xlsx(request, q: Query[ChainQuery]):
    _require(request, Action.TRACING_EXPORT)
    with replica.reading():
        content = exports.chain_workbook(request.auth, _filters(q), channel=_channel(request))
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="chains.xlsx"'
    return response


# ---- teams, workload, import -----------------------------------------------------------


def _team(team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "region_code": team.region_code,
        "is_reserve": team.is_reserve,
        "on_call": team.on_call,
        "skills": team.skills,
        "members": [str(m) for m in team.members.all()],
    }


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, summary="流调队伍与预备库")
def list_teams(request):
    return [_team(t) for t in selectors.teams(request.auth)]


@router.post("/teams", response={201: TeamOut, **ERRORS}, summary="组建流调队伍")
def create_team(request, payload: TeamIn):
    _require(request, Action.TRACING_MANAGE)
    team = services.create_team(
        user=request.auth,
        **{
            **payload.model_dump(),
            "member_ids": tuple(payload.member_ids),
        },
    )
    return Status(201, _team(team))


@router.get(
    "/workload", response={200: list[WorkloadRow], **ERRORS}, summary="每名流调人员在办病例数"
)
def workload(request):
    return selectors.workload(request.auth)


@router.post(
    "/imports",
    response={200: ImportOut, **ERRORS},
    summary="导入病例一览表（.xlsx/.csv）：病例与传染关系",
)
def import_line_list(
    request,
    region_code: Form[RegionCode],
    file: File[UploadedFile],
):
    _require(request, Action.TRACING_MANAGE)
    name = (file.name or "").lower()
    if not name.endswith((".xlsx", ".csv")):
        raise ValidationFailed([FieldError("file", _("Upload an .xlsx or .csv file"))])
    if file.size and file.size > MAX_UPLOAD:
        raise ValidationFailed([FieldError("file", _("The file is larger than 20 MB"))])
    summary = linelist.import_line_list(
        user=request.auth,
        content=file.read(),
        filename=file.name or "upload.csv",
        region_code=region_code,
        channel=_channel(request),
    )
    return {
        "created": summary.created,
        "linked": summary.linked,
        "clusters": summary.clusters,
        "largest_cluster": summary.largest_cluster,
        "errors": [e.as_dict() for e in summary.errors],
    }
