"""Benchmark: re-evaluate every person of a county after a new control-policy version.

    .venv/bin/python bench/screening_reevaluate.py [--people 1000000]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_screening_bench]

Drops and recreates its own database, migrates, and fills it in SQL (``generate_series``):
``--people`` persons in 24 grids of 拜泉县 (230231), each with one stay inside the 14-day
window — 10 % in a high-risk district, 15 % in a medium-risk city, the rest elsewhere — so
every person gets a decision and every decision is written. Then it publishes policy v1,
evaluates (the first evaluation), publishes v2 and evaluates again: the figure is the time
of that second call of ``evaluate_region`` (read the stays, match, mark the old decisions
not current, COPY the new ones, commit). Target: < 120 s for 1,000,000 people.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_screening_bench"
COUNTY = "230231"


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def fill(people: int, as_of: dt.date) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(f"""
            INSERT INTO people_person (id, id_number, name, name_pinyin, name_initials, sex,
                phone, region_code, category, source, source_file, created_at, updated_at,
                version)
            SELECT g, NULL, '居民' || g, 'jumin', 'jm', 'M', '', '230231106' ||
                lpad((201 + g % 12)::text, 3, '0') || lpad((1 + g % 2)::text, 3, '0'),
                'resident', 'import', '', now(), now(), 1
            FROM generate_series(1, {people}) AS g""")
        c.execute(f"""
            INSERT INTO screening_stay (person_id, region_code, place_code, place, arrived,
                "left", transport, source, source_file, created_at)
            SELECT id, region_code,
                CASE WHEN id % 20 < 2 THEN '420103001001'
                     WHEN id % 20 < 5 THEN '310101002003' ELSE '110101001001' END,
                CASE WHEN id % 20 < 2 THEN '武汉市江汉区'
                     WHEN id % 20 < 5 THEN '上海市黄浦区' ELSE '北京市东城区' END,
                DATE '{as_of}' - (3 + id % 5)::int, DATE '{as_of}' - (1 + id % 3)::int, '火车',
                'police', '', now()
            FROM people_person""")
        c.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    os.environ["FANGKONG_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fangkong.core.models import User
    from fangkong.core.roles import Role
    from fangkong.screening import services
    from fangkong.screening.evaluation import evaluate_region, latest_run
    from fangkong.screening.models import ScreeningDecision
    from fangkong.screening.services import RiskAreaInput, RuleInput

    recreate_database(args.database_url)
    call_command("migrate", verbosity=0)
    connection.close()
    as_of = dt.date(2022, 1, 20)
    started = time.perf_counter()
    fill(args.people, as_of)
    print(f"filled {args.people:,} persons and stays in {time.perf_counter() - started:.1f} s")

    hq = User.objects.create_user(username="bench_hq", password="x", role=Role.COUNTY_HQ)
    from fangkong.core import regions

    regions.load_official_county(COUNTY)
    hq.regions.set([COUNTY])
    services.create_risk_areas(
        user=hq,
        reevaluate=False,
        areas=[
            RiskAreaInput("420103", "武汉市江汉区", "high", dt.date(2022, 1, 1)),
            RiskAreaInput("3101", "上海市", "medium", dt.date(2022, 1, 1)),
        ],
    )
    rules = [
        RuleInput("high", 14, "centralised", days=14, home_days=7, test_days=(1, 4, 7, 14)),
        RuleInput("medium", 14, "home", days=14, test_days=(1, 7, 14)),
        RuleInput("other", 14, "monitoring", days=7, test_days=(1,)),
    ]
    services.publish_policy(
        user=hq, region_code=COUNTY, title="v1", notice="", rules=rules, reevaluate=False
    )
    first = evaluate_region(region_code=COUNTY, as_of=as_of)
    print(f"first evaluation:  {first.describe()}")
    rules[2] = RuleInput("other", 14, "test_only", days=0, test_days=(1,))
    services.publish_policy(
        user=hq, region_code=COUNTY, title="v2", notice="", rules=rules, reevaluate=False
    )
    started = time.perf_counter()
    second = evaluate_region(region_code=COUNTY, as_of=as_of)
    seconds = time.perf_counter() - started
    print(f"re-evaluation:     {second.describe()}")
    current = ScreeningDecision.objects.filter(run=latest_run(COUNTY)).count()
    total = ScreeningDecision.objects.count()
    print(f"decisions: {current:,} current, {total:,} kept in history")
    print(
        f"re-evaluated {args.people:,} people in {seconds:.1f} s "
        f"({args.people / seconds:,.0f} people/s; target < 120 s for 1,000,000)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
