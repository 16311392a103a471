import pytest

from fangkong.core.roles import Role
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY, display_name="王主任")


@pytest.fixture
def township(make_user):
    return make_user(Role.TOWNSHIP, FUQIANG, display_name="李干事")


@pytest.fixture
def staff(make_user):
    """Users of 富强镇 who must report for duty, and one of another township."""
    return [
        make_user(Role.VILLAGE_CADRE, VILLAGE_A),
        make_user(Role.GRID_WORKER, GRID_A1),
        make_user(Role.VILLAGE_DOCTOR, VILLAGE_A),
        make_user(Role.VILLAGE_CADRE, VILLAGE_C),
    ]


def zone_draft(kind="sealed", codes=(GRID_A1,), households=(), name="富强村1组封控区"):
    from fangkong.emergency import services

    return services.ZoneDraft(
        name=name,
        kind=kind,
        region_codes=list(codes),
        household_ids=list(households),
        legal_basis="县指挥部令第12号",
        approved_by="王主任",
    )
