"""Background work of testing: importing a large laboratory file.

A lab's file for a county round holds tens of thousands of tubes; parsing it and writing the
recalls that follow takes longer than a browser should wait, so files over
:data:`BACKGROUND_BYTES` are saved under ``MEDIA_ROOT`` and imported here, with progress on a
:class:`~fangkong.core.models.TaskRecord` the cadre follows on the tasks page.
"""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone
from django_tasks import task

from fangkong.core.models import TaskRecord, User

from . import labfiles, services

BACKGROUND_BYTES = 2 * 1024 * 1024


@task()
def import_results_file(*, record_id: int, campaign_id: int, user_id: int, path: str) -> dict:
    """Parse and apply one saved lab file; the report is kept on the task record."""
    record = TaskRecord.objects.get(pk=record_id)
    record.status, record.started_at = TaskRecord.Status.RUNNING, timezone.now()
    record.save(update_fields=["status", "started_at"])
    file = Path(path)
    try:
        parsed = labfiles.parse(file.name, file.read_bytes())
        record.total = len(parsed.results)
        record.save(update_fields=["total"])
        report = services.record_results(
            user=User.objects.get(pk=user_id), campaign_id=campaign_id,
            results=parsed.results, source=file.name[:200], errors=parsed.errors,
        )  # fmt: skip
    except (labfiles.LabFileError, services.ValidationFailed) as exc:
        record.status, record.message = TaskRecord.Status.FAILED, str(exc)[:500]
        record.finished_at = timezone.now()
        record.save(update_fields=["status", "message", "finished_at"])
        return {"error": str(exc)}
    finally:
        file.unlink(missing_ok=True)
    record.status, record.done, record.finished_at = (
        TaskRecord.Status.SUCCEEDED, record.total, timezone.now()
    )
    record.result = report.as_dict()
    record.message = (
        f"已录入 {report.applied} 管，未知试管 {len(report.unknown)} 个，"
        f"召回 {report.recalled_persons} 人，疑似病例 {report.suspected_cases} 例"
    )
    record.save(update_fields=["status", "done", "finished_at", "result", "message"])
    return report.as_dict()
