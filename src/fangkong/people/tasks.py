"""Background work of the person registry: loading a county folder in the worker.

A county of a million residents takes longer to load than a browser or an SSH session should
wait, so :func:`enqueue_county_import` records a :class:`~fangkong.core.models.TaskRecord`
and hands the folder to the worker; :func:`import_county_task` runs
:func:`~fangkong.people.bulk_import.load_county_dir` and keeps the record's status, progress
and result up to date for the progress bar (web) and progress line (CLI).

Progress is written through a second database connection: the load itself is one
transaction, and anything written inside it stays invisible until it commits. SQLite allows
one writer at a time, so there the record shows "running" and then the result (a demo-sized
county loads in seconds).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.db import connections
from django.utils import timezone
from django_tasks import task

from fangkong.core.errors import FieldError, PermissionDenied, ValidationFailed
from fangkong.core.models import TaskRecord
from fangkong.core.roles import Action, can

from .bulk_import import FILES, ImportFailed, load_county_dir

TASK_KIND = "people.import_county"
PROGRESS_INTERVAL = 0.5  # seconds between progress writes


class _ProgressWriter:
    """Writes ``done``/``total`` of a task record at most every half second, outside the
    import transaction (PostgreSQL only; see the module docstring)."""

    def __init__(self, record_id: int) -> None:
        self.record_id = record_id
        self.last = 0.0
        self.connection: Any = None
        if connections["default"].vendor == "postgresql":
            self.connection = connections.create_connection("default")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.connection is None or (now - self.last < PROGRESS_INTERVAL and done < total):
            return
        self.last = now
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TaskRecord._meta.db_table} SET done = %s, total = %s WHERE id = %s",
                [done, total, self.record_id],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _save(record: TaskRecord, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=list(fields))


@task()
def import_county_task(task_record_id: int, path: str) -> dict[str, Any]:
    """Load the county folder at ``path`` and report on task record ``task_record_id``."""
    record = TaskRecord.objects.select_related("created_by").get(pk=task_record_id)
    _save(record, status=TaskRecord.Status.RUNNING, started_at=timezone.now(), message="")
    progress = _ProgressWriter(record.pk)
    try:
        summary = load_county_dir(
            Path(path), user=record.created_by, progress=progress, channel="task"
        )
    except ImportFailed as exc:
        _save(
            record,
            status=TaskRecord.Status.FAILED,
            finished_at=timezone.now(),
            message=exc.message[:500],
            result={"errors": [e.as_dict() for e in exc.errors[:1000]]},
        )
        return {"error": exc.message}
    except Exception as exc:
        _save(
            record,
            status=TaskRecord.Status.FAILED,
            finished_at=timezone.now(),
            message=f"导入失败，已全部撤销：{exc}"[:500],
        )
        raise
    finally:
        progress.close()
    result = summary.as_dict()
    result["errors"] = result["errors"][:1000]  # the full list is in the CLI report
    total = summary.persons_created + summary.persons_existing + summary.rows_rejected
    _save(
        record,
        status=TaskRecord.Status.SUCCEEDED,
        finished_at=timezone.now(),
        total=max(total, record.total),
        done=max(total, record.total),
        message=summary.describe()[:500],
        result=result,
    )
    return {k: v for k, v in result.items() if k != "errors"}


def enqueue_county_import(*, user: Any, path: str | Path) -> TaskRecord:
    """Queue the load of a county folder for the worker and return its task record.

    The user needs the import permission; rows outside their jurisdiction are rejected
    during the load. ``user=None`` is the operator at the server's command line.
    """
    if user is not None and not can(user, Action.PERSON_IMPORT):
        raise PermissionDenied(Action.PERSON_IMPORT)
    folder = Path(path).resolve()
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise ValidationFailed(
            [FieldError("path", f"文件夹 {folder} 中缺少 {'、'.join(missing)}")]
        )
    record = TaskRecord.objects.create(
        kind=TASK_KIND,
        title=f"导入人员：{folder.name}"[:200],
        created_by=user,
    )
    result = import_county_task.enqueue(record.pk, str(folder))
    _save(record, task_result_id=str(result.id)[:64])
    return record
