"""Fixtures for isolation tests: users per role in village A, orders made through services.

Times are local (Asia/Shanghai); the default schedule has windows 06:00–12:00 and
14:00–20:00, so a test frozen at 09:00 is inside the morning window.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.quarantine import services
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> dt.datetime:
    """An aware local datetime: ``local(2026, 3, 1, 9)``."""
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture
def cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A)


@pytest.fixture
def doctor(make_user):
    return make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)


@pytest.fixture
def township(make_user):
    return make_user(Role.TOWNSHIP, FUQIANG)


@pytest.fixture
def county_hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


@pytest.fixture
def household(county):
    return Household.objects.create(region_id=GRID_A1, address="富强村一组 3 号")


@pytest.fixture
def make_order(cadre, make_person, household):
    """``make_order(**fields)``: an active order for a new person of village A (or given)."""

    def make(person=None, by=None, **fields):
        person = person or make_person(GRID_A1, fields.pop("name", "张伟"), household=household)
        fields.setdefault("kind", "home")
        fields.setdefault("starts_at", local(2026, 3, 1, 8))
        fields.setdefault("days", 14)
        fields.setdefault("policy_version", "中高风险返乡 v3")
        return services.order_isolation(
            user=by or cadre, data=services.OrderInput(person_id=person.pk, **fields)
        )

    return make


@pytest.fixture
def api_as():
    return ApiClient


__all__ = ["COUNTY", "FUQIANG", "GRID_A1", "TZ", "VILLAGE_A", "VILLAGE_C", "local"]
