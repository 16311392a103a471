"""Background work of contact tracing: importing a large line list in the worker.

A county's line list is usually a few thousand rows and imports within the request; a file
above :data:`SYNC_LIMIT_BYTES` (a province's list, tens of thousands of rows) goes to the
worker instead, with a :class:`~fangkong.core.models.TaskRecord` whose status and result —
counts and every row error — the task pages show, as for the other imports.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.core.models import TaskRecord, User
from fangkong.core.roles import Action, can

from . import linelist

TASK_KIND = "tracing.line_list"
SYNC_LIMIT_BYTES = 1024 * 1024
MAX_ERRORS_KEPT = 1000


def _save(record: TaskRecord, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=list(fields))


def enqueue_line_list_import(*, user: Any, upload: Any, region_code: str) -> TaskRecord:
    """Keep the uploaded file under MEDIA_ROOT and queue its import for the worker."""
    if not can(user, Action.TRACING_MANAGE):
        raise PermissionDenied(Action.TRACING_MANAGE)
    folder = Path(settings.MEDIA_ROOT) / "tracing-line-lists"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    record = TaskRecord.objects.create(
        kind=TASK_KIND,
        title=(_("Import a line list") + f": {upload.name}")[:200],
        created_by=user,
    )
    result = import_line_list_task.enqueue(
        record_id=record.pk, path=str(path), filename=upload.name[:200], region_code=region_code
    )
    _save(record, task_result_id=str(result.id)[:64])
    return record


@task()
def import_line_list_task(
    *, record_id: int, path: str, filename: str, region_code: str
) -> dict[str, Any]:
    """Import the stored file as the user who uploaded it; the file is removed afterwards."""
    record = TaskRecord.objects.select_related("created_by").get(pk=record_id)
    _save(record, status=TaskRecord.Status.RUNNING, started_at=timezone.now())
    file = Path(path)
    user: User | None = record.created_by
    try:
        summary = linelist.import_line_list(
            user=user,
            content=file.read_bytes(),
            filename=filename,
            region_code=region_code,
            channel="task",
        )
    except (ValidationFailed, PermissionDenied) as exc:
        _save(
            record,
            status=TaskRecord.Status.FAILED,
            finished_at=timezone.now(),
            message=str(exc)[:500],
        )
        return {}
    finally:
        file.unlink(missing_ok=True)
    result = {
        "created": summary.created,
        "linked": summary.linked,
        "clusters": summary.clusters,
        "largest_cluster": summary.largest_cluster,
        "error_count": len(summary.errors),
        "errors": [e.as_dict() for e in summary.errors[:MAX_ERRORS_KEPT]],
    }
    _save(
        record,
        status=TaskRecord.Status.SUCCEEDED,
        finished_at=timezone.now(),
        result=result,
        total=summary.created,
        done=summary.created,
        message=_("%(created)s cases imported, %(errors)s rows with problems")
        % {"created": summary.created, "errors": len(summary.errors)},
    )
    return result
