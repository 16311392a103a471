"""Benchmark: the overdue-check computation (find_missed_checks) over 100,000 active orders.

    .venv/bin/python bench/quarantine_overdue.py [--orders 100000] [--missing 0.05]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_q_overdue] [--keep]

Seeds a fresh PostgreSQL database with ``--orders`` people in home isolation on the default
twice-daily schedule (06:00–12:00, 14:00–20:00), gives all but ``--missing`` of them a reading
in each of the two windows that closed in the last 24 hours before 12:30 local time, then
times ``find_missed_checks(now=12:30)``: the first run (raises the alerts), a repeat (must raise
nothing — each slot alerts once) and, after removing the alerts, three more first runs.
Prints seconds per run (target < 1 s). The database is dropped unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import drop_database, recreate_database, seed_county, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_q_overdue"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--villages", type=int, default=400)
    parser.add_argument(
        "--missing", type=float, default=0.05, help="share of orders without a reading in a window"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_Q_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.quarantine import services
    from fangkong.quarantine.models import Alert, HealthCheck, IsolationOrder

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    now = timezone.make_aware(datetime.combine(today, datetime.min.time())) + timedelta(
        hours=12, minutes=30
    )
    seed_county(orders=args.orders, villages=args.villages, starts_at=now - timedelta(days=3))
    slots = [
        opens for _schedule, opens, _closes in services.candidate_slots(now, timedelta(hours=24))
    ]
    every = max(1, round(1 / args.missing)) if args.missing else 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for slot in slots:
            # Every order but one in ``every`` has its reading in this window.
            cursor.execute(
                f"""
                INSERT INTO {HealthCheck._meta.db_table}
                    (order_id, taken_at, slot, temperature, reported_normal, symptoms, at_home,
                     method, note, recorded_at)
                SELECT id, %s, %s, 36.5, false, '[]', true, 'door', '', %s
                FROM {IsolationOrder._meta.db_table}
                WHERE %s = 0 OR id %% %s <> 0
                """,
                [slot + timedelta(hours=2), slot, slot + timedelta(hours=2), every, every or 1],
            )
        cursor.execute("ANALYZE")
    readings = HealthCheck.objects.count()
    print(
        f"{readings:,} readings in {len(slots)} closed windows "
        f"({time.perf_counter() - started:.1f} s)"
    )

    def timed() -> tuple[float, int]:
        began = time.perf_counter()
        raised = services.find_missed_checks(now=now)
        return time.perf_counter() - began, raised

    first, raised = timed()
    repeat, again = timed()
    print(f"first run:  {first:.3f} s, raised {raised:,} missed-check alerts")
    print(f"repeat run: {repeat:.3f} s, raised {again:,} (a slot alerts once)")
    runs = []
    for _ in range(3):
        Alert.objects.all().delete()
        runs.append(timed()[0])
    active = IsolationOrder.objects.filter(status="active").count()
    print(
        f"RESULT find_missed_checks over {active:,} active orders: "
        f"median {statistics.median(runs):.3f} s (runs {', '.join(f'{r:.3f}' for r in runs)}) "
        f"target < 1 s"
    )
    if not args.keep:
        connection.close()
        drop_database(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
