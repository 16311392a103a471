"""Child processes that stay up: a memory ceiling, restart when they die, stop when asked.

``fangkong serve`` and ``fangkong worker`` do not do their work in their own process: each
starts it as a child and watches it. The rule kept here:

- **A ceiling, not a crash of the machine.** The child runs under ``RLIMIT_DATA`` (its heap
  and private memory): an allocation past the ceiling fails inside the child — Python raises
  ``MemoryError`` (the request or task fails, the process lives on), a native library
  aborts (the process dies) — instead of the kernel's OOM killer picking a process.
- **What dies is restarted,** after 1, 2, 4 … 30 s when it keeps dying at once; a child that
  dies five times within seconds of starting (a port in use, a broken configuration) makes
  the supervisor give up with an error, for systemd or the operator to see.
- **What is stopped stops.** SIGTERM, SIGINT or SIGHUP to the supervisor go to the child
  (SIGHUP: granian replaces its workers, the task worker restarts); the child gets SIGKILL if
  it is not gone after the stop timeout; and a child started here gets SIGTERM from the
  kernel if its supervisor dies, even by SIGKILL (``PR_SET_PDEATHSIG``), so nothing is left
  running behind a killed ``fangkong demo`` or ``fangkong serve``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
QUICK_DEATH_SECONDS = 10.0
GIVE_UP_AFTER = 5
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


_LIBC = _libc()


def child_setup(max_memory_mb: int) -> Callable[[], None]:
    """What runs in a new child between fork and exec: the memory ceiling and the death
    signal. Nothing here may allocate much or take locks (the parent is single-threaded)."""
    limit = max_memory_mb * 1024 * 1024

    def setup() -> None:
        if limit:
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() == 1:  # the parent is already gone
                os.kill(os.getpid(), signal.SIGTERM)

    return setup


def start(command: Sequence[str], *, max_memory_mb: int = 0, **popen: object) -> subprocess.Popen:
    """Start ``command`` as a watched child: ceiling, death signal, its own process group
    (so a terminal's Ctrl-C reaches the supervisor once, which passes it on)."""
    return subprocess.Popen(
        list(command),
        # The supervisor has no threads, so a pre-exec function is safe here.
        preexec_fn=child_setup(max_memory_mb),
        process_group=0,
        **popen,  # type: ignore[call-overload]
    )


def kill_group(pgid: int) -> None:
    """SIGKILL whatever is left in a dead child's process group: the workers of a granian
    that was killed would otherwise keep serving, orphaned, on the same port."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    """Runs one command as a child until stopped, restarting it when it dies.

    ``command`` is called with the number of the start (1, 2, …) and returns the argument
    list, so each run can carry its own identity (the task worker's id). ``on_death`` is
    called with that number and the exit code after an unexpected death, before the restart.
    ``restart_on_success``: a child that exits 0 by itself is started again too (else the
    supervisor ends with it). ``backoff``: the first pause before a restart, doubled after
    each further death within seconds of a start (at most 30 s).
    """

    def __init__(
        self,
        name: str,
        command: Callable[[int], Sequence[str]],
        *,
        max_memory_mb: int = 0,
        env: dict[str, str] | None = None,
        on_death: Callable[[int, int], None] | None = None,
        stop_timeout: float = 30.0,
        restart_on_success: bool = False,
        backoff: float = 1.0,
    ) -> None:
        self.name = name
        self.command = command
        self.max_memory_mb = max_memory_mb
        self.env = env
        self.on_death = on_death
        self.stop_timeout = stop_timeout
        self.restart_on_success = restart_on_success
        self.backoff = backoff
        self.child: subprocess.Popen | None = None
        self.stopping = False
        self.stop_deadline: float | None = None
        self.starts = 0

    def _signal(self, signum: int, frame: FrameType | None) -> None:
        child = self.child
        if signum == signal.SIGHUP:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGHUP)
            return
        if self.stopping and child is not None and child.poll() is None:
            child.kill()  # asked twice: do not wait any longer
            return
        self.stopping = True
        self.stop_deadline = time.monotonic() + self.stop_timeout
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    def _wait(self, child: subprocess.Popen) -> int:
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if self.stop_deadline is not None and time.monotonic() > self.stop_deadline:
                    logger.warning("%s did not stop in time: killed", self.name)
                    child.kill()
                    self.stop_deadline = None
        kill_group(child.pid)
        return code

    def _sleep(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < until:
            time.sleep(min(0.2, until - time.monotonic()))

    def run(self) -> int:
        """Supervise until stopped (returns 0) or until the child cannot stay up (1)."""
        previous = {s: signal.signal(s, self._signal) for s in STOP_SIGNALS}
        quick_deaths = 0
        try:
            while not self.stopping:
                self.starts += 1
                started = time.monotonic()
                self.child = start(
                    self.command(self.starts), max_memory_mb=self.max_memory_mb, env=self.env
                )
                code = self._wait(self.child)
                if self.stopping:
                    return 0
                if code == 0 and not self.restart_on_success:
                    return 0
                lived = time.monotonic() - started
                logger.error("%s ended (%s) after %.0f s", self.name, describe_exit(code), lived)
                print(
                    f"{self.name}: {describe_exit(code)} after {lived:.0f} s; restarting",
                    file=sys.stderr,
                    flush=True,
                )
                if self.on_death is not None and code != 0:
                    try:
                        self.on_death(self.starts, code)
                    except Exception:
                        logger.exception("%s: clean-up after the death failed", self.name)
                quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
                if quick_deaths >= GIVE_UP_AFTER:
                    print(
                        f"{self.name}: died {quick_deaths} times right after starting; giving up",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
                self._sleep(min(30.0, self.backoff * 2.0 ** max(0, quick_deaths - 1)))
            return 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def run_together(
    processes: Sequence[tuple[str, Sequence[str]]], *, stop_timeout: float = 50.0
) -> int:
    """Start several commands (each supervising itself) and stop them all together: on
    SIGTERM/SIGINT, or as soon as one of them ends. Returns the first one's exit code."""
    children: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for name, command in processes:
            children.append((name, start(command)))
        ended: tuple[str, int] | None = None
        while not stopping and ended is None:
            for name, child in children:
                if child.poll() is not None:
                    ended = (name, child.returncode)
                    break
            else:
                time.sleep(0.2)
        if ended is not None:
            print(f"{ended[0]} ended ({describe_exit(ended[1])}); stopping", file=sys.stderr)
        for _name, child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + stop_timeout
        for _name, child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            kill_group(child.pid)
        return 0 if ended is None else (ended[1] or 1)
    finally:
        for _name, child in children:
            if child.poll() is None:
                child.kill()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
