"""Fixtures of the supervision tests: an inspector of the county, cadres of villages A and C,
and a planned checkpoint inspection in village A."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.supervision import services
from tests.conftest import COUNTY, VILLAGE_A, VILLAGE_C


@pytest.fixture
def inspector(make_user):
    return make_user(Role.INSPECTOR, COUNTY, username="ducha")


@pytest.fixture
def cadre_a(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun_a")


@pytest.fixture
def cadre_c(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_C, username="cun_c")


@pytest.fixture
def planned(inspector):
    return services.plan_inspection(
        actor=inspector,
        region_code=VILLAGE_A,
        place_kind="checkpoint",
        place_name="村口卡点",
        planned_for=timezone.localdate(),
    )
