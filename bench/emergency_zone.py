"""Benchmark: declaring a sealed zone of 50,000 people, and a wartime switch for 5,000 staff
(issue 18).

    .venv/bin/python bench/emergency_zone.py [--people 50000] [--staff 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_emergency] [--keep]

Seeds a fresh PostgreSQL database with the official 拜泉县 townships, ``--people`` residents
inside one township's villages (the zone) and as many outside it, and ``--staff`` users of
that township. Then times, through the project's services:

1. declaring a sealed zone over the township's villages: the zone saved, the task queued and
   run (the immediate task backend, so the worker's own work is what is timed), every
   resident given the zone's measures (target < 10 s, with progress);
2. switching the township to wartime: the switch, every staff member notified with a notice
   to confirm, and the reporting board read (target < 5 s).

Prints each time and its ratio to the target. The database is dropped unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import COUNTY, drop_database, recreate_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_emergency"
ZONE_TARGET_S = 10.0
SWITCH_TARGET_S = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--staff", type=int, default=5_000)
    parser.add_argument("--villages", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_EM_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    os.environ["FANGKONG_TASK_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    from fangkong.core import regions
    from fangkong.core.models import User
    from fangkong.core.roles import Role
    from fangkong.emergency import services
    from fangkong.emergency.models import ZoneMeasure
    from fangkong.people.models import Person, Source

    call_command("migrate", verbosity=0)
    regions.load_official_county(COUNTY)
    townships = [c for c, _n, _l in regions.official_chain(COUNTY) if len(c) == 9]
    inside, outside = townships[0], townships[1]
    villages = [f"{inside}{200 + i:03d}" for i in range(args.villages)]
    others = [f"{outside}{200 + i:03d}" for i in range(args.villages)]
    regions.upsert_regions(
        [(code, f"村{n}", True) for n, code in enumerate(villages + others)]
        + [(code + "001", f"村{n}第1组", True) for n, code in enumerate(villages + others)]
    )
    started = time.perf_counter()
    for codes in (villages, others):
        for first in range(0, args.people, 5000):
            Person.objects.bulk_create(
                Person(
                    name=f"居民{n}",
                    name_pinyin=f"jumin{n}",
                    name_initials="jm",
                    region_code=codes[n % len(codes)] + "001",
                    category="resident",
                    source=Source.MANUAL,
                )
                for n in range(first, min(first + 5000, args.people))
            )
    hq = User.objects.create_user(username="xian", role=Role.COUNTY_HQ, password="x")
    hq.regions.set([COUNTY])
    staff = User.objects.bulk_create(
        User(username=f"staff{n}", role=Role.GRID_WORKER, password="!") for n in range(args.staff)
    )
    through = User.regions.through
    through.objects.bulk_create(
        through(user_id=u.pk, region_id=villages[n % len(villages)] + "001")
        for n, u in enumerate(staff)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {2 * args.people:,} residents and {args.staff:,} staff "
        f"in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    zone = services.declare_zone(
        actor=hq,
        draft=services.ZoneDraft(
            name="封控区",
            kind="sealed",
            region_codes=villages,
            legal_basis="指挥部令",
            approved_by="王主任",
        ),
    )
    zone_s = time.perf_counter() - started
    zone.refresh_from_db()
    placed = ZoneMeasure.objects.filter(zone=zone).count()
    assert placed == args.people, (placed, args.people)
    assert zone.task.status == "succeeded" and zone.task.done == args.people
    print(
        f"sealed zone of {placed:,} people: measures in {zone_s:.2f} s "
        f"(target {ZONE_TARGET_S:.0f} s, ratio {zone_s / ZONE_TARGET_S:.2f})"
    )

    started = time.perf_counter()
    result = services.switch_mode(actor=hq, region_code=inside, mode="wartime", reason="演练")
    board = services.reporting_board(actor=hq, switch_id=result.switch.pk)
    switch_s = time.perf_counter() - started
    assert board.total == args.staff, (board.total, args.staff)
    print(
        f"wartime switch: {result.notified:,} staff notified, board live in {switch_s:.2f} s "
        f"(target {SWITCH_TARGET_S:.0f} s, ratio {switch_s / SWITCH_TARGET_S:.2f})"
    )
    connection.close()
    if not args.keep:
        drop_database(args.database_url)
    return 0 if zone_s < ZONE_TARGET_S and switch_s < SWITCH_TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
