"""Background work of the emergency layer: giving a zone's people their measures.

Declaring a sealed zone of 50,000 people must not hold a browser for the time the measures
take; the zone is saved at once and the measures follow in the worker, with a progress bar
on the zone's page (the task record).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_tasks import task

from fangkong.core.models import TaskRecord

from .models import Zone

TASK_KIND = "emergency.zone_measures"


def _save(record_id: int, **fields: Any) -> None:
    TaskRecord.objects.filter(pk=record_id).update(**fields)


def enqueue_measures(zone: Zone, actor: Any) -> TaskRecord:
    record = TaskRecord.objects.create(
        kind=TASK_KIND,
        title=f"封控区措施：{zone.name}"[:200],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    Zone.objects.filter(pk=zone.pk).update(task=record)
    zone.task = record
    result = apply_measures_task.enqueue(record.pk, zone.pk)
    _save(record.pk, task_result_id=str(result.id)[:64])
    return record


@task()
def apply_measures_task(task_record_id: int, zone_id: int) -> dict[str, int]:
    """Apply the measures of zone ``zone_id`` and report on task record ``task_record_id``."""
    from . import services

    _save(task_record_id, status=TaskRecord.Status.RUNNING, started_at=timezone.now())

    def progress(done: int, total: int) -> None:
        _save(task_record_id, done=done, total=total)

    try:
        summary = services.apply_measures(zone_id, progress=progress)
    except Exception:
        _save(
            task_record_id,
            status=TaskRecord.Status.FAILED,
            finished_at=timezone.now(),
            message="措施未能全部落实，请重试；已落实的部分保留。",
        )
        raise
    _save(
        task_record_id,
        status=TaskRecord.Status.SUCCEEDED,
        finished_at=timezone.now(),
        result=summary,
        message=f"{summary['under_measures']} 人已落实管控措施",
    )
    return summary
