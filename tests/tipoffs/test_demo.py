"""The demo story of tip-offs and supervision holds at 08:00, 13:00 and 22:00."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from fangkong.core import figures, inspection
from fangkong.core.demo import DemoContext
from fangkong.core.roles import Role
from fangkong.supervision import demo as supervision_demo
from fangkong.supervision.models import Rectification, RectificationStatus
from fangkong.tipoffs import demo as tipoffs_demo
from fangkong.tipoffs import services
from fangkong.tipoffs.models import Reward, TipStatus
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("hour", [8, 13, 22])
def test_story_holds_at_any_hour(hour, make_user, make_person):
    now = dt.datetime(2026, 12, 3, hour, 0, tzinfo=SHANGHAI)
    users = {
        "ducha": make_user(Role.INSPECTOR, COUNTY, username="ducha"),
        "cun": make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun"),
    }
    make_person(GRID_A1, "李返乡")
    context = DemoContext(
        now=now, users=users, county=COUNTY, township=FUQIANG, village=VILLAGE_A, grid=GRID_A1
    )
    assert tipoffs_demo.seed_demo(context)
    assert supervision_demo.seed_demo(context)
    assert tipoffs_demo.seed_demo(context) is None  # once only

    inspector = users["ducha"]
    tips = services.tips_in_scope(inspector)
    assert tips.filter(status=TipStatus.VERIFIED).count() == 2
    assert tips.filter(status=TipStatus.PENDING, deadline__lt=now).count() == 1
    assert tips.filter(status=TipStatus.PENDING, deadline__gte=now).count() == 1
    ledger = services.ledger(users["cun"])
    assert ledger == [
        {"region_code": VILLAGE_A, "count": 2, "amount": 1000, "paid": 500, "unpaid": 500}
    ]
    assert Reward.objects.filter(paid_at__lte=now).count() == 1
    late = inspection.run("tipoffs.unverified_late", inspection.RuleQuery(prefix=COUNTY, now=now))
    assert len(late) == 1

    assert (
        Rectification.objects.filter(status=RectificationStatus.CLOSED, closed_at__lte=now).count()
        == 1
    )
    overdue = inspection.run(
        "supervision.rectification_overdue", inspection.RuleQuery(prefix=COUNTY, now=now)
    )
    assert len(overdue) == 1
    query = figures.FigureQuery(prefix=COUNTY, group_length=12, at=now)
    assert figures.total(figures.compute("supervision.rectifications_overdue", query)) == 1
