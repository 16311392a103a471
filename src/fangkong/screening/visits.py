"""Visit tasks (走访核查): every flagged person is visited by the grid worker of their area.

Rules:

- After an evaluation, each person under a measure gets one visit per flagging stay,
  due :data:`VISIT_HOURS` hours later (a returnee must be known within two hours of
  arriving home; the visit confirms presence, health and the phone number).
- The task goes to the grid worker responsible for the person's grid (包组, from
  :func:`fangkong.core.assignments.responsible_for`); without one it stays unassigned and
  every user of the village with the action sees it.
- A visit not done by its due time escalates to the village; a day later, to the
  township. :func:`escalate_overdue` runs every five minutes in ``fangkong worker`` (a
  periodic job registered in :mod:`.apps`), after each evaluation, and on demand with
  ``fangkong manage screening_escalate``.
- An escalated visit is followed by the level it reached (:func:`escalated`): village
  cadres see the escalated visits of their village, township offices those escalated to
  the township (the county both). They may hand the visit to another grid worker whose
  area covers the person (:func:`reassign`) or make it themselves (:func:`handle`, the
  worker's confirmation fields). Grid workers only ever see their own and unassigned
  visits of their grid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import assignments, audit, jurisdiction, phones
from fangkong.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action, Role, can
from fangkong.core.selectors import ancestor_codes

from .evaluation import latest_run
from .models import Measure, ScreeningDecision, VisitTask
from .services import require

VISIT_HOURS = 2
TOWNSHIP_AFTER = dt.timedelta(hours=24)


def _grid_worker(region_code: str, on: dt.date) -> Any:
    for a in assignments.responsible_for(region_code, on=on):
        if a.user.role == Role.GRID_WORKER and a.user.is_active:
            return a.user
    return None


def create_for_region(*, region_code: str, now: dt.datetime | None = None) -> int:
    """Create the missing visit tasks for the current decisions of a county; returns how many."""
    now = now or timezone.now()
    run = latest_run(region_code)
    if run is None:
        return 0
    flagged = (
        ScreeningDecision.objects.filter(run=run, stay__isnull=False)
        .exclude(measure=Measure.NONE)
        .values_list("person_id", "stay_id", "region_code", "reason")
    )
    existing = set(
        VisitTask.objects.filter(jurisdiction.prefix_q("region_code", [region_code])).values_list(
            "person_id", "stay_id"
        )
    )
    workers: dict[str, Any] = {}
    new = []
    for person_id, stay_id, code, reason in flagged.iterator(chunk_size=5000):
        if (person_id, stay_id) in existing:
            continue
        if code not in workers:
            workers[code] = _grid_worker(code, now.date())
        new.append(
            VisitTask(
                person_id=person_id,
                stay_id=stay_id,
                region_code=code,
                reason=reason,
                assignee=workers[code],
                due_at=now + dt.timedelta(hours=VISIT_HOURS),
                created_at=now,
            )
        )
    VisitTask.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return len(new)


def escalate_overdue(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Escalate open visits past due to the village, and a day later to the township."""
    now = now or timezone.now()
    open_ = VisitTask.objects.filter(status=VisitTask.Status.OPEN)
    township = open_.filter(
        due_at__lt=now - TOWNSHIP_AFTER, escalation__lt=VisitTask.Escalation.TOWNSHIP
    ).update(escalation=VisitTask.Escalation.TOWNSHIP, escalated_at=now)
    village = open_.filter(due_at__lt=now, escalation=VisitTask.Escalation.NONE).update(
        escalation=VisitTask.Escalation.VILLAGE, escalated_at=now
    )
    return village, township


def tasks_for(user: Any, *, overdue_only: bool = False):
    """Visits the user should see: grid workers their own and unassigned ones in their
    area; village and township users every visit of their area."""
    require(user, Action.SCREENING_VIEW)
    qs = jurisdiction.scope(VisitTask.objects.select_related("person"), user)
    if user.role == Role.GRID_WORKER:
        qs = qs.filter(assignee__in=[user.pk]) | qs.filter(assignee__isnull=True)
    if overdue_only:
        qs = qs.filter(status=VisitTask.Status.OPEN, escalation__gt=0)
    return qs.order_by("status", "due_at", "id")


def task(user: Any, task_id: int) -> VisitTask:
    """One visit the user may see (:func:`tasks_for`); any other is "not found"."""
    found = tasks_for(user).filter(pk=task_id).first()
    if found is None:
        raise NotFound(task_id)
    return found


@dataclass(frozen=True)
class Outcome:
    """What was found at the door, for one visit (the form's or a phone's queued record)."""

    task_id: int
    present: bool
    healthy: bool
    temperature: Decimal | None
    phone: str
    note: str
    client_key: str = ""
    done_at: dt.datetime | None = None


OUTCOME_FIELDS = [
    "status",
    "present",
    "healthy",
    "temperature",
    "phone_checked",
    "note",
    "done_at",
    "done_by",
    "client_key",
]


def _checked_phone(outcome: Outcome) -> tuple[str, list[FieldError]]:
    """The confirmed phone in its canonical form, and what breaks the visit's rules."""
    errors = []
    temperature = outcome.temperature
    if temperature is not None and not Decimal("34") <= temperature <= Decimal("43"):
        errors.append(FieldError("temperature", _("A body temperature is 34 to 43 °C")))
    phone = outcome.phone
    try:
        phone = phones.normalize(phone) if phone else ""
    except phones.PhoneError as exc:
        errors.append(FieldError("phone", exc.message))
    return phone, errors


def _apply(task: VisitTask, outcome: Outcome, phone: str, user: Any, now: dt.datetime) -> None:
    # Recorded offline: kept at the tap's time when that is within the past two days.
    done_at = outcome.done_at
    if done_at is None or not now - dt.timedelta(days=2) <= done_at <= now:
        done_at = now
    task.status = VisitTask.Status.DONE
    task.present, task.healthy, task.temperature = (
        outcome.present,
        outcome.healthy,
        outcome.temperature,
    )
    task.phone_checked, task.note = phone, outcome.note[:300]
    task.done_at, task.done_by, task.client_key = done_at, user, outcome.client_key[:64]


def complete(
    *,
    user: Any,
    task_id: int,
    present: bool,
    healthy: bool,
    temperature: Decimal | None,
    phone: str,
    note: str,
    channel: str = "api",
    client_key: str = "",
    done_at: dt.datetime | None = None,
) -> VisitTask:
    """Record the visit: at home or not, healthy or not, the phone confirmed.

    ``done_at`` is when the visit was made if it was recorded offline (the field app sends
    the tap's time; it is kept only if it is in the past two days), ``client_key`` the
    phone's idempotency key for that record.
    """
    require(user, Action.SCREENING_EDIT)
    outcome = Outcome(task_id, present, healthy, temperature, phone, note, client_key, done_at)
    with transaction.atomic():
        task = (
            jurisdiction.scope(VisitTask.objects.select_for_update(), user)
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            raise NotFound(task_id)
        phone, errors = _checked_phone(outcome)
        if task.status == VisitTask.Status.DONE:
            errors.insert(0, FieldError("status", _("This visit is already recorded")))
        if errors:
            raise ValidationFailed(errors)
        _apply(task, outcome, phone, user, timezone.now())
        task.save()
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="visit_task",
            object_id=task.pk,
            channel=channel,
        )
    return task


def complete_many(
    *, user: Any, outcomes: list[Outcome], channel: str = "field"
) -> list[tuple[str, VisitTask | None, list[FieldError]]]:
    """Record a phone's queued visits in one transaction: one locking read, one update, one
    audit insert, whatever the batch size. Per outcome, in order: ``("stored", task, [])``,
    ``("invalid", task, errors)``, ``("done", task, [])`` (recorded before, possibly by this
    same record: the caller compares ``client_key``), ``("not_yours", task, [])`` (handed to
    another grid worker) or ``("not_found", None, [])`` (outside the user's jurisdiction)."""
    require(user, Action.SCREENING_EDIT)
    ids = {o.task_id for o in outcomes}
    results: list[tuple[str, VisitTask | None, list[FieldError]]] = []
    with transaction.atomic():
        tasks = {
            t.pk: t
            for t in jurisdiction.scope(VisitTask.objects.select_for_update(), user).filter(
                pk__in=ids
            )
        }
        yours = set(tasks_for(user).filter(pk__in=ids).values_list("pk", flat=True))
        now = timezone.now()
        changed: list[VisitTask] = []
        for outcome in outcomes:
            task = tasks.get(outcome.task_id)
            if task is None:
                results.append(("not_found", None, []))
            elif task.status == VisitTask.Status.DONE:
                results.append(("done", task, []))
            elif task.pk not in yours:
                results.append(("not_yours", task, []))
            else:
                phone, errors = _checked_phone(outcome)
                if errors:
                    results.append(("invalid", task, errors))
                    continue
                _apply(task, outcome, phone, user, now)
                changed.append(task)
                results.append(("stored", task, []))
        if changed:
            VisitTask.objects.bulk_update(changed, OUTCOME_FIELDS)
            audit.record_many(
                user=user,
                kind=AuditEvent.Kind.UPDATE,
                object_type="visit_task",
                object_ids=[t.pk for t in changed],
                channel=channel,
            )
    return results


# ---------------------------------------------------------------- escalations (超时上报)

# The level each role answers for (its list starts there); the county oversees every level.
HANDLER_LEVELS = {
    Role.VILLAGE_CADRE: VisitTask.Escalation.VILLAGE,
    Role.TOWNSHIP: VisitTask.Escalation.TOWNSHIP,
    Role.COUNTY_HQ: VisitTask.Escalation.VILLAGE,
}
LEVEL_NAMES = {"village": VisitTask.Escalation.VILLAGE, "township": VisitTask.Escalation.TOWNSHIP}


def own_level(user: Any) -> int:
    """The lowest escalation level the user answers for (village for everyone else)."""
    return HANDLER_LEVELS.get(getattr(user, "role", ""), VisitTask.Escalation.VILLAGE)


def may_handle_escalations(user: Any) -> bool:
    """True for the village, township and county users who may reassign or make an
    escalated visit (the role matrix's edit action, at a level that receives escalations)."""
    return can(user, Action.SCREENING_EDIT) and getattr(user, "role", "") in HANDLER_LEVELS


def escalated(user: Any, *, level: int | None = None) -> QuerySet[VisitTask]:
    """Open visits escalated past their due time that the user follows, the longest
    overdue first: at ``level`` exactly, or (``None``) at the user's own level and above.
    Grid workers see only their own and the unassigned visits of their grid
    (:func:`tasks_for`)."""
    at = {"escalation": level} if level else {"escalation__gte": own_level(user)}
    qs = tasks_for(user).filter(status=VisitTask.Status.OPEN, **at)
    return qs.select_related("person", "assignee").order_by("due_at", "id")


def _ancestors(code: str) -> list[str]:
    """``code`` and the codes of every region above it."""
    return [*ancestor_codes(code), code]


def workers_for(region_code: str) -> QuerySet:
    """The active grid workers whose area covers ``region_code``: those a visit there may be
    handed to (they would see it in their own list)."""
    return (
        get_user_model()
        .objects.filter(
            role=Role.GRID_WORKER, is_active=True, regions__code__in=_ancestors(region_code)
        )
        .distinct()
        .order_by("display_name", "username")
    )


def escalated_task(user: Any, task_id: int, *, for_update: bool = False) -> VisitTask:
    """An open escalated visit the user may act on; "not found" outside the jurisdiction.

    Raises :class:`PermissionDenied` for a role that does not receive escalations."""
    if not may_handle_escalations(user):
        raise PermissionDenied(Action.SCREENING_EDIT)
    qs = VisitTask.objects.select_related("person", "assignee")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    found = jurisdiction.scope(qs, user).filter(pk=task_id).first()
    if found is None:
        raise NotFound(task_id)
    if found.status == VisitTask.Status.DONE:
        raise ValidationFailed([FieldError("status", _("This visit is already recorded"))])
    if found.escalation == VisitTask.Escalation.NONE:
        raise ValidationFailed([FieldError("status", _("This visit is not escalated"))])
    return found


def reassign(*, user: Any, task_id: int, assignee_id: int, channel: str = "api") -> VisitTask:
    """Hand an escalated visit to another grid worker whose area covers the person.

    The due time and the escalation stay as they are: the visit is still late, and stays on
    the escalation list until it is made."""
    with transaction.atomic():
        task = escalated_task(user, task_id, for_update=True)
        worker = workers_for(task.region_code).filter(pk=assignee_id).first()
        if worker is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "assignee", _("Choose a grid worker responsible for this person's area")
                    )
                ]
            )
        if worker.pk == task.assignee_id:
            raise ValidationFailed(
                [FieldError("assignee", _("The visit is already assigned to this grid worker"))]
            )
        before = task.assignee_id
        task.assignee = worker
        task.reassigned_at, task.reassigned_by = timezone.now(), user
        task.save(update_fields=["assignee", "reassigned_at", "reassigned_by"])
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="visit_task",
            object_id=task.pk,
            channel=channel,
            detail=f"reassigned {before or '-'} -> {worker.pk}",
        )
    return task


def handle(
    *,
    user: Any,
    task_id: int,
    present: bool,
    healthy: bool,
    temperature: Decimal | None,
    phone: str,
    note: str,
    channel: str = "api",
) -> VisitTask:
    """The village or township makes an escalated visit itself: recorded as the grid worker
    would (:func:`complete`), with the user as the one who did it."""
    escalated_task(user, task_id)
    return complete(
        user=user,
        task_id=task_id,
        present=present,
        healthy=healthy,
        temperature=temperature,
        phone=phone,
        note=note,
        channel=channel,
    )
