"""fangkong serve: the web UI and API through granian (WSGI), supervised.

``fangkong serve [--host H] [--port P] [--workers N] [--threads T] [--max-memory MB]``

Granian runs as a child of this command (``fangkong.core.supervise``): N worker processes
(default: one per CPU core), each with T blocking threads that run Django. Each thread keeps
one database connection (``CONN_MAX_AGE``, checked before reuse), so the command refuses to
start when N x T connections would not fit in PostgreSQL's ``max_connections``.

Memory: every server process runs under a ceiling of ``--max-memory`` MiB; granian replaces
a worker whose resident memory passes three quarters of it (between requests) and respawns a
worker that died; if granian itself stops (after a crash loop of its workers), this command
starts it again.
"""

from __future__ import annotations

import os
import socket
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from fangkong.core import supervise

# Connections left for the task worker, the periodic jobs, psql and maintenance.
RESERVED_CONNECTIONS = 10
# Kept long, so that a blocking thread (and the connection it holds) is not retired between
# the morning round and the afternoon report (granian's maximum).
THREAD_IDLE_SECONDS = 600
RSS_SAMPLE_SECONDS = 10
# A worker that does not finish its requests this long after a stop or respawn is killed.
GRANIAN_KILL_SECONDS = 30


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def granian_command(
    host: str, port: int, workers: int, threads: int, max_memory_mb: int = 0
) -> list[str]:
    """The granian command line (WSGI) of one server."""
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--blocking-threads-idle-timeout",
        str(THREAD_IDLE_SECONDS),
        "--no-ws",
        "--respawn-failed-workers",
        "--respawn-interval",
        "1",
        "--workers-kill-timeout",
        str(GRANIAN_KILL_SECONDS),
    ]
    if max_memory_mb:
        command += [
            "--workers-max-rss",
            str(max(1, max_memory_mb * 3 // 4)),
            "--rss-sample-interval",
            str(RSS_SAMPLE_SECONDS),
        ]
    return [*command, "fangkong.wsgi:application"]


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens there. Granian binds with SO_REUSEPORT, so a second
    server on a busy port would silently share its requests instead of failing."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def connection_budget() -> int | None:
    """Connections PostgreSQL allows this server (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
        )
        (allowed,) = cursor.fetchone()
    if not connection.in_atomic_block:
        connection.close()  # granian's processes open their own
    return allowed - RESERVED_CONNECTIONS


class Command(BaseCommand):
    help = (
        "Serve the web UI and the API (granian, WSGI), restarting what dies. "
        "启动网页和接口服务（进程意外退出会自动重启）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default=settings.FANGKONG_HOST, help="address to listen on (127.0.0.1)"
        )
        parser.add_argument(
            "--port", type=int, default=settings.FANGKONG_PORT, help="port to listen on (8000)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.FANGKONG_SERVE_WORKERS or cores(),
            help="server processes (default: FANGKONG_SERVE_WORKERS, else one per CPU core)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.FANGKONG_SERVE_THREADS,
            help="threads per process, each with one database connection (default: 4)",
        )
        parser.add_argument(
            "--max-memory",
            type=int,
            default=settings.FANGKONG_SERVE_MAX_MEMORY_MB,
            metavar="MB",
            help="memory ceiling of each server process in MiB, 0 for none (default: 1024)",
        )
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        workers, threads = options["workers"], options["threads"]
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        budget = connection_budget()
        if budget is not None and workers * threads > budget:
            raise CommandError(
                f"{workers} processes x {threads} threads = {workers * threads} database "
                f"connections, but PostgreSQL allows {budget} here (max_connections minus "
                f"{RESERVED_CONNECTIONS} for the worker and maintenance): lower --threads or "
                "--workers, or raise max_connections"
            )
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
            connection.close()
        if port_taken(host, port):
            raise CommandError(f"{host}:{port} is already in use (another server?)")
        self.stdout.write(
            f"Fangkong: http://{host}:{port}/ ({workers} processes x {threads} threads)"
        )
        self.stdout.flush()
        command = granian_command(host, port, workers, threads, options["max_memory"])
        code = supervise.Supervisor(
            f"fangkong serve :{port}",
            lambda start: command,
            max_memory_mb=options["max_memory"],
            restart_on_success=True,
            stop_timeout=GRANIAN_KILL_SECONDS + 10,
        ).run()
        if code:
            raise SystemExit(code)
