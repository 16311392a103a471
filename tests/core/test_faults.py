"""Fault tests (issue 11): the worker killed in the middle of an import, the worker's
database connections terminated, the server's database connections terminated.

Real processes against the test database; slow. The connection tests need PostgreSQL
(``pg_terminate_backend``)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from fangkong.core import tasks
from fangkong.core.models import Region, TaskRecord, WorkerBeat
from tests.processes import (
    ROOT,
    SUBPROCESS_APPNAME,
    alive,
    database_url,
    descendants,
    env,
    free_port,
    get,
    healthy,
    wait_for,
    wait_for_other_sessions_to_end,
)

from . import kit_tasks

FANGKONG = [sys.executable, "-m", "fangkong.cli"]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _worker(tmp_path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*FANGKONG, "worker", "--interval", "0.2", *extra],
        cwd=ROOT,
        env=env(FANGKONG_DATABASE_URL=database_url(), FANGKONG_VAR_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _out, err = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return err or ""


def _status(record: TaskRecord) -> str:
    record.refresh_from_db()
    return record.status


@pytest.fixture(autouse=True)
def _fresh_connections_afterwards():
    """The tests here terminate database sessions; the next test in this worker must not
    inherit a connection the server has already closed."""
    yield
    from django.db import connections

    connections.close_all()


def _terminate_other_sessions() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND application_name = %s",
            [SUBPROCESS_APPNAME],
        )
        return cursor.fetchone()[0]


postgres_only = pytest.mark.skipif(
    "not __import__('django.db', fromlist=['connection']).connection.vendor == 'postgresql'",
    reason="pg_terminate_backend: PostgreSQL only",
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_nothing_half_stored_and_a_retry_imports_once(
    tmp_path, settings, make_user
):
    settings.TASKS = DATABASE_TASKS
    user = make_user("county_hq", "230231")
    marker = tmp_path / "first-run"
    record = tasks.enqueue(
        kit_tasks.import_regions,
        title="导入测试地区",
        user=user,
        args=["99", 50, str(marker)],
    )
    before = Region.objects.count()
    worker = _worker(tmp_path, "--no-periodic")
    try:
        wait_for(lambda: _status(record) == "running" and marker.exists(), 300, "the import")
        time.sleep(1.0)  # inside its first batch, in the open transaction
        (child,) = [p for p in descendants(worker.pid) if alive(p)][:1]
        subprocess.run(["kill", "-KILL", str(child)], check=True)
        wait_for(lambda: _status(record) == "failed", 300, "the import to be marked failed")
        assert "意外退出" in record.message and "SIGKILL" in record.message
        assert Region.objects.count() == before  # the first batch rolled back with it
    finally:
        err = _stop(worker)
        wait_for_other_sessions_to_end()
    assert "killed by SIGKILL" in err
    again = tasks.retry(record, user=user)
    assert again.status == "queued"
    batch = subprocess.run(
        [*FANGKONG, "worker", "--batch", "--no-periodic"],
        cwd=ROOT,
        env=env(FANGKONG_DATABASE_URL=database_url(), FANGKONG_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert batch.returncode == 0, batch.stderr
    wait_for_other_sessions_to_end()
    assert _status(record) == "succeeded", record.message
    assert record.attempts == 2
    assert Region.objects.filter(code__startswith="99").count() == 50  # once


@pytest.mark.slow
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_worker_carries_on_when_its_database_connections_are_terminated(
    tmp_path, settings, make_user
):
    settings.TASKS = DATABASE_TASKS
    user = make_user("county_hq", "230231")
    marker = tmp_path / "marker"
    marker.touch()  # no stall: every run goes straight through
    worker = _worker(tmp_path)  # tasks and periodic jobs, supervised
    try:
        first = tasks.enqueue(
            kit_tasks.import_regions, title="一", user=user, args=["97", 10, str(marker)]
        )
        wait_for(lambda: _status(first) == "succeeded", 300, "the first task")
        children = [p for p in descendants(worker.pid) if alive(p)]
        for _ in range(3):
            assert _terminate_other_sessions() >= 1
            time.sleep(1.5)
        second = tasks.enqueue(
            kit_tasks.import_regions, title="二", user=user, args=["98", 10, str(marker)]
        )
        wait_for(lambda: _status(second) == "succeeded", 300, "the task after the outage")
        # The same worker process carried on (it reconnected; it was not restarted).
        assert [p for p in descendants(worker.pid) if alive(p)] == children
        beat = WorkerBeat.objects.order_by("-last_seen").first()
        seen = beat.last_seen
        wait_for(
            lambda: WorkerBeat.objects.filter(last_seen__gt=seen).exists(),
            120,
            "a heartbeat after the outage",
        )
        assert not tasks.worker_status().stale
    finally:
        err = _stop(worker)
        wait_for_other_sessions_to_end()
    assert "restarting" not in err, err


@pytest.mark.slow
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_server_recovers_when_its_database_connections_are_terminated(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [*FANGKONG, "serve", "--no-migrate", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env(FANGKONG_DATABASE_URL=database_url(), FANGKONG_VAR_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: healthy(port), 180, "the server")
        for _ in range(8):  # every thread holds a persistent connection
            assert get(port)[0] == 200
        statuses = []
        for _ in range(3):
            assert _terminate_other_sessions() >= 1
            time.sleep(0.5)
            for _ in range(8):
                status, body, _headers = get(port, timeout=30)
                statuses.append(status)
                assert b"Traceback" not in body and b"psycopg" not in body
        # Connections are checked before reuse (CONN_HEALTH_CHECKS): no request fails.
        assert statuses == [200] * len(statuses), statuses
    finally:
        _stop(server)
        server.wait()
        wait_for_other_sessions_to_end()
