"""The task kit: one way to run long work in the background worker (issue 11).

A module writes its task body once, as a plain function of a :class:`Run` (the task record,
the user who asked, a progress callback) that calls its services, and gets:

- a :class:`~fangkong.core.models.TaskRecord` the tasks page and the CLI follow (status,
  progress bar, result), created by :func:`enqueue`;
- progress written outside the work's own transaction (PostgreSQL), so the bar moves while
  a one-transaction import is still running;
- a Chinese failure message for the user: :class:`TaskFailed` for the expected ones (a bad
  file: "第 12 行…"), and for anything else the module's ``failure`` sentence plus
  :func:`~fangkong.core.errors.public_message` (never raw database text);
- retry (:func:`retry`): a failed task runs again on the same record with the same
  arguments (the work must be all-or-nothing, as every import is, so a retry imports once);
- a reaper (:func:`reap`, a periodic job every :data:`REAP_EVERY_SECONDS`): tasks of a
  worker that stopped beating (killed, machine gone) are marked failed with a message,
  instead of staying "queued"/"running" for ever;
- worker heartbeats (:func:`beat`, :class:`Heartbeat`) and :func:`worker_status` for the
  "worker last seen" line and the stale-worker warning.

Usage::

    from fangkong.core import tasks

    @tasks.background("people.import_county", failure="导入失败，已全部撤销")
    def import_county(run: tasks.Run, path: str) -> tasks.Done:
        summary = load_county_dir(Path(path), user=run.user, progress=run.progress)
        return tasks.Done(summary.describe(), result=summary.as_dict(), total=summary.rows)

    record = tasks.enqueue(import_county, title="导入人员：拜泉县", user=user, args=[path])

Arguments must be JSON values (they are stored on the record for the retry).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task as django_task

from .errors import NotFound, PermissionDenied, VersionConflict, public_message
from .models import TaskRecord, WorkerBeat

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5  # seconds between progress writes
HEARTBEAT_SECONDS = 10.0  # a worker writes its beat this often
STALE_SECONDS = 90  # a worker not seen for this long is taken for dead
REAP_EVERY_SECONDS = 30
DIED_MESSAGE = (
    "后台进程在执行此任务时停止响应（进程被终止或服务器重启），任务未完成，已全部撤销；"
    "可点击“重试”重新执行。"
)
LOST_MESSAGE = "任务已结束，但结果未能记录（后台进程出错）；可点击“重试”重新执行。"

Status = TaskRecord.Status
_current_worker: dict[str, str] = {}


def set_current_worker(worker_id: str) -> None:
    """Called by ``fangkong worker`` at start: records claimed by this process carry the id."""
    _current_worker["id"] = worker_id[:64]


def current_worker() -> str:
    return _current_worker.get("id", "")


# ------------------------------------------------------------------ progress and records


def save(record: TaskRecord, **fields: Any) -> None:
    """Set ``fields`` on ``record`` and write only them."""
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=list(fields))


class ProgressWriter:
    """Writes ``done``/``total`` of a task record at most every half second, through a
    connection of its own (PostgreSQL), so the writes are visible while the work's
    transaction is still open. On SQLite (one writer at a time) it writes nothing."""

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
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {TaskRecord._meta.db_table} SET done = %s, total = %s WHERE id = %s",
                    [done, total, self.record_id],
                )
        except DatabaseError:
            # The bar stands still for a moment; the work itself must not fail for it.
            logger.warning("progress of task record %s not written", self.record_id)
            self.connection.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


# ------------------------------------------------------------------ the task decorator


class TaskFailed(Exception):
    """An expected failure (a bad file, no policy yet): ``message`` is shown to the user as
    it is, ``result`` (row errors…) is kept on the record; nothing was stored."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result or {}


@dataclass
class Done:
    """What a task body returns: the sentence shown to the user and the result kept."""

    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    total: int | None = None


@dataclass
class Run:
    record: TaskRecord
    progress: Callable[[int, int], None]

    @property
    def user(self) -> Any:
        return self.record.created_by


@dataclass(frozen=True)
class Kind:
    key: str
    failure: str
    retryable: bool


_KINDS: dict[str, Kind] = {}
_KIND_OF_TASK: dict[str, str] = {}  # task path -> kind


def background(
    kind: str, *, failure: str, retryable: bool = True
) -> Callable[[Callable[..., Done]], Any]:
    """Turn ``body(run, *args, **kwargs) -> Done`` into a task of the worker; enqueue it
    with :func:`enqueue`. ``failure``: the Chinese sentence that starts the message of an
    unexpected failure ("导入失败，已全部撤销"). ``retryable``: the tasks page offers "重试"."""

    _KINDS[kind] = Kind(kind, failure, retryable)

    def decorate(body: Callable[..., Done]) -> Any:
        @functools.wraps(body)
        def runner(task_record_id: int, *args: Any, **kwargs: Any) -> dict:
            return _run(kind, body, task_record_id, args, kwargs)

        wrapped = django_task()(runner)
        _KIND_OF_TASK[wrapped.module_path] = kind
        return wrapped

    return decorate


def _run(
    kind: str,
    body: Callable[..., Done],
    record_id: int,
    args: Sequence[Any],
    kwargs: dict[str, Any],
) -> dict:
    record = TaskRecord.objects.select_related("created_by").filter(pk=record_id).first()
    if record is None:
        return {"error": "record gone"}
    # A record that already ended (a second delivery) does not run the work again.
    claimed = TaskRecord.objects.filter(pk=record_id, status__in=[Status.QUEUED, Status.RUNNING])
    if not claimed.update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        message="",
        worker_id=current_worker(),
    ):
        return {"skipped": "the record is not waiting for this run"}
    TaskRecord.objects.filter(pk=record_id).update(attempts=record.attempts + 1)
    record.refresh_from_db()
    progress = ProgressWriter(record.pk)
    try:
        done = body(Run(record, progress), *args, **kwargs)
    except TaskFailed as exc:
        _finish(record, Status.FAILED, exc.message, exc.result)
        return {"error": exc.message}
    except Exception as exc:
        message = f"{_KINDS[kind].failure}：{public_message(exc)}"
        _finish(record, Status.FAILED, message, None)
        raise
    finally:
        progress.close()
    done = done if isinstance(done, Done) else Done(result=dict(done or {}))
    record.refresh_from_db(fields=["total"])
    total = max(done.total if done.total is not None else record.total, 0)
    _finish(record, Status.SUCCEEDED, done.message, done.result, total=total)
    return {k: v for k, v in done.result.items() if k != "errors"}


def _finish(
    record: TaskRecord,
    status: str,
    message: str,
    result: dict[str, Any] | None,
    total: int | None = None,
) -> None:
    fields: dict[str, Any] = {
        "status": status,
        "finished_at": timezone.now(),
        "message": message[:500],
    }
    if result is not None:
        if isinstance(result.get("errors"), list):
            result = {**result, "errors": result["errors"][:1000]}
        fields["result"] = result
    if total is not None:
        fields["total"] = fields["done"] = total
    _drop_broken_connection()  # the work may have outlived the connection
    TaskRecord.objects.filter(pk=record.pk).update(**fields)
    for name, value in fields.items():
        setattr(record, name, value)


def _drop_broken_connection() -> None:
    """Close the connection when an error left it unusable (it reconnects on next use)."""
    if connection.connection is None or connection.in_atomic_block:
        return
    if connection.errors_occurred and not connection.is_usable():
        connection.close()


def enqueue(
    task: Any,
    *,
    title: str,
    user: Any,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
) -> TaskRecord:
    """Record and queue ``task`` (made by :func:`background`); the caller has checked the
    user's permission. Returns the record the tasks page shows."""
    kwargs = dict(kwargs or {})
    record = TaskRecord.objects.create(
        kind=_KIND_OF_TASK.get(task.module_path, "")[:40],
        title=title[:200],
        created_by=user,
        task_path=task.module_path[:200],
        arguments={"args": list(args), "kwargs": kwargs},
    )
    _send(task, record, args, kwargs)
    record.refresh_from_db()
    return record


def _send(task: Any, record: TaskRecord, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    result = task.enqueue(record.pk, *args, **kwargs)
    # The immediate backend (tests) has run the task already and set the id itself.
    TaskRecord.objects.filter(pk=record.pk, task_result_id="").update(
        task_result_id=str(result.id)[:64]
    )


def can_retry(user: Any, record: TaskRecord) -> bool:
    from .roles import Action, can

    kind = _KINDS.get(record.kind)
    return (
        record.status == Status.FAILED
        and kind is not None
        and kind.retryable
        and bool(record.task_path)
        and getattr(user, "is_authenticated", False)
        and (record.created_by_id == user.pk or can(user, Action.TASK_VIEW_ALL))
    )


def retry(record: TaskRecord, *, user: Any) -> TaskRecord:
    """Run a failed task again, on the same record, as the user who first asked (the
    retrying user does not lend their rights). A task not failed (a second click) is a
    :class:`VersionConflict`."""
    from .roles import Action, can

    if record.created_by_id != getattr(user, "pk", None) and not can(user, Action.TASK_VIEW_ALL):
        raise PermissionDenied(Action.TASK_VIEW_ALL)
    if not can_retry(user, record):
        if record.status != Status.FAILED:
            raise VersionConflict(0, "任务未失败或已在重试中，无需重试")
        raise NotFound(record.pk)
    with transaction.atomic():
        reset = TaskRecord.objects.filter(pk=record.pk, status=Status.FAILED).update(
            status=Status.QUEUED,
            done=0,
            message="",
            started_at=None,
            finished_at=None,
            worker_id="",
            task_result_id="",
        )
        if not reset:
            raise VersionConflict(0, "任务已在重试中")
    task = import_string(record.task_path)
    stored = record.arguments or {}
    _send(task, record, stored.get("args", []), stored.get("kwargs", {}))
    record.refresh_from_db()
    return record


# ------------------------------------------------------------------ heartbeats and the reaper


def beat(worker_id: str, *, runs_tasks: bool = True, runs_periodic: bool = True) -> None:
    """Record that ``worker_id`` is alive now."""
    now = timezone.now()
    _STATUS_CACHE.clear()
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(last_seen=now)
    if not updated:
        WorkerBeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "host": socket.gethostname()[:100],
                "pid": os.getpid(),
                "runs_tasks": runs_tasks,
                "runs_periodic": runs_periodic,
                "started_at": now,
                "last_seen": now,
            },
        )


class Heartbeat(threading.Thread):
    """A daemon thread of the worker process that beats every :data:`HEARTBEAT_SECONDS`,
    through its own connection; a lost database only delays the beats (reconnects with
    back-off), it never ends the thread."""

    def __init__(self, worker_id: str, **kinds: bool) -> None:
        super().__init__(name="fangkong-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.kinds = kinds
        self.stopping = threading.Event()

    def run(self) -> None:
        pause = HEARTBEAT_SECONDS
        while not self.stopping.is_set():
            try:
                beat(self.worker_id, **self.kinds)
                pause = HEARTBEAT_SECONDS
            except DatabaseError:
                logger.warning("worker heartbeat not written; retrying")
                connection.close()
                pause = min(pause * 2, 60.0)
            self.stopping.wait(pause)
        connection.close()


@dataclass(frozen=True)
class WorkerStatus:
    last_seen: dt.datetime | None
    stale: bool  # no worker seen within STALE_SECONDS (or never)

    @property
    def seconds_ago(self) -> int | None:
        if self.last_seen is None:
            return None
        return max(0, int((timezone.now() - self.last_seen).total_seconds()))


def worker_status(now: dt.datetime | None = None) -> WorkerStatus:
    """When a task worker was last seen, and whether that is too long ago."""
    now = now or timezone.now()
    last = (
        WorkerBeat.objects.filter(runs_tasks=True)
        .order_by("-last_seen")
        .values_list("last_seen", flat=True)
        .first()
    )
    return WorkerStatus(last, last is None or now - last > dt.timedelta(seconds=STALE_SECONDS))


_STATUS_CACHE: dict[str, tuple[float, WorkerStatus]] = {}


def worker_status_cached(seconds: float = 15.0) -> WorkerStatus:
    """:func:`worker_status` at most every ``seconds`` per process (the banner on every
    page of the supervising roles)."""
    now = time.monotonic()
    cached = _STATUS_CACHE.get("status")
    if cached is None or now - cached[0] > seconds:
        cached = (now, worker_status())
        _STATUS_CACHE["status"] = cached
    return cached[1]


def fail_results(results: Sequence[Any], reason: str) -> int:
    """Mark django-tasks results failed (with the worker's death as the error) and their
    task records failed with ``reason``; the modules hear it on
    ``core.signals.background_task_died``. Returns how many results."""
    failed = 0
    for result in results:
        result.set_failed(WorkerDied(reason))
        records = list(
            TaskRecord.objects.filter(
                task_result_id=str(result.id), status__in=[Status.QUEUED, Status.RUNNING]
            ).values_list("pk", flat=True)
        )
        _fail_records(records, reason)
        failed += 1
    return failed


def _fail_records(records: list[int], reason: str) -> None:
    from . import signals

    TaskRecord.objects.filter(pk__in=records).update(
        status=Status.FAILED, message=reason[:500], finished_at=timezone.now()
    )
    for record in records or [None]:
        signals.background_task_died.send(sender=WorkerDied, task_record_id=record, reason=reason)


class WorkerDied(RuntimeError):
    """The worker process ended (or stopped answering) while it ran the task."""


def reap(now: dt.datetime | None = None) -> int:
    """Fail what a dead worker left behind; returns how many tasks were failed.

    - a running task whose worker has not beaten for :data:`STALE_SECONDS` (or never beat,
      and started that long ago);
    - a task record still "queued"/"running" whose queued task has already ended (the body
      crashed before it could record the outcome).
    """
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=STALE_SECONDS)
    beats = WorkerBeat.objects.filter(last_seen__gte=cutoff)
    alive = set(beats.values_list("worker_id", flat=True))
    orphans = [
        result
        for result in DBTaskResult.objects.running().filter(started_at__lt=cutoff)
        if not result.worker_ids or result.worker_ids[-1] not in alive
    ]
    count = fail_results(orphans, DIED_MESSAGE)
    open_records = TaskRecord.objects.filter(
        status__in=[Status.QUEUED, Status.RUNNING], created_at__lt=cutoff
    ).exclude(task_result_id="")
    ids = {r.task_result_id: r.pk for r in open_records.only("pk", "task_result_id")}
    if ids:
        ended = DBTaskResult.objects.filter(
            id__in=[i for i in ids if _is_uuid(i)], status__in=["FAILED", "SUCCESSFUL"]
        ).values_list("id", flat=True)
        lost = [ids[str(i)] for i in ended]
        if lost:
            _fail_records(lost, LOST_MESSAGE)
            count += len(lost)
    # Records of the kit whose worker stopped beating though no queued task says so.
    stale = TaskRecord.objects.filter(status=Status.RUNNING, started_at__lt=cutoff).exclude(
        worker_id=""
    )
    gone = list(stale.exclude(worker_id__in=alive).values_list("pk", flat=True))
    if gone:
        _fail_records(gone, DIED_MESSAGE)
        count += len(gone)
    return count


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def reap_job() -> None:
    # A beat row per worker start: keep a week of them.
    WorkerBeat.objects.filter(last_seen__lt=timezone.now() - dt.timedelta(days=7)).delete()
    n = reap()
    if n:
        logger.warning("%s task(s) of dead workers marked failed", n)
