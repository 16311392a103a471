"""Fixtures of the reports tests: isolation orders made through the isolation services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from tests.conftest import VILLAGE_A

ALL_DAY = ((dt.time(0, 0), dt.time(23, 59, 59)),)


@pytest.fixture
def isolate(make_user, make_person):
    """isolate(grid, name, hours_ago=..., kind="home") -> IsolationOrder (via the services)."""
    from fangkong.quarantine import services

    cadre = make_user(Role.COUNTY_HQ, "230231")

    def make(region_code: str, name: str = "张伟", *, hours_ago: float = 30, kind: str = "home"):
        person = make_person(region_code, name)
        return services.order_isolation(
            user=cadre,
            data=services.OrderInput(
                person_id=person.pk,
                kind=kind,
                starts_at=timezone.now() - dt.timedelta(hours=hours_ago),
                days=14,
                policy_version="中高风险返乡 v3",
                check_windows=ALL_DAY,
                cost_bearer="government" if kind == "centralised" else "",
            ),
        )

    return make


@pytest.fixture
def village_cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, display_name="李村委")
