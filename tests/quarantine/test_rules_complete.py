"""Self-inspection rules report every finding: a county at its peak has thousands of people
in home isolation without a reading, and a rule that stopped at its first thousand would
leave the rest off the problems list (and mark them resolved on the next run)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core import inspection
from fangkong.people.models import Person, Source
from fangkong.quarantine.models import IsolationOrder
from fangkong.quarantine.services import default_schedule
from tests.conftest import GRID_A1

pytestmark = pytest.mark.django_db


def test_every_order_without_a_reading_is_a_finding(county):
    started = timezone.now() - dt.timedelta(days=3)
    people = Person.objects.bulk_create(
        Person(
            name=f"隔离{n}",
            name_pinyin=f"geli{n}",
            name_initials="gl",
            region_code=GRID_A1,
            source=Source.MANUAL,
        )
        for n in range(1500)
    )
    IsolationOrder.objects.bulk_create(
        IsolationOrder(
            person=p,
            region_code=p.region_code,
            kind="home",
            starts_at=started,
            ends_at=started + dt.timedelta(days=14),
            policy_version="test",
            schedule=default_schedule(),
        )
        for p in people
    )
    found = inspection.run(
        "quarantine.check_overdue", inspection.RuleQuery(GRID_A1[:9], timezone.now())
    )
    assert len(found) == 1500
    assert len({f.ref for f in found}) == 1500
    first = min(found, key=lambda f: f.ref)
    assert first.url.startswith("/quarantine/orders/") and first.url.endswith("/")
    assert "隔离" in first.what and "居家" in first.what
