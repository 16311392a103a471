"""Sampling rules: pooled tubes fill to capacity, nobody twice in a round unless a retest,
batches are idempotent and may arrive before their tube is opened — also under concurrent
scans, where the database constraints have the last word (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from fangkong.core.errors import ValidationFailed
from fangkong.testing import services
from fangkong.testing.models import Sample, Tube
from tests.conftest import GRID_C1

from .conftest import scan


def codes(report) -> list[str]:
    return [r["code"] for r in report.rejected]


def test_a_pool_of_ten_takes_ten_and_refuses_the_eleventh(round_, sampler, people):
    persons = people(11)
    report = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(p, "P0001") for p in persons]
    )
    assert report.accepted == 10
    assert codes(report) == ["tube_full"]
    assert report.rejected[0]["index"] == 10
    tube = Tube.objects.get(barcode="P0001")
    assert (tube.capacity, tube.sample_count) == (10, 10)
    assert Sample.objects.filter(tube=tube).count() == 10


def test_a_pool_of_twenty_and_a_single_tube(round_, sampler, people):
    persons = people(21)
    report = services.ingest_samples(
        user=sampler,
        campaign_id=round_.pk,
        rows=[scan(p, "P20", capacity=20) for p in persons[:20]]
        + [scan(persons[20], "S1", capacity=1)],
    )
    assert (report.accepted, report.rejected) == (21, [])
    assert Tube.objects.get(barcode="P20").sample_count == 20
    assert Tube.objects.get(barcode="S1").capacity == 1


def test_nobody_twice_in_a_round(round_, sampler, people):
    (person,) = people(1)
    first = services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=[scan(person, "A")])
    again = services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=[scan(person, "B")])
    assert first.accepted == 1
    assert codes(again) == ["already_sampled"]
    same_batch = services.ingest_samples(
        user=sampler,
        campaign_id=round_.pk,
        rows=[scan(p, "C") for p in people(1)] * 1 + [scan(person, "C")],
    )
    assert codes(same_batch) == ["already_sampled"]
    assert Sample.objects.filter(person=person).count() == 1


def test_the_database_refuses_a_second_sample_and_an_overfull_tube(round_, sampler, people):
    """The constraints themselves, without the service's checks in front of them."""
    (person,) = people(1)
    services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(person, "Z", capacity=1)]
    )
    tube = Tube.objects.get(barcode="Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        Sample.objects.create(
            campaign=round_,
            tube=tube,
            person=person,
            region_code="1",
            device_sample_id="x",
            sampled_at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Tube.objects.filter(pk=tube.pk).update(sample_count=2)


def test_a_resent_batch_is_recorded_once(round_, sampler, people):
    rows = [scan(p, "P0002") for p in people(5)]
    first = services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=rows)
    second = services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=rows)
    assert (first.accepted, first.replayed) == (5, 0)
    assert (second.accepted, second.replayed, second.rejected) == (0, 5, [])
    assert Tube.objects.get(barcode="P0002").sample_count == 5
    assert Sample.objects.count() == 5


def test_samples_may_arrive_before_their_tube_is_opened(round_, sampler, people):
    persons = people(3)
    early = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(p, "LATE1", capacity=None) for p in persons]
    )
    assert early.accepted == 3
    tube = Tube.objects.get(barcode="LATE1")
    assert (tube.capacity, tube.opened_at) == (round_.pool_size, None)
    opened_at = timezone.now() - dt.timedelta(minutes=5)
    report = services.open_tubes(
        user=sampler,
        campaign_id=round_.pk,
        tubes=[{"barcode": "LATE1", "capacity": 20, "opened_at": opened_at}],
    )
    assert (report.updated, report.rejected) == (1, [])
    tube.refresh_from_db()
    assert (tube.capacity, tube.opened_at, tube.sample_count) == (20, opened_at, 3)
    # A second open message with another capacity is refused, not applied.
    clash = services.open_tubes(
        user=sampler, campaign_id=round_.pk, tubes=[{"barcode": "LATE1", "capacity": 10}]
    )
    assert len(clash.rejected) == 1


def test_batches_out_of_order_give_the_same_tube(round_, sampler, people):
    persons = people(10)
    later = [scan(p, "OOO", at=timezone.now() - dt.timedelta(minutes=1)) for p in persons[5:]]
    earlier = [scan(p, "OOO", at=timezone.now() - dt.timedelta(minutes=9)) for p in persons[:5]]
    assert services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=later).accepted == 5
    assert services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=earlier).accepted == 5
    assert Tube.objects.get(barcode="OOO").sample_count == 10


def test_rows_are_judged_one_by_one(round_, sampler, people, make_person):
    persons = people(2)
    outsider_rows = [
        scan(persons[0], "M1", capacity=10),
        scan(persons[1], "M1", capacity=20),  # the tube was made a pool of 10 by the first
        scan(persons[1], "M2", at=round_.ends_at + dt.timedelta(hours=1)),
    ]
    stranger = scan(persons[1], "M3")
    stranger = stranger.__class__(**{**stranger.__dict__, "id_number": "110101199003070000"})
    report = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[*outsider_rows, stranger]
    )
    assert report.accepted == 1
    assert codes(report) == ["capacity_mismatch", "outside_window", "unknown_person"]
    assert all(r["message"] for r in report.rejected)


def test_a_sampler_cannot_record_people_outside_the_jurisdiction(round_, make_user, people):
    from fangkong.core.roles import Role
    from tests.conftest import VILLAGE_C

    village_sampler = make_user(Role.TESTING_STAFF, VILLAGE_C)
    (person,) = people(1)  # lives in village A
    with pytest.raises(ValidationFailed):
        services.record_scan(
            user=village_sampler,
            campaign_id=round_.pk,
            person=person.id_number,
            tube="Q1",
            capacity=10,
        )
    assert Sample.objects.count() == 0


def test_a_registration_code_identifies_the_person(round_, sampler, people):
    (person,) = people(1)
    code = services.issue_registration_code(id_number=person.id_number, name=person.name)
    assert services.issue_registration_code(id_number=person.id_number, name=person.name) == code
    with pytest.raises(ValidationFailed):
        services.issue_registration_code(id_number=person.id_number, name="别人")
    outcome = services.record_scan(
        user=sampler, campaign_id=round_.pk, person=code.code.lower(), tube="R1", capacity=10
    )
    assert outcome.sample.person_id == person.pk
    assert outcome.tube.sample_count == 1


def test_a_closed_round_takes_no_samples(round_, sampler, hq, people):
    services.set_campaign_status(user=hq, campaign_id=round_.pk, status="closed")
    with pytest.raises(ValidationFailed):
        services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=[scan(people(1)[0], "X")])


def test_a_retest_needs_a_recall_and_a_single_tube(round_, sampler, people):
    (person,) = people(1)
    services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=[scan(person, "RT")])
    refused = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(person, "RT-S", capacity=1, retest=True)]
    )
    assert codes(refused) == ["not_recalled"]
    services.record_results(
        user=sampler, campaign_id=round_.pk, results=[("RT", "positive", 1)], source="lab"
    )
    pooled_retest = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(person, "RT-P", capacity=10, retest=True)]
    )
    assert codes(pooled_retest) == ["retest_single"]
    ok = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(person, "RT-S2", capacity=1, retest=True)]
    )
    assert ok.accepted == 1
    assert Sample.objects.get(person=person, attempt=1).tube.barcode == "RT-S2"
    twice = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(person, "RT-S3", capacity=1, retest=True)]
    )
    assert codes(twice) == ["not_recalled"]


# -- concurrency -----------------------------------------------------------------------------


def run_together(calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_never_overfill_a_pool(round_, sampler, people):
    persons = people(16)
    calls = [
        lambda p=p: services.ingest_samples(
            user=sampler, campaign_id=round_.pk, rows=[scan(p, "CONC")]
        )
        for p in persons
    ]
    reports = run_together(calls)
    assert sum(r.accepted for r in reports) == 10
    assert sorted(c for r in reports for c in codes(r)) == ["tube_full"] * 6
    tube = Tube.objects.get(barcode="CONC")
    assert tube.sample_count == 10 == Sample.objects.filter(tube=tube).count()


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_of_one_person_into_different_tubes(round_, sampler, people):
    (person,) = people(1)
    calls = [
        lambda i=i: services.ingest_samples(
            user=sampler, campaign_id=round_.pk, rows=[scan(person, f"DUP{i}")]
        )
        for i in range(6)
    ]
    reports = run_together(calls)
    assert sum(r.accepted for r in reports) == 1
    assert sorted(c for r in reports for c in codes(r)) == ["already_sampled"] * 5
    assert Sample.objects.filter(person=person).count() == 1
    assert sum(Tube.objects.values_list("sample_count", flat=True)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_resubmission_of_one_batch(round_, sampler, people):
    rows = [scan(p, f"B{i // 10}") for i, p in enumerate(people(20))]
    reports = run_together(
        [lambda: services.ingest_samples(user=sampler, campaign_id=round_.pk, rows=rows)] * 3
    )
    assert sum(r.accepted for r in reports) == 20
    assert sum(r.replayed for r in reports) == 40
    assert all(r.rejected == [] for r in reports)
    assert Sample.objects.count() == 20
    assert sorted(Tube.objects.values_list("sample_count", flat=True)) == [10, 10]


def test_people_of_another_township_are_sampled_too(round_, sampler, people):
    persons = people(2, GRID_C1)
    report = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(p, "C1") for p in persons]
    )
    assert report.accepted == 2
