"""Periodic jobs: work that must happen on a clock, run by ``fangkong worker``.

Queued tasks run when someone asks (an import); some work must run by itself — raising an
alert for every isolation check that was missed, escalating alerts nobody handled. Each app
registers such a job here (in its ``AppConfig.ready``) with an interval; the worker runs the
jobs that are due between tasks, so a county needs one process, not a cron table.

Jobs must be idempotent: two workers may both run one, and a job may run late.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[], object]
    last_started: float | None = field(default=None)

    def due(self, now: float) -> bool:
        return self.last_started is None or now - self.last_started >= self.every_seconds


_JOBS: dict[str, PeriodicJob] = {}


def register(name: str, every_seconds: float, run: Callable[[], object]) -> None:
    """Register (or replace) a job; the worker runs it every ``every_seconds``."""
    _JOBS[name] = PeriodicJob(name=name, every_seconds=every_seconds, run=run)


def jobs() -> list[PeriodicJob]:
    return list(_JOBS.values())


def run_due(now: float | None = None) -> list[str]:
    """Run every job that is due; a failing job is logged and does not stop the others."""
    now = time.monotonic() if now is None else now
    ran = []
    for job in jobs():
        if not job.due(now):
            continue
        job.last_started = now
        close_old_connections()
        try:
            job.run()
            ran.append(job.name)
        except Exception:
            logger.exception("periodic job %s failed", job.name)
        finally:
            connection.close()
    return ran


class PeriodicRunner(threading.Thread):
    """A daemon thread beside the task worker that runs due jobs every few seconds."""

    def __init__(self, tick_seconds: float = 5.0) -> None:
        super().__init__(name="fangkong-periodic", daemon=True)
        self.tick_seconds = tick_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            run_due()
            self.stopping.wait(self.tick_seconds)
