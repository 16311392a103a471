"""Fixtures of the screening tests: tasks run at once, a county policy, risk areas."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.screening import services
from fangkong.screening.services import RiskAreaInput, RuleInput
from tests.conftest import COUNTY, GRID_A1

TODAY = dt.date(2022, 1, 10)
WUHAN_JIANGHAN = "420103"  # 武汉市江汉区


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


STANDARD_RULES = [
    RuleInput("high", 14, "centralised", days=14, home_days=7, test_days=(1, 4, 7, 14)),
    RuleInput("medium", 14, "home", days=14, test_days=(1, 7, 14)),
    RuleInput("other", 7, "monitoring", days=7, test_days=(1,)),
]


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


@pytest.fixture
def policy(hq):
    policy, _task = services.publish_policy(
        user=hq,
        region_code=COUNTY,
        title="拜泉县返乡人员管控",
        notice="拜防指〔2022〕1号",
        rules=STANDARD_RULES,
        reevaluate=False,
    )
    return policy


@pytest.fixture
def high_area(hq):
    (area,) = services.create_risk_areas(
        user=hq,
        reevaluate=False,
        areas=[RiskAreaInput(WUHAN_JIANGHAN, "武汉市江汉区", "high", dt.date(2022, 1, 1))],
    )
    return area


@pytest.fixture
def make_visit_task(make_person):
    """``make_visit_task(region_code, name, due_in=hours, **task_fields)``: a person flagged
    by a stay in 武汉市江汉区 with one open visit task (no policy needed)."""
    from fangkong.screening.models import Stay, VisitTask

    def make(region_code=GRID_A1, name="张伟", *, due_in=12, person_fields=None, **fields):
        person = make_person(region_code, name, **(person_fields or {}))
        stay = Stay.objects.create(
            person=person,
            region_code=region_code,
            place_code="420103",
            place="武汉市江汉区",
            arrived=dt.date(2022, 1, 3),
            left=dt.date(2022, 1, 5),
            source="police",
        )
        fields.setdefault("reason", "14天内到过武汉市江汉区（高风险）")
        return VisitTask.objects.create(
            person=person,
            region_code=region_code,
            stay=stay,
            due_at=timezone.now() + dt.timedelta(hours=due_in),
            **fields,
        )

    return make
