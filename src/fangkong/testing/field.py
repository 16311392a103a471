"""Offline sampling (issue 20): the sync of samples a sampler's phone queued offline.

A sampler at a lane keeps scanning when the signal drops: the scan screen (static
``testing/field.js``) queues each sample in IndexedDB with its own idempotency key and sends
the queue here when the signal returns. Every sample goes through
:func:`services.ingest_samples`, the one write path of samples (the rules of a device batch
and of the scan form), with the key turned into the scan's device id, so a batch sent again
is recognised sample by sample. The answer is per record:

* ``stored``: a new sample, with the person's name and the tube's count now;
* ``duplicate``: this key is already stored (a retried batch), or the person's sample of
  the round is already in this very tube (the form's request reached the server just before
  the signal dropped): nothing new;
* ``conflict``: the server's state forbids it: the person was sampled into another tube,
  the tube is full (a single tube used by another person), was opened as another tube type,
  already has a result, or the round was closed. The server's values come back beside the
  phone's and nothing is stored;
* ``invalid``: the record breaks a rule (a malformed barcode, a time outside the round's
  window, a retest without a recall), with the errors;
* ``not_found``: no such person or round in the caller's jurisdiction (a sampler of village
  A scanning a resident of village B gets exactly this, as the scan form says "unknown").

The time of a sample is the phone's time of the scan, never later than the sync.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Router, Schema

from fangkong.core.errors import FieldError, NotFound, ValidationFailed
from fangkong.core.field_sync import ERRORS, MAX_SYNC, KeyText, answer, aware
from fangkong.core.masking import mask_value
from fangkong.core.permissions import require, requires
from fangkong.core.roles import Action
from fangkong.core.schemas import NoNul, ObjectId

from . import selectors, services
from .forms import CAPACITY_CHOICES
from .ingest import ScanRow
from .models import Campaign

router = Router(tags=["testing-field"])

Code = Annotated[str, Field(min_length=1, max_length=32), NoNul]


class TestingFieldSampleIn(Schema):
    key: KeyText
    campaign_id: ObjectId
    person: Code
    tube: Code
    capacity: int = Field(..., ge=1, le=20)
    retest: bool = False
    taken_at: datetime


class TestingFieldSyncIn(Schema):
    device: Annotated[str, Field(max_length=64), NoNul] = ""
    samples: list[TestingFieldSampleIn] = Field(..., min_length=1, max_length=MAX_SYNC)


class TestingFieldServer(Schema):
    tube: str = ""
    tube_count: int | None = None
    tube_capacity: int | None = None
    tube_result: str = ""
    person_name: str = ""
    sampled_at: datetime | None = None
    round_status: str = ""


class TestingFieldResult(Schema):
    key: str
    campaign_id: int
    status: Literal["stored", "duplicate", "conflict", "invalid", "not_found"]
    sample_id: int | None = None
    person_name: str = ""
    tube: str = ""
    tube_count: int | None = None
    tube_capacity: int | None = None
    message: str = ""
    errors: list[dict[str, str]] = []
    server: TestingFieldServer | None = None


class TestingFieldSyncOut(Schema):
    results: list[TestingFieldResult]
    stored: int
    duplicates: int
    conflicts: int


def device_sample_id(user: Any, key: str) -> str:
    """The scan's device id for a phone's key: the same key of the same user is the same
    scan (a resend); no other user's key can ever name it."""
    return "field-" + hashlib.sha256(f"{user.pk}:{key}".encode()).hexdigest()[:40]


def _tube_type(capacity: int | None) -> str:
    labels: dict[int | None, Any] = dict(CAPACITY_CHOICES)
    return str(labels.get(capacity, capacity or ""))


def _when(value: datetime) -> str:
    return f"{timezone.localtime(value):%m-%d %H:%M}"


def _shown(row: ScanRow) -> str:
    """The scanned code as a message may show it: a registration code whole, an ID number
    masked (the phone keeps what was typed; the answer never spells it out)."""
    if row.registration_code:
        return row.registration_code
    return mask_value("id_number", row.id_number or "")


def _invalid(base: dict, errors: list) -> dict:
    return {
        **base,
        "status": "invalid",
        "message": "；".join(e.message for e in errors),
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }


def _rejected(user: Any, campaign: Campaign, base: dict, row: ScanRow, problem: dict) -> dict:
    """A scan the ingest path refused, told the phone in terms of the server's state."""
    code, message = problem["code"], problem["message"]
    if code == "unknown_person":
        return {**base, "status": "not_found", "message": message}
    if code not in ("already_sampled", "tube_full", "capacity_mismatch", "tube_resulted"):
        return _invalid(base, [FieldError(services.rejected_field(code), message)])
    person = selectors.person_for_scan(
        user, id_number=row.id_number, registration_code=row.registration_code
    )
    ours = person.name if person else _shown(row)
    if code == "already_sampled":
        sample = selectors.latest_sample_of(user, campaign, person) if person else None
        if sample is not None and sample.tube.barcode == row.tube:
            return {**base, "status": "duplicate", "person_name": ours, "tube": row.tube}
        server: dict[str, Any] = {"person_name": ours}
        text = f"{ours}本轮已采过样"
        if sample is not None:
            server.update(
                tube=sample.tube.barcode,
                tube_count=sample.tube.sample_count,
                tube_capacity=sample.tube.capacity,
                sampled_at=sample.sampled_at,
            )
            text += f"：服务器记录为试管 {sample.tube.barcode}（{_when(sample.sampled_at)}）"
        text += f"，本条为试管 {row.tube}；本条未保存"
        return {**base, "status": "conflict", "message": text, "server": server}
    tube = selectors.tube_for_scan(user, campaign, row.tube)
    if tube is None:  # gone meanwhile: let the phone send it again
        return _invalid(base, [FieldError("tube", message)])
    first = selectors.samples_in_tube(user, tube, limit=1)
    server = {
        "tube": tube.barcode,
        "tube_count": tube.sample_count,
        "tube_capacity": tube.capacity,
        "tube_result": str(tube.get_result_display()) if tube.result else "",
        "person_name": first[0].person.name if tube.capacity == 1 and first else "",
    }
    if code == "tube_full" and server["person_name"]:
        text = f"试管 {tube.barcode} 已用于{server['person_name']}（单管），本条为{ours}"
    elif code == "tube_full":
        text = (
            f"试管 {tube.barcode} 已满（服务器上 {tube.sample_count} / {tube.capacity}），"
            f"本条为{ours}"
        )
    elif code == "capacity_mismatch":
        text = (
            f"试管 {tube.barcode} 在服务器上是{_tube_type(tube.capacity)}，"
            f"本条为{_tube_type(1 if row.retest else row.capacity)}（{ours}）"
        )
    else:
        text = f"试管 {tube.barcode} 已出结果（{server['tube_result']}），本条为{ours}"
    return {
        **base,
        "status": "conflict",
        "message": text + "；本条未保存，请换新试管重新采样",
        "server": server,
    }


def sync_samples(
    *, user: Any, records: list[TestingFieldSampleIn], now: datetime | None = None
) -> list[dict]:
    """Answer a phone's queued samples per record (module doc), each round's in one batch
    through :func:`services.ingest_samples` (one transaction, idempotent by device id)."""
    require(user, Action.TESTING_SAMPLE)
    now = now or timezone.now()
    results: list[dict] = [{} for _ in records]
    by_round: dict[int, list[int]] = {}
    for index, record in enumerate(records):
        by_round.setdefault(record.campaign_id, []).append(index)
    for campaign_id, indexes in by_round.items():
        try:
            campaign = selectors.get_campaign(user, campaign_id)
        except NotFound:
            for i in indexes:
                results[i] = {
                    "key": records[i].key,
                    "campaign_id": campaign_id,
                    "status": "not_found",
                    "message": "该检测轮次不在您的管辖范围或已不存在",
                }
            continue
        rows: list[tuple[int, ScanRow]] = []
        for i in indexes:
            r = records[i]
            try:
                row = services.phone_scan_row(
                    person=r.person,
                    tube=r.tube,
                    capacity=r.capacity,
                    retest=r.retest,
                    sampled_at=min(aware(r.taken_at), now),
                    device_sample_id=device_sample_id(user, r.key),
                )
            except ValidationFailed as exc:
                results[i] = _invalid({"key": r.key, "campaign_id": campaign_id}, exc.errors)
                continue
            rows.append((i, row))
        if rows:
            _ingest(user, campaign, records, rows, results)
    return results


def _ingest(
    user: Any,
    campaign: Campaign,
    records: list[TestingFieldSampleIn],
    rows: list[tuple[int, ScanRow]],
    results: list[dict],
) -> None:
    try:
        report = services.ingest_samples(
            user=user, campaign_id=campaign.pk, rows=[row for _, row in rows], with_ids=True
        )
    except ValidationFailed as exc:  # the round was closed while the phone was offline
        for i, _row in rows:
            results[i] = {
                "key": records[i].key,
                "campaign_id": campaign.pk,
                "status": "conflict",
                "message": "；".join(e.message for e in exc.errors) + "；本条未保存",
                "server": {"round_status": str(campaign.get_status_display())},
            }
        return
    rejected = {problem["index"]: problem for problem in report.rejected}
    stored = selectors.samples_by_id(user, list(report.accepted_ids.values()))
    told: set[str] = set()  # a twin of a record in the same batch is its duplicate
    for position, (i, row) in enumerate(rows):
        base = {"key": records[i].key, "campaign_id": campaign.pk}
        if position in rejected:
            results[i] = _rejected(user, campaign, base, row, rejected[position])
        elif row.device_sample_id in report.accepted_ids and row.device_sample_id not in told:
            told.add(row.device_sample_id)
            sample = stored[report.accepted_ids[row.device_sample_id]]
            results[i] = {
                **base,
                "status": "stored",
                "sample_id": sample.pk,
                "person_name": sample.person.name,
                "tube": sample.tube.barcode,
                "tube_count": sample.tube.sample_count,
                "tube_capacity": sample.tube.capacity,
            }
        else:
            results[i] = {**base, "status": "duplicate", "tube": row.tube}


@router.post(
    "/sync",
    url_name="testing_field_sync",
    response={200: TestingFieldSyncOut, **ERRORS},
    summary="离线采样同步：批量上传待同步的采样记录（按 key 幂等，逐条答复）",
)
@requires(Action.TESTING_SAMPLE)
def sync(request, payload: TestingFieldSyncIn):
    return answer(sync_samples(user=request.auth, records=payload.samples))
