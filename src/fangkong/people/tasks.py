"""Background work of the person registry: loading a county folder in the worker.

A county of a million residents takes longer to load than a browser or an SSH session should
wait, so :func:`enqueue_county_import` hands the folder to the worker through the task kit
(:mod:`fangkong.core.tasks`: record, progress, Chinese failure message, retry, reaper);
:func:`import_county_task` runs :func:`~fangkong.people.bulk_import.load_county_dir`, one
transaction, so a failed or killed load leaves nothing half-stored and a retry loads once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fangkong.core import tasks
from fangkong.core.errors import FieldError, PermissionDenied, ValidationFailed
from fangkong.core.models import TaskRecord
from fangkong.core.roles import Action, can

from .bulk_import import FILES, ImportFailed, load_county_dir

TASK_KIND = "people.import_county"
# Kept for the modules that still import them from here (the kit holds them now).
_ProgressWriter = tasks.ProgressWriter
_save = tasks.save


@tasks.background(TASK_KIND, failure="导入失败，已全部撤销")
def import_county_task(run: tasks.Run, path: str) -> tasks.Done:
    """Load the county folder at ``path`` as the user who asked (all or nothing)."""
    try:
        summary = load_county_dir(Path(path), user=run.user, progress=run.progress, channel="task")
    except ImportFailed as exc:
        raise tasks.TaskFailed(
            exc.message, {"errors": [e.as_dict() for e in exc.errors[:1000]]}
        ) from None
    result = summary.as_dict()
    total = summary.persons_created + summary.persons_existing + summary.rows_rejected
    return tasks.Done(summary.describe(), result=result, total=max(total, run.record.total))


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
        raise ValidationFailed([FieldError("path", f"文件夹 {folder} 中缺少 {'、'.join(missing)}")])
    return tasks.enqueue(
        import_county_task, title=f"导入人员：{folder.name}", user=user, args=[str(folder)]
    )
