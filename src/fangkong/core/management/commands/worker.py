"""fangkong worker: queued background tasks and the periodic jobs, supervised.

By default the command supervises a child process that does the work (``--no-supervise``
does it in this process): the child runs under a memory ceiling and is started again when it
dies. A task the child was running when it died — a ledger that unpacks into more memory than
the ceiling, say — is marked failed with the reason, instead of staying "running" for ever;
it is not retried, so one poisonous file cannot kill the worker over and over.

Production runs two of these, so that a long import never delays the missed-check alerts:
``fangkong worker --no-periodic`` (tasks) and ``fangkong worker --periodic-only`` (jobs).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django_tasks_db.management.commands.db_worker import Worker as _DbWorker

from fangkong.core import periodic, supervise, tasks
from fangkong.core.tasks import WorkerDied  # noqa: F401  (the error recorded on the task)

ORPHAN_REASON = "后台进程在执行此任务时意外退出（服务器重启或进程被终止）"
DB_LOST_REASON = (
    "后台进程在执行此任务时与数据库的连接中断，任务未完成，已全部撤销；可点击“重试”重新执行。"
)
logger = logging.getLogger("fangkong.worker")


def worker_id_prefix() -> str:
    return f"{socket.gethostname()[:30]}:"


def worker_id(supervisor_pid: int, start: int) -> str:
    """``host:supervisor-pid:start``: tells which worker process claimed a task."""
    return f"{worker_id_prefix()}{supervisor_pid}:{start}"


def fail_claimed_tasks(claimed_by: str | None, reason: str) -> int:
    """Mark the running tasks claimed by ``claimed_by`` (or, with None, by the dead workers
    of this host: supervisors no longer alive) as failed with ``reason``; their progress
    records too. Returns how many."""
    from django_tasks_db.models import DBTaskResult

    def dead(claimant: str) -> bool:
        if claimed_by is not None:
            return claimant == claimed_by
        if not claimant.startswith(worker_id_prefix()):
            return False
        pid = claimant[len(worker_id_prefix()) :].split(":")[0]
        return pid.isdigit() and not _alive(int(pid))

    claimed = [
        task
        for task in DBTaskResult.objects.running()
        if task.worker_ids and dead(task.worker_ids[-1])
    ]
    failed = tasks.fail_results(claimed, reason)
    connection.close()
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Command(BaseCommand):
    help = (
        "Run the background task worker (database-backed queue) and the periodic jobs "
        "(e.g. missed isolation checks every 5 minutes), restarting what dies. "
        "运行后台任务与定时任务（进程意外退出会自动重启）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--batch",
            action="store_true",
            help="run what is queued, then exit (periodic jobs run once first; not supervised)",
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parts = parser.add_mutually_exclusive_group()
        parts.add_argument("--no-periodic", action="store_true", help="queued tasks only")
        parts.add_argument(
            "--periodic-only", action="store_true", help="periodic jobs only, no queued tasks"
        )
        parser.add_argument(
            "--max-memory",
            type=int,
            default=settings.FANGKONG_WORKER_MAX_MEMORY_MB,
            metavar="MB",
            help="memory ceiling of the worker process in MiB, 0 for none (default: 2048)",
        )
        parser.add_argument(
            "--no-supervise",
            action="store_true",
            help="work in this process: no memory ceiling, no restart",
        )
        parser.add_argument("--worker-id", default=None, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["batch"] or options["no_supervise"]:
            return self.work(options)
        return self.supervise(options)

    def supervise(self, options) -> None:
        me = os.getpid()
        orphans = fail_claimed_tasks(None, ORPHAN_REASON)
        if orphans:
            self.stderr.write(f"{orphans} task(s) left running by a dead worker marked failed")
        passed = [
            "--interval",
            str(options["interval"]),
            *(["--max-tasks", str(options["max_tasks"])] if options["max_tasks"] else []),
            *(["--no-periodic"] if options["no_periodic"] else []),
            *(["--periodic-only"] if options["periodic_only"] else []),
        ]

        def command(start: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "fangkong.cli",
                "worker",
                "--no-supervise",
                "--worker-id",
                worker_id(me, start),
                "--verbosity",
                str(options["verbosity"]),
                *passed,
            ]

        def on_death(start: int, code: int) -> None:
            limit = options["max_memory"]
            reason = (
                f"后台进程在执行此任务时意外退出（{supervise.describe_exit(code)}"
                + (f"；内存上限 {limit} MB" if limit else "")
                + "）。文件可能过大或已损坏，请检查后重新提交。"
            )
            failed = fail_claimed_tasks(worker_id(me, start), reason)
            if failed:
                self.stderr.write(f"{failed} task(s) of the dead worker marked failed")

        code = supervise.Supervisor(
            "fangkong worker",
            command,
            max_memory_mb=options["max_memory"],
            on_death=None if options["periodic_only"] else on_death,
            stop_timeout=60.0,
        ).run()
        if code:
            raise SystemExit(code)

    def work(self, options) -> None:
        me = options["worker_id"] or worker_id(os.getpid(), 0)
        tasks.set_current_worker(me)
        heartbeat = tasks.Heartbeat(
            me, runs_tasks=not options["periodic_only"], runs_periodic=not options["no_periodic"]
        )
        heartbeat.start()  # in --batch too: a long task must not look abandoned
        try:
            self._work(options, me)
        finally:
            # A --batch run (or a test calling the command in-process) must not leave the
            # thread beating after the command has returned.
            heartbeat.stopping.set()

    def _work(self, options, me: str) -> None:
        if options["periodic_only"]:
            if options["batch"]:
                periodic.run_due()
                return
            runner = periodic.PeriodicRunner()

            def stop(signum, frame):
                runner.stopping.set()

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            runner.run()
            return
        if not options["no_periodic"]:
            if options["batch"]:
                periodic.run_due()
            else:
                periodic.PeriodicRunner().start()
        from django_tasks_db.management.commands.db_worker import Command as DbWorker

        DbWorker(stdout=self.stdout, stderr=self.stderr).configure_logging(options["verbosity"])
        worker = ResilientWorker(
            queue_names=["default"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=me,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()


class ResilientWorker(_DbWorker):
    """django-tasks-db's worker loop, which ends at its first database error, kept going:
    on a lost connection (database restarted, session terminated) it closes the
    connections, waits (back-off from 0.5 s doubling to 30 s, back to the start after a
    minute of good work), fails the task it was running when the connection went (the
    work rolled back with it) and carries on. Persistent connections are checked before
    reuse (``CONN_HEALTH_CHECKS``), so a connection dropped while idle costs nothing."""

    first_pause = 0.5
    longest_pause = 30.0

    def run(self) -> None:
        pause = self.first_pause
        while self.running:
            started = time.monotonic()
            try:
                if pause > self.first_pause:
                    # Back after an outage: what this process claimed did not finish.
                    failed = fail_claimed_tasks(self.worker_id, DB_LOST_REASON)
                    if failed:
                        logger.warning("%s task(s) interrupted by the outage marked failed", failed)
                super().run()
                return
            except (OperationalError, InterfaceError) as exc:
                if not self.running:
                    return
                self.running_task = False
                if time.monotonic() - started > 60:
                    pause = self.first_pause
                logger.warning(
                    "worker %s lost the database (%s); reconnecting in %.1f s",
                    self.worker_id,
                    type(exc).__name__,
                    pause,
                )
                for conn in connections.all(initialized_only=True):
                    try:
                        conn.close()
                    except DatabaseError:
                        conn.connection = None
                time.sleep(pause)
                pause = min(pause * 2, self.longest_pause)
