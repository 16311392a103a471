"""Offline round (issue 20): the device's work set and the sync of readings queued offline.

A village doctor's phone records readings in IndexedDB when the signal drops (static
``fangkong/field.js``) and sends them here in one batch when it returns. Each queued reading
carries its own idempotency key (``key``, stored as the check's ``client_id``) and the order
version it was based on. The answer is per record:

* ``stored``: a new reading, stored through :func:`services.record_check` (the same rules,
  alerts and jurisdiction check as a reading typed online);
* ``duplicate``: this key is already stored for this order (a retried batch): nothing new;
* ``conflict``: the order changed on the server since the device downloaded it (a newer
  version, or it is no longer active); the server's values come back and nothing is stored
  until the user decides (resend based on the new version, or drop it);
* ``invalid``: the reading breaks a rule (implausible temperature, too old), with the errors;
* ``not_found``: no such order in the caller's jurisdiction (a device of village A writing
  an order of village B gets exactly this, as the single-record API answers 404).

Scope is the caller's jurisdiction (session or bearer token; a revoked token is refused by
authentication before anything here runs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from django.db import transaction
from django.utils import timezone
from ninja import Field, Router, Schema

from fangkong.core import jurisdiction
from fangkong.core.errors import FieldError, NotFound, ValidationFailed
from fangkong.core.field_sync import ERRORS, MAX_SYNC, KeyText, answer, aware
from fangkong.core.permissions import require, requires
from fangkong.core.roles import Action
from fangkong.core.schemas import NoNul

from . import selectors, services
from .models import Alert, HealthCheck, IsolationKind, IsolationOrder, OrderStatus

router = Router(tags=["quarantine-field"])


class QuarantineFieldReadingIn(Schema):
    key: KeyText
    order_id: int = Field(..., ge=1, le=2**62)
    version: int = Field(..., ge=1)
    taken_at: datetime
    temperature: Decimal | None = Field(None, max_digits=3, decimal_places=1)
    normal: bool = False
    symptoms: list[str] = Field([], max_length=8)
    at_home: bool = True
    note: Annotated[str, Field(max_length=200), NoNul] = ""


class QuarantineFieldSyncIn(Schema):
    device: Annotated[str, Field(max_length=64), NoNul] = ""
    readings: list[QuarantineFieldReadingIn] = Field(..., min_length=1, max_length=MAX_SYNC)


class QuarantineFieldServerOrder(Schema):
    status: str
    status_label: str
    kind: str
    version: int
    ends_at: datetime


class QuarantineFieldResult(Schema):
    key: str
    order_id: int
    status: Literal["stored", "duplicate", "conflict", "invalid", "not_found"]
    check_id: int | None = None
    alerts: list[str] = []
    message: str = ""
    errors: list[dict[str, str]] = []
    server: QuarantineFieldServerOrder | None = None


class QuarantineFieldSyncOut(Schema):
    results: list[QuarantineFieldResult]
    stored: int
    duplicates: int
    conflicts: int


class QuarantineFieldEntry(Schema):
    order_id: int
    version: int
    person_name: str
    address: str
    kind: str
    slot: datetime | None
    done: bool
    last_temperature: Decimal | None
    open_alerts: list[str]
    day: int | None
    total_days: int | None


class QuarantineFieldWorkSet(Schema):
    generated_at: datetime
    region_codes: list[str]
    round: list[QuarantineFieldEntry]


# Rules ------------------------------------------------------------------------------------


def _server(order: IsolationOrder) -> dict:
    return {
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "kind": order.kind,
        "version": order.version,
        "ends_at": order.ends_at,
    }


def _conflict_message(order: IsolationOrder, version: int) -> str:
    if order.status != OrderStatus.ACTIVE:
        return f"服务器上该隔离已{order.get_status_display()}，本条记录未保存"
    return (
        f"离线期间服务器上的隔离信息已变更（第 {version} 版 → 第 {order.version} 版，"
        f"解除时间 {timezone.localtime(order.ends_at):%m-%d %H:%M}）；请核对后重新提交或放弃"
    )


def _reading(r: QuarantineFieldReadingIn) -> services.Reading:
    return services.Reading(
        order_id=r.order_id,
        taken_at=aware(r.taken_at),
        temperature=r.temperature,
        normal=r.normal,
        symptoms=tuple(r.symptoms),
        at_home=r.at_home,
        method="door",
        note=r.note,
        client_id=r.key,
    )


def _invalid(base: dict, errors: list) -> dict:
    return {
        **base,
        "status": "invalid",
        "message": "；".join(e.message for e in errors),
        "errors": [{"field": e.field.rsplit(".", 1)[-1], "message": e.message} for e in errors],
    }


def _store_one(user, r: QuarantineFieldReadingIn, now: datetime) -> dict:
    """One record through ``services.record_check`` (the fallback when a batch cannot be
    stored in one go, e.g. an order released between the check and the insert)."""
    base = {"key": r.key, "order_id": r.order_id}
    try:
        with transaction.atomic():
            check, alerts = services.record_check(user=user, reading=_reading(r), now=now)
    except ValidationFailed as exc:
        return _invalid(base, exc.errors)
    except NotFound:
        return {**base, "status": "not_found", "message": "该人员不在您的管辖范围"}
    fresh = check.recorded_at == now  # else the first copy of a twin request
    return {
        **base,
        "status": "stored" if fresh else "duplicate",
        "check_id": check.pk,
        "alerts": [a.kind for a in alerts] if fresh else [],
    }


def sync_readings(
    *, user, readings: list[QuarantineFieldReadingIn], now: datetime | None = None
) -> list[dict]:
    """Answer a device's queued readings per record (module doc).

    Records are sorted first (outside the jurisdiction, already stored, conflicting, invalid);
    the rest are stored in one statement by ``services.bulk_record_readings`` (the same
    rules, idempotent by (order, key) even against a racing twin), and the stored rows are
    read back to tell each record whether it was new and which alerts it raised.
    """
    require(user, Action.QUARANTINE_CHECK)
    now = now or timezone.now()
    order_ids = {r.order_id for r in readings}
    orders = {
        o.pk: o for o in jurisdiction.scope(IsolationOrder.objects.filter(pk__in=order_ids), user)
    }
    keys = {r.key for r in readings}
    stored_keys = set(
        HealthCheck.objects.filter(order_id__in=orders.keys(), client_id__in=keys).values_list(
            "order_id", "client_id"
        )
    )
    results: list[dict | None] = []
    fresh: list[tuple[int, QuarantineFieldReadingIn]] = []
    seen: set[tuple[int, str]] = set()
    for r in readings:
        base = {"key": r.key, "order_id": r.order_id}
        order = orders.get(r.order_id)
        if order is None:
            results.append(
                {**base, "status": "not_found", "message": "该人员不在您的管辖范围或已不存在"}
            )
            continue
        if (r.order_id, r.key) in stored_keys or (r.order_id, r.key) in seen:
            results.append({**base, "status": "duplicate"})
            continue
        if (
            order.status != OrderStatus.ACTIVE
            or order.version != r.version
            or order.kind not in (IsolationKind.HOME, IsolationKind.MONITORING)
        ):
            results.append(
                {
                    **base,
                    "status": "conflict",
                    "message": _conflict_message(order, r.version),
                    "server": _server(order),
                }
            )
            continue
        reading = _reading(r)
        errors = services.validate_reading(reading, now)
        if reading.taken_at and reading.taken_at < order.starts_at - timedelta(hours=1):
            errors.append(FieldError("taken_at", "这条记录早于隔离开始时间"))
        if errors:
            results.append(_invalid(base, errors))
            continue
        seen.add((r.order_id, r.key))
        fresh.append((len(results), r))
        results.append(None)
    if fresh:
        try:
            services.bulk_record_readings(
                user=user, readings=[_reading(r) for _, r in fresh], now=now
            )
        except (ValidationFailed, NotFound):
            for index, r in fresh:  # changed under us: one by one, each with its answer
                results[index] = _store_one(user, r, now)
            return [r for r in results if r is not None]
        rows = {
            (order_id, key): (pk, recorded_at)
            for order_id, key, pk, recorded_at in HealthCheck.objects.filter(
                order_id__in={r.order_id for _, r in fresh},
                client_id__in={r.key for _, r in fresh},
            ).values_list("order_id", "client_id", "pk", "recorded_at")
        }
        kinds: dict[int, list[str]] = {}
        for reading_id, kind in Alert.objects.filter(
            reading_id__in=[pk for pk, _at in rows.values()]
        ).values_list("reading_id", "kind"):
            kinds.setdefault(reading_id, []).append(kind)
        for index, r in fresh:
            pk, recorded_at = rows[(r.order_id, r.key)]
            new = recorded_at == now
            results[index] = {
                "key": r.key,
                "order_id": r.order_id,
                "status": "stored" if new else "duplicate",
                "check_id": pk,
                "alerts": kinds.get(pk, []) if new else [],
            }
    return [r for r in results if r is not None]


def work_set(user, now: datetime | None = None) -> dict:
    """Today's round of the caller's jurisdiction: names and addresses as the round page
    shows them; no ID number, phone or birth date leaves the server for the device."""
    require(user, Action.QUARANTINE_CHECK)
    now = now or timezone.now()
    entries = selectors.todays_round(user, now)
    return {
        "generated_at": now,
        "region_codes": list(jurisdiction.user_codes(user)),
        "round": [
            {
                "order_id": e.order.pk,
                "version": e.order.version,
                "person_name": e.order.person.name,
                "address": e.order.address,
                "kind": e.order.kind,
                "slot": e.slot,
                "done": e.done,
                "last_temperature": e.last.temperature if e.last else None,
                "open_alerts": [a.kind for a in e.open_alerts],
                "day": e.day,
                "total_days": e.total_days,
            }
            for e in entries
        ],
    }


# API --------------------------------------------------------------------------------------


@router.post(
    "/sync",
    url_name="quarantine_field_sync",
    response={200: QuarantineFieldSyncOut, **ERRORS},
    summary="离线巡查同步：批量上传待同步体温（按 key 幂等，逐条答复）",
)
@requires(Action.QUARANTINE_CHECK)
def sync(request, payload: QuarantineFieldSyncIn):
    return answer(sync_readings(user=request.auth, readings=payload.readings))


@router.get(
    "/workset",
    url_name="quarantine_field_workset",
    response={200: QuarantineFieldWorkSet, **ERRORS},
    summary="本设备今日工作集：本辖区今日巡查名单（已脱敏）",
)
@requires(Action.QUARANTINE_CHECK)
def workset(request):
    return work_set(request.auth)
