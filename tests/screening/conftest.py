"""Fixtures of the screening tests: tasks run at once, a county policy, risk areas."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.screening import services
from fangkong.screening.services import RiskAreaInput, RuleInput
from tests.conftest import COUNTY

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
