"""Offline visits (issue 20): the grid worker's work set and the sync of visits queued offline.

A grid worker at a courtyard gate records the visit on the phone (static ``fangkong/field.js``
on the visits page); with no signal the record waits in IndexedDB with its own idempotency
key and is sent here when the signal returns. The answer is per record, as for the doctor's
round (:mod:`fangkong.quarantine.field`):

* ``stored``: the visit is recorded through :func:`.visits.complete` (the same rules, phone
  check and audit as the visit form), at the time it was made on the phone;
* ``duplicate``: this key already recorded this visit (a retried batch): nothing new;
* ``conflict``: the visit was recorded by someone else meanwhile, or handed to another grid
  worker; the server's state comes back and nothing is overwritten;
* ``invalid``: the record breaks a rule (temperature, phone), with the field errors;
* ``not_found``: no such visit in the caller's jurisdiction (a phone of village A writing a
  visit of village B gets exactly this).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.db.models import Q
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from fangkong.core import jurisdiction
from fangkong.core.field_sync import (
    ERRORS,
    MAX_SYNC,
    KeyText,
    answer,
    aware,
    make_cursor,
    read_cursor,
)
from fangkong.core.permissions import require, requires
from fangkong.core.regions import region_labels
from fangkong.core.roles import Action
from fangkong.core.schemas import NoNul

from . import visits
from .forms import note_with_symptoms
from .models import VisitTask

router = Router(tags=["screening-field"])

WORK_SET_SIZE = 1000
CHANNEL = "field"


class ScreeningFieldVisitIn(Schema):
    key: KeyText
    task_id: int = Field(..., ge=1, le=2**62)
    taken_at: datetime
    present: bool
    healthy: bool = True
    temperature: Decimal | None = Field(None, max_digits=3, decimal_places=1)
    symptoms: Annotated[str, Field(max_length=100), NoNul] = ""
    phone: Annotated[str, Field(max_length=20), NoNul] = ""
    note: Annotated[str, Field(max_length=200), NoNul] = ""


class ScreeningFieldSyncIn(Schema):
    device: Annotated[str, Field(max_length=64), NoNul] = ""
    visits: list[ScreeningFieldVisitIn] = Field(..., min_length=1, max_length=MAX_SYNC)


class ScreeningFieldServerVisit(Schema):
    status: str
    done_at: datetime | None
    done_by: str
    present: bool | None


class ScreeningFieldResult(Schema):
    key: str
    task_id: int
    status: Literal["stored", "duplicate", "conflict", "invalid", "not_found"]
    message: str = ""
    errors: list[dict[str, str]] = []
    server: ScreeningFieldServerVisit | None = None


class ScreeningFieldSyncOut(Schema):
    results: list[ScreeningFieldResult]
    stored: int
    duplicates: int
    conflicts: int


class ScreeningFieldEntry(Schema):
    task_id: int
    person_name: str
    grid: str
    reason: str
    due_at: datetime
    overdue: bool


class ScreeningFieldWorkSet(Schema):
    generated_at: datetime
    region_codes: list[str]
    cursor: str = Field(..., description="下次请求时作为 since 传回，只取此后的变化")
    full: bool = Field(..., description="true：这是完整工作集，设备先清空本地再存")
    open_ids: list[int] = Field(
        ..., description="此刻本设备应有的全部待走访编号；本地有而此处没有的，设备删除"
    )
    visits: list[ScreeningFieldEntry]


def _server(task: VisitTask) -> dict:
    return {
        "status": task.status,
        "done_at": task.done_at,
        "done_by": str(task.done_by) if task.done_by else "",
        "present": task.present,
    }


def _conflict(base: dict, task: VisitTask, message: str) -> dict:
    return {**base, "status": "conflict", "message": message, "server": _server(task)}


def _done_elsewhere(base: dict, task: VisitTask) -> dict:
    server = _server(task)
    when = timezone.localtime(task.done_at).strftime("%m-%d %H:%M") if task.done_at else ""
    return _conflict(
        base, task, f"这次走访已由{server['done_by'] or '他人'}于 {when} 登记，本条记录未保存"
    )


def _answer(record: ScreeningFieldVisitIn, status: str, task, errors) -> dict:
    base = {"key": record.key, "task_id": record.task_id}
    if status == "stored":
        return {**base, "status": "stored"}
    if status == "not_found":
        return {**base, "status": "not_found", "message": "该走访不在您的管辖范围或已不存在"}
    if status == "done":
        if task.client_key == record.key:
            return {**base, "status": "duplicate"}
        return _done_elsewhere(base, task)
    if status == "not_yours":
        return _conflict(base, task, "这次走访已改派给其他网格员，本条记录未保存")
    return {
        **base,
        "status": "invalid",
        "message": "；".join(e.message for e in errors),
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }


def sync_visits(*, user, records: list[ScreeningFieldVisitIn]) -> list[dict]:
    """Answer a phone's queued visits per record (module doc), all stored in one transaction
    through :func:`.visits.complete_many` (the visit form's rules, one audit insert)."""
    require(user, Action.SCREENING_EDIT)
    outcomes = [
        visits.Outcome(
            task_id=r.task_id,
            present=r.present,
            healthy=r.healthy,
            temperature=r.temperature,
            phone=r.phone,
            note=note_with_symptoms(r.note, r.symptoms if not r.healthy else ""),
            client_key=r.key,
            done_at=aware(r.taken_at),
        )
        for r in records
    ]
    answers = visits.complete_many(user=user, outcomes=outcomes, channel=CHANNEL)
    return [
        _answer(record, status, task, errors)
        for record, (status, task, errors) in zip(records, answers, strict=True)
    ]


def work_set(user, now: datetime | None = None, since: str | None = None) -> dict:
    """The open visits the phone's user should make: names, grids and reasons as the visits
    page shows them; no ID number, phone or birth date leaves the server for the device.

    With ``since`` (the cursor of the phone's last download, :mod:`fangkong.core.field_sync`)
    only the visits added, handed over, escalated or whose person changed since then are
    sent in full; ``open_ids`` lists every open visit, so the phone drops the ones done or
    handed away meanwhile. A village's daily change is then a few hundred bytes."""
    require(user, Action.SCREENING_VIEW)
    now = now or timezone.now()
    codes = list(jurisdiction.user_codes(user))
    open_tasks = visits.tasks_for(user).filter(status=VisitTask.Status.OPEN)
    open_ids = list(open_tasks.values_list("pk", flat=True)[:WORK_SET_SIZE])
    after = read_cursor(since, codes, now)
    changed = open_tasks.filter(pk__in=open_ids)
    if after is not None:
        changed = changed.filter(
            Q(created_at__gt=after)
            | Q(reassigned_at__gt=after)
            | Q(escalated_at__gt=after)
            | Q(person__updated_at__gt=after)
        )
    tasks = list(changed.select_related("person"))
    labels = region_labels({t.region_code for t in tasks})
    return {
        "generated_at": now,
        "region_codes": codes,
        "cursor": make_cursor(now, codes),
        "full": after is None,
        "open_ids": open_ids,
        "visits": [
            {
                "task_id": t.pk,
                "person_name": t.person.name,
                "grid": labels.get(t.region_code, ""),
                "reason": t.reason,
                "due_at": t.due_at,
                "overdue": t.due_at < now,
            }
            for t in tasks
        ],
    }


@router.post(
    "/sync",
    url_name="screening_field_sync",
    response={200: ScreeningFieldSyncOut, **ERRORS},
    summary="离线走访同步：批量上传待同步的走访结果（按 key 幂等，逐条答复）",
)
@requires(Action.SCREENING_EDIT)
def sync(request, payload: ScreeningFieldSyncIn):
    return answer(sync_visits(user=request.auth, records=payload.visits))


@router.get(
    "/workset",
    url_name="screening_field_workset",
    response={200: ScreeningFieldWorkSet, **ERRORS},
    summary="本设备走访工作集：待走访名单（已脱敏）",
)
@requires(Action.SCREENING_VIEW)
def workset(
    request,
    since: str | None = Query(
        None, max_length=64, description="上次工作集的 cursor；不传则取完整工作集"
    ),
):
    return work_set(request.auth, since=since)
