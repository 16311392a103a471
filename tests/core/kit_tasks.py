"""Task bodies written with the task kit, for tests/core/test_tasks.py."""

from __future__ import annotations

from django.db import transaction

from fangkong.core import tasks
from fangkong.core.models import Region

CALLS: list[str] = []


@tasks.background("test.add_region", failure="添加失败，已全部撤销")
def add_region(run: tasks.Run, code: str, fail: str = "") -> tasks.Done:
    """Stores one region, then fails as told: "expected", "crash", "crash-once" (the first
    run only) or "" (succeeds)."""
    CALLS.append(code)
    run.progress(1, 2)
    with transaction.atomic():  # all or nothing, as every import
        Region.objects.create(code=code, name=f"测试{code}", level="county")
        if fail == "expected":
            raise tasks.TaskFailed("第 3 行：身份证号校验位错误", {"errors": [{"row": 3}]})
        if fail == "crash" or (fail == "crash-once" and CALLS.count(code) == 1):
            raise RuntimeError('relation "secret_table" does not exist')
    return tasks.Done(f"已添加 {code}", result={"code": code}, total=1)


@tasks.background("test.import_regions", failure="导入失败，已全部撤销")
def import_regions(run: tasks.Run, prefix: str, count: int, marker: str) -> tasks.Done:
    """An import of ``count`` regions in one transaction, batch by batch with progress. The
    first run (no ``marker`` file yet) stalls after its first batch, so a test can kill the
    worker in the middle of it; later runs go straight through."""
    import time
    from pathlib import Path

    first = not Path(marker).exists()
    Path(marker).touch()
    with transaction.atomic():
        for start in range(0, count, 10):
            Region.objects.bulk_create(
                Region(code=f"{prefix}{i:04d}", name=f"测试{i}", level="county")
                for i in range(start, min(start + 10, count))
            )
            run.progress(min(start + 10, count), count)
            if first:
                time.sleep(600)
    return tasks.Done(f"已导入 {count} 个", result={"count": count}, total=count)
