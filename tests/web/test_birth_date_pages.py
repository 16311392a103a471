"""Person pages show the birth date as the role may see it (issue 11): the year alone
where the ID number is masked, the whole date where it is not — on the person page, the
list, the household page and the edit page."""

from __future__ import annotations

import pytest

from fangkong.core.roles import Role
from tests.conftest import GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(make_person):
    return make_person(GRID_A1, "孙立")  # born 1985-03-14 (the test ID numbers' date)


def _pages(client, person):
    return {
        "detail": client.get(f"/persons/{person.pk}/").content.decode(),
        "list": client.get("/persons/?q=孙立").content.decode(),
        "household": client.get(f"/households/{person.household_id}/").content.decode()
        if person.household_id
        else "",
    }


def test_masked_roles_see_the_year_alone(person, make_user, client_for):
    doctor = client_for(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))
    for name, page in _pages(doctor, person).items():
        assert "1985-03-14" not in page and "19850314" not in page, name
    assert "1985" in _pages(doctor, person)["detail"]


def test_roles_that_see_the_id_number_see_the_whole_date(person, make_user, client_for):
    cadre = client_for(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    pages = _pages(cadre, person)
    assert "1985-03-14" in pages["detail"] and "1985-03-14" in pages["list"]
    assert "1985-03-14" in cadre.get(f"/persons/{person.pk}/edit/").content.decode()
