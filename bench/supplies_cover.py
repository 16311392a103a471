"""Benchmark: stock and days of cover for every item in every store after 1,000,000 movements
(issue 16 figure: < 100 ms).

    .venv/bin/python bench/supplies_cover.py [--movements 1000000] [--stores 50] [--days 60]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_supplies_bench] [--keep]

Seeds a fresh PostgreSQL database with the catalogue (24 items), ``--stores`` stores and
``--movements`` ledger lines over ``--days`` days (one receipt in ten, nine issues), written
with one INSERT … SELECT FROM generate_series; the balances and the days of use are then
built from the ledger with two GROUP BYs (what ``services.rebuild_balances`` does) and
checked against it. Times the county's stock board as the page computes it: every store,
every item, stock, use of the last seven days, planned use, days of cover, run-out, what is
in transit (``selectors.stock_board`` for a county supply officer), five runs after one warm
run. Prints the median and its ratio to the 100 ms limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from supplies_common import drop_database, prepare

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_supplies_bench"
LIMIT_MS = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SUPPLIES_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    world = prepare(args.database_url, stores=args.stores)
    from django.db import connection
    from django.utils import timezone

    from fangkong.supplies import selectors
    from fangkong.supplies.models import DailyUse, Movement, StockLevel

    stores, items = world["stores"], world["items"]
    started = time.perf_counter()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Movement._meta.db_table}
                (warehouse_id, item_id, kind, quantity, balance_after, at, reason, document,
                 batch_no, received_by, source, region_code)
            SELECT s.id, i.ids[1 + (g / (%(nstores)s * 10)) %% %(nitems)s],
                   CASE WHEN (g / %(nstores)s) %% 10 = 0 THEN 'receipt' ELSE 'issue' END,
                   CASE WHEN (g / %(nstores)s) %% 10 = 0 THEN 500 ELSE -20 END, 0,
                   %(now)s - (1 - g::float / %(n)s) * %(days)s * interval '1 day',
                   '', '', '', '', '', s.region_code
            FROM generate_series(0, %(n)s - 1) AS g
            JOIN (SELECT id, region_code, row_number() OVER (ORDER BY id) - 1 AS k
                  FROM {Movement._meta.get_field("warehouse").related_model._meta.db_table}) s
              ON s.k = g %% %(nstores)s
            CROSS JOIN (SELECT %(items)s::int[] AS ids) i
            """,
            {
                "n": args.movements,
                "nstores": len(stores),
                "nitems": len(items),
                "items": items,
                "now": now,
                "days": args.days,
            },
        )
        cursor.execute(
            f"""
            INSERT INTO {StockLevel._meta.db_table} (warehouse_id, item_id, quantity, updated_at)
            SELECT warehouse_id, item_id, sum(quantity), now()
            FROM {Movement._meta.db_table} GROUP BY warehouse_id, item_id
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {DailyUse._meta.db_table} (warehouse_id, item_id, day, quantity)
            SELECT warehouse_id, item_id, (at AT TIME ZONE 'Asia/Shanghai')::date, -sum(quantity)
            FROM {Movement._meta.db_table} WHERE kind IN ('issue', 'loss')
            GROUP BY 1, 2, 3
            """
        )
        cursor.execute("ANALYZE")
    count = Movement.objects.count()
    print(
        f"{count:,} movements, {StockLevel.objects.count():,} balances, "
        f"{DailyUse.objects.count():,} days of use ({time.perf_counter() - started:.1f} s to load)"
    )

    actor = world["actor"]
    boards = selectors.stock_board(actor)  # warm
    rows = sum(len(b.rows) for b in boards)
    times, cpu = [], []
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        boards = selectors.stock_board(actor)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    short = sum(len(b.short) for b in boards)
    median = statistics.median(times)
    print(f"stock board: {len(boards)} stores, {rows:,} store items ({short} under 3 days)")
    print(f"  runs (ms): {', '.join(f'{t:.1f}' for t in times)}")
    print(
        f"  CPU of this process (ms): {', '.join(f'{t:.1f}' for t in cpu)}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"stock and days of cover after {count:,} movements: {median:.1f} ms "
        f"= {median / LIMIT_MS:.2f} × the {LIMIT_MS:.0f} ms limit "
        f"({'within' if median < LIMIT_MS else 'OVER'})"
    )
    if not args.keep:
        connection.close()
        drop_database(args.database_url)
    return 0 if median < LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
