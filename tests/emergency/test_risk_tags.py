"""The risk map reads the figures other modules tag ``risk:case``, ``risk:contact`` and
``risk:isolation`` (tracing and quarantine): one of each turns a village's tile."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.core import figures
from fangkong.core.roles import Role
from fangkong.emergency import risk
from tests.conftest import FUQIANG, GRID_A1, GRID_B1, VILLAGE_A, VILLAGE_B, VILLAGE_C


def _levels() -> dict[str, str]:
    return {t.code: t.level for t in risk.tiles(FUQIANG, 12)}


def test_every_risk_tag_has_a_figure():
    tagged = {tag for f in figures.figures() for tag in f.tags if tag.startswith("risk:")}
    assert {"risk:case", "risk:contact", "risk:isolation"} <= tagged


def test_a_case_turns_orange_a_contact_yellow_an_isolation_blue(make_person, make_user):
    from fangkong.quarantine import services as quarantine
    from fangkong.tracing.models import Case, CaseStatus, Classification, Level

    assert set(_levels().values()) == {"green"}
    # A contact in 永胜村: yellow.
    Classification.objects.create(
        person=make_person(GRID_B1, "王芳"), region_code=GRID_B1, level=Level.CLOSE
    )
    assert _levels()[VILLAGE_B] == "yellow"
    # A case in 富强村: orange (a case 20 days old no longer counts).
    old = Case.objects.create(region_code=GRID_A1, status=CaseStatus.CONFIRMED, name="赵强")
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=20))
    assert _levels()[VILLAGE_A] == "green"
    Case.objects.create(region_code=GRID_A1, status=CaseStatus.CONFIRMED, name="钱进")
    assert _levels()[VILLAGE_A] == "orange"
    # A person in home isolation in 东升社区 (拜泉镇): blue.
    cadre = make_user(Role.COUNTY_HQ, "230231")
    person = make_person(VILLAGE_C + "001", "孙丽")
    quarantine.order_isolation(
        user=cadre,
        data=quarantine.OrderInput(
            person_id=person.pk,
            kind="home",
            starts_at=timezone.now() - dt.timedelta(hours=2),
            days=14,
            policy_version="中高风险返乡 v3",
        ),
    )
    assert {t.code: t.level for t in risk.tiles("230231100", 12)}[VILLAGE_C] == "blue"
