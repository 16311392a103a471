"""Benchmark of the command layer's figures (issue 13), on PostgreSQL:

    .venv/bin/python bench/reports_board.py [--orders 20000] [--villages 300] [--requests 60]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_reports] [--keep]

1. County board: p95 of GET /reports/ (the page) and /api/v1/reports/board as the county HQ,
   through Django's WSGI handler in-process (test client; no network hop), with the figure
   table holding a county's worth of pre-aggregated rows: every figure for every township,
   village and group for 14 days. The board reads only that table, so its time does not grow
   with the modules' rows (residents, samples, contact links); target p95 < 150 ms.
2. Self-inspection over the whole county, all rules, with ``--orders`` people isolated for
   three days without a single check (every one a finding and a problem: the worst case);
   target < 60 s. One rule for one village: target < 1 s.
3. The county stage summary .docx: target < 3 s.

Scaled down for a shared 2-core machine: 20,000 isolation orders instead of 100,000 (the
self-inspection time is linear in findings, so the printed ratio is also extrapolated x5).
Prints each figure as a ratio to its limit. The database is dropped unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import drop_database, recreate_database, seed_county, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_reports"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--groups-per-village", type=int, default=8)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_R_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-board", action="store_true", help="only self-inspection, .docx")
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from fangkong.core import figures
    from fangkong.core.models import Region, User
    from fangkong.core.roles import Role
    from fangkong.reports import documents, services
    from fangkong.reports.models import FigureValue

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    now = timezone.now()
    seed_county(orders=args.orders, villages=args.villages, starts_at=now - timedelta(days=3))
    county = Region.objects.filter(level="county").values_list("code", flat=True).first()
    user = User.objects.create_user(username="bench_hq", password="x", role=Role.COUNTY_HQ)
    user.regions.set([county])

    started = time.perf_counter()
    services.refresh(now)
    refresh_s = time.perf_counter() - started
    # A county's worth of stored figures: every figure, every region down to groups, 14 days.
    codes = list(Region.objects.filter(code__startswith=county).values_list("code", flat=True))
    groups = [
        f"{v}{g:03d}" for v in codes if len(v) == 12 for g in range(1, args.groups_per_village + 1)
    ]
    today = timezone.localdate()
    keys = [] if args.skip_board else [f.key for f in figures.figures()]
    if keys:
        FigureValue.objects.filter(day__lt=today).delete()
    batch = []
    for back in range(1, 14):
        day = today - timedelta(days=back)
        for key in keys:
            for n, code in enumerate(codes + groups):
                batch.append(FigureValue(key=key, day=day, region_code=code, value=n % 97, at=now))
        if len(batch) > 50_000:
            FigureValue.objects.bulk_create(batch, batch_size=5000)
            batch = []
    FigureValue.objects.bulk_create(batch, batch_size=5000)
    rows = FigureValue.objects.count()
    print(
        f"figures: {len(keys)} figures, {len(codes) + len(groups):,} regions, {rows:,} stored rows;"
        f" refresh of today's figures over {args.orders:,} orders took {refresh_s:.1f} s"
    )

    client = Client()
    client.force_login(user)
    board_urls = (
        ()
        if args.skip_board
        else (
            ("/reports/", "board page"),
            ("/api/v1/reports/board", "board API"),
        )
    )
    for url, label in board_urls:
        client.get(url)  # warm
        samples = []
        for _ in range(args.requests):
            t = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.status_code
        q = p95(samples)
        print(
            f"county {label}: p95 {q:.1f} ms, median {statistics.median(samples):.1f} ms"
            f" over {args.requests} requests; ratio to the 150 ms limit {q / 150:.2f}"
        )

    t = time.perf_counter()
    run = services.run_inspection(county, now=now)
    whole = time.perf_counter() - t
    scale = 100_000 / args.orders
    print(
        f"self-inspection, whole county, all {len(run.seconds)} rules: {whole:.1f} s,"
        f" {run.findings:,} findings; ratio to 60 s {whole / 60:.2f}"
        f" (x{scale:.0f} orders extrapolated: {whole * scale / 60:.2f})"
    )
    print("  seconds per rule:", {k: v for k, v in run.seconds.items() if v >= 0.05})
    village = next(c for c in codes if len(c) == 12)
    t = time.perf_counter()
    run = services.run_inspection(village, now=now, rule_keys=["quarantine.check_overdue"])
    one = time.perf_counter() - t
    print(
        f"one rule (no check in 24 h), one village: {one * 1000:.0f} ms, {run.findings} findings;"
        f" ratio to 1 s {one:.2f}"
    )
    t = time.perf_counter()
    doc = documents.generate(user, "stage", county)
    docx = time.perf_counter() - t
    print(
        f"county stage summary .docx: {docx:.2f} s ({len(doc.content):,} bytes);"
        f" ratio to 3 s {docx / 3:.2f}"
    )
    if not args.keep:
        from django.db import connections

        connections.close_all()
        drop_database(args.database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
