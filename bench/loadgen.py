"""Load-generation kit shared by load_morning.py and search_concurrency.py.

- ``Http``: a small HTTP/1.1 client on asyncio streams (keep-alive, Content-Length and
  chunked bodies). One event loop drives hundreds of connections for a fraction of a core;
  the load generator shares the two cores with the server, so it must be cheap.
- ``Recorder``: latencies and errors per kind of request, p50/p95/p99.
- ``CpuSampler``: CPU seconds of groups of processes (the app servers' Python, PostgreSQL,
  the worker, nginx, this generator) read from /proc, and of the whole machine.
- ``Server``/``start_worker``: ``fangkong serve`` / ``fangkong worker`` as subprocesses,
  stopped by their process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
FANGKONG = [sys.executable, "-m", "fangkong.cli"]
TICK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ HTTP


class HttpError(Exception):
    pass


class Http:
    """One keep-alive connection; ``request`` reconnects when the server closed it."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.busy = False

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await asyncio.wait_for(
                    self._exchange(method, path, headers, body), self.timeout
                )
            except (ConnectionError, asyncio.IncompleteReadError, HttpError) as exc:
                await self.close()
                # A kept connection the server closed meanwhile: once more on a new one.
                if fresh or attempt == 2:
                    raise HttpError(str(exc) or type(exc).__name__) from None
            except TimeoutError:
                await self.close()
                raise HttpError("timeout") from None
        raise HttpError("unreachable")

    async def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("connection closed")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data = await self.reader.read()
            close = True
        if close:
            await self.close()
        return status, data


class Pool:
    """The connections of one simulated user: usually one; a second opens when a request is
    due while the first still waits (open loop: the schedule does not wait for answers)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conns: list[Http] = []

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        conn = next((c for c in self.conns if not c.busy), None)
        if conn is None:
            conn = Http(self.host, self.port)
            self.conns.append(conn)
        conn.busy = True
        try:
            return await conn.request(method, path, headers, body)
        finally:
            conn.busy = False

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()


def split_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


# ------------------------------------------------------------------ statistics


WIDTHS = (7, 7, 5, 8, 8, 8)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Recorder:
    """Latency (ms) and outcome of each request, by kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)
    finished: list[float] = field(default_factory=list)  # monotonic completion times
    late: int = 0

    def ok(self, kind: str, ms: float) -> None:
        self.latencies[kind].append(ms)
        self.finished.append(time.monotonic())

    def error(self, kind: str, ms: float, what: str) -> None:
        self.latencies[kind].append(ms)
        self.finished.append(time.monotonic())
        self.errors[kind] += 1
        self.samples.setdefault(kind, what[:200])

    def served(self, start: float, end: float) -> float:
        """Answers completed between ``start`` and ``end``, per second."""
        return sum(start <= t <= end for t in self.finished) / (end - start)

    def all_latencies(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]

    def table(self, seconds: float) -> list[str]:
        heads = ("n", "per s", "err", "p50 ms", "p95 ms", "p99 ms")
        out = [f"{'kind':<22} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, WIDTHS, strict=True))]
        kinds = sorted(self.latencies, key=lambda k: -len(self.latencies[k]))
        for kind in [*kinds, "ALL"]:
            values = self.all_latencies() if kind == "ALL" else self.latencies[kind]
            errors = sum(self.errors.values()) if kind == "ALL" else self.errors[kind]
            out.append(
                f"{kind:<22} {len(values):>7} {len(values) / seconds:>7.1f} {errors:>5} "
                f"{percentile(values, 0.50):>8.1f} {percentile(values, 0.95):>8.1f} "
                f"{percentile(values, 0.99):>8.1f}"
            )
        for kind, what in self.samples.items():
            out.append(f"  first error of {kind}: {what}")
        return out


# ------------------------------------------------------------------ CPU from /proc


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, own + reaped children's CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is the state; ppid is field 4 of stat, utime..cstime 14-17.
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / TICK


def processes() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                out[int(entry)] = stat[0]
    return out


def descendants(roots: Iterable[int], parents: dict[int, int]) -> set[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for pid, ppid in parents.items():
        children[ppid].append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in parents and pid not in found:
            found.add(pid)
            todo.extend(children[pid])
    return found


def machine_cpu() -> tuple[float, int]:
    """(busy CPU seconds of the whole machine, number of CPUs)."""
    lines = Path("/proc/stat").read_text().splitlines()
    values = [int(x) for x in lines[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return (sum(values[:8]) - idle) / TICK, cpus


def postmaster_of(database_url: str) -> int:
    """The postmaster pid of the cluster behind ``database_url`` (the server is local)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        stat = _stat(backend)
    if stat is None:
        raise RuntimeError("cannot see the PostgreSQL backend: is the server on this machine?")
    return stat[0]


class CpuSampler:
    """CPU seconds used by groups of processes between ``start`` and ``stop``.

    A group is given by root pids; its processes are the roots and their descendants (a
    name ending in "(alone)" takes the roots only: this generator, whose children are the
    servers it started). Each
    live process counts its own CPU plus that of its children already reaped, so the sum
    over a group's live processes only grows; its difference between two readings is what
    the group used, including backends or workers that ended in between (their CPU moves
    from their own counter to their parent's)."""

    def __init__(self, groups: dict[str, Callable[[], Iterable[int]]]):
        self.groups = groups
        self.before: dict[str, float] = {}
        self.machine0 = 0.0
        self.wall0 = 0.0

    def reading(self) -> dict[str, float]:
        parents = processes()
        out = {}
        for name, roots in self.groups.items():
            alone = name.endswith("(alone)")
            pids = set(roots()) if alone else descendants(roots(), parents)
            out[name] = sum(stat[1] for pid in pids if (stat := _stat(pid)) is not None)
        return out

    def start(self) -> None:
        self.before = self.reading()
        self.machine0, _ = machine_cpu()
        self.wall0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        after = self.reading()
        wall = time.monotonic() - self.wall0
        machine, cpus = machine_cpu()
        out = {name: after[name] - self.before.get(name, 0.0) for name in after}
        out["machine"] = machine - self.machine0
        out["capacity"] = wall * cpus
        out["wall"] = wall
        return out


def cpu_lines(cpu: dict[str, float]) -> list[str]:
    capacity = cpu["capacity"]
    lines = [f"CPU over {cpu['wall']:.0f} s on {capacity / cpu['wall']:.0f} cores (share of all):"]
    named = 0.0
    for name, seconds in cpu.items():
        if name in ("machine", "capacity", "wall"):
            continue
        named += seconds
        lines.append(f"  {name:<28} {seconds:8.1f} s  {100 * seconds / capacity:5.1f} %")
    other = max(0.0, cpu["machine"] - named)
    lines.append(
        f"  {'other (rest of the machine)':<28} {other:8.1f} s  {100 * other / capacity:5.1f} %"
    )
    idle = capacity - cpu["machine"]
    lines.append(f"  {'idle':<28} {idle:8.1f} s  {100 * idle / capacity:5.1f} %")
    return lines


# ------------------------------------------------------------------ processes


def wait_healthy(
    host: str, port: int, seconds: float, process: subprocess.Popen | None = None
) -> None:
    import http.client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode})")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=3)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nothing healthy on {host}:{port} after {seconds:.0f} s")


def fangkong_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGKONG_")}
    env.update(
        FANGKONG_DATABASE_URL=database_url,
        FANGKONG_VAR_DIR=str(var_dir),
        FANGKONG_LOG_LEVEL="ERROR",
        **extra,
    )
    return env


class Server:
    """``fangkong serve`` (supervised granian) on 127.0.0.1, stopped by its pid; ``workers``
    0 leaves the number of processes to the command (one per core)."""

    def __init__(self, env: dict[str, str], port: int, workers: int, threads: int) -> None:
        self.port = port
        options = ["--port", str(port), "--threads", str(threads)]
        if workers:
            options += ["--workers", str(workers)]
        self.process = subprocess.Popen(
            [*FANGKONG, "serve", "--no-migrate", "--host", "127.0.0.1", *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        wait_healthy("127.0.0.1", port, 180, self.process)

    def stop(self) -> None:
        stop(self.process)


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*FANGKONG, "worker", "--verbosity", "0"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen, timeout: float = 90) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
