"""JSON API of nucleic-acid testing, mounted under ``/api/v1/testing``.

Handlers translate between schemas and :mod:`.services` / :mod:`.selectors`, which hold the
rules: the role matrix (403), jurisdiction (404 outside it, or filtered out of lists) and
masking of ID numbers and phones by role, with unmasked reads audited. Strings are bounded
and NUL-free, times are ISO strings (a number is not a time), every error is declared.

The device endpoint is ``POST /campaigns/{id}/samples``: up to 20,000 scans a batch, each
with the device's own id, so a batch may be sent again safely and in any order.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja import Path as PathParam
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from fangkong.core import audit, replica
from fangkong.core.errors import FieldError, ValidationFailed
from fangkong.core.http import bulk_body, etag, expected_version
from fangkong.core.masking import present, visible_fields
from fangkong.core.schemas import (
    ERRORS,
    MAX_BIGINT,
    ErrorOut,
    NoNul,
    ObjectId,
    RegionCode,
    StrictDate,
    Version,
    not_sent,
)

from . import labfiles, selectors, services
from .ingest import MAX_BATCH, ScanRow
from .models import CampaignStatus, ExemptionReason, TestResult

router = Router(tags=["testing"])

WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
STAFF_ERRORS = {**WRITE_ERRORS, 428: ErrorOut}
PathId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("write the time as an ISO 8601 string")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _upper(value: str) -> str:
    return value.strip().upper()


When = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_aware)]
ClockTime = Annotated[dt.time, BeforeValidator(_iso_text)]
Name = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=100)]
Note = Annotated[str, NoNul, StringConstraints(max_length=300)]
Barcode = Annotated[
    str,
    NoNul,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$"),
    AfterValidator(_upper),
]
DeviceId = Annotated[
    str, NoNul, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~]+$")
]
IdNumberText = Annotated[
    str,
    NoNul,
    StringConstraints(min_length=15, max_length=18, pattern=r"^[0-9Xx]+$"),
    AfterValidator(_upper),
]
CodeText = Annotated[
    str,
    NoNul,
    StringConstraints(min_length=10, max_length=10, pattern=r"^[A-Za-z0-9]+$"),
    AfterValidator(_upper),
]
Capacity = Literal[1, 10, 20]
Region = Annotated[str, NoNul, StringConstraints(max_length=15, pattern=r"^\d*$")]


# -- schemas ---------------------------------------------------------------------------------


class CampaignIn(Schema):
    name: Name
    region_codes: list[RegionCode] = Field(..., min_length=1, max_length=200)
    categories: list[Literal["resident", "returnee", "floating", "elsewhere"]] = Field(
        [], max_length=4
    )
    starts_at: When
    ends_at: When
    pool_size: Capacity = 10
    note: Note = ""


class CampaignOut(Schema):
    id: int
    name: str
    region_code: str
    region_codes: list[str]
    categories: list[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    pool_size: int
    status: str
    note: str


class CampaignStatusIn(Schema):
    status: Literal["planned", "running", "closed"]


# Large lists answer with plain pydantic models: a ninja Schema runs an ORM-getter hook per
# object, which costs more than the query for a county's 6,000 grids or 10,000 recalls.
class CoverageRowOut(BaseModel):
    key: str
    name: str
    should_test: int
    tested: int
    results_back: int
    untested: int
    exempt: int
    target: int


class CoverageOut(BaseModel):
    campaign_id: int
    region_code: str
    level: Literal["region", "household"]
    total: CoverageRowOut
    rows: list[CoverageRowOut]


class PersonRowOut(BaseModel):
    person_id: int
    name: str
    id_number: str = Field(..., description="完整或脱敏，按角色")
    phone: str = Field(..., description="完整或脱敏，按角色")
    region_code: str
    household: str


class PersonPage(Schema):
    items: list[PersonRowOut]
    count: int


class ExemptionIn(Schema):
    person_id: ObjectId
    reason: Literal["bedridden", "infant", "away", "hospital", "other"]
    note: Annotated[str, NoNul, StringConstraints(max_length=200)] = ""


class ExemptionOut(PersonRowOut):
    reason: str
    note: str


class TubeIn(Schema):
    barcode: Barcode
    capacity: Capacity
    point_id: ObjectId | None = None
    opened_at: When | None = None


class TubeBatchIn(Schema):
    tubes: list[TubeIn] = Field(..., min_length=1, max_length=5000)


class TubeReportOut(Schema):
    opened: int
    updated: int
    rejected: list[dict[str, Any]]


class ScanIn(BaseModel):
    """One scan. A plain pydantic model, not a ninja ``Schema``: a batch holds thousands and
    the Schema's per-object ORM getter hook would double the cost of validating them."""

    device_sample_id: DeviceId
    id_number: IdNumberText | None = None
    registration_code: CodeText | None = None
    tube: Barcode
    capacity: Capacity | None = None
    sampled_at: When
    point_id: ObjectId | None = None
    retest: bool = False

    @model_validator(mode="after")
    def _one_person_key(self) -> ScanIn:
        if (self.id_number is None) == (self.registration_code is None):
            raise ValueError("give exactly one of id_number and registration_code")
        return self


Scans = Annotated[list[ScanIn], Field(min_length=1, max_length=MAX_BATCH)]
_SCANS = TypeAdapter(Scans)
_DEVICE_ID = re.compile(r"[!-~]{1,64}")
_ID_NUMBER = re.compile(r"[0-9Xx]{15,18}")
_REG_CODE = re.compile(r"[A-Za-z0-9]{10}")
_BARCODE = re.compile(r"[A-Za-z0-9-]{1,32}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?")
_CAPACITIES = frozenset((1, 10, 20))


def _scan_rows_quickly(value: Any) -> list[ScanRow] | None:
    """The scans of a well-formed batch as :class:`ScanRow`, or None to let :data:`Scans`
    judge it.

    Plain Python for the shape devices send: strings that match the patterns of
    :class:`ScanIn` exactly, times written ``YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]``, JSON
    integers and booleans of the right type. It accepts only what :class:`ScanIn` accepts,
    with the same values (``test_api_fast_paths`` compares them on generated rows), and
    gives up on anything else, so every error message still comes from the pydantic model.
    """
    if type(value) is not list or not 1 <= len(value) <= MAX_BATCH:
        return None
    get_tz = timezone.get_current_timezone
    rows = []
    try:
        for item in value:
            device_id, tube, at = item["device_sample_id"], item["tube"], item["sampled_at"]
            id_number = item.get("id_number")
            code = item.get("registration_code")
            capacity = item.get("capacity")
            point_id = item.get("point_id")
            retest = item.get("retest", False)
            if not (
                type(device_id) is str
                and _DEVICE_ID.fullmatch(device_id)
                and type(tube) is str
                and _BARCODE.fullmatch(tube)
                and type(at) is str
                and _ISO_TIME.fullmatch(at)
                and (capacity is None or (type(capacity) is int and capacity in _CAPACITIES))
                and (point_id is None or (type(point_id) is int and 1 <= point_id <= MAX_BIGINT))
                and type(retest) is bool
            ):
                return None
            if id_number is None:
                if type(code) is not str or not _REG_CODE.fullmatch(code):
                    return None
                code = code.upper()
            elif code is None and type(id_number) is str and _ID_NUMBER.fullmatch(id_number):
                id_number = id_number.upper()
            else:
                return None
            sampled_at = dt.datetime.fromisoformat(at)
            if sampled_at.tzinfo is None:
                sampled_at = sampled_at.replace(tzinfo=get_tz())
            rows.append(
                ScanRow(
                    device_sample_id=device_id,
                    tube=tube.upper(),
                    sampled_at=sampled_at,
                    id_number=id_number,
                    registration_code=code,
                    capacity=capacity,
                    point_id=point_id,
                    retest=retest,
                )
            )
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    return rows


def _scan_rows(value: Any) -> list[ScanRow]:
    rows = _scan_rows_quickly(value)
    if rows is None:
        rows = [
            ScanRow(
                device_sample_id=s.device_sample_id,
                tube=s.tube,
                sampled_at=s.sampled_at,
                id_number=s.id_number,
                registration_code=s.registration_code,
                capacity=s.capacity,
                point_id=s.point_id,
                retest=s.retest,
            )
            for s in _SCANS.validate_python(value)
        ]
    return rows


# Validated by _scan_rows into ScanRows, documented (OpenAPI) as the list of ScanIn it
# accepts: pydantic's model-by-model validation took ~100 ms for a batch of 5,000 scans,
# a third of what the database needs to record them, on the server thread's GIL.
class ScanBatchIn(BaseModel):
    samples: Annotated[list[ScanRow], PlainValidator(_scan_rows, json_schema_input_type=Scans)]


class RejectedScanOut(Schema):
    index: int
    device_sample_id: str
    code: str
    message: str


class IngestOut(Schema):
    accepted: int
    replayed: int
    rejected: list[RejectedScanOut]


class OneScanIn(Schema):
    person: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=32)]
    tube: Barcode
    capacity: Capacity
    point_id: ObjectId | None = None
    retest: bool = False


class OneScanOut(Schema):
    sample_id: int
    person_name: str
    tube: str
    tube_count: int
    tube_capacity: int
    tube_full: bool


class TubeResultIn(Schema):
    barcode: Barcode
    result: Literal["negative", "positive", "invalid"]


class TubeResultBatchIn(Schema):
    source: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=200)]
    results: list[TubeResultIn] = Field(..., min_length=1, max_length=100_000)


class ResultReportOut(Schema):
    applied: int
    unchanged: int
    conflicts: list[dict[str, Any]]
    unknown: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    recalls: int
    recalled_persons: int
    suspected_cases: int


class UnmatchedOut(Schema):
    barcode: str
    result: str
    source: str
    row: int | None
    reported_at: dt.datetime


class RecallPersonOut(PersonRowOut):
    tube: str
    reason: str
    retested: bool


class RecallGridOut(BaseModel):
    grid: str
    grid_name: str
    persons: list[RecallPersonOut]


class PointIn(Schema):
    name: Name
    location: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=200)]
    region_code: RegionCode
    opens_at: ClockTime
    closes_at: ClockTime
    lanes: int = Field(1, ge=1, le=100)
    throughput_per_lane_hour: int = Field(60, ge=1, le=1000)
    staff_ids: list[ObjectId] = Field([], max_length=100)


class PointPatch(Schema):
    lanes: int = not_sent(ge=1, le=100)
    opens_at: ClockTime = not_sent()
    closes_at: ClockTime = not_sent()
    throughput_per_lane_hour: int = not_sent(ge=1, le=1000)


class PointOut(Schema):
    id: int
    name: str
    location: str
    region_code: str
    opens_at: dt.time
    closes_at: dt.time
    lanes: int
    throughput_per_lane_hour: int
    active: bool
    version: int


class StaffIn(Schema):
    staff_ids: list[ObjectId] = Field(..., max_length=100, description="完整名单，替换原有人员")
    version: Version | None = Field(None, description="读取时的版本；也可用 If-Match 头")


class StaffMemberOut(Schema):
    id: int
    username: str
    name: str


class PointStaffOut(Schema):
    point_id: int
    version: int
    staff: list[StaffMemberOut]


class SlotOut(Schema):
    start: dt.datetime
    hours: float
    arrivals: float
    served: float
    queue: float
    wait_minutes: float


class PlanOut(Schema):
    point_id: int
    campaign_id: int
    should_test: int
    tested: int
    sharing_points: int
    population: int
    lanes: int
    throughput_per_lane_hour: int
    measured_throughput: int | None
    hours_available: float
    capacity: int
    hours_needed: float
    lanes_needed: int | None
    finishes_in_window: bool
    left_at_end: int
    peak_queue: int
    peak_wait_minutes: int
    slots: list[SlotOut]


class RecallTaskOut(Schema):
    id: int
    campaign_id: int
    campaign: str
    region_code: str
    assignee_id: int | None
    persons: int
    status: str
    created_at: dt.datetime


class SuspectedCaseOut(Schema):
    id: int
    campaign_id: int
    person_id: int
    name: str
    id_number: str
    phone: str
    region_code: str
    tube: str
    status: str
    created_at: dt.datetime
    handed_over_ref: str = Field(..., description="接手的流调记录，如 tracing.case:12；未移交为空")
    handed_over_at: dt.datetime | None


class ScheduleIn(Schema):
    person_id: ObjectId
    due_dates: list[StrictDate] = Field(..., min_length=1, max_length=30)
    origin: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=200)]


class ScheduleOut(Schema):
    id: int
    person_id: int
    origin: str
    due_dates: list[dt.date]


class DueTestOut(Schema):
    person_id: int
    name: str
    phone: str
    region_code: str
    origin: str
    due_on: dt.date
    sampled: bool


class TestingRegionQuery(Schema):
    region: Region = ""


class CoverageQuery(TestingRegionQuery):
    by: Literal["", "grid"] = ""


class UntestedQuery(TestingRegionQuery):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


class PlanQuery(Schema):
    campaign: int = Field(..., ge=1, le=MAX_BIGINT)
    profile: Literal["uniform", "peaks"] = "uniform"


class DueTestQuery(Schema):
    day: StrictDate


# -- helpers ---------------------------------------------------------------------------------


def _campaign_out(c) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "region_code": c.region_code,
        "region_codes": c.region_codes,
        "categories": c.categories,
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "pool_size": c.pool_size,
        "status": c.status,
        "note": c.note,
    }


def _people_rows(request: HttpRequest, persons: list, extra=None) -> list[dict[str, Any]]:
    """Persons as the user may see them; unmasked values shown are audited."""
    visible = visible_fields(request.auth)
    rows = []
    for p, more in persons if extra else ((p, {}) for p in persons):
        rows.append(
            {
                "person_id": p.pk,
                "name": p.name,
                "id_number": present("id_number", p.id_number, visible),
                "phone": present("phone", p.phone, visible),
                "region_code": p.region_code,
                "household": p.household.address if p.household_id else "",
                **more,
            }
        )
    if visible and rows:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[r["person_id"] for r in rows],
            fields=visible,
            channel="api",
            request=request,
        )
    return rows


# -- rounds and coverage ---------------------------------------------------------------------


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS}, summary="检测轮次列表")
def list_campaigns(request: HttpRequest):
    return [_campaign_out(c) for c in selectors.campaigns(request.auth)[:200]]


@router.post("/campaigns", response={201: CampaignOut, **WRITE_ERRORS}, summary="新建检测轮次")
def create_campaign(request: HttpRequest, payload: CampaignIn):
    campaign = services.create_campaign(user=request.auth, **payload.dict())
    return Status(201, _campaign_out(campaign))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="检测轮次")
def get_campaign(request: HttpRequest, campaign_id: PathId):
    return _campaign_out(selectors.get_campaign(request.auth, campaign_id))


@router.post(
    "/campaigns/{campaign_id}/status", response={200: CampaignOut, **ERRORS}, summary="开始或结束"
)
def set_status(request: HttpRequest, campaign_id: PathId, payload: CampaignStatusIn):
    campaign = services.set_campaign_status(
        user=request.auth, campaign_id=campaign_id, status=CampaignStatus(payload.status)
    )
    return _campaign_out(campaign)


@router.get(
    "/campaigns/{campaign_id}/coverage", response={200: CoverageOut, **ERRORS}, summary="覆盖率"
)
def coverage(request: HttpRequest, campaign_id: PathId, filters: Query[CoverageQuery]):
    with replica.reading():
        campaign = selectors.get_campaign(request.auth, campaign_id)
        cov = selectors.coverage(
            request.auth, campaign, filters.region, by_grid=filters.by == "grid"
        )
    body = {
        "campaign_id": campaign.pk,
        "region_code": cov.region_code,
        "level": cov.level,
        "total": cov.total.as_dict(),
        "rows": [r.as_dict() for r in cov.rows],
    }
    # Rendered here, not by ninja: the county's 6,400 grids are built from typed rows, and
    # validating them again against CoverageOut and encoding with the json module took
    # longer than computing them (test_api_fast_paths checks the answer is a CoverageOut).
    return HttpResponse(orjson.dumps(body), content_type="application/json; charset=utf-8")


@router.get(
    "/campaigns/{campaign_id}/untested", response={200: PersonPage, **ERRORS}, summary="未检人员"
)
def untested(request: HttpRequest, campaign_id: PathId, filters: Query[UntestedQuery]):
    campaign = selectors.get_campaign(request.auth, campaign_id)
    people = selectors.untested(request.auth, campaign, filters.region)
    page = list(people[filters.offset : filters.offset + filters.limit])
    return {"items": _people_rows(request, page), "count": people.count()}


@router.get(
    "/campaigns/{campaign_id}/exemptions",
    response={200: list[ExemptionOut], **ERRORS},
    summary="免检人员",
)
def list_exemptions(request: HttpRequest, campaign_id: PathId):
    campaign = selectors.get_campaign(request.auth, campaign_id)
    items = list(
        selectors.exemptions(request.auth, campaign).select_related("person__household")[:5000]
    )
    return _people_rows(
        request, [(e.person, {"reason": e.reason, "note": e.note}) for e in items], extra=True
    )


@router.post(
    "/campaigns/{campaign_id}/exemptions",
    response={201: ExemptionOut, **WRITE_ERRORS},
    summary="登记免检",
)
def add_exemption(request: HttpRequest, campaign_id: PathId, payload: ExemptionIn):
    exemption = services.exempt_person(
        user=request.auth,
        campaign_id=campaign_id,
        person_id=payload.person_id,
        reason=ExemptionReason(payload.reason),
        note=payload.note,
    )
    rows = _people_rows(
        request,
        [(exemption.person, {"reason": exemption.reason, "note": exemption.note})],
        extra=True,
    )
    return Status(201, rows[0])


# -- sampling --------------------------------------------------------------------------------


@router.post(
    "/campaigns/{campaign_id}/tubes",
    response={200: TubeReportOut, **WRITE_ERRORS},
    summary="开管（批量）",
)
def open_tubes(request: HttpRequest, campaign_id: PathId, payload: TubeBatchIn):
    report = services.open_tubes(
        user=request.auth, campaign_id=campaign_id, tubes=[t.dict() for t in payload.tubes]
    )
    return {"opened": report.opened, "updated": report.updated, "rejected": report.rejected}


@router.post(
    "/campaigns/{campaign_id}/samples",
    openapi_extra=bulk_body(),
    response={200: IngestOut, **WRITE_ERRORS},
    summary="采样数据批量上传（采样终端）",
    description="每条带终端自己的 device_sample_id；同一批重发不会重复登记，可先于开管到达。",
)
def ingest(request: HttpRequest, campaign_id: PathId, payload: ScanBatchIn):
    report = services.ingest_samples(
        user=request.auth, campaign_id=campaign_id, rows=payload.samples
    )
    return report.as_dict()


@router.post(
    "/campaigns/{campaign_id}/scan",
    response={201: OneScanOut, **WRITE_ERRORS},
    summary="单次扫码采样",
)
def scan(request: HttpRequest, campaign_id: PathId, payload: OneScanIn):
    outcome = services.record_scan(user=request.auth, campaign_id=campaign_id, **payload.dict())
    tube = outcome.tube
    return Status(
        201,
        {
            "sample_id": outcome.sample.pk,
            "person_name": outcome.sample.person.name,
            "tube": tube.barcode,
            "tube_count": tube.sample_count,
            "tube_capacity": tube.capacity,
            "tube_full": tube.sample_count >= tube.capacity,
        },
    )


# -- results and recalls ---------------------------------------------------------------------


@router.post(
    "/campaigns/{campaign_id}/results",
    openapi_extra=bulk_body(),
    response={200: ResultReportOut, **WRITE_ERRORS},
    summary="录入检测结果（实验室接口）",
)
def post_results(request: HttpRequest, campaign_id: PathId, payload: TubeResultBatchIn):
    report = services.record_results(
        user=request.auth,
        campaign_id=campaign_id,
        source=payload.source,
        results=[(r.barcode, TestResult(r.result), i + 1) for i, r in enumerate(payload.results)],
    )
    return report.as_dict()


@router.post(
    "/campaigns/{campaign_id}/results/file",
    response={200: ResultReportOut, **WRITE_ERRORS},
    summary="导入实验室结果文件（.xlsx/.csv）",
)
def upload_results(request: HttpRequest, campaign_id: PathId, file: File[UploadedFile]):
    services.require(request.auth, services.Action.TESTING_RESULT)
    selectors.get_campaign(request.auth, campaign_id)
    if file.size > 50 * 1024 * 1024:
        raise ValidationFailed([FieldError("file", "文件超过 50 MB")])
    name = (file.name or "results.csv")[:200]
    try:
        parsed = labfiles.parse(name, file.read())
    except labfiles.LabFileError as exc:
        raise ValidationFailed([FieldError("file", str(exc))]) from None
    report = services.record_results(
        user=request.auth,
        campaign_id=campaign_id,
        results=parsed.results,
        source=name,
        errors=parsed.errors,
    )
    return report.as_dict()


@router.get(
    "/campaigns/{campaign_id}/unmatched-results",
    response={200: list[UnmatchedOut], **ERRORS},
    summary="未匹配的检测结果",
)
def unmatched(request: HttpRequest, campaign_id: PathId):
    campaign = selectors.get_campaign(request.auth, campaign_id)
    return list(selectors.unmatched_results(request.auth, campaign)[:5000])


@router.get(
    "/campaigns/{campaign_id}/recalls",
    response={200: list[RecallGridOut], **ERRORS},
    summary="召回名单（按网格）",
)
def recalls(request: HttpRequest, campaign_id: PathId, filters: Query[TestingRegionQuery]):
    campaign = selectors.get_campaign(request.auth, campaign_id)
    entries = list(selectors.recall_entries(request.auth, campaign, filters.region)[:20_000])
    rows = _people_rows(
        request,
        [
            (
                e.person,
                {
                    "tube": e.recall.tube.barcode,
                    "reason": e.recall.reason,
                    "retested": e.retest_id is not None,
                },
            )
            for e in entries
        ],
        extra=True,
    )
    from fangkong.core.models import Region as RegionModel

    names = dict(
        RegionModel.objects.filter(code__in={r["region_code"] for r in rows}).values_list(
            "code", "name"
        )
    )
    grids: dict[str, list] = {}
    for row in rows:
        grids.setdefault(row["region_code"], []).append(row)
    return [
        {"grid": code, "grid_name": names.get(code, code), "persons": persons}
        for code, persons in grids.items()
    ]


@router.get("/recall-tasks", response={200: list[RecallTaskOut], **ERRORS}, summary="召回任务")
def list_tasks(request: HttpRequest):
    return [
        {
            "id": t.pk,
            "campaign_id": t.campaign_id,
            "campaign": t.campaign.name,
            "region_code": t.region_code,
            "assignee_id": t.assignee_id,
            "persons": t.persons,
            "status": t.status,
            "created_at": t.created_at,
        }
        for t in selectors.recall_tasks(request.auth)[:1000]
    ]


@router.post(
    "/recall-tasks/{task_id}/done", response={200: RecallTaskOut, **ERRORS}, summary="完成召回"
)
def task_done(request: HttpRequest, task_id: PathId):
    t = services.complete_recall_task(user=request.auth, task_id=task_id)
    return {
        "id": t.pk,
        "campaign_id": t.campaign_id,
        "campaign": t.campaign.name,
        "region_code": t.region_code,
        "assignee_id": t.assignee_id,
        "persons": t.persons,
        "status": t.status,
        "created_at": t.created_at,
    }


@router.get(
    "/suspected-cases",
    response={200: list[SuspectedCaseOut], **ERRORS},
    summary="疑似病例（阳性单管）",
)
def suspected(request: HttpRequest):
    cases = list(selectors.suspected_cases(request.auth)[:1000])
    visible = visible_fields(request.auth)
    if visible and cases:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[c.person_id for c in cases],
            fields=visible,
            channel="api",
            request=request,
        )
    return [
        {
            "id": c.pk,
            "campaign_id": c.campaign_id,
            "person_id": c.person_id,
            "name": c.person.name,
            "id_number": present("id_number", c.person.id_number, visible),
            "phone": present("phone", c.person.phone, visible),
            "region_code": c.region_code,
            "tube": c.tube.barcode,
            "status": c.status,
            "created_at": c.created_at,
            "handed_over_ref": c.handed_over_ref,
            "handed_over_at": c.handed_over_at,
        }
        for c in cases
    ]


# -- sampling points and the planner ---------------------------------------------------------


def _point_out(p) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "location": p.location,
        "region_code": p.region_code,
        "opens_at": p.opens_at,
        "closes_at": p.closes_at,
        "lanes": p.lanes,
        "throughput_per_lane_hour": p.throughput_per_lane_hour,
        "active": p.active,
        "version": p.version,
    }


def _staff_out(response: HttpResponse, point, staff) -> dict[str, Any]:
    response["ETag"] = etag(point.version)
    return {
        "point_id": point.pk,
        "version": point.version,
        "staff": [{"id": u.pk, "username": u.username, "name": u.display_name} for u in staff],
    }


@router.get("/points", response={200: list[PointOut], **ERRORS}, summary="采样点")
def list_points(request: HttpRequest):
    return [_point_out(p) for p in selectors.points(request.auth)[:2000]]


@router.post("/points", response={201: PointOut, **WRITE_ERRORS}, summary="新建采样点")
def create_point(request: HttpRequest, payload: PointIn):
    return Status(201, _point_out(services.create_point(user=request.auth, **payload.dict())))


@router.patch("/points/{point_id}", response={200: PointOut, **WRITE_ERRORS}, summary="调整采样点")
def update_point(request: HttpRequest, point_id: PathId, payload: PointPatch):
    point = services.update_point(
        user=request.auth, point_id=point_id, **payload.dict(exclude_unset=True)
    )
    return _point_out(point)


@router.get(
    "/points/{point_id}/staff", response={200: PointStaffOut, **ERRORS}, summary="采样点人员"
)
def get_point_staff(request: HttpRequest, response: HttpResponse, point_id: PathId):
    point = selectors.get_point(request.auth, point_id)
    return _staff_out(response, point, selectors.point_staff(request.auth, point))


@router.put(
    "/points/{point_id}/staff",
    response={200: PointStaffOut, **STAFF_ERRORS},
    summary="设置采样点人员（需 If-Match 或 version）",
    description="staff_ids 为完整名单：未列出的人员被移除。人员须为在岗采样人员，"
    "其辖区覆盖采样点所在区划或在其之内。",
)
def set_point_staff(
    request: HttpRequest, response: HttpResponse, point_id: PathId, payload: StaffIn
):
    services.require(request.auth, services.Action.TESTING_PLAN)
    point = services.set_point_staff(
        user=request.auth,
        point_id=point_id,
        staff_ids=payload.staff_ids,
        expected_version=expected_version(request, payload.version),
        channel="api",
        request=request,
    )
    return _staff_out(response, point, selectors.point_staff(request.auth, point))


@router.get(
    "/points/{point_id}/plan", response={200: PlanOut, **ERRORS}, summary="测算通道数与排队"
)
def plan_point(request: HttpRequest, point_id: PathId, query: Query[PlanQuery]):
    point = selectors.get_point(request.auth, point_id)
    the_campaign = selectors.get_campaign(request.auth, query.campaign)
    result = selectors.plan_point(request.auth, point, the_campaign, query.profile)
    p = result.plan
    return {
        "point_id": point.pk,
        "campaign_id": the_campaign.pk,
        "should_test": result.should_test,
        "tested": result.tested,
        "sharing_points": result.sharing_points,
        "population": p.population,
        "lanes": p.lanes,
        "throughput_per_lane_hour": p.throughput_per_lane_hour,
        "measured_throughput": result.measured_throughput,
        "hours_available": p.hours_available,
        "capacity": p.capacity,
        "hours_needed": p.hours_needed,
        "lanes_needed": p.lanes_needed,
        "finishes_in_window": p.finishes_in_window,
        "left_at_end": p.left_at_end,
        "peak_queue": p.peak_queue,
        "peak_wait_minutes": p.peak_wait_minutes,
        "slots": [s.__dict__ for s in p.slots],
    }


# -- schedules -------------------------------------------------------------------------------


@router.post("/schedules", response={201: ScheduleOut, **WRITE_ERRORS}, summary="登记检测计划")
def create_schedule(request: HttpRequest, payload: ScheduleIn):
    schedule = services.create_schedule(
        user=request.auth,
        person_id=payload.person_id,
        due_dates=payload.due_dates,
        origin=payload.origin,
    )
    return Status(
        201,
        {
            "id": schedule.pk,
            "person_id": schedule.person_id,
            "origin": schedule.origin,
            "due_dates": list(schedule.due.order_by("due_on").values_list("due_on", flat=True)),
        },
    )


@router.get("/due-tests", response={200: list[DueTestOut], **ERRORS}, summary="当日应检人员")
def due_tests(request: HttpRequest, query: Query[DueTestQuery]):
    due = selectors.due_tests(request.auth, query.day)
    visible = visible_fields(request.auth) & {"phone"}
    if visible and due:
        audit.record_sensitive_reads(
            user=request.auth,
            object_type="person",
            object_ids=[d.person_id for d, _ in due],
            fields=visible,
            channel="api",
            request=request,
        )
    return [
        {
            "person_id": d.person_id,
            "name": d.person.name,
            "phone": present("phone", d.person.phone, visible),
            "region_code": d.region_code,
            "origin": d.schedule.origin,
            "due_on": d.due_on,
            "sampled": sampled,
        }
        for d, sampled in due
    ]


# The sampler's offline scan screen (issue 20): /api/v1/testing/field/sync
from .field import router as field_router  # noqa: E402

router.add_router("/field", field_router)
