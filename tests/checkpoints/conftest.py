"""Fixtures of the checkpoint tests: a post in village A (富强镇) and one in village C (拜泉镇),
users per role, a few residents."""

from __future__ import annotations

import pytest

from fangkong.checkpoints import services
from fangkong.checkpoints.models import Post
from fangkong.core.roles import Role
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C


@pytest.fixture(autouse=True)
def _fresh_caches():
    services.clear_caches()
    yield
    services.clear_caches()


@pytest.fixture
def post_a(county):
    return Post.objects.create(
        name="富强村东卡点", kind="village_post", region_code=VILLAGE_A, enclosed=True
    )


@pytest.fixture
def post_c(county):
    return Post.objects.create(name="东升社区卡点", kind="village_post", region_code=VILLAGE_C)


@pytest.fixture
def staff(make_user):
    return make_user(
        Role.CHECKPOINT_STAFF, VILLAGE_A, username="kadian", display_name="卡点值守 孙强"
    )


@pytest.fixture
def township(make_user):
    return make_user(Role.TOWNSHIP, FUQIANG, username="fuqiang")


@pytest.fixture
def other_township(make_user):
    return make_user(Role.TOWNSHIP, BAIQUAN, username="baiquan")


@pytest.fixture
def inspector(make_user):
    return make_user(Role.INSPECTOR, COUNTY, username="ducha")


@pytest.fixture
def resident(make_person):
    return make_person(GRID_A1, "王秀英")


@pytest.fixture
def far_resident(make_person):
    return make_person(GRID_C1, "李建国")
