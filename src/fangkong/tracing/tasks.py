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
from django.utils.translation import gettext as _

from fangkong.core import tasks, uploads
from fangkong.core.errors import FieldError, PermissionDenied, ValidationFailed
from fangkong.core.models import TaskRecord
from fangkong.core.roles import Action, can

from . import linelist

TASK_KIND = "tracing.line_list"
SYNC_LIMIT_BYTES = 1024 * 1024
MAX_ERRORS_KEPT = 1000


def enqueue_line_list_import(*, user: Any, upload: Any, region_code: str) -> TaskRecord:
    """Keep the uploaded file under MEDIA_ROOT and queue its import for the worker."""
    if not can(user, Action.TRACING_MANAGE):
        raise PermissionDenied(Action.TRACING_MANAGE)
    folder = Path(settings.MEDIA_ROOT) / "tracing-line-lists"
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    # Readable by the server alone (0600), counted against the user's quota; the task
    # deletes it after the import.
    try:
        kept = uploads.store_private(
            upload.chunks(),
            folder,
            limit=20 * 1024 * 1024,
            user=user,
            kind=TASK_KIND,
            file_name=upload.name,
        )
    except uploads.UnsafeUpload as exc:
        raise ValidationFailed([FieldError("file", exc.message)]) from None
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    kept.path.replace(path)
    uploads.record_upload(user, TASK_KIND, upload.name, kept)
    return tasks.enqueue(
        import_line_list_task,
        title=_("Import a line list") + f": {upload.name}",
        user=user,
        kwargs={"path": str(path), "filename": upload.name[:200], "region_code": region_code},
    )


@tasks.background(TASK_KIND, failure="病例一览表导入失败，已全部撤销")
def import_line_list_task(
    run: tasks.Run, *, path: str, filename: str, region_code: str
) -> tasks.Done:
    """Import the stored file as the user who uploaded it (task kit: record, Chinese
    failure, retry). The file is removed once imported or refused; after an unexpected
    failure it stays for the retry."""
    file = Path(path)
    if not file.exists():
        raise tasks.TaskFailed("上传的文件已不存在，请重新上传")
    try:
        summary = linelist.import_line_list(
            user=run.user,
            content=file.read_bytes(),
            filename=filename,
            region_code=region_code,
            channel="task",
        )
    except (ValidationFailed, PermissionDenied) as exc:
        file.unlink(missing_ok=True)
        raise tasks.TaskFailed(str(exc)) from None
    file.unlink(missing_ok=True)
    result = {
        "created": summary.created,
        "linked": summary.linked,
        "clusters": summary.clusters,
        "largest_cluster": summary.largest_cluster,
        "error_count": len(summary.errors),
        "errors": [e.as_dict() for e in summary.errors[:MAX_ERRORS_KEPT]],
    }
    return tasks.Done(
        _("%(created)s cases imported, %(errors)s rows with problems")
        % {"created": summary.created, "errors": len(summary.errors)},
        result=result,
        total=summary.created,
    )
