"""Benchmark: close and secondary contacts in a large contact graph in PostgreSQL.

    .venv/bin/python bench/tracing_graph.py          # 1,000,000 people, 10,000,000 links
    .venv/bin/python bench/tracing_graph.py --people 200000 --links 2000000
    .venv/bin/python bench/tracing_graph.py --database-url postgres://postgres@127.0.0.1:5432/other

Drops and recreates its own database (``fk_bench_tracing``), migrates it and fills it
server-side (``INSERT ... SELECT generate_series``): ``--people`` persons in villages of
2,000 people, and ``--links`` contact links, each between a person and someone within
±1,000 places of them (contacts are local: household, village, neighbouring village), with
a last-exposure date in the last ten days. Indexes are built after the load and the tables
analysed, as a bulk import would.

Then, through the product's own code (:mod:`fangkong.tracing.graph` and
:func:`fangkong.tracing.services.reclassify`):

1. close + secondary contacts of one confirmed case, ``--samples`` different cases:
   p50/p95 (target p95 < 50 ms);
2. of a cluster of 1,000 confirmed cases (drawn from a stretch of 10,000 people): time
   (target < 2 s);
3. a cluster of 10,000 confirmed cases (from a stretch of 100,000 people) is classified once
   (set-up: classifications and tracing tasks written), then one more case in it is
   confirmed through ``change_case_status`` and timed (target < 1 s): confirming can only
   add or upgrade contacts, so the service brings the classification up to date around the
   case (exact; checked by a full recomputation right after, which must find 0 changes).
   Then the case is excluded again — which recomputes everyone within two hops of it from
   the seeds within four — and checked the same way. The full recomputation (the nightly
   consistency task) is timed too.

Prints the sizes actually run, the row counts found and the times.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_tracing"
ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def load(people: int, links: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    times = {}
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    times["migrate"] = time.perf_counter() - t
    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute(
            """
            INSERT INTO people_person (name, name_pinyin, name_initials, sex, phone,
                region_code, category, source, source_file, created_at, updated_at, version)
            SELECT '测试' || g, 'ceshi', 'cs', '', '',
                   '230231106' || lpad(((g / 2000) %% 999 + 1)::text, 3, '0') || '001',
                   'resident', 'import', 'bench', now(), now(), 1
              FROM generate_series(1, %s) AS g
            """,
            [people],
        )
        times["persons"] = time.perf_counter() - t
        t = time.perf_counter()
        # Load links without their indexes and foreign-key checks, then build the indexes
        # and put the keys back (NOT VALID: the generator only writes existing ids).
        cur.execute(
            """
            SELECT conname FROM pg_constraint
             WHERE conrelid = 'tracing_contactlink'::regclass AND contype = 'f'
            """
        )
        for (name,) in cur.fetchall():
            cur.execute(f'ALTER TABLE tracing_contactlink DROP CONSTRAINT "{name}"')
        cur.execute("DROP INDEX IF EXISTS tracing_link_source, tracing_link_contact")
        cur.execute(
            """
            SELECT indexname FROM pg_indexes
             WHERE tablename = 'tracing_contactlink' AND indexname LIKE '%%_id'
            """
        )
        dropped = [r[0] for r in cur.fetchall()]
        for name in dropped:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute(
            """
            INSERT INTO tracing_contactlink (source_id, contact_id, exposure_type,
                last_exposure_date, region_code, created_at)
            SELECT s, CASE WHEN c = s THEN (s %% %s) + 1 ELSE c END, 'meal',
                   current_date - (g %% 10), '230231106001001', now()
              FROM (
                SELECT g, (g %% %s) + 1 AS s,
                       LEAST(%s, GREATEST(1, (g %% %s) + 1 + (random() * 2000)::int - 1000)) AS c
                  FROM generate_series(1, %s) AS g
              ) AS x
            """,
            [people, people, people, people, links],
        )
        times["links"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(
            "CREATE INDEX tracing_link_source ON tracing_contactlink (source_id, contact_id)"
        )
        cur.execute(
            "CREATE INDEX tracing_link_contact ON tracing_contactlink (contact_id, source_id)"
        )
        for column, table in (("source_id", "people_person"), ("contact_id", "people_person")):
            cur.execute(
                f"ALTER TABLE tracing_contactlink ADD CONSTRAINT fk_{column} FOREIGN KEY "
                f"({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED NOT VALID"
            )
        cur.execute("ANALYZE people_person")
        cur.execute("ANALYZE tracing_contactlink")
        times["indexes"] = time.perf_counter() - t
    return times


def make_cases(person_ids: list[int], status: str) -> list[int]:
    import datetime as dt

    from fangkong.tracing.models import Case
    from fangkong.tracing.services import window_start

    onset = dt.date.today() - dt.timedelta(days=6)
    cases = []
    for pid in person_ids:
        case = Case(
            person_id=pid,
            name="bench",
            region_code="230231106001001",
            status=status,
            onset_date=onset,
            confirmation_date=onset + dt.timedelta(days=1),
        )
        case.window_start = window_start(case)
        cases.append(case)
    Case.objects.bulk_create(cases, batch_size=5000)
    return [c.pk for c in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ["FANGKONG_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    sys.path.insert(0, str(ROOT / "src"))
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.db import connection, transaction

    from fangkong.core import regions
    from fangkong.core.models import User
    from fangkong.core.roles import Role
    from fangkong.tracing import graph, services
    from fangkong.tracing.models import Case, Classification, TracingTask

    rng = random.Random(args.seed)
    print(f"PostgreSQL {connection.pg_version if hasattr(connection, 'pg_version') else ''}")
    print(f"graph: {args.people:,} people, {args.links:,} contact links")
    times = load(args.people, args.links)
    for phase, seconds in times.items():
        print(f"  load {phase:<8} {seconds:7.1f} s")

    # 1. One case at a time.
    singles = make_cases(rng.sample(range(1, args.people + 1), args.samples), "confirmed")
    graph.contacts_of_cases([singles[0]])  # warm the plan cache
    durations, sizes = [], []
    for case_id in singles:
        t = time.perf_counter()
        found = graph.contacts_of_cases([case_id])
        durations.append((time.perf_counter() - t) * 1000)
        sizes.append(len(found))
    print(
        f"1. one case, {args.samples} cases: p50 {statistics.median(durations):.1f} ms, "
        f"p95 {percentile(durations, 0.95):.1f} ms (target < 50 ms); "
        f"contacts found per case: median {statistics.median(sizes):.0f}"
    )
    Case.objects.filter(pk__in=singles).delete()

    # 2. A cluster of 1,000 cases in a stretch of 10,000 people.
    start = rng.randint(1, max(1, args.people - 10_000))
    cluster = make_cases(rng.sample(range(start, start + 10_000), 1_000), "confirmed")
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        found = graph.contacts_of_cases(cluster)
        runs.append(time.perf_counter() - t)
    close = sum(1 for r in found if r.level == "close")
    print(
        f"2. cluster of 1,000 cases: {min(runs):.2f} s best, {max(runs):.2f} s worst of 3 "
        f"(target < 2 s); {close:,} close and {len(found) - close:,} secondary contacts"
    )
    Case.objects.filter(pk__in=cluster).delete()

    # 3. Full reclassification after a case is confirmed, cluster of 10,000.
    span = min(100_000, args.people)
    start = rng.randint(1, max(1, args.people - span))
    members = rng.sample(range(start, start + span), 10_001)
    make_cases(members[:10_000], "confirmed")
    last = make_cases(members[10_000:], "suspected")[0]
    regions.load_official_county("230231")
    investigator = User.objects.create_user(
        username="bench_investigator", password="x", role=Role.INVESTIGATOR
    )
    investigator.regions.set(["230231"])
    t = time.perf_counter()
    services.reclassify()
    setup = time.perf_counter() - t
    contacts = Classification.objects.filter(ended_at__isnull=True).count()
    print(
        f"3. cluster of 10,000 cases: first classification (set-up) {setup:.2f} s: "
        f"{contacts:,} contacts, {TracingTask.objects.count():,} tracing tasks"
    )
    case = Case.objects.get(pk=last)
    t = time.perf_counter()
    with transaction.atomic():
        services.change_case_status(
            user=investigator, case_id=last, version=case.version, status="confirmed"
        )
    elapsed = time.perf_counter() - t
    print(
        f"   confirm one more case (change_case_status: classification brought up to date "
        f"around it, tasks written): {elapsed:.3f} s (target < 1 s); contacts now "
        f"{Classification.objects.filter(ended_at__isnull=True).count():,}"
    )
    t = time.perf_counter()
    outcome = services.reclassify()
    elapsed = time.perf_counter() - t
    changed = len(outcome.new) + len(outcome.upgraded) + len(outcome.downgraded)
    print(
        f"   full recomputation of the whole graph (reclassify): {elapsed:.2f} s, "
        f"{changed + len(outcome.ended)} changes (0 expected: the incremental result is exact)"
    )
    case = Case.objects.get(pk=last)
    t = time.perf_counter()
    with transaction.atomic():
        services.change_case_status(
            user=investigator, case_id=last, version=case.version, status="excluded"
        )
    elapsed = time.perf_counter() - t
    print(
        f"   exclude that case again (change_case_status: everyone within two hops "
        f"recomputed from the seeds within four, written): {elapsed:.3f} s"
    )
    t = time.perf_counter()
    outcome = services.reclassify()
    changed = len(outcome.new) + len(outcome.upgraded) + len(outcome.downgraded)
    print(
        f"   full recomputation after it: {time.perf_counter() - t:.2f} s, "
        f"{changed + len(outcome.ended)} changes (0 expected)"
    )
    t = time.perf_counter()
    computed = graph.contacts_of_all()
    print(f"   the graph query alone: {time.perf_counter() - t:.2f} s for {len(computed):,} rows")


if __name__ == "__main__":
    main()
