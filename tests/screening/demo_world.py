"""A small demo world for the story, crawler and browser tests: the test county's 富强村
with residents in households, and the demo users (same usernames and roles as
``fangkong demo``), so every registered demo seeder can run against it."""

from __future__ import annotations

from django.utils import timezone

from fangkong.core import demo
from fangkong.core.models import Region
from fangkong.core.roles import Role
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, VILLAGE_A

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
PASSWORD = "pw-Fangkong-2026"

ACCOUNTS = [
    ("admin", Role.ADMIN, ""),
    ("xian", Role.COUNTY_HQ, COUNTY),
    ("fuqiang", Role.TOWNSHIP, FUQIANG),
    ("cun", Role.VILLAGE_CADRE, VILLAGE_A),
    ("wangge", Role.GRID_WORKER, GRID_A1),
    ("cunyi", Role.VILLAGE_DOCTOR, VILLAGE_A),
    ("kadian", Role.CHECKPOINT_STAFF, FUQIANG),
    ("liudiao", Role.INVESTIGATOR, COUNTY),
    ("caiyang", Role.TESTING_STAFF, FUQIANG),
    ("wuzi", Role.SUPPLY_OFFICER, COUNTY),
    ("ducha", Role.INSPECTOR, COUNTY),
]


def build(make_user, make_person, residents: int = 60) -> demo.DemoContext:
    from fangkong.people.models import Household

    users = {
        username: make_user(role, *([code] if code else []), username=username, password=PASSWORD)
        for username, role, code in ACCOUNTS
    }
    users["admin"].is_superuser = users["admin"].is_staff = True
    users["admin"].save()
    for index in range(residents):
        grid = GRID_A1 if index % 2 == 0 else GRID_A2
        if index % 3 == 0:
            household = Household.objects.create(
                region=Region.objects.get(code=grid), address=f"富强村{index // 3 + 1}号"
            )
        name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
        if index >= len(SURNAMES):
            name += GIVEN[index % len(GIVEN)]
        make_person(
            grid,
            name,
            household=household,
            phone=f"139{index:08d}",
        )
    return demo.DemoContext(
        now=timezone.now(),
        users=users,
        county=COUNTY,
        township=FUQIANG,
        village=VILLAGE_A,
        grid=GRID_A1,
    )


def run_seeders(context: demo.DemoContext) -> list[str]:
    lines = []
    for seeder in demo.seeders():
        line = seeder.run(context)
        if line:
            lines.append(line)
    return lines
