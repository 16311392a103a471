"""Tasks that misbehave on purpose, for the supervised worker's tests (test_supervise.py)."""

from __future__ import annotations

import os
import signal

from django_tasks import task


@task()
def die() -> None:
    """The process disappears mid-task, as under the kernel's OOM killer."""
    os.kill(os.getpid(), signal.SIGKILL)


@task()
def hog(megabytes: int) -> int:
    """Asks for more memory than the worker's ceiling allows."""
    return len(bytearray(megabytes * 1024 * 1024))


@task()
def fine() -> str:
    return "ok"
