"""Isolation and testing talk through core.signals: required tests become due tests, and
results of the round fill the isolation order's required tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.quarantine import services as quarantine
from fangkong.quarantine.models import IsolationKind, RequiredTest
from fangkong.quarantine.models import TestResult as IsolationResult
from fangkong.testing import services
from fangkong.testing.models import DueTest
from tests.testing.conftest import scan


def _order(hq, person, days=(0, 3)):
    return quarantine.order_isolation(
        user=hq,
        data=quarantine.OrderInput(
            person_id=person.pk,
            kind=IsolationKind.HOME,
            starts_at=timezone.now(),
            days=14,
            manual_reason="自高风险地区返乡",
            required_test_days=days,
        ),
    )


def test_required_tests_of_an_order_become_due_tests(hq, people):
    person = people(1)[0]
    order = _order(hq, person, days=(1, 4, 7))
    start = timezone.localdate(order.starts_at)
    due = DueTest.objects.filter(person=person).order_by("due_on")
    assert [d.due_on for d in due] == [start + dt.timedelta(days=n) for n in (1, 4, 7)]
    assert due[0].schedule.origin_ref == f"quarantine.order:{order.pk}"


def test_results_of_the_round_fill_required_tests(hq, sampler, round_, people):
    isolated, other = people(2)
    order = _order(hq, isolated, days=(0, 3))
    other_single = "T-SINGLE-2"
    services.ingest_samples(
        user=sampler,
        campaign_id=round_.pk,
        rows=[scan(isolated, "P-0001", capacity=10), scan(other, other_single, capacity=1)],
    )
    services.record_results(
        user=hq,
        campaign_id=round_.pk,
        source="lab.xlsx",
        results=[("P-0001", "negative", 2), (other_single, "negative", 3)],
    )
    tests = {t.day: t.result for t in RequiredTest.objects.filter(order=order)}
    assert tests == {0: IsolationResult.NEGATIVE, 3: IsolationResult.PENDING}


def test_a_positive_pool_is_nobody_s_result_yet(hq, sampler, round_, people):
    isolated = people(1)[0]
    order = _order(hq, isolated, days=(0,))
    services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(isolated, "P-0002", capacity=10)]
    )
    services.record_results(
        user=hq, campaign_id=round_.pk, source="lab.xlsx", results=[("P-0002", "positive", 2)]
    )
    assert RequiredTest.objects.get(order=order).result == IsolationResult.PENDING
