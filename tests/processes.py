"""Helpers for tests that start real processes: process trees, free ports, waiting."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# For tests that use no test database (their own SQLite, their own clusters): scripts/test.sh
# runs the suite twice, on SQLite then on PostgreSQL; these run in the first pass only.
once = pytest.mark.skipif(
    bool(os.environ.get("FANGKONG_DATABASE_URL")),
    reason="independent of the test database: runs in the SQLite pass",
)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children_of(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def get(port: int, path: str = "/healthz", timeout: float = 5.0) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def healthy(port: int) -> bool:
    try:
        return get(port)[0] == 200
    except OSError:
        return False


def database_url() -> str:
    """A URL of the test database, for a subprocess to use the same data."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def wait_for_other_sessions_to_end(timeout: float = 60) -> None:
    """After stopping processes that used the test database: wait until PostgreSQL has let
    their sessions go (a killed client's backend ends a moment later), so that dropping the
    test database at the end does not find them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return

    def alone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND application_name = %s",
                [SUBPROCESS_APPNAME],
            )
            return cursor.fetchone()[0] == 0

    wait_for(alone, timeout, "the subprocesses' database sessions to end")


# The PostgreSQL application name of the servers and workers the tests start (libpq reads
# PGAPPNAME), so waiting for "their" sessions, or terminating them, leaves alone the test
# process's own connections (a live server's thread keeps one open for the whole session).
SUBPROCESS_APPNAME = "fangkong-test-subprocess"


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FANGKONG_")}
    return {**base, "FANGKONG_LOG_LEVEL": "WARNING", "PGAPPNAME": SUBPROCESS_APPNAME, **extra}
