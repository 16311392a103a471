"""The replica router (fangkong.core.replica): boards and exports may be read from the
streaming replica, a user who just wrote reads from the primary.

The rules are tested here in-process (the decision only); ``test_two_databases`` runs
``replica_check.py`` in a subprocess against two real databases (two SQLite files, or two
PostgreSQL databases, the second a copy of the first) through HTTP.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.db import OperationalError, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from fangkong.core import replica
from fangkong.core.models import ApiToken, User
from fangkong.people.models import Person
from tests.processes import ROOT, database_url, env

router = replica.ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch):
    """Pretend a reachable replica is configured (the routing decision only)."""
    monkeypatch.setattr(replica, "configured", lambda: True)
    monkeypatch.setattr(replica, "_replica_reachable", lambda: True)


def test_without_a_replica_everything_reads_the_primary():
    assert not replica.configured()
    with replica.reading():
        assert replica.alias() == "default"
        assert router.db_for_read(Person) == "default"
    with pytest.raises(MiddlewareNotUsed):
        replica.ReadYourWritesMiddleware(lambda request: HttpResponse())


def test_only_reads_inside_reading_go_to_the_replica(with_replica):
    assert router.db_for_read(Person) == "default"
    with replica.reading():
        assert router.db_for_read(Person) == "replica"
        assert router.db_for_write(Person) == "default"
        with replica.primary():
            assert router.db_for_read(Person) == "default"
        assert router.db_for_read(Person) == "replica"
    assert router.db_for_read(Person) == "default"


def test_who_may_do_what_is_always_read_from_the_primary(with_replica):
    with replica.reading():
        assert router.db_for_read(User) == "default"
        assert router.db_for_read(ApiToken) == "default"


@pytest.mark.django_db
def test_a_read_inside_a_write_transaction_sees_that_transaction(with_replica):
    with transaction.atomic(), replica.reading():
        assert router.db_for_read(Person) == "default"


def test_the_schema_is_migrated_on_the_primary_only():
    assert router.allow_migrate("default", "people")
    assert not router.allow_migrate("replica", "people")


def test_an_unreachable_replica_sends_reads_to_the_primary_for_a_while(monkeypatch, settings):
    attempts = []

    class Down:
        def ensure_connection(self):
            attempts.append(1)
            raise OperationalError("connection refused")

    monkeypatch.setattr(replica, "configured", lambda: True)
    monkeypatch.setattr(replica, "connections", {"replica": Down(), "default": _NoTransaction()})
    monkeypatch.setattr(replica, "_down_until", 0.0)
    settings.FANGKONG_REPLICA_RETRY_SECONDS = 30
    with replica.reading():
        assert replica.alias() == "default"
        assert replica.alias() == "default"
    assert attempts == [1]  # not tried again within the retry window


class _NoTransaction:
    in_atomic_block = False


def _seen_alias(request) -> HttpResponse:
    with replica.reading():
        return HttpResponse(replica.alias(), status=int(request.GET.get("status", 200)))


def test_middleware_pins_writes_and_the_writer_for_a_while(with_replica, settings):
    settings.FANGKONG_REPLICA_PIN_SECONDS = 10
    middleware = replica.ReadYourWritesMiddleware(_seen_alias)
    factory = RequestFactory()

    read = middleware(factory.get("/board"))
    assert read.content == b"replica" and replica.PIN_COOKIE not in read.cookies

    wrote = middleware(factory.post("/persons"))
    assert wrote.content == b"default"  # the write's own reads
    pin = wrote.cookies[replica.PIN_COOKIE]
    assert pin["max-age"] == 10 and pin["httponly"]
    assert time.time() < int(pin.value) <= time.time() + 10

    pinned = factory.get("/board")
    pinned.COOKIES[replica.PIN_COOKIE] = pin.value
    assert middleware(pinned).content == b"default"

    expired = factory.get("/board")
    expired.COOKIES[replica.PIN_COOKIE] = str(int(time.time()) - 1)
    assert middleware(expired).content == b"replica"

    garbled = factory.get("/board")
    garbled.COOKIES[replica.PIN_COOKIE] = "soon"
    assert middleware(garbled).content == b"replica"

    failed = middleware(factory.post("/persons?status=400"))
    assert replica.PIN_COOKIE not in failed.cookies


# ------------------------------------------------------------------ two real databases


def _clone_postgres(source: str, target: str) -> None:
    """CREATE DATABASE … TEMPLATE: the copy a pg_basebackup would give, without a cluster."""
    import psycopg

    parts = urlsplit(source)
    admin = urlunsplit(parts._replace(path="/postgres"))
    name, copy = parts.path.lstrip("/"), urlsplit(target).path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        _end_other_sessions(conn, name)
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')


def _end_other_sessions(conn, name: str) -> None:
    """A template must have no other session: wait a moment for sessions left by earlier
    tests' threads and subprocesses to close, then end the stragglers (idle by then)."""
    import time

    others = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    for _ in range(20):
        if not conn.execute(others, [name]).fetchall():
            return
        time.sleep(0.25)
    conn.execute(f"SELECT pg_terminate_backend(pid) FROM ({others}) AS s", [name])


def _drop_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def _copy_sqlite(source: Path, target: Path) -> None:
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


@pytest.mark.slow
def test_two_databases(tmp_path, django_db_setup, django_db_blocker):
    """Boards and exports from the replica, the writer's reads from the primary (HTTP).

    Both databases start as copies of the migrated test database (a file copy, or CREATE
    DATABASE … TEMPLATE), so no migration runs here."""
    with django_db_blocker.unblock():
        test_db = database_url()
        connections.close_all()
    sqlite = test_db.startswith("sqlite")
    if sqlite:
        primary = f"sqlite:///{tmp_path / 'primary.sqlite3'}"
        copy = f"sqlite:///{tmp_path / 'replica.sqlite3'}"
        _copy_sqlite(Path(urlsplit(test_db).path[1:]), tmp_path / "primary.sqlite3")
    else:
        parts = urlsplit(test_db)
        name = parts.path.lstrip("/")
        primary = urlunsplit(parts._replace(path=f"/{name}_rw_primary"))
        copy = urlunsplit(parts._replace(path=f"/{name}_rw_replica"))
        _clone_postgres(test_db, primary)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "tests/core/replica_check.py", *args],
            cwd=ROOT,
            env=env(
                FANGKONG_VAR_DIR=str(tmp_path),
                FANGKONG_DATABASE_URL=primary,
                FANGKONG_ALLOWED_HOSTS="testserver",
                **extra,
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )

    try:
        done = run("seed")
        assert done.returncode == 0, done.stderr
        # The copy plays the streaming replica that has not received the next write yet.
        if sqlite:
            _copy_sqlite(tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3")
        else:
            _clone_postgres(primary, copy)
        done = run("check", FANGKONG_REPLICA_DATABASE_URL=copy, FANGKONG_REPLICA_PIN_SECONDS="2")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "FAIL" not in done.stdout and done.stdout.count("ok ") == 12
    finally:
        if not sqlite:
            _drop_postgres(primary)
            _drop_postgres(copy)
