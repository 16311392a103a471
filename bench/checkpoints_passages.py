"""Benchmark of passage logging at checkpoints, through the HTTP server on PostgreSQL.

The issue's figure: ≥ 500 passages/s sustained from 100 phone clients, p95 < 200 ms, with
the risk-area check on every passage. A fresh database (``--database``) gets the county's
regions, ``--residents`` residents, ``--posts`` posts, ``--risk-areas`` risk areas in force
and one checkpoint-staff account with a token; ``fangkong serve`` (granian) runs on
127.0.0.1; ``--clients`` keep-alive connections (one per phone) then post passages for
``--seconds`` seconds, closed loop, each request a batch of ``--batch`` passages (1: a phone
online, logging person by person; 10: a phone flushing its offline queue). Every passage names
a registry person (the scope and the person are looked up), an origin matched against the
risk areas, a temperature and a code colour; every 50th comes from a risk area and is handed
to screening's checkpoint list in the same request.

Prints passages per second and p50/p95/p99 of the requests, with the ratios to the limits.
The database is dropped at the end; the server is stopped by its pid.

    .venv/bin/python bench/checkpoints_passages.py --batch 1
    .venv/bin/python bench/checkpoints_passages.py --batch 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import CpuSampler, Http, Server, fangkong_env, percentile
from quarantine_common import drop_database, recreate_database, setup_django

COUNTY = "230231"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default="postgres://postgres@127.0.0.1:5432/fk_checkpoints_bench"
    )
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--posts", type=int, default=16)
    parser.add_argument("--risk-areas", type=int, default=200)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=18475)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args()


def prepare(args: argparse.Namespace) -> tuple[str, list[int], list[int]]:
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection

    from fangkong.checkpoints.models import Post
    from fangkong.core import regions
    from fangkong.core.models import ApiToken, User
    from fangkong.people.models import Person, Source

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    regions.load_official_county(COUNTY)
    townships = [c for c, _n, _l in regions.official_chain(COUNTY) if len(c) == 9]
    villages = [
        f"{townships[i % len(townships)]}{200 + i // len(townships):03d}" for i in range(args.posts)
    ]
    regions.upsert_regions([(code, f"村{n}", True) for n, code in enumerate(villages)])
    people = Person.objects.bulk_create(
        (
            Person(
                name=f"居民{n}",
                name_pinyin=f"jumin{n}",
                name_initials="jm",
                region_code=villages[n % len(villages)],
                source=Source.MANUAL,
            )
            for n in range(args.residents)
        ),
        batch_size=5000,
    )
    posts = [
        Post.objects.create(name=f"卡点{n}", kind="village_post", region_code=code).pk
        for n, code in enumerate(villages)
    ]
    risk = __import__("django.apps", fromlist=["apps"]).apps.get_model("screening", "RiskArea")
    risk.objects.bulk_create(
        risk(
            region_code=f"42{n:04d}",
            place=f"某省某市第{n}区",
            level="medium",
            valid_from=dt.date.today(),
        )
        for n in range(args.risk_areas)
    )
    user = User.objects.create_user(
        username="kadian", password="x-Bench-2026", role="checkpoint_staff"
    )
    user.regions.set([COUNTY])
    token = ApiToken.issue(user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"prepared {args.residents:,} residents, {len(posts)} posts "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return token, posts, [p.pk for p in people]


def bodies(args, posts, people, client: int):
    n = 0
    while True:
        items = []
        for _ in range(args.batch):
            n += 1
            origin = "某省某市第7区" if (client + n) % 50 == 0 else "哈尔滨市"
            items.append(
                {
                    "person_id": people[(client * 7919 + n * 31) % len(people)],
                    "origin": origin,
                    "temperature": "36.5",
                    "code_colour": "green" if n % 20 else "yellow",
                    "client_key": f"c{client}-{n}",
                }
            )
        post = posts[client % len(posts)]
        yield f"/api/v1/checkpoints/posts/{post}/passages", json.dumps({"items": items}).encode()


async def run(args, token: str, posts: list[int], people: list[int], sampler: CpuSampler) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    done = 0
    stop_at = 0.0

    async def phone(client: int) -> None:
        nonlocal errors, done
        conn = Http("127.0.0.1", args.port)
        source = bodies(args, posts, people, client)
        while time.monotonic() < stop_at:
            path, body = next(source)
            t0 = time.monotonic()
            try:
                status, data = await conn.request("POST", path, headers, body)
            except Exception:
                errors += 1
                continue
            latencies.append(time.monotonic() - t0)
            if status == 201:
                done += args.batch
            else:
                errors += 1
                if errors < 3:
                    print("error", status, data[:300])
        await conn.close()

    # Warm-up: every connection once.
    stop_at = time.monotonic() + 3
    await asyncio.gather(*(phone(c) for c in range(min(args.clients, 10))))
    latencies.clear()
    done = errors = 0
    started = time.monotonic()
    stop_at = started + args.seconds
    sampler.start()
    await asyncio.gather(*(phone(c + 1000) for c in range(args.clients)))
    cpu = sampler.stop()
    elapsed = time.monotonic() - started
    rate = done / elapsed
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
    print(
        f"{args.clients} phone clients, batches of {args.batch}, {elapsed:.1f} s: "
        f"{done:,} passages, {rate:,.0f} passages/s (limit ≥ 500: ratio {rate / 500:.2f}), "
        f"{len(latencies):,} requests, errors {errors}"
    )
    print(
        f"request latency p50 {p50:.0f} ms, p95 {p95:.0f} ms (limit < 200: ratio {p95 / 200:.2f}),"
        f" p99 {p99:.0f} ms"
    )
    # PostgreSQL is one cluster shared with other databases here: its CPU is not counted.
    per = cpu["server"] / max(done, 1)
    print(
        f"CPU of the app server: {cpu['server']:.1f} s for {done:,} passages = "
        f"{per * 1000:.1f} ms a passage (PostgreSQL not counted); the machine ran at "
        f"{cpu['machine'] / cpu['capacity']:.0%} of its {cpu['capacity'] / cpu['wall']:.0f} cores"
        f" (others' work included); two idle cores for the app server alone would carry "
        f"≈ {2 / per:,.0f} passages/s (ratio {2 / per / 500:.2f}), an upper bound"
    )


def main() -> None:
    args = parse_args()
    recreate_database(args.database)
    setup_django(args.database)
    try:
        token, posts, people = prepare(args)
        var = Path(tempfile.mkdtemp(prefix="fk-cp-bench-"))
        env = fangkong_env(args.database, var)
        server = Server(env, args.port, args.workers, args.threads)
        try:
            print(f"load before: {os.getloadavg()[0]:.2f}")
            sampler = CpuSampler(
                {
                    "server": lambda: [server.process.pid],
                }
            )
            asyncio.run(run(args, token, posts, people, sampler))
        finally:
            server.stop()
        from fangkong.checkpoints.models import Passage

        flagged = Passage.objects.exclude(risk_area="").count()
        print(f"stored {Passage.objects.count():,} passages, {flagged:,} flagged from a risk area")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)


if __name__ == "__main__":
    main()
