"""fangkong worker: run queued background tasks and the periodic jobs of every module."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from fangkong.core import periodic


class Command(BaseCommand):
    help = (
        "Run the background task worker (database-backed queue) and the periodic jobs "
        "(e.g. missed isolation checks every 5 minutes). 运行后台任务与定时任务。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--batch", action="store_true",
            help="run what is queued, then exit (periodic jobs run once first)",
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--no-periodic", action="store_true", help="queued tasks only")

    def handle(self, *args, **options):
        if not options["no_periodic"]:
            if options["batch"]:
                periodic.run_due()
            else:
                periodic.PeriodicRunner().start()
        extra = ["--max-tasks", str(options["max_tasks"])] if options["max_tasks"] else []
        call_command(
            "db_worker",
            "--interval", str(options["interval"]),
            *(["--batch"] if options["batch"] else []),
            "--no-startup-delay",
            *extra,
        )
