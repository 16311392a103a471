"""The demo's isolation and tracing story holds whatever hour it is started (clock frozen at
08:00, 13:00 and 22:00): the isolation windows are relative to the start, past checks are
taken, one fever and two missed checks — not dozens — wait for the doctor; contacts of the
case are isolated from their last exposure with their tests; one person has been released."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from fangkong.core.demo import DemoContext
from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.quarantine import demo as quarantine_demo
from fangkong.quarantine import ordering, selectors, services
from fangkong.quarantine.models import Alert, IsolationOrder
from fangkong.tracing import demo as tracing_demo
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, VILLAGE_A

from .conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def village(make_person):
    """52 households of village A with two adults each."""
    for i in range(52):
        grid = GRID_A1 if i % 2 else GRID_A2
        home = Household.objects.create(region_id=grid, address=f"富强村{i % 2 + 1}组 {i + 1} 号")
        for j in range(2):
            make_person(grid, f"村民{i}{'甲乙'[j]}", household=home)


@pytest.fixture
def demo_users(make_user):
    return {
        "xian": make_user(Role.COUNTY_HQ, COUNTY, username="xian"),
        "fuqiang": make_user(Role.TOWNSHIP, FUQIANG, username="fuqiang"),
        "cunyi": make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="cunyi"),
        "liudiao": make_user(Role.INVESTIGATOR, COUNTY, username="liudiao"),
    }


@pytest.mark.parametrize("hour", [8, 13, 22])
def test_the_demo_story_holds_at_any_hour(hour, village, demo_users):
    start = local(2026, 12, 3, hour)
    with freeze_time(start):
        context = DemoContext(
            now=start,
            users=demo_users,
            county=COUNTY,
            township=FUQIANG,
            village=VILLAGE_A,
            grid=GRID_A1,
        )
        assert quarantine_demo.seed_demo(context)
        assert tracing_demo.seed_demo(context)
        doctor = demo_users["cunyi"]
        returnees = IsolationOrder.objects.filter(manual_reason__startswith="演示数据")
        assert returnees.filter(status="active").count() == 40
        assert returnees.filter(status="released").count() == 1
        assert all(o.starts_at < start for o in returnees)
        open_alerts = Alert.objects.filter(handled_at__isnull=True)
        assert open_alerts.filter(kind="fever").count() == 1
        assert open_alerts.filter(kind="missed").count() == 2
        # The worker's next run finds nothing more: the story did not leave windows behind.
        assert services.find_missed_checks(now=start) == 0
        # Contacts of the case: isolated from their last exposure, with the policy's tests.
        from_tracing = IsolationOrder.objects.filter(source__startswith="tracing.")
        assert from_tracing.exists()
        for order in from_tracing:
            assert order.starts_at < start - dt.timedelta(hours=8)
            assert order.tests.exists()
        centralised = from_tracing.filter(kind="centralised")
        assert centralised.exists()
        plans = ordering.suggest_rooms(demo_users["xian"])
        assert plans and all(p.suggested for p in plans)
        # The round: fever first, day counts, and what is due at this hour.
        entries = selectors.todays_round(doctor)
        assert entries[0].urgency == 0
        assert all(1 <= e.day <= e.total_days for e in entries)
        if hour == 8:
            assert any(e.slot and not e.done for e in entries)  # the morning checks are due
        elif hour == 13:
            assert all(e.next_opens == dt.time(14, 0) for e in entries)
        else:
            assert all(e.slot is None and e.next_opens is None for e in entries)
        # A second run seeds nothing twice.
        assert quarantine_demo.seed_demo(context) is None
        assert tracing_demo.seed_demo(context) is None
