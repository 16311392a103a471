"""fangkong worker: run queued background tasks (imports, re-evaluations) from the database."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background task worker (database-backed queue). 运行后台任务处理程序。"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument("--max-tasks", type=int, default=None)

    def handle(self, *args, **options):
        extra = ["--max-tasks", str(options["max_tasks"])] if options["max_tasks"] else []
        call_command(
            "db_worker",
            "--interval", str(options["interval"]),
            *(["--batch"] if options["batch"] else []),
            "--no-startup-delay",
            *extra,
        )
