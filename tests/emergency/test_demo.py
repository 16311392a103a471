"""The emergency part of the demo holds at any hour it is started: a sealed zone around the
demo village's first grid, the township at war with most staff reported, plans, a drill."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core import demo
from fangkong.core.roles import Role
from fangkong.emergency import risk, services
from fangkong.emergency.demo import seed_demo
from fangkong.emergency.models import Drill, Mode, Volunteer, Zone, ZoneMeasure
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, VILLAGE_A

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("hour", [8, 13, 22])
def test_the_demo_story_holds_at_any_hour(make_user, make_person, hour):
    users = {
        "xian": make_user(Role.COUNTY_HQ, COUNTY, username="xian"),
        "fuqiang": make_user(Role.TOWNSHIP, FUQIANG, username="fuqiang"),
        "cun": make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun"),
        "wangge": make_user(Role.GRID_WORKER, GRID_A1, username="wangge"),
        "cunyi": make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="cunyi"),
    }
    sealed_person = make_person(GRID_A1, "张伟")
    controlled_person = make_person(GRID_A2, "李娜")
    now = timezone.localtime().replace(hour=hour, minute=5)
    context = demo.DemoContext(
        now=now, users=users, county=COUNTY, township=FUQIANG, village=VILLAGE_A, grid=GRID_A1
    )
    line = seed_demo(context)
    assert line and "战时" in line
    assert seed_demo(context) is None  # seeded once
    assert ZoneMeasure.objects.get(person=sealed_person).kind == "sealed"
    assert ZoneMeasure.objects.get(person=controlled_person).kind == "controlled"
    mode, switch = services.mode_of(VILLAGE_A)
    assert mode == Mode.WARTIME and switch.at < now
    board = services.reporting_board(actor=users["xian"], switch_id=switch.pk)
    assert board.total == 4 and board.reported == 3  # the grid worker has not reported
    assert all(z.declared_at <= now for z in Zone.objects.all())
    assert Drill.objects.get().held_at < now - dt.timedelta(days=2)
    assert Volunteer.objects.count() == 4
    tiles = {t.code: t.level for t in risk.tiles(COUNTY, 9, at=now)}
    assert tiles[FUQIANG] == "red"
