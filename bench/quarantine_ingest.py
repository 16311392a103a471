"""Benchmark: temperature readings posted through the API by 200 concurrent clients to a real
granian server on 127.0.0.1, with PostgreSQL — the morning peak of a county with 50,000
people in home isolation.

    .venv/bin/python bench/quarantine_ingest.py [--people 50000] [--clients 200] [--batch 25]
        [--rate 1250] [--saturate] [--port 8766] [--max-seconds 120]
        [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_q_ingest] [--keep]

Set-up: a fresh database with ``--people`` home-isolation orders over ``--clients`` villages
and one village doctor per village (a bearer token each). Then granian starts
(``--interface wsgi --workers 2 --blocking-threads 16``) and each client — one doctor's phone
syncing its round — posts its village's readings to ``POST /api/v1/quarantine/checks/batch``,
``--batch`` readings per request, each with its own client id, until every person has one
reading (the morning round: one reading per person) or ``--max-seconds`` pass.

Load model: by default open loop — the clients together offer ``--rate`` readings per second
(each client sends a batch at its own steady interval, starting staggered), which is how
phones in 200 villages behave; the latency then is the service time plus real queueing.
``--saturate`` instead sends back to back (closed loop) to find the capacity; its latency is
dominated by the queue of 200 waiting clients and says little about a single request.
Prints sustained readings/s and p50/p95/p99 request latency. Traffic is loopback only; the
server is stopped by its process id; the database is dropped unless ``--keep``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import drop_database, recreate_database, seed_county, setup_django

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_q_ingest"


def start_server(args: argparse.Namespace) -> subprocess.Popen:
    env = dict(
        os.environ,
        FANGKONG_DATABASE_URL=args.database_url,
        FANGKONG_SECRET_KEY="bench-only-secret-key-not-for-production",
        FANGKONG_LOG_LEVEL="ERROR",
    )
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
            "2",
            "--blocking-threads",
            "16",
            "--log-level",
            "warning",
            "fangkong.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("granian did not start")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--batch", type=int, default=25, help="readings per request")
    parser.add_argument(
        "--rate",
        type=float,
        default=1250.0,
        help="offered readings per second, all clients together (open loop)",
    )
    parser.add_argument("--saturate", action="store_true", help="closed loop, back to back")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_Q_INGEST_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.core.models import ApiToken, User
    from fangkong.quarantine.models import HealthCheck

    call_command("migrate", verbosity=0)
    now = timezone.now()
    by_village = seed_county(
        orders=args.people, villages=args.clients, starts_at=now - timedelta(days=3)
    )
    tokens: dict[str, str] = {}
    for code in by_village:
        doctor = User.objects.create_user(username=f"doctor{code}", role="village_doctor")
        doctor.regions.set([code])
        tokens[code] = ApiToken.issue(doctor)
    # The morning round: 08:00 local today, or yesterday if it is not yet 08:00.
    morning = timezone.make_aware(
        datetime.combine(timezone.localdate(now), datetime.min.time())
    ) + timedelta(hours=8)
    if morning > now:
        morning -= timedelta(days=1)
    connection.close()

    server = start_server(args)
    latencies: list[float] = []
    failures: list[str] = []
    sent = [0]
    lock = threading.Lock()
    per_client_rate = args.rate / args.clients / args.batch  # requests/s per client
    interval = 0.0 if args.saturate else 1.0 / per_client_rate
    start_at = time.perf_counter() + 1.0
    deadline = start_at + args.max_seconds

    def client(index: int, code: str, orders: list[int]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        headers = {"Authorization": f"Bearer {tokens[code]}", "Content-Type": "application/json"}
        # Stagger the clients over one interval so that the offered load is steady.
        next_at = start_at + (interval * index / args.clients if interval else 0.0)
        for first in range(0, len(orders), args.batch):
            if interval:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                next_at += interval
            if time.perf_counter() > deadline:
                break
            chunk = orders[first : first + args.batch]
            body = json.dumps(
                {
                    "readings": [
                        {
                            "order_id": o,
                            "temperature": "36.6",
                            "taken_at": morning.isoformat(),
                            "client_id": f"bench-{o}-{morning:%Y%m%d%H}",
                        }
                        for o in chunk
                    ]
                }
            )
            began = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/quarantine/checks/batch", body, headers)
                response = conn.getresponse()
                payload = response.read()
                ok = response.status == 200
            except OSError as exc:
                ok, payload = False, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if ok:
                    sent[0] += len(chunk)
                else:
                    failures.append(payload[:200].decode(errors="replace"))
        conn.close()

    threads = [
        threading.Thread(target=client, args=(i, code, orders))
        for i, (code, orders) in enumerate(by_village.items())
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start_at
    finally:
        stop_server(server)

    stored = HealthCheck.objects.count()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    mode = "closed loop (saturation)" if args.saturate else f"open loop, offered {args.rate:.0f}/s"
    print(f"{args.clients} clients, {args.batch} readings per request, {mode}")
    print(f"requests {len(latencies):,}, failed {len(failures)}, readings stored {stored:,}")
    if failures:
        print("first failure:", failures[0])
    print(
        f"latency ms: p50 {pct(0.50):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  "
        f"mean {statistics.fmean(latencies) * 1000:.1f}"
    )
    print(
        f"RESULT sustained {sent[0] / wall:,.0f} readings/s over {wall:.1f} s "
        f"({len(latencies) / wall:,.1f} requests/s), p95 {pct(0.95):.1f} ms "
        f"(target >= 1,000 readings/s at p95 < 200 ms)"
    )
    if not args.keep:
        connection.close()
        drop_database(args.database_url)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
