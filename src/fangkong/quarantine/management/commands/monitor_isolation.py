"""``fangkong manage monitor_isolation``: raise missed-check alerts and escalate alerts."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from fangkong.quarantine import services


class Command(BaseCommand):
    help = (
        "Raise one alert for every isolation check window that closed without a reading, "
        "then escalate unhandled alerts to the village and township. Safe to repeat. "
        "With --every SECONDS it keeps running (e.g. --every 300 for every five minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds")

    def handle(self, *args, every: int = 0, **options):
        while True:
            result = services.run_monitoring()
            self.stdout.write(
                f"missed={result['missed']} to_village={result['to_village']} "
                f"to_township={result['to_township']}"
            )
            if every <= 0:
                return
            time.sleep(every)
