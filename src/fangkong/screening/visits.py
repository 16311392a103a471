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
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import assignments, audit, jurisdiction, phones
from fangkong.core.errors import FieldError, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action, Role

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
    flagged = (ScreeningDecision.objects.filter(run=run, stay__isnull=False)
               .exclude(measure=Measure.NONE)
               .values_list("person_id", "stay_id", "region_code", "reason"))  # fmt: skip
    existing = set(VisitTask.objects.filter(jurisdiction.prefix_q("region_code", [region_code]))
                   .values_list("person_id", "stay_id"))  # fmt: skip
    workers: dict[str, Any] = {}
    new = []
    for person_id, stay_id, code, reason in flagged.iterator(chunk_size=5000):
        if (person_id, stay_id) in existing:
            continue
        if code not in workers:
            workers[code] = _grid_worker(code, now.date())
        new.append(VisitTask(person_id=person_id, stay_id=stay_id, region_code=code,
                             reason=reason, assignee=workers[code],
                             due_at=now + dt.timedelta(hours=VISIT_HOURS), created_at=now))
    VisitTask.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return len(new)


def escalate_overdue(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Escalate open visits past due to the village, and a day later to the township."""
    now = now or timezone.now()
    open_ = VisitTask.objects.filter(status=VisitTask.Status.OPEN)
    township = open_.filter(due_at__lt=now - TOWNSHIP_AFTER,
                            escalation__lt=VisitTask.Escalation.TOWNSHIP).update(
        escalation=VisitTask.Escalation.TOWNSHIP, escalated_at=now)  # fmt: skip
    village = open_.filter(due_at__lt=now, escalation=VisitTask.Escalation.NONE).update(
        escalation=VisitTask.Escalation.VILLAGE, escalated_at=now)
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


def complete(*, user: Any, task_id: int, present: bool, healthy: bool,
             temperature: Decimal | None, phone: str, note: str,
             channel: str = "api") -> VisitTask:
    """Record the visit: at home or not, healthy or not, the phone confirmed."""
    require(user, Action.SCREENING_EDIT)
    with transaction.atomic():
        task = (jurisdiction.scope(VisitTask.objects.select_for_update(), user)
                .filter(pk=task_id).first())  # fmt: skip
        if task is None:
            raise NotFound(task_id)
        errors = []
        if task.status == VisitTask.Status.DONE:
            errors.append(FieldError("status", _("This visit is already recorded")))
        if temperature is not None and not Decimal("34") <= temperature <= Decimal("43"):
            errors.append(FieldError("temperature", _("A body temperature is 34 to 43 °C")))
        try:
            phone = phones.normalize(phone) if phone else ""
        except phones.PhoneError as exc:
            errors.append(FieldError("phone", exc.message))
        if errors:
            raise ValidationFailed(errors)
        task.status = VisitTask.Status.DONE
        task.present, task.healthy, task.temperature = present, healthy, temperature
        task.phone_checked, task.note = phone, note[:300]
        task.done_at, task.done_by = timezone.now(), user
        task.save()
        audit.record(user=user, kind=AuditEvent.Kind.UPDATE, object_type="visit_task",
                     object_id=task.pk, channel=channel)
    return task
