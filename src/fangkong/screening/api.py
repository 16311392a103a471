"""JSON API of screening and ledgers, mounted under ``/api/v1/screening``.

Handlers translate HTTP to :mod:`.services` and :mod:`.selectors`, which hold the rules:
the role matrix (403), jurisdiction (404 outside it, or filtered out of lists) and masking
of ID numbers and phones by role. Strings are bounded and NUL-free, dates strict.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja import Path as PathParam
from pydantic import StringConstraints

from fangkong.core import audit, replica
from fangkong.core.masking import present, present_birth_date, visible_fields
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.core.schemas import (
    ERRORS,
    MAX_BIGINT,
    ErrorOut,
    FieldErrorOut,
    NoNul,
    ObjectId,
    RegionCode,
    StrictDate,
    Version,
    not_sent,
)
from fangkong.people.models import Source

from . import ledgers, omissions, reconciliation, selectors, services, tasks, visits
from .models import ImportMode, LedgerKind, Measure, RiskLevel, RuleLevel, Urgency
from .services import RiskAreaInput, RuleInput

router = Router(tags=["screening"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
PathId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]
Place = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]
Notice = Annotated[str, NoNul, StringConstraints(max_length=200)]
Title = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]
Transport = Annotated[str, NoNul, StringConstraints(max_length=60)]
PlaceCode = Annotated[str, NoNul, StringConstraints(max_length=12, pattern=r"^\d*$")]
Days = Annotated[int, Field(strict=True, ge=0, le=90)]


def _channel(request: Any) -> str:
    return getattr(request, "fangkong_channel", "api")


class RiskAreaIn(Schema):
    region_code: PlaceCode = ""
    place: Place
    level: RiskLevel
    valid_from: StrictDate
    valid_to: StrictDate | None = None
    notice: Notice = ""


class RiskAreaPatch(Schema):
    version: Version
    region_code: PlaceCode = not_sent()
    place: Place = not_sent()
    level: RiskLevel = not_sent()
    valid_from: StrictDate = not_sent()
    valid_to: StrictDate | None = Field(None, description="null：长期有效")
    notice: Notice = not_sent()


class RiskAreaOut(Schema):
    id: int
    region_code: str
    place: str
    level: str
    valid_from: dt.date
    valid_to: dt.date | None
    notice: str
    version: int


class RiskAreaQuery(Schema):
    level: RiskLevel | None = None
    active_on: StrictDate | None = None


@router.get("/risk-areas", response={200: list[RiskAreaOut], **ERRORS}, summary="风险地区")
def list_risk_areas(request, filters: Query[RiskAreaQuery]):
    return list(
        selectors.risk_areas(request.auth, level=filters.level, active_on=filters.active_on)[:2000]
    )


@router.post("/risk-areas", response={201: RiskAreaOut, **WRITE_ERRORS}, summary="新增风险地区")
def create_risk_area(request, payload: RiskAreaIn):
    (area,) = services.create_risk_areas(
        user=request.auth, areas=[RiskAreaInput(**payload.dict())], channel=_channel(request)
    )
    return Status(201, area)


@router.post(
    "/risk-areas/import",
    response={201: list[RiskAreaOut], **WRITE_ERRORS},
    summary="从 .xlsx/.csv 导入风险地区",
)
def import_risk_areas(request, file: File[UploadedFile]):
    services.require(request.auth, services.Action.SCREENING_RULES)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        areas = services.import_risk_areas(
            user=request.auth, path=path, file_name=file.name or "", channel=_channel(request)
        )
    return Status(201, areas)


@router.patch(
    "/risk-areas/{area_id}",
    response={200: RiskAreaOut, **WRITE_ERRORS},
    summary="修改风险地区（如解除）",
)
def update_risk_area(request, area_id: PathId, payload: RiskAreaPatch):
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    return services.update_risk_area(
        user=request.auth,
        area_id=area_id,
        version=version,
        changes=changes,
        channel=_channel(request),
    )


class RuleIO(Schema):
    level: RuleLevel
    look_back_days: Annotated[int, Field(strict=True, ge=1, le=60)]
    measure: Measure
    days: Days = 0
    home_days: Days = 0
    test_days: Annotated[
        list[Annotated[int, Field(strict=True, ge=1, le=180)]], Field(max_length=30)
    ] = []


class PolicyIn(Schema):
    region_code: RegionCode
    title: Title
    notice: Notice = ""
    rules: Annotated[list[RuleIO], Field(min_length=1, max_length=4)]


class PolicyOut(Schema):
    id: int
    region_code: str
    version: int
    title: str
    notice: str
    created_at: dt.datetime
    rules: list[RuleIO]

    @staticmethod
    def resolve_rules(obj):
        return list(obj.rules.all())


class PolicyCreated(PolicyOut):
    task_id: int | None = None


@router.get("/policies", response={200: list[PolicyOut], **ERRORS}, summary="管控政策各版本")
def list_policies(request):
    return list(selectors.policies(request.auth).order_by("region_code", "-version")[:500])


@router.get("/policies/{policy_id}", response={200: PolicyOut, **ERRORS}, summary="政策详情")
def get_policy(request, policy_id: PathId):
    return selectors.policy(request.auth, policy_id)


@router.post(
    "/policies",
    response={201: PolicyCreated, **WRITE_ERRORS},
    summary="发布新版管控政策（后台重新研判）",
)
def publish_policy(request, payload: PolicyIn):
    policy, task = services.publish_policy(
        user=request.auth,
        region_code=payload.region_code,
        title=payload.title,
        notice=payload.notice,
        channel=_channel(request),
        rules=[RuleInput(**{**r.dict(), "test_days": tuple(r.test_days)}) for r in payload.rules],
    )
    policy.task_id = task.pk if task else None
    return Status(201, policy)


class ReevaluateIn(Schema):
    region_code: RegionCode


class ScreeningTaskOut(Schema):
    task_ids: list[int]


@router.post("/reevaluate", response={202: ScreeningTaskOut, **ERRORS}, summary="立即重新研判")
def reevaluate(request, payload: ReevaluateIn):
    records = services.request_reevaluation(user=request.auth, region_code=payload.region_code)
    return Status(202, {"task_ids": [r.pk for r in records]})


class StayIn(Schema):
    person_id: ObjectId
    place: Place
    place_code: PlaceCode = ""
    arrived: StrictDate
    left: StrictDate
    transport: Transport = ""


class StayOut(Schema):
    id: int
    person_id: int
    place: str
    place_code: str
    arrived: dt.date
    left: dt.date
    transport: str
    source: str


@router.post("/stays", response={201: StayOut, **WRITE_ERRORS}, summary="登记行程")
def create_stay(request, payload: StayIn):
    stay = services.record_stay(user=request.auth, channel=_channel(request), **payload.dict())
    return Status(201, stay)


@router.get(
    "/persons/{person_id}/stays", response={200: list[StayOut], **ERRORS}, summary="某人的行程"
)
def person_stays(request, person_id: PathId):
    return list(selectors.stays_of(request.auth, person_id)[:500])


class PersonBrief(Schema):
    id: int
    name: str
    region_code: str
    id_number: str
    phone: str


class DecisionOut(Schema):
    id: int
    person: PersonBrief
    policy_id: int
    policy_version: int
    level: str
    measure: str
    days: int
    home_days: int
    test_days: list[int]
    start_date: dt.date | None
    end_date: dt.date | None
    reason: str
    current: bool
    decided_at: dt.datetime


class DecisionPage(Schema):
    items: list[DecisionOut]
    count: int


class DecisionQuery(Schema):
    measure: Measure | None = None
    region_code: RegionCode | None = None
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 50


@router.get("/decisions", response={200: DecisionPage, **ERRORS}, summary="当前管控决定")
def list_decisions(request, filters: Query[DecisionQuery]):
    qs = selectors.decisions(request.auth, measure=filters.measure, region_code=filters.region_code)
    items = list(qs[filters.offset : filters.offset + filters.limit])
    return {
        "items": selectors.present_decisions(
            request.auth, items, channel=_channel(request), request=request
        ),
        "count": qs.count(),
    }


@router.get(
    "/persons/{person_id}/decisions",
    response={200: list[DecisionOut], **ERRORS},
    summary="某人的研判历史",
)
def person_decisions(request, person_id: PathId):
    items = list(selectors.history(request.auth, person_id)[:200])
    return selectors.present_decisions(
        request.auth, items, channel=_channel(request), request=request
    )


class ScreeningDueOut(Schema):
    decision: DecisionOut
    next_test: dt.date | None


class ScreeningDueQuery(Schema):
    on: StrictDate | None = None


@router.get(
    "/due", response={200: list[ScreeningDueOut], **ERRORS}, summary="待办：管控中人员与核酸日"
)
def due_list(request, filters: Query[ScreeningDueQuery]):
    rows = selectors.due(request.auth, on=filters.on or timezone.localdate())[:2000]
    presented = selectors.present_decisions(
        request.auth, [r["decision"] for r in rows], channel=_channel(request), request=request
    )
    return [
        {"decision": p, "next_test": r["next_test"]} for p, r in zip(presented, rows, strict=True)
    ]


# ---------------------------------------------------------------- ledgers (台账)

LedgerPath = Annotated[LedgerKind, PathParam()]


def _xlsx(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return response


@router.get(
    "/ledgers/{kind}/template", response={200: None, **ERRORS}, summary="下载台账模板（.xlsx）"
)
def ledger_template(request, kind: LedgerPath):
    services.require(request.auth, services.Action.LEDGER_IMPORT)
    return _xlsx(ledgers.template(kind, request.auth), f"{ledgers.TITLES[kind]}模板.xlsx")


class LedgerImportOut(Schema):
    id: int
    kind: str
    mode: str
    source: str
    file_name: str
    status: str
    rows_total: int
    rows_imported: int
    rows_existing: int
    rows_rejected: int
    message: str
    task_id: int | None
    progress: int
    errors: list[dict[str, Any]]

    @staticmethod
    def resolve_progress(obj):
        return obj.task.percent if obj.task else 0

    @staticmethod
    def resolve_errors(obj):
        return obj.errors[:100]


@router.post(
    "/ledgers/{kind}/imports",
    response={202: LedgerImportOut, **WRITE_ERRORS},
    summary="上传台账，后台校验并导入",
)
def ledger_upload(
    request,
    kind: LedgerPath,
    file: File[UploadedFile],
    mode: Form[ImportMode],
    source: Form[Source] = Source.VILLAGE,
):
    ledger = ledgers.upload(
        user=request.auth,
        kind=kind,
        mode=mode,
        source=source,
        file_name=(file.name or "upload")[:200],
        chunks=file.chunks(),
    )
    return Status(202, ledger)


@router.get(
    "/ledgers/imports/{import_id}",
    response={200: LedgerImportOut, **ERRORS},
    summary="导入进度与结果",
)
def ledger_import_status(request, import_id: PathId):
    return ledgers.get_import(request.auth, import_id)


@router.get(
    "/ledgers/imports/{import_id}/errors.xlsx",
    response={200: None, **ERRORS},
    summary="下载错误报告（.xlsx）",
)
def ledger_import_errors(request, import_id: PathId):
    ledger = ledgers.get_import(request.auth, import_id)
    return _xlsx(ledgers.error_report(ledger), f"错误报告-{ledger.file_name}.xlsx")


class ExportQuery(Schema):
    region_code: RegionCode | None = None
    urgency: Urgency | None = None
    since: StrictDate | None = None


@router.get(
    "/ledgers/{kind}/export.xlsx", response={200: None, **ERRORS}, summary="导出台账（按角色脱敏）"
)
def ledger_export(request, kind: LedgerPath, filters: Query[ExportQuery]):
    with replica.reading():
        content = ledgers.export(
            user=request.auth,
            kind=kind,
            region_code=filters.region_code,
            urgency=filters.urgency,
            since=filters.since,
            channel=_channel(request),
        )
    return _xlsx(content, f"{ledgers.TITLES[kind]}.xlsx")


class ElsewhereOut(Schema):
    person: PersonBrief
    kind: str
    current_city: str
    return_date: dt.date | None
    urgency: str
    last_contact: dt.date | None


class UrgentQuery(Schema):
    since: StrictDate


@router.get(
    "/elsewhere/urgent",
    response={200: list[ElsewhereOut], **ERRORS},
    summary="返乡迫切程度高、所在地新列为风险地区的在外人员",
)
def urgent_elsewhere(request, filters: Query[UrgentQuery]):
    items = ledgers.urgent_from_risk_areas(request.auth, since=filters.since)
    return [
        {
            "person": selectors.present_person(
                request.auth, e.person, channel=_channel(request), request=request
            ),
            "kind": e.kind,
            "current_city": e.current_city,
            "return_date": e.return_date,
            "urgency": e.urgency,
            "last_contact": e.last_contact,
        }
        for e in items
    ]


# ---------------------------------------------------------------- reconciliation (比对)

ListSource = Literal["police", "village", "self_report", "checkpoint", "tip_off"]
NameText = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
Short = Annotated[str, NoNul, StringConstraints(max_length=32)]
Address = Annotated[str, NoNul, StringConstraints(max_length=200)]


class RecordIn(Schema):
    name: NameText
    region_code: RegionCode
    reported_on: StrictDate
    id_number: Short = ""
    sex: Literal["", "M", "F"] = ""
    birth_date: StrictDate | None = None
    phone: Short = ""
    address: Address = ""


class RecordsIn(Schema):
    source: ListSource
    records: Annotated[list[RecordIn], Field(min_length=1, max_length=5000)]


class CountOut(Schema):
    created: int


@router.post(
    "/records",
    response={201: CountOut, **WRITE_ERRORS},
    summary="提交一批排查名单（公安、村报、自报、卡点、举报）",
)
def add_records(request, payload: RecordsIn):
    created = reconciliation.add_records(
        user=request.auth,
        source=payload.source,
        channel=_channel(request),
        records=[reconciliation.RecordInput(**r.dict()) for r in payload.records],
    )
    return Status(201, {"created": len(created)})


class ScreeningReconcileIn(Schema):
    region_code: RegionCode
    # How far an entry may link: its own village (default) or group; the county may widen
    # one run to the township or the county.
    scope: Literal["group", "village", "township", "county"] = "village"


@router.post("/reconcile", response={202: ScreeningTaskOut, **ERRORS}, summary="后台比对名单与人员")
def reconcile(request, payload: ScreeningReconcileIn):
    record = tasks.enqueue_reconcile(
        user=request.auth, region_code=payload.region_code, scope=payload.scope
    )
    return Status(202, {"task_ids": [record.pk]})


class RecordOut(Schema):
    id: int
    source: str
    name: str
    id_number: str
    phone: str
    birth_date: str | None = Field(None, description="出生日期；身份证号脱敏的角色只见年份")
    region_code: str


class CandidateOut(Schema):
    id: int
    score: float
    why: str
    status: str
    record: RecordOut
    person: PersonBrief


class CandidateQuery(Schema):
    status: Literal["pending", "confirmed", "rejected"] = "pending"


@router.get(
    "/candidates", response={200: list[CandidateOut], **ERRORS}, summary="待人工核实的比对结果"
)
def list_candidates(request, filters: Query[CandidateQuery]):
    pairs = list(reconciliation.candidates(request.auth, status=filters.status)[:500])
    visible = visible_fields(request.auth)
    if visible and pairs:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[p.person_id for p in pairs],
            fields=visible,
            channel=_channel(request),
            request=request,
        )
    out = []
    for p in pairs:
        r = p.record
        out.append(
            {
                "id": p.pk,
                "score": p.score,
                "why": p.why,
                "status": p.status,
                "record": {
                    "id": r.pk,
                    "source": r.source,
                    "name": r.name,
                    "id_number": present("id_number", r.id_number, visible),
                    "phone": present("phone", r.phone, visible),
                    "birth_date": present_birth_date(r.birth_date, visible),
                    "region_code": r.region_code,
                },
                "person": selectors.present_person(
                    request.auth, p.person, audited=False, channel=_channel(request)
                ),
            }
        )
    return out


class DecisionIn(Schema):
    accept: Annotated[bool, Field(strict=True)]


class DecidedOut(Schema):
    id: int
    status: str


@router.post(
    "/candidates/{pair_id}/decision",
    response={200: DecidedOut, **ERRORS},
    summary="确认或否定一对比对结果",
)
def decide_candidate(request, pair_id: PathId, payload: DecisionIn):
    return reconciliation.decide(
        user=request.auth, pair_id=pair_id, accept=payload.accept, channel=_channel(request)
    )


class GapOut(Schema):
    region_code: str
    persons: int
    only_police: int
    only_village: int
    both: int


class GapQuery(Schema):
    region_code: RegionCode | None = None


@router.get(
    "/gaps", response={200: list[GapOut], **ERRORS}, summary="各村：公安名单有而村未上报，及反之"
)
def list_gaps(request, filters: Query[GapQuery]):
    return reconciliation.gaps(request.auth, region_code=filters.region_code)


class GroupRecordOut(Schema):
    id: int
    source: str
    name: str
    reported_on: dt.date
    region_code: str
    id_number: str
    phone: str
    birth_date: str | None = Field(None, description="出生日期；身份证号脱敏的角色只见年份")


class GroupOut(Schema):
    id: int
    region_code: str
    name: str
    sources: list[str]
    records: list[GroupRecordOut]


class VillageGroups(Schema):
    region_code: str
    groups: list[GroupOut]


@router.get(
    "/unregistered",
    response={200: list[VillageGroups], **ERRORS},
    summary="各村未登记人员（多渠道合并）",
)
def list_unregistered(request, filters: Query[GapQuery]):
    groups = reconciliation.unregistered(request.auth, region_code=filters.region_code)
    villages = reconciliation.present_groups(
        request.auth, groups, channel=_channel(request), request=request
    )
    return [
        {
            "region_code": v["region_code"],
            "groups": [
                {
                    "id": i["group"].pk,
                    "region_code": i["group"].region_code,
                    "name": i["group"].name,
                    "sources": i["group"].sources,
                    "records": i["records"],
                }
                for i in v["groups"]
            ],
        }
        for v in villages
    ]


class RegisteredOut(Schema):
    person: PersonBrief


class UnregisteredRegisterQuery(Schema):
    # Register although the village may already have this person (the user checked). A
    # query parameter: the endpoint takes no body, as it always did.
    despite_similar: bool = False


class UnregisteredSimilarOut(Schema):
    person: PersonBrief
    score: float
    why: str


class UnregisteredSimilarConflictOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []
    similar: list[UnregisteredSimilarOut]


def _similar_out(request, found) -> list[dict[str, Any]]:
    visible = visible_fields(request.auth)
    if visible and found:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[person.pk for person, _lk in found],
            fields=visible,
            channel=_channel(request),
            request=request,
        )
    return [
        {
            "person": selectors.present_person(
                request.auth, person, audited=False, channel=_channel(request)
            ),
            "score": lk.score,
            "why": lk.why,
        }
        for person, lk in found
    ]


@router.post(
    "/unregistered/{group_id}/register",
    response={201: RegisteredOut, 409: UnregisteredSimilarConflictOut, **ERRORS},
    summary="将未登记人员登记入库并关联其全部名单记录",
    description=(
        "若本村已有此人可能对应的人员（如身份证号仅一位不同），返回 409 并列出这些人员："
        "请改用 /link 关联到该人员，或确认不是同一人后以 ?despite_similar=true 重新登记。"
    ),
)
def register_unregistered(request, group_id: PathId, filters: Query[UnregisteredRegisterQuery]):
    try:
        person = reconciliation.register_group(
            user=request.auth,
            group_id=group_id,
            channel=_channel(request),
            request=request,
            despite_similar=filters.despite_similar,
        )
    except reconciliation.SimilarPersons as exc:
        return Status(
            409,
            {
                "detail": exc.detail,
                "errors": [e.as_dict() for e in exc.errors],
                "similar": _similar_out(request, exc.persons),
            },
        )
    return Status(
        201,
        {
            "person": selectors.present_person(
                request.auth, person, audited=False, channel=_channel(request)
            )
        },
    )


@router.get(
    "/unregistered/{group_id}/similar",
    response={200: list[UnregisteredSimilarOut], **ERRORS},
    summary="未登记人员可能对应的本村已登记人员",
)
@requires(Action.SCREENING_VIEW)
def similar_to_unregistered(request, group_id: PathId):
    found = reconciliation.similar_persons(request.auth, group_id=group_id)
    return _similar_out(request, found)


class UnregisteredLinkIn(Schema):
    person_id: ObjectId


@router.post(
    "/unregistered/{group_id}/link",
    response={200: RegisteredOut, **ERRORS},
    summary="将未登记人员的全部名单记录关联到本村已登记的人员（不重复登记）",
)
@requires(Action.SCREENING_EDIT)
def link_unregistered(request, group_id: PathId, payload: UnregisteredLinkIn):
    person = reconciliation.link_group(
        user=request.auth,
        group_id=group_id,
        person_id=payload.person_id,
        channel=_channel(request),
        request=request,
    )
    return {
        "person": selectors.present_person(
            request.auth, person, audited=False, channel=_channel(request)
        )
    }


# ---------------------------------------------------------------- visit tasks (走访核查)


class VisitOut(Schema):
    id: int
    person: PersonBrief
    reason: str
    assignee_id: int | None
    due_at: dt.datetime
    status: str
    escalation: int
    present: bool | None
    healthy: bool | None


class VisitQuery(Schema):
    overdue: bool = False


@router.get("/visits", response={200: list[VisitOut], **ERRORS}, summary="走访核查任务")
def list_visits(request, filters: Query[VisitQuery]):
    items = list(visits.tasks_for(request.auth, overdue_only=filters.overdue)[:500])
    visible = visible_fields(request.auth)
    if visible and items:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[t.person_id for t in items],
            fields=visible,
            channel=_channel(request),
            request=request,
        )
    return [
        {
            "id": t.pk,
            "reason": t.reason,
            "assignee_id": t.assignee_id,
            "due_at": t.due_at,
            "status": t.status,
            "escalation": t.escalation,
            "present": t.present,
            "healthy": t.healthy,
            "person": selectors.present_person(
                request.auth, t.person, audited=False, channel=_channel(request)
            ),
        }
        for t in items
    ]


class VisitDoneIn(Schema):
    present: Annotated[bool, Field(strict=True)]
    healthy: Annotated[bool, Field(strict=True)]
    temperature: Annotated[Decimal, Field(max_digits=3, decimal_places=1)] | None = None
    phone: Short = ""
    note: Annotated[str, NoNul, StringConstraints(max_length=300)] = ""


@router.post(
    "/visits/{task_id}/done", response={200: VisitOut, **WRITE_ERRORS}, summary="登记走访结果"
)
def visit_done(request, task_id: PathId, payload: VisitDoneIn):
    task = visits.complete(
        user=request.auth, task_id=task_id, channel=_channel(request), **payload.dict()
    )
    return {
        "id": task.pk,
        "reason": task.reason,
        "assignee_id": task.assignee_id,
        "due_at": task.due_at,
        "status": task.status,
        "escalation": task.escalation,
        "present": task.present,
        "healthy": task.healthy,
        "person": selectors.present_person(
            request.auth, task.person, audited=False, channel=_channel(request)
        ),
    }


class EscalatedOut(Schema):
    id: int
    person: PersonBrief
    reason: str
    assignee_id: int | None
    assignee_name: str
    due_at: dt.datetime
    overdue_minutes: int
    escalation: int
    escalated_at: dt.datetime | None


class EscalatedQuery(Schema):
    level: Literal["village", "township"] | None = None


def _escalated_out(request, tasks: list) -> list[dict[str, Any]]:
    visible = visible_fields(request.auth)
    if visible and tasks:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[t.person_id for t in tasks],
            fields=visible,
            channel=_channel(request),
            request=request,
        )
    now = timezone.now()
    return [
        {
            "id": t.pk,
            "reason": t.reason,
            "assignee_id": t.assignee_id,
            "assignee_name": (t.assignee.display_name or t.assignee.username) if t.assignee else "",
            "due_at": t.due_at,
            "overdue_minutes": max(int((now - t.due_at).total_seconds() // 60), 0),
            "escalation": t.escalation,
            "escalated_at": t.escalated_at,
            "person": selectors.present_person(
                request.auth, t.person, audited=False, channel=_channel(request)
            ),
        }
        for t in tasks
    ]


@router.get(
    "/visits/escalated",
    response={200: list[EscalatedOut], **ERRORS},
    summary="超时上报的走访任务（村、乡镇；默认为本级及以上）",
)
def list_escalated_visits(request, filters: Query[EscalatedQuery]):
    level = visits.LEVEL_NAMES.get(filters.level or "")
    return _escalated_out(request, list(visits.escalated(request.auth, level=level)[:500]))


class ReassignIn(Schema):
    assignee_id: ObjectId


@router.post(
    "/visits/{task_id}/reassign",
    response={200: EscalatedOut, **WRITE_ERRORS},
    summary="改派超时走访任务给本片区其他网格员",
)
def reassign_visit(request, task_id: PathId, payload: ReassignIn):
    task = visits.reassign(
        user=request.auth,
        task_id=task_id,
        assignee_id=payload.assignee_id,
        channel=_channel(request),
    )
    return _escalated_out(request, [task])[0]


@router.post(
    "/visits/{task_id}/handle",
    response={200: VisitOut, **WRITE_ERRORS},
    summary="村、乡镇自行完成超时走访",
)
def handle_visit(request, task_id: PathId, payload: VisitDoneIn):
    task = visits.handle(
        user=request.auth, task_id=task_id, channel=_channel(request), **payload.dict()
    )
    return {
        "id": task.pk,
        "reason": task.reason,
        "assignee_id": task.assignee_id,
        "due_at": task.due_at,
        "status": task.status,
        "escalation": task.escalation,
        "present": task.present,
        "healthy": task.healthy,
        "person": selectors.present_person(
            request.auth, task.person, audited=False, channel=_channel(request)
        ),
    }


# ---------------------------------------------------------------- omissions (漏报)


class PenaltyRuleIn(Schema):
    region_code: RegionCode
    amount_before: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
    amount_after: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
    cutoff: StrictDate
    deadline_days: Annotated[int, Field(strict=True, ge=0, le=30)] = 1


class PenaltyRuleOut(Schema):
    region_code: str
    amount_before: int
    amount_after: int
    cutoff: dt.date
    deadline_days: int


@router.put(
    "/penalty-rule", response={200: PenaltyRuleOut, **ERRORS}, summary="设置漏报处罚标准（县）"
)
def set_penalty_rule(request, payload: PenaltyRuleIn):
    return omissions.set_rule(user=request.auth, channel=_channel(request), **payload.dict())


class FoundOut(Schema):
    created: int


@router.post("/omissions/find", response={200: FoundOut, **ERRORS}, summary="查找漏报")
def find_omissions(request, payload: ReevaluateIn):
    created = omissions.find(
        user=request.auth, region_code=payload.region_code, channel=_channel(request)
    )
    return {"created": created}


class OmissionOut(Schema):
    person: PersonBrief
    found_by: str
    found_on: dt.date
    reported_on: dt.date | None
    amount: int
    evidence: str


class VillageOmissions(Schema):
    region_code: str
    count: int
    total: int
    entries: list[OmissionOut]


@router.get("/omissions", response={200: list[VillageOmissions], **ERRORS}, summary="各村漏报台账")
def list_omissions(request, filters: Query[GapQuery]):
    villages = omissions.ledger(request.auth, region_code=filters.region_code)
    visible = visible_fields(request.auth)
    shown = [o.person_id for v in villages for o in v["entries"]]
    if visible and shown:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=shown,
            fields=visible,
            channel=_channel(request),
            request=request,
        )
    for village in villages:
        village["entries"] = [
            {
                "person": selectors.present_person(
                    request.auth, o.person, audited=False, channel=_channel(request)
                ),
                "found_by": o.found_by,
                "found_on": o.found_on,
                "reported_on": o.reported_on,
                "amount": o.amount,
                "evidence": o.evidence,
            }
            for o in village["entries"]
        ]
    return villages


# The grid worker's offline visits (issue 20): /api/v1/screening/field/...
from .field import router as field_router  # noqa: E402

router.add_router("/field", field_router)
