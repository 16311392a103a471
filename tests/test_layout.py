"""scripts/layout.sh starts the two-server layout (nginx, two app servers, a worker, a
PostgreSQL primary and its streaming replica) and stops it cleanly.

Skipped where nginx or PostgreSQL's server binaries are missing; scripts/test.sh installs
nginx when run as root, so in CI this runs.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.processes import ROOT, alive, env, free_port, get, once, port_listening, wait_for

PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
pytestmark = [
    pytest.mark.slow,
    once,
    pytest.mark.skipif(
        not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(),
        reason="nginx is not installed",
    ),
    pytest.mark.skipif(not PG_BINS, reason="PostgreSQL server binaries are not installed"),
]


def _post_json(port: int, path: str, body: dict, token: str = "") -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def _sql(port: int, statement: str) -> str:
    import psycopg

    with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/fangkong", autocommit=True) as c:
        cursor = c.execute(statement)
        row = cursor.fetchone() if cursor.description else None
        return "" if row is None else str(row[0])


def test_layout_starts_balances_replicates_and_stops():
    folder = Path(tempfile.mkdtemp(prefix="fangkong-layout-", dir="/tmp"))
    folder.chmod(0o755)  # the clusters run as the postgres user
    ports = {name: free_port() for name in ("pg", "replica", "http", "app1", "app2")}
    layout_env = env(
        LAYOUT_DIR=str(folder / "layout"),
        LAYOUT_PG_PORT=str(ports["pg"]),
        LAYOUT_REPLICA_PORT=str(ports["replica"]),
        LAYOUT_HTTP_PORT=str(ports["http"]),
        LAYOUT_APP_PORTS=f"{ports['app1']} {ports['app2']}",
        LAYOUT_APP_THREADS="2",
    )

    def layout(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "scripts/layout.sh", command],
            cwd=ROOT,
            env=layout_env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    try:
        started = layout("start")
        assert started.returncode == 0, started.stdout + started.stderr
        run = folder / "layout" / "run"
        pids = {p.stem: int(p.read_text()) for p in run.glob("*.pid")}
        assert set(pids) == {"nginx", "worker", f"app-{ports['app1']}", f"app-{ports['app2']}"}

        # nginx spreads requests over both app servers.
        upstreams = set()
        for _ in range(8):
            status, _body, headers = get(ports["http"])
            assert status == 200
            upstreams.add(headers["X-Fangkong-Upstream"])
        assert upstreams == {f"127.0.0.1:{ports['app1']}", f"127.0.0.1:{ports['app2']}"}

        # The replica streams from the primary and refuses writes.
        assert _sql(ports["replica"], "SELECT pg_is_in_recovery()") == "True"
        _sql(ports["pg"], "CREATE TABLE layout_probe (x int); INSERT INTO layout_probe VALUES (7)")
        wait_for(
            lambda: _sql(ports["replica"], "SELECT to_regclass('layout_probe')") == "layout_probe",
            30,
            "the table on the replica",
        )
        assert _sql(ports["replica"], "SELECT x FROM layout_probe") == "7"

        # A board through nginx is read on the replica by an app server.
        script = (
            "from fangkong.core import regions; from fangkong.core.users import create_user;"
            "regions.load_official_county('230231');"
            "create_user(username='hq', password='Layout-Pass-2026!', role='county_hq',"
            " region_codes=['230231'], check_password_strength=False)"
        )
        primary = f"postgres://postgres@127.0.0.1:{ports['pg']}/fangkong"
        done = subprocess.run(
            [str(ROOT / ".venv/bin/fangkong"), "manage", "shell", "-c", script],
            cwd=ROOT,
            env={
                **layout_env,
                "FANGKONG_DATABASE_URL": primary,
                "FANGKONG_VAR_DIR": str(folder / "layout" / "var"),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        status, body = _post_json(
            ports["http"], "/api/v1/auth/token", {"username": "hq", "password": "Layout-Pass-2026!"}
        )
        assert status == 200, body
        before = int(
            _sql(
                ports["replica"],
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = 'fangkong' AND backend_type = 'client backend'",
            )
        )
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=30)
        conn.request(
            "GET", "/api/v1/quarantine/board", headers={"Authorization": f"Bearer {body['token']}"}
        )
        assert conn.getresponse().status == 200
        after = int(
            _sql(
                ports["replica"],
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = 'fangkong' AND backend_type = 'client backend'",
            )
        )
        assert (before, after) == (1, 2)  # ours, then ours and the app server's

        everything = [pid for pid in pids.values() if alive(pid)]
        stopped = layout("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        time.sleep(0.5)
        assert not [p for p in everything if alive(p)]
        assert not any(port_listening(p) for p in ports.values())
        assert layout("status").stdout.count("stopped") == 2
    finally:
        layout("clean")
        shutil.rmtree(folder, ignore_errors=True)
    assert not os.path.exists(folder)
