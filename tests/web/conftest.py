"""Fixtures of the web UI tests: a village cadre of 富强村 with people inside and outside."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.core.roles import Role
from fangkong.people.models import Household
from tests.conftest import GRID_A1, GRID_C1, VILLAGE_A, new_id_number

PASSWORD = "pw-Fangkong-2026"


@pytest.fixture
def cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cadre_a", display_name="李建国")


@pytest.fixture
def login_client():
    """A test client logged in as ``user`` (zh-hans unless another language is asked for)."""

    def make(user, language: str | None = None) -> Client:
        client = Client()
        client.force_login(user)
        if language:
            client.post("/i18n/setlang/", {"language": language, "next": "/"})
        return client

    return make


@pytest.fixture
def household_a(county):
    return Household.objects.create(region_id=GRID_A1, address="富强镇富强村一组18号")


@pytest.fixture
def household_c(county):
    return Household.objects.create(region_id=GRID_C1, address="拜泉镇东升社区一组3号")


@pytest.fixture
def zhang(make_person, household_a):
    """张伟 of 富强村 first group, head of household_a."""
    person = make_person(GRID_A1, "张伟", household=household_a, id_number=new_id_number())
    household_a.head = person
    household_a.save()
    return person


@pytest.fixture
def wang_c(make_person, household_c):
    """王芳 of 东升社区, outside 富强村."""
    return make_person(
        GRID_C1,
        "王芳",
        household=household_c,
        id_number=new_id_number(sex="F"),
        phone="13698765432",
    )
