"""Fixtures of the testing-campaign tests: a running round over 富强镇 and 拜泉镇, users per
role, and helpers that make scans and pooled tubes through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.testing import services
from fangkong.testing.ingest import ScanRow
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, GRID_A1, VILLAGE_A

TZ = ZoneInfo("Asia/Shanghai")
_device_ids = itertools.count(1)


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


@pytest.fixture
def sampler(make_user):
    return make_user(Role.TESTING_STAFF, COUNTY)


@pytest.fixture
def round_(hq):
    """A running whole-population round of 富强镇 and 拜泉镇, pools of 10, open for a day."""
    now = timezone.now()
    return services.create_campaign(
        user=hq,
        name="第一轮全员核酸",
        region_codes=[FUQIANG, BAIQUAN],
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=22),
        pool_size=10,
    )


@pytest.fixture
def household(county):
    return Household.objects.create(region_id=GRID_A1, address="富强村一组 3 号")


@pytest.fixture
def people(make_person, household):
    """``people(n, region)``: n persons of a grid (village A's first grid by default)."""

    def make(n: int, region: str = GRID_A1, **fields):
        return [
            make_person(
                region, f"居民{i}", household=household if region == GRID_A1 else None, **fields
            )
            for i in range(n)
        ]

    return make


def scan(
    person,
    tube: str,
    *,
    capacity: int | None = 10,
    retest: bool = False,
    device_id: str | None = None,
    at: dt.datetime | None = None,
) -> ScanRow:
    """One device scan of ``person`` into ``tube``."""
    return ScanRow(
        device_sample_id=device_id or f"dev-{next(_device_ids)}",
        tube=tube,
        sampled_at=at or timezone.now(),
        id_number=person.id_number,
        capacity=capacity,
        retest=retest,
    )


@pytest.fixture
def pooled(round_, sampler):
    """``pooled(persons, tube)``: record the persons into one pooled tube, all accepted."""

    def make(persons, tube: str, capacity: int = 10):
        report = services.ingest_samples(
            user=sampler,
            campaign_id=round_.pk,
            rows=[scan(p, tube, capacity=capacity) for p in persons],
        )
        assert report.rejected == [] and report.accepted == len(persons)
        return report

    return make


__all__ = ["VILLAGE_A", "scan"]
