"""Offline zero report (issue 20): the sync of a zero report a reporter's phone queued offline.

The village reporter presses "今日无新情况，报零报告" with no signal: the daily form's script
(static ``reports/field.js``) keeps the report in IndexedDB under the key unit + day and
sends it here when the signal returns. It is filed through :func:`services.submit_report`,
the form's own rules (one's own unit, a quiet day, a correction only with its reason), with
the deadline judged at the time of the tap. A unit files one report a day (the database's
constraint), so the key can never file it twice. The answer is per record:

* ``stored``: the zero report is filed now;
* ``duplicate``: the unit's report of that day is already a zero report (a resend, or one
  filed from another phone): nothing new;
* ``conflict``: the unit's report of that day was filed meanwhile as a full report (or
  changed since the version the phone read); the server's report comes back and nothing is
  overwritten;
* ``invalid``: the server refuses it, above all when the day is not quiet ("今日有情况，不能
  报零报告：…"); the phone shows the reason on the record until the reporter dismisses it;
* ``not_found``: the unit is outside the caller's jurisdiction or is not the caller's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.db import IntegrityError, transaction
from django.utils import timezone
from ninja import Field, Router, Schema
from pydantic import StringConstraints

from fangkong.core.actors import actor_of
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.field_sync import ERRORS, KeyText, answer, aware
from fangkong.core.permissions import require, requires
from fangkong.core.roles import Action
from fangkong.core.schemas import NoNul, RegionCode, StrictDate, Version

from . import services
from .models import DailyReport, ReportStatus

router = Router(tags=["reports-field"])

# A phone holds a few days of zero reports at most; each is judged against live figures.
MAX_REPORTS = 31
Text = Annotated[str, NoNul, StringConstraints(max_length=2000)]


class ReportsFieldCorrectionIn(Schema):
    key: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=60)]
    value: int = Field(..., strict=True, ge=0, le=10**9)
    reason: Text = ""


class ReportsFieldZeroIn(Schema):
    key: KeyText
    region_code: RegionCode
    day: StrictDate
    taken_at: dt.datetime
    corrections: list[ReportsFieldCorrectionIn] = Field(default_factory=list, max_length=100)
    situation: Text = ""
    problems: Text = ""
    requests: Text = ""
    version: Version | None = None


class ReportsFieldSyncIn(Schema):
    device: Annotated[str, Field(max_length=64), NoNul] = ""
    reports: list[ReportsFieldZeroIn] = Field(..., min_length=1, max_length=MAX_REPORTS)


class ReportsFieldServer(Schema):
    status: str
    status_label: str
    submitted_at: dt.datetime
    reporter: str
    late: bool
    version: int


class ReportsFieldResult(Schema):
    key: str
    region_code: str
    day: dt.date
    status: Literal["stored", "duplicate", "conflict", "invalid", "not_found"]
    message: str = ""
    errors: list[dict[str, str]] = []
    server: ReportsFieldServer | None = None


class ReportsFieldSyncOut(Schema):
    results: list[ReportsFieldResult]
    stored: int
    duplicates: int
    conflicts: int


def _server(report: DailyReport) -> dict:
    return {
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "submitted_at": report.submitted_at,
        "reporter": str(report.reporter) if report.reporter else "",
        "late": report.late,
        "version": report.version,
    }


def _existing(user: Any, base: dict, record: ReportsFieldZeroIn) -> dict | None:
    """The answer when the unit's report of the day already exists (None when it does not)."""
    report = services.get_report(user, record.region_code, record.day)
    if report is None:
        return None
    if report.status == ReportStatus.ZERO:
        return {**base, "status": "duplicate", "server": _server(report)}
    server = _server(report)
    when = f"{timezone.localtime(report.submitted_at):%H:%M}"
    return {
        **base,
        "status": "conflict",
        "message": (
            f"该日日报已于 {when} 由{server['reporter'] or '他人'}报送"
            f"（{server['status_label']}），零报告未提交"
        ),
        "server": server,
    }


def file_zero_report(*, user: Any, record: ReportsFieldZeroIn) -> dict:
    """One queued zero report through :func:`services.submit_report` (module doc)."""
    base = {"key": record.key, "region_code": record.region_code, "day": record.day}
    try:
        with transaction.atomic():
            report = services.submit_report(
                user,
                region_code=record.region_code,
                day=record.day,
                zero=True,
                corrections={c.key: (c.value, c.reason) for c in record.corrections},
                situation=record.situation,
                problems_text=record.problems,
                requests=record.requests,
                version=record.version,
                submitted_at=aware(record.taken_at),
            )
    except (NotFound, PermissionDenied):
        return {
            **base,
            "status": "not_found",
            "message": "只能报送本单位的日报：该单位不在您的管辖范围或不是您的单位",
        }
    except ValidationFailed as exc:
        # Refused now, but already filed as a zero report (a resend after the day got busy)?
        return _existing(user, base, record) or {
            **base,
            "status": "invalid",
            "message": "；".join(e.message for e in exc.errors),
            "errors": [{"field": e.field, "message": e.message} for e in exc.errors],
        }
    except (VersionConflict, IntegrityError):  # filed meanwhile, or by a racing twin
        found = _existing(user, base, record)
        if found is None:
            raise
        return found
    return {**base, "status": "stored", "server": _server(report)}


def sync_zero_reports(*, user: Any, records: list[ReportsFieldZeroIn]) -> list[dict]:
    """Answer a phone's queued zero reports per record (module doc)."""
    require(user, Action.REPORTS_DAILY)
    return [file_zero_report(user=user, record=r) for r in records]


@router.post(
    "/sync",
    url_name="reports_field_sync",
    response={200: ReportsFieldSyncOut, **ERRORS},
    summary="离线零报告同步：上传待同步的零报告（按单位和日期幂等，逐条答复）",
)
@requires(Action.REPORTS_DAILY)
def sync(request, payload: ReportsFieldSyncIn):
    return answer(sync_zero_reports(user=actor_of(request), records=payload.reports))
