"""包片/包村/包组 assignments: validity rules and who is responsible on a given day."""

import datetime as dt

import pytest

from fangkong.core.assignments import assign_area, responsible_for
from fangkong.core.errors import ValidationFailed
from fangkong.core.roles import Role
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C

D = dt.date


def test_most_specific_active_assignment_first(make_user):
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    leader = make_user(Role.TOWNSHIP, FUQIANG)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    grid_cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    assign_area(by_user=hq, user=leader, region_code=FUQIANG, kind="piece", starts_on=D(2022, 1, 1))
    assign_area(
        by_user=hq,
        user=cadre,
        region_code=VILLAGE_A,
        kind="village",
        starts_on=D(2022, 1, 1),
        ends_on=D(2022, 1, 31),
    )
    assign_area(
        by_user=hq, user=grid_cadre, region_code=GRID_A1, kind="group", starts_on=D(2022, 1, 10)
    )
    on_5th = responsible_for(GRID_A1, on=D(2022, 1, 5))
    assert [a.user for a in on_5th] == [cadre, leader]
    on_15th = responsible_for(GRID_A1, on=D(2022, 1, 15))
    assert [a.user for a in on_15th] == [grid_cadre, cadre, leader]
    assert [a.user for a in responsible_for(GRID_A1, on=D(2022, 2, 1))] == [grid_cadre, leader]


def test_kind_must_fit_level_and_period_and_jurisdiction(make_user):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with pytest.raises(ValidationFailed) as exc:
        assign_area(
            by_user=township,
            user=cadre,
            region_code=VILLAGE_A,
            kind="group",
            starts_on=D(2022, 1, 2),
            ends_on=D(2022, 1, 1),
        )
    assert {e.field for e in exc.value.errors} == {"region_code", "ends_on"}
    with pytest.raises(ValidationFailed) as exc:
        assign_area(
            by_user=township,
            user=cadre,
            region_code=VILLAGE_C,
            kind="village",
            starts_on=D(2022, 1, 1),
        )
    assert exc.value.errors[0].message == "该区域不在您的管辖范围内"


def test_roles_without_registry_rights_cannot_assign(make_user):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with pytest.raises(ValidationFailed) as exc:
        assign_area(
            by_user=doctor, user=cadre, region_code=GRID_A1, kind="group", starts_on=D(2022, 1, 1)
        )
    assert exc.value.errors[0].field == "user"
