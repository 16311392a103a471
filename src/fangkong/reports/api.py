"""The reports JSON API, mounted under /api/v1/reports: the board, daily and zero reports,
self-inspection findings, the problems list and Word documents. Handlers translate HTTP to
:mod:`.services`; the role matrix (403) and jurisdiction (404) are enforced there."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from fangkong.core.actors import actor_of
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.core.schemas import ERRORS, ErrorOut, NoNul, ObjectId, RegionCode, StrictDate, Version

from . import documents, services
from .models import ProblemStatus

router = Router(tags=["reports"])

WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
Text = Annotated[str, NoNul, StringConstraints(max_length=2000)]
Title = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=300)]
RegionRef = Annotated[str, NoNul, StringConstraints(max_length=64)]
Key = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=60)]
Count = Annotated[int, Field(strict=True, ge=0, le=10**9)]


class ReportsCardOut(Schema):
    key: str
    label: str
    unit: str
    value: int
    delta: int | None
    trend: list[int]
    url: str


class ReportsChildOut(Schema):
    region_code: str
    name: str
    values: dict[str, int]


class ReportsBoardOut(Schema):
    region_code: str
    region_name: str
    as_of: dt.datetime | None
    days: list[dt.date]
    cards: list[ReportsCardOut]
    children: list[ReportsChildOut]
    coverage_percent: int | None


@router.get("/board", response={200: ReportsBoardOut, **ERRORS})
@requires(Action.REPORTS_BOARD)
def get_board(request, region: RegionRef = ""):
    """Today's figures of a region (code or name; default the user's area), the change
    since yesterday, the 14-day trend and the regions one level down."""
    b = services.board(actor_of(request), region)
    return {
        "region_code": b.region_code,
        "region_name": b.region_name,
        "as_of": b.as_of,
        "days": b.days,
        "cards": [c.__dict__ for c in b.cards],
        "children": [{"region_code": c, "name": n, "values": v} for c, n, v in b.children],
        "coverage_percent": b.coverage,
    }


class ReportsUnitOut(Schema):
    region_code: str
    name: str
    status: str  # submitted, zero, missing, late
    reporter: str
    submitted_at: dt.datetime | None


class ReportsDailyOut(Schema):
    region_code: str
    day: dt.date
    status: str
    figures: dict[str, int]
    corrections: dict[str, dict[str, str | int]]
    situation: str
    problems: str
    requests: str
    version: int
    late: bool


@router.get("/daily/status", response={200: list[ReportsUnitOut], **ERRORS})
@requires(Action.REPORTS_BOARD)
def daily_status(
    request, region: RegionRef = "", day: Annotated[StrictDate | None, Query()] = None
):
    """Who has and has not reported to a region on a day (a township's villages...)."""
    actor = actor_of(request)
    code = services.resolve_region(actor, region)
    rows = services.status_of_units(actor, code, day or timezone.localdate())
    return [
        {
            "region_code": u.code,
            "name": u.name,
            "status": u.report.status if u.report else ("late" if u.late else "missing"),
            "reporter": str(u.report.reporter or "") if u.report else "",
            "submitted_at": u.report.submitted_at if u.report else None,
        }
        for u in rows
    ]


def _daily_out(r) -> dict:
    return {
        "region_code": r.region_code,
        "day": r.day,
        "status": r.status,
        "figures": {k: r.value(k) for k in r.figures},
        "corrections": r.corrections,
        "situation": r.situation,
        "problems": r.problems,
        "requests": r.requests,
        "version": r.version,
        "late": r.late,
    }


@router.get("/daily/{code}/draft", response={200: dict[str, int], **ERRORS})
@requires(Action.REPORTS_BOARD)
def daily_draft(request, code: RegionCode, day: Annotated[StrictDate | None, Query()] = None):
    """The figures a report would carry now: from data (village) or the roll-up."""
    return services.draft_figures(actor_of(request), code, day or timezone.localdate())


class ReportsCorrectionIn(Schema):
    key: Key
    value: Count
    reason: Text = ""


class ReportsDailyIn(Schema):
    day: StrictDate
    zero: bool = False
    corrections: list[ReportsCorrectionIn] = Field(default_factory=list, max_length=100)
    situation: Text = ""
    problems: Text = ""
    requests: Text = ""
    version: Version | None = None


@router.post("/daily/{code}", response={201: ReportsDailyOut, **WRITE_ERRORS})
@requires(Action.REPORTS_DAILY)
def daily_submit(request, code: RegionCode, body: ReportsDailyIn):
    """File (or, with the version read, correct) the daily or zero report of one's area."""
    report = services.submit_report(
        actor_of(request),
        region_code=code,
        day=body.day,
        zero=body.zero,
        corrections={c.key: (c.value, c.reason) for c in body.corrections},
        situation=body.situation,
        problems_text=body.problems,
        requests=body.requests,
        version=body.version,
    )
    return Status(201, _daily_out(report))


class ReportsFindingOut(Schema):
    id: int
    rule: str
    region_code: str
    aspect: str
    what: str
    since: dt.datetime
    url: str
    responsible: str


@router.get("/findings", response={200: list[ReportsFindingOut], **ERRORS})
@requires(Action.REPORTS_BOARD)
def list_findings(
    request,
    region: Annotated[str, NoNul, StringConstraints(max_length=15, pattern=r"^\d*$")] = "",
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
):
    return list(services.findings(actor_of(request), region=region)[:limit])


class ReportsRunOut(Schema):
    id: int
    prefix: str
    findings: int
    seconds: dict[str, float]


@router.post("/inspection/run", response={201: ReportsRunOut, **ERRORS})
@requires(Action.REPORTS_INSPECT)
def run_inspection(request):
    """Run every rule over the user's area now."""
    actor = actor_of(request)
    run = services.run_inspection(services.home_region(actor), by=actor)
    return Status(201, run)


class ReportsProblemOut(Schema):
    id: int
    source: str
    region_code: str
    aspect: str
    title: str
    detail: str
    deadline: dt.datetime
    owner_name: str
    status: str
    level: int
    rectification: str
    next_steps: str
    version: int


@router.get("/problems", response={200: list[ReportsProblemOut], **ERRORS})
@requires(Action.REPORTS_BOARD)
def list_problems(
    request,
    status: Literal["open", "rectified", "closed", "all"] = "open",
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
):
    rows = services.problems_visible(actor_of(request))
    if status == "open":
        rows = rows.exclude(status=ProblemStatus.CLOSED)
    elif status != "all":
        rows = rows.filter(status=status)
    return list(rows.order_by("aspect", "deadline")[:limit])


class ReportsProblemIn(Schema):
    region_code: RegionCode
    aspect: Literal[
        "thinking",
        "leadership",
        "system",
        "risk",
        "publicity",
        "discipline",
        "emergency",
        "supervision",
        "supplies",
    ]
    title: Title
    detail: Text = ""
    deadline: dt.datetime | None = None


@router.post("/problems", response={201: ReportsProblemOut, **WRITE_ERRORS})
@requires(Action.REPORTS_PROBLEMS)
def create_problem(request, body: ReportsProblemIn):
    problem = services.create_problem(actor_of(request), **body.dict())
    return Status(201, problem)


@router.get("/problems/{problem_id}", response={200: ReportsProblemOut, **ERRORS})
@requires(Action.REPORTS_BOARD)
def get_problem(request, problem_id: ObjectId):
    return services.get_problem(actor_of(request), problem_id)


class ReportsRectifyIn(Schema):
    text: Text
    next_steps: Text = ""
    version: Version


@router.post("/problems/{problem_id}/rectify", response={200: ReportsProblemOut, **WRITE_ERRORS})
@requires(Action.REPORTS_PROBLEMS)
def rectify_problem(request, problem_id: ObjectId, body: ReportsRectifyIn):
    return services.rectify(
        actor_of(request),
        problem_id,
        text=body.text,
        next_steps=body.next_steps,
        version=body.version,
    )


class ReportsConfirmIn(Schema):
    accept: bool
    note: Text = ""
    version: Version


@router.post("/problems/{problem_id}/confirm", response={200: ReportsProblemOut, **WRITE_ERRORS})
@requires(Action.REPORTS_CONFIRM)
def confirm_problem(request, problem_id: ObjectId, body: ReportsConfirmIn):
    return services.confirm(
        actor_of(request), problem_id, accept=body.accept, note=body.note, version=body.version
    )


class ReportsDocumentIn(Schema):
    kind: Literal["daily", "stage", "inspection", "bulletin"]
    region: RegionRef = ""
    day: StrictDate | None = None


class ReportsDocumentOut(Schema):
    id: int
    kind: str
    title: str
    snapshot_at: dt.datetime
    url: str


@router.post("/documents", response={201: ReportsDocumentOut, **ERRORS})
@requires(Action.REPORTS_DOCUMENTS)
def create_document(request, body: ReportsDocumentIn):
    """Generate a Word report from live data now; download it from ``url``."""
    doc = documents.generate(actor_of(request), body.kind, body.region, day=body.day)
    return Status(
        201,
        {
            "id": doc.pk,
            "kind": doc.kind,
            "title": doc.title,
            "snapshot_at": doc.snapshot_at,
            "url": f"/api/v1/reports/documents/{doc.pk}.docx",
        },
    )


@router.get("/documents/{document_id}.docx", response={200: None, **ERRORS})
@requires(Action.REPORTS_BOARD)
def download_document(request, document_id: ObjectId):
    doc = documents.get_document(actor_of(request), document_id)
    response = HttpResponse(
        bytes(doc.content),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(doc.title)}.docx"
    return response


# The reporter's zero report queued offline (issue 20): /api/v1/reports/field/sync
from .field import router as field_router  # noqa: E402

router.add_router("/field", field_router)
