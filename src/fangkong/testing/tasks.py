"""Background work of testing: importing a large laboratory file.

A lab's file for a county round holds tens of thousands of tubes; parsing it and writing the
recalls that follow takes longer than a browser should wait, so files over
:data:`BACKGROUND_BYTES` are saved under ``MEDIA_ROOT`` and imported here, with progress on a
:class:`~fangkong.core.models.TaskRecord` the cadre follows on the tasks page.
"""

from __future__ import annotations

from pathlib import Path

from fangkong.core import tasks

from . import labfiles, services

BACKGROUND_BYTES = 2 * 1024 * 1024
TASK_KIND = "testing.results"


@tasks.background(TASK_KIND, failure="结果导入失败，已全部撤销")
def import_results_file(run: tasks.Run, *, campaign_id: int, path: str) -> tasks.Done:
    """Parse and apply one saved lab file as the user who uploaded it (task kit: record,
    Chinese failure, retry). The file is removed once the import has succeeded or the file
    was refused; after an unexpected failure it stays for the retry."""
    file = Path(path)
    if not file.exists():
        raise tasks.TaskFailed("上传的文件已不存在，请重新上传")
    try:
        parsed = labfiles.parse(file.name, file.read_bytes())
        run.progress(0, len(parsed.results))
        report = services.record_results(
            user=run.user,
            campaign_id=campaign_id,
            results=parsed.results,
            source=file.name[:200],
            errors=parsed.errors,
        )
    except (labfiles.LabFileError, services.ValidationFailed) as exc:
        file.unlink(missing_ok=True)
        raise tasks.TaskFailed(str(exc)) from None
    file.unlink(missing_ok=True)
    return tasks.Done(
        f"已录入 {report.applied} 管，未知试管 {len(report.unknown)} 个，"
        f"召回 {report.recalled_persons} 人，疑似病例 {report.suspected_cases} 例",
        result=report.as_dict(),
        total=len(parsed.results),
    )
