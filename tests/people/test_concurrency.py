"""Concurrent writers: versions make lost updates impossible, idempotency keys make retries safe.

The threaded tests run real concurrent requests, each thread with its own database connection,
so they need ``transaction=True`` (data committed where the other thread can see it). They run
on SQLite (writers serialised by its write lock) and PostgreSQL (row and index locks) alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from fangkong.core.models import IdempotencyRecord
from fangkong.people.models import Household, Person, PersonChange
from tests.conftest import GRID_A1, new_id_number

from .conftest import ApiClient


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released at the same instant; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def test_two_updates_from_the_same_version_one_wins(hq_api, make_person):
    person = make_person()
    first = hq_api.patch(f"/persons/{person.pk}", {"phone": "13800000001", "version": 1})
    second = hq_api.patch(f"/persons/{person.pk}", {"phone": "13800000002", "version": 1})
    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["errors"][0]["field"] == "version"
    person.refresh_from_db()
    assert (person.phone, person.version) == ("13800000001", 2)
    assert PersonChange.objects.filter(person=person).count() == 1


def test_two_household_updates_from_the_same_version_one_wins(hq_api):
    household = hq_api.post("/households", {"address": "富强村1号", "region_code": GRID_A1})
    path = f"/households/{household.json()['id']}"
    first = hq_api.patch(path, {"address": "甲", "version": 1})
    second = hq_api.patch(path, {"address": "乙"}, **{"If-Match": '"1"'})
    assert (first.status_code, second.status_code) == (200, 409)
    assert Household.objects.get().address == "甲"


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_from_the_same_version_one_wins(make_person, hq_user):
    person = make_person()
    clients = [ApiClient(hq_user), ApiClient(hq_user)]
    responses = run_together(
        [
            lambda c=c, n=n: c.patch(
                f"/persons/{person.pk}", {"phone": f"1380000000{n}"}, **{"If-Match": '"1"'}
            )
            for n, c in enumerate(clients)
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()
    person.refresh_from_db()
    assert (person.phone, person.version) == (winner["phone"], 2)
    assert PersonChange.objects.filter(person=person).count() == 1


def test_sequential_retry_with_the_same_key_creates_one_person(hq_api):
    body = {"name": "张伟", "id_number": new_id_number(), "region_code": GRID_A1}
    answers = [hq_api.post("/persons", body, **{"Idempotency-Key": "retry"}) for _ in range(3)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert Person.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_the_same_key_create_one_person(hq_user, county):
    body = {"name": "张伟", "id_number": new_id_number(), "region_code": GRID_A1}
    clients = [ApiClient(hq_user) for _ in range(3)]
    responses = run_together(
        [
            lambda c=c: c.post("/persons", body, **{"Idempotency-Key": "same-moment"})
            for c in clients
        ]
    )
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 2
    assert Person.objects.count() == 1
    assert PersonChange.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_the_same_id_number_without_a_key(hq_user, county):
    """Without a key, the unique ID number still stops a duplicate: one 201, one 400."""
    body = {"name": "张伟", "id_number": new_id_number(), "region_code": GRID_A1}
    clients = [ApiClient(hq_user), ApiClient(hq_user)]
    responses = run_together([lambda c=c: c.post("/persons", body) for c in clients])
    assert sorted(r.status_code for r in responses) == [201, 400]
    loser = next(r for r in responses if r.status_code == 400).json()
    assert loser["errors"][0]["field"] == "id_number"
    assert body["id_number"] not in str(loser)
    assert Person.objects.count() == 1
