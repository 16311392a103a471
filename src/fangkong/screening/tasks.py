"""Background work of screening: re-evaluation after a rule change, and ledger imports.

Both record a :class:`~fangkong.core.models.TaskRecord` so the web page and the CLI show
progress. Progress is written through a second connection on PostgreSQL (the work itself is
one transaction whose writes stay invisible until it commits), as the people import does.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from fangkong.core import tasks
from fangkong.core.errors import public_message
from fangkong.core.models import TaskRecord
from fangkong.people.tasks import _ProgressWriter, _save

from .evaluation import NoPolicy, evaluate_region

logger = logging.getLogger(__name__)

REEVALUATE_KIND = "screening.reevaluate"
LEDGER_KIND = "screening.ledger_import"


@tasks.background(REEVALUATE_KIND, failure="研判失败，原有决定保持不变")
def reevaluate_task(run: tasks.Run, region_code: str) -> tasks.Done:
    """Re-evaluate ``region_code`` against its current policy and the risk areas."""
    try:
        summary = evaluate_region(region_code=region_code, progress=run.progress)
    except NoPolicy:
        raise tasks.TaskFailed(f"{region_code} 尚无管控政策，无法研判") from None
    from .visits import create_for_region, escalate_overdue

    created = create_for_region(region_code=region_code)
    escalate_overdue()
    return tasks.Done(
        f"{summary.describe()}；新增走访任务 {created:,} 条",
        result={**summary.as_dict(), "visits_created": created},
        total=summary.stays_read,
    )


def enqueue_reevaluation(*, user: Any, region_code: str, why: str) -> TaskRecord:
    """Queue the re-evaluation of a region; the caller has checked the permission."""
    return tasks.enqueue(
        reevaluate_task, title=f"重新研判 {region_code}：{why}", user=user, args=[region_code]
    )


@task()
def ledger_import_task(task_record_id: int, import_id: int) -> dict[str, Any]:
    """Validate and import one uploaded ledger file (see :mod:`.ledgers`)."""
    from . import ledgers
    from .models import LedgerImport

    record = TaskRecord.objects.get(pk=task_record_id)
    _save(record, status=TaskRecord.Status.RUNNING, started_at=timezone.now())
    progress = _ProgressWriter(record.pk)
    try:
        outcome = ledgers.run_import(import_id=import_id, progress=progress)
    except Exception as exc:
        message = f"导入失败，已全部撤销：{public_message(exc)}"[:500]
        LedgerImport.objects.filter(pk=import_id).update(
            status=LedgerImport.Status.FAILED, message=message
        )
        _save(record, status=TaskRecord.Status.FAILED, finished_at=timezone.now(), message=message)
        raise
    finally:
        progress.close()
        ended = LedgerImport.objects.filter(pk=import_id).first()
        if ended is not None and ended.status != LedgerImport.Status.QUEUED:
            ledgers.discard_file(ended)
    if outcome.status == "done":
        # A failed evaluation leaves the import stored; its page says no decision was made.
        try:
            ledgers.follow_up(outcome)
        except Exception:
            logger.exception("evaluation after ledger import %s failed", import_id)
    status = TaskRecord.Status.SUCCEEDED if outcome.status == "done" else TaskRecord.Status.FAILED
    _save(
        record,
        status=status,
        finished_at=timezone.now(),
        done=outcome.rows_total,
        total=outcome.rows_total,
        message=outcome.message[:500],
        result={"import_id": outcome.pk},
    )
    return {"import_id": outcome.pk, "status": outcome.status}


RECONCILE_KIND = "screening.reconcile"


@tasks.background(RECONCILE_KIND, failure="比对失败，未作任何更改")
def reconcile_task(run: tasks.Run, region_code: str, scope: str = "village") -> tasks.Done:
    """Link the unlinked list entries of ``region_code`` (see :mod:`.reconciliation`)."""
    from .reconciliation import reconcile

    summary = reconcile(user=run.user, region_code=region_code, channel="task", scope=scope)
    return tasks.Done(
        f"比对 {summary.records:,} 条：身份证号一致 {summary.linked_by_id:,}，"
        f"自动关联 {summary.linked_automatically:,}，待人工核实 {summary.for_review:,}，"
        f"未匹配 {summary.unmatched:,}，"
        f"未登记人员 {summary.unregistered:,}",
        result=summary.as_dict(),
        total=summary.records,
    )


def enqueue_reconcile(*, user: Any, region_code: str, scope: str = "village") -> TaskRecord:
    """Queue a reconciliation of a region; the checks run first, in the caller (a scope
    wider than the village is the county's to choose)."""
    from fangkong.core import jurisdiction
    from fangkong.core.errors import NotFound
    from fangkong.core.roles import Action

    from .services import require

    require(user, Action.SCREENING_EDIT)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    from .reconciliation import SCOPE_NAMES, check_scope

    check_scope(user, region_code, scope)
    title = f"名单比对 {region_code}"
    if scope != "village":
        title += f"（{SCOPE_NAMES[scope]}）"
    return tasks.enqueue(
        reconcile_task, title=title, user=user, args=[region_code], kwargs={"scope": scope}
    )
