"""Supervised processes (issues 11 and 12): a memory ceiling, restart of what dies, and a
stop that stops everything — for ``fangkong serve``, ``fangkong worker`` and ``fangkong demo``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from fangkong.core import supervise
from tests.processes import (
    ROOT,
    alive,
    children_of,
    database_url,
    descendants,
    env,
    free_port,
    healthy,
    once,
    port_listening,
    wait_for,
    wait_for_other_sessions_to_end,
)

PY = sys.executable
FANGKONG = [PY, "-m", "fangkong.cli"]


def test_a_dead_child_is_restarted_and_its_death_reported():
    deaths: list[tuple[int, int]] = []
    runs = {
        1: [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
        2: [PY, "-c", "pass"],
    }
    supervisor = supervise.Supervisor(
        "test", runs.__getitem__, on_death=lambda n, code: deaths.append((n, code)), backoff=0.01
    )
    assert supervisor.run() == 0
    assert supervisor.starts == 2
    assert deaths == [(1, -signal.SIGKILL)]


def test_a_child_that_dies_at_every_start_makes_the_supervisor_give_up():
    supervisor = supervise.Supervisor(
        "test", lambda n: [PY, "-c", "raise SystemExit(3)"], backoff=0.01
    )
    assert supervisor.run() == 1
    assert supervisor.starts == supervise.GIVE_UP_AFTER


def test_the_memory_ceiling_fails_the_allocation_inside_the_child():
    hog = [PY, "-c", "print(len(bytearray(400 * 2**20)))"]
    limited = supervise.start(hog, max_memory_mb=200, stderr=subprocess.PIPE, text=True)
    _out, err = limited.communicate(timeout=60)
    assert limited.returncode == 1 and "MemoryError" in err
    unlimited = supervise.start(hog, stdout=subprocess.PIPE, text=True)
    out, _err = unlimited.communicate(timeout=60)
    assert unlimited.returncode == 0 and out.strip() == str(400 * 2**20)


SUPERVISOR_SCRIPT = (
    "import sys; from fangkong.core import supervise; "
    "sys.exit(supervise.Supervisor('test', lambda n: ['sleep', '600']).run())"
)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_or_killing_the_supervisor_stops_its_child(how):
    supervisor = subprocess.Popen([PY, "-c", SUPERVISOR_SCRIPT])
    try:
        (child,) = wait_for(lambda: descendants(supervisor.pid), 120, "the child")
        supervisor.send_signal(how)
        code = supervisor.wait(timeout=30)
        assert code == (-signal.SIGKILL if how == signal.SIGKILL else 0)
        wait_for(lambda: not alive(child), 60, "the child to end")
    finally:
        supervisor.kill()
        supervisor.wait()


# ------------------------------------------------------------------ the task worker


def _task_status(result_id) -> tuple[str, str, str]:
    from django_tasks_db.models import DBTaskResult

    row = DBTaskResult.objects.get(pk=result_id)
    return row.status, row.exception_class_path, row.traceback


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_survives_a_task_that_kills_it_or_runs_out_of_memory(tmp_path):
    """A task that takes its process down is marked failed with the reason (not retried,
    not left "running"), the worker comes back and runs the next task; a task that asks
    for more memory than the ceiling fails with MemoryError and the process lives on."""
    from fangkong.core.models import TaskRecord

    from .supervised_tasks import die, fine, hog

    died = die.enqueue()
    record = TaskRecord.objects.create(kind="test", title="dies", task_result_id=str(died.id))
    hogged = hog.enqueue(1024)
    after = fine.enqueue()
    worker = subprocess.Popen(
        [*FANGKONG, "worker", "--no-periodic", "--max-memory", "400", "--interval", "0.2"],
        cwd=ROOT,
        env=env(FANGKONG_DATABASE_URL=database_url(), FANGKONG_VAR_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _task_status(after.id)[0] == "SUCCESSFUL", 300, "the task after")
        status, error_class, text = _task_status(died.id)
        assert status == "FAILED" and error_class.endswith("WorkerDied")
        assert "SIGKILL" in text and "400 MB" in text
        record.refresh_from_db()
        assert record.status == TaskRecord.Status.FAILED and "SIGKILL" in record.message
        status, error_class, _text = _task_status(hogged.id)
        assert status == "FAILED" and error_class == "builtins.MemoryError"
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=90)
        assert worker.returncode == 0, err
        assert "killed by SIGKILL" in err
    finally:
        worker.kill()
        worker.wait()
        wait_for_other_sessions_to_end()


OOXML = "http://schemas.openxmlformats.org"
PACKAGE_RELS = f"{OOXML}/package/2006/relationships"
DOCUMENT_RELS = f"{OOXML}/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
BOMB_PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{OOXML}/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}'
        '.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{DOCUMENT_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{OOXML}/spreadsheetml/2006/main" xmlns:r="{DOCUMENT_RELS}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{DOCUMENT_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def write_zip_bomb(path: Path, megabytes: int) -> None:
    """An .xlsx of a few MB whose one sheet unpacks to ``megabytes`` MB of cells."""
    import zipfile

    row = b"<row>" + b'<c t="inlineStr"><is><t>AAAAAAAAAAAAAAAA</t></is></c>' * 20 + b"</row>"
    chunk = row * 1000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        for name, text in BOMB_PARTS.items():
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{OOXML}/spreadsheetml/2006/main"><sheetData>'.encode())
            for _ in range(megabytes * 2**20 // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_ledger_zip_bomb_fails_its_import_and_the_worker_carries_on(tmp_path, make_user):
    """Issue 11: a small .xlsx that unpacks to gigabytes. The import fails with the reason
    (refused before parsing); the worker runs the next task."""
    from fangkong.screening import ledgers
    from fangkong.screening.models import LedgerImport

    from .supervised_tasks import fine

    bomb = tmp_path / "返乡人员台账.xlsx"
    write_zip_bomb(bomb, 1500)
    assert bomb.stat().st_size < 20 * 2**20
    hq = make_user("county_hq", "230231")
    env_vars = dict(FANGKONG_DATABASE_URL=database_url(), FANGKONG_VAR_DIR=str(tmp_path))
    with override_settings(FANGKONG_LEDGER_DIR=tmp_path / "ledgers"):
        record = ledgers.upload(
            user=hq,
            kind="arrivals",
            mode="valid",
            source="police",
            file_name=bomb.name,
            chunks=[bomb.read_bytes()],
        )
    after = fine.enqueue()
    worker = subprocess.Popen(
        [*FANGKONG, "worker", "--no-periodic", "--max-memory", "600", "--interval", "0.2"],
        cwd=ROOT,
        env=env(FANGKONG_LEDGER_DIR=str(tmp_path / "ledgers"), **env_vars),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _task_status(after.id)[0] == "SUCCESSFUL", 300, "the task after")
        record.refresh_from_db()
        # Refused by core.uploads before calamine inflates it (the memory ceiling stays the
        # backstop): the import is rejected with the reason, the worker lives on.
        assert record.status == LedgerImport.Status.REJECTED, record.message
        assert "解压后" in record.message or "压缩比异常" in record.message, record.message
        assert record.task.status == "failed"
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=90)
        assert worker.returncode == 0
    finally:
        worker.kill()
        worker.wait()
        wait_for_other_sessions_to_end()


# ------------------------------------------------------------------ the web server


def _kids(pid: int) -> list[int]:
    return [p for p in children_of(pid) if alive(p)]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_serve_respawns_a_dead_server_process_and_restarts_granian(tmp_path):
    port = free_port()
    options = ["--port", str(port), "--workers", "1", "--threads", "2", "--max-memory", "512"]
    server = subprocess.Popen(
        [*FANGKONG, "serve", "--no-migrate", *options],
        cwd=ROOT,
        env=env(FANGKONG_DATABASE_URL=database_url(), FANGKONG_VAR_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: healthy(port), 180, "the server")
        (granian,) = _kids(server.pid)
        (process,) = _kids(granian)
        limits = Path(f"/proc/{process}/limits").read_text()
        assert f"Max data size             {512 * 2**20}" in limits
        # A server process dies (a native library aborting on a zip bomb): granian respawns it.
        subprocess.run(["kill", "-KILL", str(process)], check=True)
        wait_for(lambda: _kids(granian) and _kids(granian) != [process], 180, "a new process")
        wait_for(lambda: healthy(port), 180, "the respawned server")
        # Granian itself dies: its orphaned processes go too, and it is started again.
        orphans = _kids(granian)
        subprocess.run(["kill", "-KILL", str(granian)], check=True)
        wait_for(lambda: not any(alive(p) for p in orphans), 180, "the orphans to go")
        wait_for(lambda: _kids(server.pid) and _kids(server.pid) != [granian], 180, "granian")
        wait_for(lambda: healthy(port), 180, "the restarted server")
        everything = descendants(server.pid)
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=90)
        assert server.returncode == 0, err
        assert not any(alive(p) for p in everything)
        assert not port_listening(port)
    finally:
        server.kill()
        server.wait()
        wait_for_other_sessions_to_end()


@pytest.mark.django_db
def test_serve_refuses_a_port_in_use(tmp_path):
    import socket

    from django.core.management import CommandError, call_command

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match="already in use"):
            call_command("serve", "--no-migrate", "--port", str(port))


@pytest.mark.django_db
def test_serve_refuses_more_threads_than_postgresql_connections():
    from django.core.management import CommandError, call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("connection budget is a PostgreSQL matter")
    with pytest.raises(CommandError, match="database connections"):
        call_command("serve", "--no-migrate", "--workers", "4", "--threads", "500")


# ------------------------------------------------------------------ the demo (issue 12)


@pytest.fixture(scope="module")
def demo_var(tmp_path_factory):
    """A demo prepared once (``--no-serve``) in its own SQLite database."""
    var = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [*FANGKONG, "demo", "--no-serve", "--residents", "300"],
        cwd=ROOT,
        env=env(FANGKONG_VAR_DIR=str(var)),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    return var


@once
@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_demo_stops_its_worker_and_server(demo_var, how):
    port = free_port()
    demo = subprocess.Popen(
        [*FANGKONG, "demo", "--residents", "300", "--port", str(port)],
        cwd=ROOT,
        env=env(FANGKONG_VAR_DIR=str(demo_var)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: healthy(port), 600, "the demo server")
        tree = descendants(demo.pid)
        commands = [Path(f"/proc/{p}/cmdline").read_bytes() for p in tree]
        assert any(b"worker" in c for c in commands) and any(b"granian" in c for c in commands)
        demo.send_signal(how)
        demo.wait(timeout=90)
        wait_for(lambda: not any(alive(p) for p in tree), 90, "every demo process to end")
        assert not port_listening(port)
    finally:
        demo.kill()
        demo.wait()
