"""Benchmark: the closure campaign view and its still-open list for 20,000 places.

    .venv/bin/python bench/places_campaign.py [--places 20000] [--requests 60]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_places] [--keep]

Seeds a fresh PostgreSQL database with ``--places`` places over 400 generated villages of the
county (every kind; the four closure kinds about 40 %, nine in ten of them closed by order
with a history row), then requests as the county headquarters, through Django's test client
(the whole page: middleware, session, permission, jurisdiction, masking with audit, template):
``GET /places/campaign/`` and ``GET /api/v1/places/campaign``, ``--requests`` times each.
Prints p50/p95 in ms and the p95 as a ratio to the 150 ms limit of issue 17.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import COUNTY, drop_database, recreate_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_places"
LIMIT_MS = 150


def seed(places: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from fangkong.core import regions
    from fangkong.places.models import Place, PlaceKind, StatusChange

    regions.load_official_county(COUNTY)
    townships = [c for c, _n, _l in regions.official_chain(COUNTY) if len(c) == 9]
    codes = [f"{townships[i % len(townships)]}{200 + i // len(townships):03d}" for i in range(400)]
    regions.upsert_regions([(code, f"村{n}", True) for n, code in enumerate(codes)])
    kinds = PlaceKind.values
    closure = ["entertainment", "internet_cafe", "scenic", "religious"]
    now = timezone.now()
    rows = []
    for n in range(places):
        kind = closure[n % 4] if n % 5 < 2 else kinds[n % len(kinds)]
        closed = kind in closure and n % 10 != 0
        rows.append(
            Place(
                kind=kind,
                name=f"场所{n}",
                region_code=codes[n % len(codes)],
                manager_name=f"负责人{n}",
                manager_phone=f"139{n:08d}",
                status="closed" if closed else "open",
                order_no="富防指〔2026〕1号" if closed else "",
            )
        )
    made = Place.objects.bulk_create(rows, batch_size=5000)
    StatusChange.objects.bulk_create(
        (
            StatusChange(place=p, status="closed", order_no=p.order_no, effective_at=now)
            for p in made
            if p.status == "closed"
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--places", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_PLACES_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from fangkong.core.models import ApiToken, User
    from fangkong.core.roles import Role

    settings.ALLOWED_HOSTS = ["*"]
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.places)
        print(f"seeded {args.places:,} places in {time.perf_counter() - started:.1f} s")
        user = User.objects.create_user(username="xian", password="x", role=Role.COUNTY_HQ)
        user.regions.set([COUNTY])
        page = Client()
        page.force_login(user)
        api = Client(headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})
        timed(page, "/places/campaign/", 3)  # warm caches and templates
        for label, client, path in (
            ("page /places/campaign/", page, "/places/campaign/"),
            ("api /api/v1/places/campaign", api, "/api/v1/places/campaign"),
        ):
            times = sorted(timed(client, path, args.requests))
            p95 = times[int(0.95 * (len(times) - 1))]
            print(
                f"{label}: {args.places:,} places, p50 {statistics.median(times):.0f} ms, "
                f"p95 {p95:.0f} ms = {p95 / LIMIT_MS:.2f} × the {LIMIT_MS} ms limit"
            )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
