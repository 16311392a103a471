"""Benchmark: issues from 50 concurrent clients against the same items (issue 16 figure:
≥ 300 movements/s, stock exact at the end).

    .venv/bin/python bench/supplies_issues.py [--clients 50] [--seconds 20] [--items 3]
        [--processes N] [--database-url postgres://postgres@127.0.0.1:5432/fk_supplies_bench_issues]
        [--keep]

A fresh PostgreSQL database with the catalogue and one township store holding ``--items``
items (masks, gloves, suits); ``--clients`` threads, each with its own database connection,
issue one unit at a time of a random one of those items to a random checkpoint through
``services.record_movement`` (the same call the page and the API make: role and jurisdiction
check, row lock on the balance, movement, balance, day of use) for ``--seconds`` seconds.
Every client races for the same three balance rows. At the end the stock of each item must
equal receipts minus issues, and the sum of its movements. Prints movements per second and
its ratio to the 300/s target.

The clients are spread over ``--processes`` processes (default: one per core), as the
server's requests are spread over its worker processes: 50 threads in one Python process
would measure that process's interpreter lock, not the service.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from supplies_common import drop_database, prepare

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_supplies_bench_issues"
TARGET = 300.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_SUPPLIES_ISSUES_URL", DEFAULT_URL)
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    world = prepare(args.database_url, stores=2, units_per_store=8)
    from django.db import connection, connections
    from django.db.models import Sum

    from fangkong.core.errors import ValidationFailed
    from fangkong.supplies import services
    from fangkong.supplies.models import Item, Movement, StockLevel

    actor, store = world["actor"], world["stores"][1]
    units = world["units"][store]
    items = list(
        Item.objects.filter(code__in=["mask_surgical", "gloves", "suit", "goggles"]).values_list(
            "id", flat=True
        )
    )[: args.items]
    receipts = Decimal(1_000_000)
    for item in items:
        services.record_movement(
            actor=actor,
            data=services.MovementInput(
                warehouse_id=store, item_id=item, kind="receipt", quantity=receipts
            ),
        )
    connection.close()

    def threads_of(clients: int, first_seed: int, seconds: float, ready: Any, out: Any) -> None:
        """One process's share of the clients, each a thread with its own connection."""
        counts: list[int] = []
        refused: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()
        start = threading.Event()
        stop_at: list[float] = []

        def client(seed: int) -> None:
            rng = random.Random(seed)
            done = short = 0
            try:
                start.wait()
                while time.perf_counter() < stop_at[0]:
                    try:
                        services.record_movement(
                            actor=actor,
                            data=services.MovementInput(
                                warehouse_id=store,
                                item_id=rng.choice(items),
                                kind="issue",
                                quantity=1,
                                recipient_id=rng.choice(units),
                                received_by="值班组长",
                            ),
                            notify=False,
                        )
                        done += 1
                    except ValidationFailed:
                        short += 1
            except BaseException as exc:
                with lock:
                    failures.append(repr(exc))
            finally:
                connections.close_all()
                with lock:
                    counts.append(done)
                    refused.append(short)

        threads = [threading.Thread(target=client, args=(first_seed + n,)) for n in range(clients)]
        for t in threads:
            t.start()
        ready.wait()  # every process's threads exist: go together
        stop_at.append(time.perf_counter() + seconds)
        start.set()
        for t in threads:
            t.join()
        out.put((counts, refused, failures))

    def run(clients: int, seconds: float) -> tuple[list[int], list[int], list[str], float]:
        processes = max(1, min(args.processes, clients))
        context = multiprocessing.get_context("fork")
        ready = context.Barrier(processes + 1)
        out = context.Queue()
        shares = [
            clients // processes + (1 if n < clients % processes else 0) for n in range(processes)
        ]
        connections.close_all()
        workers = [
            context.Process(target=threads_of, args=(share, n * 1000, seconds, ready, out))
            for n, share in enumerate(shares)
        ]
        for worker in workers:
            worker.start()
        ready.wait()
        started = time.perf_counter()
        counts: list[int] = []
        refused: list[int] = []
        failures: list[str] = []
        for _ in workers:
            c, r, f = out.get()
            counts += c
            refused += r
            failures += f
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.join()
        return counts, refused, failures, elapsed

    one, _r, _f, one_elapsed = run(1, min(5.0, args.seconds))
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    serial = sum(one) / one_elapsed
    print(f"one client alone: {serial:.0f} movements/s (the serial rate here; {load})")
    counts, refused, failures, elapsed = run(args.clients, args.seconds)
    issued = sum(counts)
    rate = issued / elapsed
    exact = True
    for item in items:
        level = StockLevel.objects.get(warehouse_id=store, item_id=item).quantity
        out = -(
            Movement.objects.filter(warehouse_id=store, item_id=item, kind="issue").aggregate(
                t=Sum("quantity")
            )["t"]
            or 0
        )
        total = Movement.objects.filter(warehouse_id=store, item_id=item).aggregate(
            t=Sum("quantity")
        )["t"]
        ok = level == receipts - out == total
        exact &= ok
        print(
            f"  item {item}: stock {level} = receipts {receipts} − issues {out}: "
            f"{'exact' if ok else 'WRONG'}"
        )
    print(
        f"{args.clients} clients in {min(args.processes, args.clients)} processes, "
        f"{elapsed:.1f} s: {issued:,} issues ({sum(refused)} refused), "
        f"{len(failures)} errors{': ' + failures[0] if failures else ''}"
    )
    print(
        f"concurrent issues: {rate:.0f} movements/s = {rate / TARGET:.2f} × "
        f"the {TARGET:.0f}/s target "
        f"({'met' if rate >= TARGET else 'NOT met'}); stock {'exact' if exact else 'NOT exact'}"
    )
    if not args.keep:
        connection.close()
        drop_database(args.database_url)
    return 0 if exact and not failures and rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
