"""Background work of screening: re-evaluation after a rule change, and ledger imports.

Both record a :class:`~fangkong.core.models.TaskRecord` so the web page and the CLI show
progress. Progress is written through a second connection on PostgreSQL (the work itself is
one transaction whose writes stay invisible until it commits), as the people import does.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_tasks import task

from fangkong.core.models import TaskRecord
from fangkong.people.tasks import _ProgressWriter, _save

from .evaluation import NoPolicy, evaluate_region

REEVALUATE_KIND = "screening.reevaluate"
LEDGER_KIND = "screening.ledger_import"


@task()
def reevaluate_task(task_record_id: int, region_code: str) -> dict[str, Any]:
    """Re-evaluate ``region_code`` against its current policy and the risk areas."""
    record = TaskRecord.objects.get(pk=task_record_id)
    _save(record, status=TaskRecord.Status.RUNNING, started_at=timezone.now())
    progress = _ProgressWriter(record.pk)
    try:
        summary = evaluate_region(region_code=region_code, progress=progress)
    except NoPolicy:
        _save(record, status=TaskRecord.Status.FAILED, finished_at=timezone.now(),
              message=f"{region_code} 尚无管控政策，无法研判")  # fmt: skip
        return {"error": "no policy"}
    except Exception as exc:
        _save(record, status=TaskRecord.Status.FAILED, finished_at=timezone.now(),
              message=f"研判失败，原有决定保持不变：{exc}"[:500])  # fmt: skip
        raise
    finally:
        progress.close()
    from .visits import create_for_region, escalate_overdue

    created = create_for_region(region_code=region_code)
    escalate_overdue()
    summary_dict = {**summary.as_dict(), "visits_created": created}
    _save(record, status=TaskRecord.Status.SUCCEEDED, finished_at=timezone.now(),
          done=summary.stays_read, total=summary.stays_read,
          message=f"{summary.describe()}；新增走访任务 {created:,} 条"[:500],
          result=summary_dict)  # fmt: skip
    return summary_dict


def enqueue_reevaluation(*, user: Any, region_code: str, why: str) -> TaskRecord:
    """Queue the re-evaluation of a region; the caller has checked the permission."""
    record = TaskRecord.objects.create(
        kind=REEVALUATE_KIND, title=f"重新研判 {region_code}：{why}"[:200], created_by=user
    )
    result = reevaluate_task.enqueue(record.pk, region_code)
    record.refresh_from_db()
    if not record.task_result_id:
        _save(record, task_result_id=str(result.id)[:64])
    return record


@task()
def ledger_import_task(task_record_id: int, import_id: int) -> dict[str, Any]:
    """Validate and import one uploaded ledger file (see :mod:`.ledgers`)."""
    from . import ledgers

    record = TaskRecord.objects.get(pk=task_record_id)
    _save(record, status=TaskRecord.Status.RUNNING, started_at=timezone.now())
    progress = _ProgressWriter(record.pk)
    try:
        outcome = ledgers.run_import(import_id=import_id, progress=progress)
    except Exception as exc:
        from .models import LedgerImport

        message = f"导入失败，已全部撤销：{exc}"[:500]
        LedgerImport.objects.filter(pk=import_id).update(status=LedgerImport.Status.FAILED,
                                                         message=message)
        _save(record, status=TaskRecord.Status.FAILED, finished_at=timezone.now(),
              message=message)  # fmt: skip
        raise
    finally:
        progress.close()
    status = (TaskRecord.Status.SUCCEEDED if outcome.status == "done"
              else TaskRecord.Status.FAILED)  # fmt: skip
    _save(record, status=status, finished_at=timezone.now(), done=outcome.rows_total,
          total=outcome.rows_total, message=outcome.message[:500],
          result={"import_id": outcome.pk})  # fmt: skip
    return {"import_id": outcome.pk, "status": outcome.status}


RECONCILE_KIND = "screening.reconcile"


@task()
def reconcile_task(task_record_id: int, region_code: str) -> dict[str, Any]:
    """Link the unlinked list entries of ``region_code`` (see :mod:`.reconciliation`)."""
    from .reconciliation import reconcile

    record = TaskRecord.objects.select_related("created_by").get(pk=task_record_id)
    _save(record, status=TaskRecord.Status.RUNNING, started_at=timezone.now())
    try:
        summary = reconcile(user=record.created_by, region_code=region_code, channel="task")
    except Exception as exc:
        _save(record, status=TaskRecord.Status.FAILED, finished_at=timezone.now(),
              message=f"比对失败，未作任何更改：{exc}"[:500])  # fmt: skip
        raise
    _save(record, status=TaskRecord.Status.SUCCEEDED, finished_at=timezone.now(),
          done=summary.records, total=summary.records, result=summary.as_dict(),
          message=(f"比对 {summary.records:,} 条：身份证号一致 {summary.linked_by_id:,}，"
                   f"自动关联 {summary.linked_automatically:,}，待人工核实 {summary.for_review:,}，"
                   f"未匹配 {summary.unmatched:,}，"
                   f"未登记人员 {summary.unregistered:,}"))  # fmt: skip
    return summary.as_dict()


def enqueue_reconcile(*, user: Any, region_code: str) -> TaskRecord:
    """Queue a reconciliation of a region; the checks run first, in the caller."""
    from fangkong.core import jurisdiction
    from fangkong.core.errors import NotFound
    from fangkong.core.roles import Action

    from .services import require

    require(user, Action.SCREENING_EDIT)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    record = TaskRecord.objects.create(kind=RECONCILE_KIND, title=f"名单比对 {region_code}",
                                       created_by=user)
    result = reconcile_task.enqueue(record.pk, region_code)
    TaskRecord.objects.filter(pk=record.pk, task_result_id="").update(
        task_result_id=str(result.id)[:64])
    record.refresh_from_db()
    return record
