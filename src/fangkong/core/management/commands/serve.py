"""fangkong serve [--host H] [--port P]: the web UI and API through granian (WSGI)."""

import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


def granian_command(host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads),
        "--no-ws", "fangkong.wsgi:application",
    ]


class Command(BaseCommand):
    help = "Serve the web UI and the API (granian, WSGI). 启动网页和接口服务。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("FANGKONG_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("FANGKONG_PORT", 8000)))
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--threads", type=int, default=4, help="blocking threads per worker")
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        command = granian_command(
            options["host"], options["port"], options["workers"], options["threads"]
        )
        self.stdout.write(f"Fangkong: http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        try:
            raise SystemExit(subprocess.call(command))
        except KeyboardInterrupt:
            pass
