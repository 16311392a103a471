"""Jurisdiction by code prefix: the range arithmetic, and that the Q is exactly startswith."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core import jurisdiction
from fangkong.core.models import Region, RegionLevel
from fangkong.core.roles import Role
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C

digit_codes = st.text("0123456789", min_size=1, max_size=15)


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [("230231", "230232"), ("2302319", "230232"), ("23029", "2303"), ("0", "1"), ("999", None)],
)
def test_next_prefix(prefix, upper):
    assert jurisdiction.next_prefix(prefix) == upper


@given(prefix=digit_codes, suffix=st.text("0123456789", max_size=6), other=digit_codes)
def test_next_prefix_bounds_exactly_the_strings_with_the_prefix(prefix, suffix, other):
    upper = jurisdiction.next_prefix(prefix)
    inside = prefix + suffix
    assert inside >= prefix
    assert upper is None or inside < upper
    in_range = other >= prefix and (upper is None or other < upper)
    assert in_range == other.startswith(prefix)


def test_collapse_drops_codes_covered_by_shorter_ones():
    assert jurisdiction.collapse(["230231106", "2302", "230231", "2303", "2303"]) == [
        "2302",
        "2303",
    ]
    assert jurisdiction.collapse([]) == []


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    codes=st.lists(st.text("0123456789", min_size=1, max_size=15), min_size=1, max_size=25),
    prefixes=st.lists(st.text("0123456789", min_size=1, max_size=6), min_size=1, max_size=3),
)
def test_prefix_q_matches_exactly_the_codes_that_start_with_a_prefix(codes, prefixes):
    """Checked against the database: the half-open ranges select what startswith selects."""
    Region.objects.all().delete()
    Region.objects.bulk_create([Region(code=c, name=c, level=RegionLevel.GRID) for c in set(codes)])
    found = set(
        Region.objects.filter(jurisdiction.prefix_q("code", prefixes)).values_list(
            "code", flat=True
        )
    )
    assert found == {c for c in codes if any(c.startswith(p) for p in prefixes)}


def test_prefix_q_ignores_codes_that_are_not_digits(db):
    Region.objects.create(code="230231", name="拜泉县", level=RegionLevel.COUNTY)
    assert not Region.objects.filter(jurisdiction.prefix_q("code", ["23%", "abc"])).exists()


def test_scope_and_covers_follow_the_users_codes(make_user, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    assert jurisdiction.covers(cadre, GRID_A1)
    assert not jurisdiction.covers(cadre, VILLAGE_C)
    assert not jurisdiction.covers(cadre, FUQIANG)  # the township above is not inside
    scoped = jurisdiction.scope(Region.objects.all(), cadre, field="code")
    assert set(scoped.values_list("code", flat=True)) == {
        VILLAGE_A,
        VILLAGE_A + "001",
        VILLAGE_A + "002",
    }


def test_user_without_regions_sees_nothing(make_user, county):
    nobody = make_user(Role.COUNTY_HQ)
    assert not jurisdiction.scope(Region.objects.all(), nobody, field="code").exists()


def test_only_a_superuser_administrator_without_regions_sees_everything(make_user, county):
    root = make_user(Role.ADMIN, is_superuser=True)
    assert jurisdiction.scope(Region.objects.all(), root, field="code").count() == (
        Region.objects.count()
    )
    plain_admin = make_user(Role.ADMIN)
    assert not jurisdiction.scope(Region.objects.all(), plain_admin, field="code").exists()
    scoped_root = make_user(Role.ADMIN, COUNTY, is_superuser=True)
    assert jurisdiction.covers(scoped_root, GRID_A1)
    assert not jurisdiction.covers(scoped_root, "230232")
