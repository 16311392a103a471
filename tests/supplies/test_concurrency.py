"""Two issues racing for the last box: one succeeds, one gets a clear error; many clients
issuing at once leave the stock exactly receipts minus issues. Runs on SQLite and, with
FANGKONG_DATABASE_URL set, on PostgreSQL (row lock), with real threads and connections."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from fangkong.core.errors import ValidationFailed
from fangkong.supplies.models import Movement, StockLevel

from .conftest import issue, receive

pytestmark = pytest.mark.django_db(transaction=True)


def _race(workers: int, target) -> list[object]:
    barrier = threading.Barrier(workers)
    results: list[object] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait()
            outcome: object = target(n)
        except Exception as exc:
            outcome = exc
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_issues_for_the_last_box(officer, store, masks, post):
    receive(officer, store, masks, 1)
    results = _race(2, lambda n: issue(officer, store, masks, 1, post))
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ValidationFailed)
    assert "库存不足" in errors[0].errors[0].message
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == 0
    assert Movement.objects.filter(kind="issue").count() == 1


def test_many_concurrent_issues_leave_exact_stock(officer, store, masks, post):
    receive(officer, store, masks, 50)
    per_worker = 4
    workers = 8 if connection.vendor == "sqlite" else 16

    def work(n: int) -> int:
        done = 0
        for _ in range(per_worker):
            try:
                issue(officer, store, masks, 2, post)
                done += 1
            except ValidationFailed:
                pass
        return done

    results = _race(workers, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    issued = sum(r for r in results if isinstance(r, int))
    assert issued == min(25, workers * per_worker)
    level = StockLevel.objects.get(warehouse=store, item=masks)
    assert level.quantity == Decimal(50) - 2 * issued >= 0
    assert Movement.objects.filter(kind="issue").count() == issued
