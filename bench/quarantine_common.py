"""Shared set-up of the isolation benchmarks: a PostgreSQL database holding one county with
many people in home isolation, spread over generated villages, one village doctor each.

Persons and orders are written with ``bulk_create`` in batches (the registry's own import
path is benchmarked elsewhere); everything else goes through the project's code.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

COUNTY = "230231"


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def setup_django(url: str) -> None:
    os.environ["FANGKONG_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()


def seed_county(*, orders: int, villages: int, starts_at: datetime) -> dict[str, list[int]]:
    """``orders`` people in home isolation over ``villages`` villages; returns the order ids
    per village code. Call after ``setup_django`` and ``migrate``."""
    from django.db import connection

    from fangkong.core import regions
    from fangkong.people.models import Person, Source
    from fangkong.quarantine.models import IsolationOrder
    from fangkong.quarantine.services import default_schedule

    started = time.perf_counter()
    regions.load_official_county(COUNTY)
    townships = [c for c, _n, _l in regions.official_chain(COUNTY) if len(c) == 9]
    codes = [
        f"{townships[i % len(townships)]}{200 + i // len(townships):03d}" for i in range(villages)
    ]
    regions.upsert_regions([(code, f"村{n}", True) for n, code in enumerate(codes)])
    schedule = default_schedule()
    batch = 5000
    for first in range(0, orders, batch):
        people = Person.objects.bulk_create(
            Person(
                name=f"隔离{n}",
                name_pinyin=f"geli{n}",
                name_initials="gl",
                region_code=codes[n % villages] + "001",
                category="returnee",
                source=Source.MANUAL,
            )
            for n in range(first, min(first + batch, orders))
        )
        IsolationOrder.objects.bulk_create(
            IsolationOrder(
                person=p,
                region_code=p.region_code,
                kind="home",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(days=14),
                policy_version="bench v1",
                schedule=schedule,
            )
            for p in people
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    by_village: dict[str, list[int]] = {code: [] for code in codes}
    for pk, region_code in IsolationOrder.objects.values_list("pk", "region_code"):
        by_village[region_code[:12]].append(pk)
    print(
        f"seeded {orders:,} orders in {villages} villages in {time.perf_counter() - started:.1f} s"
    )
    return by_village
