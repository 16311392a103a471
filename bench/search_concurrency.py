"""Benchmark: person search under concurrent clients through ``fangkong serve`` (issue 19).

    .venv/bin/python bench/search_concurrency.py                        # after load_residents.py
    .venv/bin/python bench/search_concurrency.py --clients 1,10,50 --duration 30
    .venv/bin/python bench/search_concurrency.py --workers 1 --threads 4   # the old default
    .venv/bin/python bench/search_concurrency.py --url http://127.0.0.1:58080   # the layout
    .venv/bin/python bench/search_concurrency.py \\
        --database-url postgres://postgres@127.0.0.1:5432/fk_bench_morning_20000  # any county

Uses a database holding a county (by default the 1,000,000 residents that
``bench/load_residents.py`` leaves in ``fangkong_bench``). Adds a county-headquarters user
and village cadres of 20 villages with bearer tokens, starts ``fangkong serve`` (``--workers``
processes, default one per core, ``--threads`` each) unless ``--url`` names a running server,
and for each number of clients in ``--clients`` runs them **closed loop** for ``--duration``
seconds after ``--warmup``: each client sends ``GET /api/v1/persons?q=...`` again as soon as
the previous answer arrived, over its own keep-alive connection. Half the clients search as
the county, half as a village cadre; the queries are drawn from people inside the searcher's
jurisdiction, a quarter each full Chinese names, pinyin prefixes (``zhangw``), full ID
numbers and full phone numbers. The load generator runs on the same two cores.

Prints searches/s, p50/p95/p99, errors and the CPU split (the server's Python, PostgreSQL,
this generator, the rest of the machine) per step. Target at 1,000,000 residents: 50
clients, >= 300 searches/s with p95 < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote

import loadgen

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fangkong_bench"
COUNTY = "230231"
VILLAGES = 20
QUERIES_PER_USER = 400


def prepare(rng: random.Random) -> list[tuple[str, list[str]]]:
    """(token, queries) of the searchers: the county, then one cadre per village."""
    from django.db import connection
    from django.utils import timezone

    from fangkong.core import names
    from fangkong.core.jurisdiction import next_prefix
    from fangkong.core.models import ApiToken, Region, User

    villages = list(
        Region.objects.filter(level="village", code__startswith=COUNTY)
        .order_by("code")
        .values_list("code", flat=True)
    )
    villages = rng.sample(villages, min(VILLAGES, len(villages)))
    User.objects.filter(username__startswith="bench_search_").delete()
    searchers = []
    for i, code in enumerate([COUNTY, *villages]):
        role = "county_hq" if code == COUNTY else "village_cadre"
        user = User.objects.create(username=f"bench_search_{i}", password="!", role=role)
        user.regions.set([code])
        token = secrets.token_urlsafe(32)
        ApiToken.objects.create(
            user=user,
            key_hash=ApiToken.hash(token),
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, id_number, phone FROM people_person"
                " WHERE region_code >= %s AND region_code < %s AND id_number <> ''"
                " AND phone <> '' ORDER BY random() LIMIT %s",
                [code, next_prefix(code), QUERIES_PER_USER // 4],
            )
            queries = []
            for name, id_number, phone in cursor.fetchall():
                syllables = names.pinyin_syllables(name)
                pinyin = syllables[0] + (syllables[1][:1] if len(syllables) > 1 else "")
                queries += [name, pinyin, id_number, phone]
        rng.shuffle(queries)
        searchers.append((token, queries))
    connection.close()
    return searchers


async def client(
    host: str,
    port: int,
    token: str,
    queries: list[str],
    measure_from: float,
    end: float,
    rec: loadgen.Recorder,
) -> None:
    conn = loadgen.Http(host, port)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    i = 0
    while True:
        started = time.monotonic()
        if started >= end:
            break
        q = queries[i % len(queries)]
        i += 1
        try:
            status, body = await conn.request("GET", f"/api/v1/persons?q={quote(q)}", headers)
        except loadgen.HttpError as exc:
            status, body = 0, str(exc).encode()
        ms = (time.monotonic() - started) * 1000
        if started < measure_from:
            continue
        if status != 200:
            rec.error("search", ms, f"HTTP {status}: {body[:120]!r}")
        else:
            rec.ok("search", ms)
    await conn.close()


async def run_step(
    host: str, port: int, searchers, clients: int, args, sampler: loadgen.CpuSampler
) -> tuple[loadgen.Recorder, dict[str, float]]:
    rec = loadgen.Recorder()
    start = time.monotonic()
    measure_from = start + args.warmup
    end = measure_from + args.duration
    county, villages = searchers[0], searchers[1:]
    tasks = []
    for i in range(clients):
        token, queries = county if i % 2 == 0 else villages[(i // 2) % len(villages)]
        offset = (i * 37) % len(queries)
        tasks.append(
            client(host, port, token, queries[offset:] + queries[:offset], measure_from, end, rec)
        )

    async def measure() -> None:
        await asyncio.sleep(args.warmup)
        sampler.start()

    await asyncio.gather(measure(), *tasks)
    return rec, sampler.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--url", default=None, help="drive this server instead of starting one")
    parser.add_argument("--layout-dir", default=None, help="scripts/layout.sh folder (CPU split)")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--workers", type=int, default=0, help="server processes (0: cores)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    var_dir = BENCH_DIR / "out" / "search-var"
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(FANGKONG_DATABASE_URL=args.database_url, FANGKONG_VAR_DIR=str(var_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from fangkong.people.models import Person

    total = Person.objects.count()
    if not total:
        raise SystemExit("no persons in the database: run bench/load_residents.py first")
    print(f"load average at start: {loadgen.load_average()}; {total:,} persons", flush=True)
    searchers = prepare(random.Random(args.seed))
    server = None
    groups = {
        "PostgreSQL": (lambda pm: lambda: [pm])(loadgen.postmaster_of(args.database_url)),
        "load generator (alone)": lambda: [os.getpid()],
    }
    if args.url:
        host, port = loadgen.split_url(args.url)
        if args.layout_dir:
            run = Path(args.layout_dir) / "run"
            groups["app servers (Python)"] = lambda: [
                int(p.read_text()) for p in run.glob("app-*.pid")
            ]
            groups["nginx"] = lambda: [int(p.read_text()) for p in run.glob("nginx.pid")]
    else:
        host, port = "127.0.0.1", args.port
        workers = args.workers or os.cpu_count() or 1  # what `fangkong serve` picks
        server = loadgen.Server(
            loadgen.fangkong_env(args.database_url, var_dir), port, args.workers, args.threads
        )
        groups["server (Python)"] = lambda: [server.process.pid]
        print(f"fangkong serve: {workers} processes x {args.threads} threads on :{port}")
    try:
        for clients in [int(c) for c in args.clients.split(",")]:
            rec, cpu = asyncio.run(
                run_step(host, port, searchers, clients, args, loadgen.CpuSampler(groups))
            )
            values = rec.all_latencies()
            print(
                f"\n== {clients} clients: {len(values) / args.duration:.1f} searches/s, "
                f"p50 {loadgen.percentile(values, 0.5):.1f} ms, "
                f"p95 {loadgen.percentile(values, 0.95):.1f} ms, "
                f"p99 {loadgen.percentile(values, 0.99):.1f} ms, "
                f"errors {sum(rec.errors.values())} (load average {loadgen.load_average()})"
            )
            for what in rec.samples.values():
                print(f"  first error: {what}")
            print("\n".join(loadgen.cpu_lines(cpu)))
    finally:
        if server is not None:
            server.stop()
    print("target at 1,000,000 residents: 50 clients, >= 300 searches/s, p95 < 200 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
