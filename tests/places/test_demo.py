"""The demo story of places holds at 08:00, 13:00 and 22:00."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from fangkong.core import demo, inspection
from fangkong.core.roles import Role
from fangkong.places.demo import seed_demo
from fangkong.places.models import ColdBatch, DailyCheck, Gathering, Place, Resumption
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, VILLAGE_A

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("hour", [8, 13, 22])
def test_the_story_holds_at_any_hour(hour, make_user, make_person):
    users = {
        "cun": make_user(Role.VILLAGE_CADRE, VILLAGE_A),
        "fuqiang": make_user(Role.TOWNSHIP, FUQIANG),
        "xian": make_user(Role.COUNTY_HQ, COUNTY),
        "wangge": make_user(Role.GRID_WORKER, GRID_A1),
        "cunyi": make_user(Role.VILLAGE_DOCTOR, VILLAGE_A),
        "kadian": make_user(Role.CHECKPOINT_STAFF, FUQIANG),
        "ducha": make_user(Role.INSPECTOR, COUNTY),
    }
    for n in range(14):
        make_person(GRID_A1 if n % 2 else GRID_A2, f"居民{n}")
    day = timezone.localdate() - dt.timedelta(days=1)
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))
    with freeze_time(moment):
        context = demo.DemoContext(
            now=timezone.now(),
            users=users,
            county=COUNTY,
            township=FUQIANG,
            village=VILLAGE_A,
            grid=GRID_A1,
        )
        line = seed_demo(context)
        assert line and "场所演示数据" in line
        assert seed_demo(context) is None  # once only
        assert Place.objects.filter(status="closed").count() == 5
        assert Gathering.objects.filter(outcome="stopped", tables=35).count() == 1
        assert Resumption.objects.filter(status="approved").count() == 1
        assert DailyCheck.objects.filter(temperature__gte=37.3).count() == 1
        assert ColdBatch.objects.filter(status="released").count() == 1
        assert ColdBatch.objects.filter(status="registered").count() == 1
        found = inspection.run(
            "places.gathering_over_limit", inspection.RuleQuery(FUQIANG, timezone.now())
        )
        assert not found  # the banquet was stopped, the wedding is three days away
