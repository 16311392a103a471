"""Benchmark of nucleic-acid testing on PostgreSQL: ingestion, recall, live coverage.

What it measures, end to end through a real granian server on 127.0.0.1:

1. **Ingestion.** A synthetic county of ``--residents`` people is generated and loaded; a
   round over the whole county is opened; ``--samples`` scans in pooled tubes of 10 go to
   ``POST /api/v1/testing/campaigns/{id}/samples`` in batches of ``--batch`` from
   ``--clients`` keep-alive connections. Figure: sustained samples per second (first byte of
   the first batch to the last answer). The JSON bodies are encoded before the clock starts;
   the server parses, validates, resolves ID numbers and writes every row.
2. **Raw COPY of the same rows**, in the same run: the ingested rows are copied with
   ``COPY … FROM STDIN`` into a table with the same columns, indexes, unique and foreign-key
   constraints as ``testing_sample``. Figure: ratio of (1) to this rate.
3. **Recall.** ``--pools`` pooled tubes get a positive result in one ``POST …/results``:
   recalls, recall entries for every person in them and grid workers' tasks are written.
   Figure: seconds for that request (plus the recall list for the county afterwards).
4. **Coverage by grid during ingestion.** Every few seconds while (1) runs, the county's
   grid-by-grid coverage (``GET …/coverage?by=grid``) is fetched. Figure: its latencies.

Bounded on purpose: the machine is shared (2 cores); defaults are 1,000,000 residents and
1,000,000 samples (``--samples 5000000`` needs ``--residents 5000000``). It creates and
drops its own database (``--database``), listens on loopback only, stops its server by PID.

    .venv/bin/python bench/testing_ingest.py --residents 1000000 --samples 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNTY = "230231"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--pools", type=int, default=1_000)
    parser.add_argument("--port", type=int, default=8917)
    parser.add_argument("--threads", type=int, default=2, help="granian blocking threads")
    parser.add_argument("--coverage-every", type=float, default=5.0)
    parser.add_argument("--database", default="fangkong_bench_testing")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def recreate_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_average() -> str:
    return ", ".join(f"{n:.2f}" for n in os.getloadavg())


def step(label: str, started: float) -> None:
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def prepare(args: argparse.Namespace):
    """Database, county, users, round; returns (campaign, sampler token, hq token)."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.utils import timezone

    from fangkong.core.models import ApiToken, User
    from fangkong.core.roles import Role
    from fangkong.people.bulk_import import load_county_dir
    from fangkong.synth import generate_county
    from fangkong.testing import services

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    step("migrate", started)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        generate_county(residents=args.residents, seed=6, out_dir=Path(folder))
        step(f"generate {args.residents:,} residents", started)
        started = time.perf_counter()
        load_county_dir(Path(folder))
        step("load them (COPY)", started)
    hq = User.objects.create_user(username="bench_hq", password="x", role=Role.COUNTY_HQ)
    sampler = User.objects.create_user(
        username="bench_sampler", password="x", role=Role.TESTING_STAFF
    )
    for user in (hq, sampler):
        user.regions.set([COUNTY])
    # A grid worker for every tenth grid: the recall writes their tasks.
    from fangkong.core.models import Region

    # Unusable passwords: hashing hundreds of real ones would dominate the set-up.
    grids = Region.objects.filter(level="grid").order_by("code").values_list("code", flat=True)
    chosen = list(grids)[::10]
    workers = User.objects.bulk_create(
        User(username=f"bench_grid_{i}", password="!", role=Role.GRID_WORKER)
        for i in range(len(chosen))
    )
    User.regions.through.objects.bulk_create(
        User.regions.through(user_id=w.pk, region_id=code)
        for w, code in zip(workers, chosen, strict=True)
    )
    now = timezone.now()
    campaign = services.create_campaign(
        user=hq,
        name="全县全员核酸（基准）",
        region_codes=[COUNTY],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=47),
        pool_size=10,
    )
    return campaign, ApiToken.issue(sampler), ApiToken.issue(hq)


def encode_batches(args: argparse.Namespace, campaign) -> list[bytes]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM people_person ORDER BY id LIMIT %s", [args.samples])
        numbers = [n for (n,) in cursor.fetchall()]
    if len(numbers) < args.samples:
        sys.exit(f"only {len(numbers):,} residents for {args.samples:,} samples")
    at = (campaign.starts_at + dt.timedelta(minutes=30)).isoformat()
    batches = []
    for start in range(0, len(numbers), args.batch):
        rows = [
            {
                "device_sample_id": f"bench-{i}",
                "id_number": numbers[i],
                "tube": f"B{i // 10:08d}",
                "capacity": 10,
                "sampled_at": at,
            }
            for i in range(start, min(start + args.batch, len(numbers)))
        ]
        batches.append(json.dumps({"samples": rows}).encode())
    return batches


def start_server(args: argparse.Namespace, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "FANGKONG_DATABASE_URL": database_url, "FANGKONG_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--workers",
            "1",
            "--blocking-threads",
            str(args.threads),
            "--log-level",
            "warning",
            "fangkong.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("the server did not start")


def post(conn: http.client.HTTPConnection, path: str, body: bytes, token: str) -> dict:
    conn.request(
        "POST", path, body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {data[:300]!r}")
    return json.loads(data)


def get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {data[:300]!r}")
    return time.perf_counter() - started, data


def ingest(args, campaign, batches, sampler_token, hq_token) -> tuple[float, int, list[float]]:
    path = f"/api/v1/testing/campaigns/{campaign.pk}/samples"
    queue = list(reversed(batches))
    lock = threading.Lock()
    accepted = [0]
    errors: list[BaseException] = []
    done = threading.Event()

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                report = post(conn, path, body, sampler_token)
                if report["rejected"]:
                    raise RuntimeError(f"rejected rows: {report['rejected'][:3]}")
                with lock:
                    accepted[0] += report["accepted"]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    latencies: list[float] = []

    def watcher() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
        cov = f"/api/v1/testing/campaigns/{campaign.pk}/coverage?by=grid"
        while not done.wait(args.coverage_every):
            seconds, data = get(conn, cov, hq_token)
            latencies.append(seconds)
            total = json.loads(data)["total"]
            print(
                f"    coverage by grid: {seconds * 1000:.0f} ms, tested {total['tested']:,}"
                f" of {total['should_test']:,}",
                flush=True,
            )

    senders = [threading.Thread(target=sender) for _ in range(args.clients)]
    watch = threading.Thread(target=watcher)
    started = time.perf_counter()
    for thread in senders:
        thread.start()
    watch.start()
    for thread in senders:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    watch.join()
    if errors:
        raise errors[0]
    return elapsed, accepted[0], latencies


def raw_copy_rate(campaign) -> tuple[float, int]:
    """COPY the ingested rows into a table built exactly like testing_sample; rows/s."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_sample_copy")
        cursor.execute("CREATE TABLE bench_sample_copy (LIKE testing_sample INCLUDING ALL)")
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'testing_sample'::regclass AND contype = 'f'"
        )
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_sample_copy ADD {definition}")
        columns = (
            "campaign_id, tube_id, person_id, region_code, attempt, device_sample_id,"
            " point_id, sampled_at, recorded_by_id"
        )
        buffer = io.BytesIO()
        with cursor.copy(
            f"COPY (SELECT {columns} FROM testing_sample WHERE campaign_id = %s) TO STDOUT",
            [campaign.pk],
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
        data = buffer.getvalue()
        rows = data.count(b"\n")
        started = time.perf_counter()
        with (
            connection.cursor() as inner,
            inner.copy(f"COPY bench_sample_copy ({columns}) FROM STDIN") as copy,
        ):
            for offset in range(0, len(data), 1 << 20):
                copy.write(data[offset : offset + (1 << 20)])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_sample_copy")
    return rows / elapsed, rows


def recall(args, campaign, sampler_token, hq_token) -> tuple[float, dict, float, int]:
    body = json.dumps(
        {
            "source": "bench-lab.csv",
            "results": [
                {"barcode": f"B{i * 7:08d}", "result": "positive"} for i in range(args.pools)
            ],
        }
    ).encode()
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
    started = time.perf_counter()
    report = post(conn, f"/api/v1/testing/campaigns/{campaign.pk}/results", body, sampler_token)
    elapsed = time.perf_counter() - started
    list_seconds, data = get(conn, f"/api/v1/testing/campaigns/{campaign.pk}/recalls", hq_token)
    persons = sum(len(g["persons"]) for g in json.loads(data))
    return elapsed, report, list_seconds, persons


def main() -> None:
    args = parse_args()
    database_url = f"{args.server}/{args.database}"
    os.environ["FANGKONG_DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    sys.path.insert(0, str(ROOT / "src"))
    print(
        f"testing_ingest: {args.residents:,} residents, {args.samples:,} samples in pools of"
        f" 10, batches of {args.batch:,}, {args.clients} clients, granian 1 worker ×"
        f" {args.threads} threads, PostgreSQL {database_url}",
        flush=True,
    )
    load_at_start = load_average()
    recreate_database(args.server, args.database)
    server = None
    try:
        campaign, sampler_token, hq_token = prepare(args)
        started = time.perf_counter()
        batches = encode_batches(args, campaign)
        step(f"encode {len(batches):,} batches (not timed)", started)
        server = start_server(args, database_url)
        print("ingestion:", flush=True)
        elapsed, accepted, latencies = ingest(args, campaign, batches, sampler_token, hq_token)
        rate = accepted / elapsed
        copy_rate, copied = raw_copy_rate(campaign)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
        after, _ = get(conn, f"/api/v1/testing/campaigns/{campaign.pk}/coverage?by=grid", hq_token)
        recall_seconds, report, list_seconds, listed = recall(
            args, campaign, sampler_token, hq_token
        )
        print()
        print(f"samples ingested through the API : {accepted:,} in {elapsed:.1f} s")
        print(f"sustained ingestion              : {rate:,.0f} samples/s (target ≥ 3,500)")
        print(f"raw COPY of the same {copied:,} rows : {copy_rate:,.0f} rows/s")
        print(f"ratio API / raw COPY             : {rate / copy_rate:.2f} (target ≥ 0.5)")
        if latencies:
            print(
                f"coverage by grid during ingestion: median {statistics.median(latencies):.2f}"
                f" s, max {max(latencies):.2f} s over {len(latencies)} reads (target < 1 s)"
            )
        print(f"coverage by grid after ingestion : {after:.2f} s")
        print(
            f"recall of {args.pools:,} positive pools     : {recall_seconds:.2f} s"
            f" (target < 2 s), {report['recalled_persons']:,} persons recalled"
        )
        print(f"recall list of the county (API)  : {list_seconds:.2f} s for {listed:,} persons")
        print(
            f"load average at start / end      : {load_at_start} / {load_average()}"
            " (the machine is shared: compare runs at similar load)"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.server, args.database)


if __name__ == "__main__":
    main()
