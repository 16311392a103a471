"""Bulk paths: batch readings idempotent by client id; the overdue check is set-based."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.quarantine import services
from fangkong.quarantine.models import Alert, HealthCheck
from tests.conftest import GRID_C1

from .conftest import local

pytestmark = pytest.mark.django_db


def _rows(orders, prefix="r", **fields):
    return [services.Reading(order_id=o.pk, client_id=f"{prefix}-{o.pk}", **fields) for o in orders]


@freeze_time(local(2026, 3, 1, 9))
def test_bulk_readings_are_idempotent_by_client_id(make_order, make_person, household, doctor):
    orders = [make_order(person=make_person(name=f"人{i}", household=household)) for i in range(5)]
    rows = _rows(orders, temperature=Decimal("36.6"))
    rows[2] = services.Reading(
        order_id=orders[2].pk, client_id="fever", temperature=Decimal("38.0")
    )
    first = services.bulk_record_readings(user=doctor, readings=rows)
    assert (first.stored, first.duplicates, first.alerts) == (5, 0, 1)
    again = services.bulk_record_readings(user=doctor, readings=rows + rows[:1])
    assert (again.stored, again.duplicates, again.alerts) == (0, 6, 0)
    assert HealthCheck.objects.count() == 5
    assert Alert.objects.count() == 1
    assert HealthCheck.objects.filter(slot=local(2026, 3, 1, 6)).count() == 5


@freeze_time(local(2026, 3, 1, 9))
def test_a_bad_row_stores_nothing_and_is_named(make_order, make_person, household, doctor):
    orders = [make_order(person=make_person(name=f"人{i}", household=household)) for i in range(3)]
    rows = _rows(orders, temperature=Decimal("36.6"))
    rows[1] = services.Reading(order_id=orders[1].pk, client_id="x", temperature=Decimal("55.0"))
    with pytest.raises(ValidationFailed) as exc:
        services.bulk_record_readings(user=doctor, readings=rows)
    assert [e.field for e in exc.value.errors] == ["readings.1.temperature"]
    assert HealthCheck.objects.count() == 0
    with pytest.raises(ValidationFailed):
        services.bulk_record_readings(
            user=doctor, readings=[services.Reading(order_id=orders[0].pk, normal=True)]
        )


@freeze_time(local(2026, 3, 1, 9))
def test_a_batch_with_an_order_outside_the_jurisdiction_is_404(
    make_order, make_person, doctor, make_user
):
    mine = make_order()
    theirs = make_order(person=make_person(GRID_C1, "外村人"), by=make_user("county_hq", "230231"))
    with pytest.raises(NotFound):
        services.bulk_record_readings(
            user=doctor, readings=_rows([mine, theirs], temperature=Decimal("36.5"))
        )
    assert HealthCheck.objects.count() == 0


def test_the_overdue_computation_is_a_few_statements_whatever_the_number_of_orders(
    make_order, make_person, household, doctor
):
    with freeze_time(local(2026, 3, 1, 5)):
        orders = [
            make_order(
                person=make_person(name=f"人{i}", household=household),
                starts_at=local(2026, 3, 1, 5),
            )
            for i in range(30)
        ]
    with freeze_time(local(2026, 3, 1, 9)):
        services.bulk_record_readings(user=doctor, readings=_rows(orders[:20], normal=True))
    with freeze_time(local(2026, 3, 1, 12, 30)), CaptureQueriesContext(connection) as queries:
        assert services.find_missed_checks() == 10
    inserts = [q for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) <= 3  # one per closed window in the last 24 hours, not per order
    assert len(queries) < 10
    with freeze_time(local(2026, 3, 2, 12, 30)):
        # The next day: the afternoon of day 1 and the morning of day 2 for all 30.
        assert services.find_missed_checks() == 60
        assert services.find_missed_checks() == 0
