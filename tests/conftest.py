"""Shared fixtures: a small real-coded county, users per role, person factories.

The county is 拜泉县 (230231) with its real townships; below 富强镇 (230231106) and 拜泉镇
(230231100) two generated villages each, with two grids per village.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from fangkong.core import idnumbers, regions
from fangkong.core.models import User
from fangkong.core.roles import Role

# No test asserts a duration (issue 11): Hypothesis' default 200 ms deadline per example is
# one, and it fails on a busy machine. Figures belong in bench/.
hypothesis_settings.register_profile(
    "fangkong", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("fangkong")

COUNTY = "230231"
FUQIANG = "230231106"
BAIQUAN = "230231100"
VILLAGE_A = FUQIANG + "201"  # in 富强镇
VILLAGE_B = FUQIANG + "202"  # in 富强镇
VILLAGE_C = BAIQUAN + "201"  # in 拜泉镇
GRID_A1 = VILLAGE_A + "001"
GRID_A2 = VILLAGE_A + "002"
GRID_B1 = VILLAGE_B + "001"
GRID_C1 = VILLAGE_C + "001"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a file database rather than Django's shared-cache in-memory one.

    Threads in ``transaction=True`` tests (concurrent writers) each open a connection; on a
    shared-cache in-memory database they fail at once with "database table is locked",
    because SQLite's busy timeout does not apply to shared-cache locks. A file database in
    WAL mode behaves like the product's: writers wait for each other.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("sqlite") / "test_fangkong.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(autouse=True, scope="session")
def _api_built_before_any_clock_is_frozen():
    """Import every URLconf module (and so every API schema) with the real clock.

    pydantic builds a schema when its class is defined; a module first imported inside
    ``freeze_time`` sees freezegun's ``FakeDate`` for ``datetime.date`` and its schemas
    fail to build. Which test imports the API first depends on the order and on how xdist
    splits the tests, so it is done here, once, before any of them."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - resolving the patterns imports the modules


@pytest.fixture(autouse=True)
def _no_rows_kept_between_tests():
    """Rows kept a few seconds by core.shortcache would outlive a test's rolled-back
    database (and a row id reused by the next test)."""
    from fangkong.core import shortcache

    shortcache.clear_all()
    yield
    shortcache.clear_all()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def county(db):
    regions.load_official_county(COUNTY)
    rows = []
    for village, name in ((VILLAGE_A, "富强村"), (VILLAGE_B, "永胜村"), (VILLAGE_C, "东升社区")):
        rows.append((village, name, True))
        for n in (1, 2):
            rows.append((f"{village}{n:03d}", f"{name}第{n}组", True))
    regions.upsert_regions(rows)
    return COUNTY


_usernames = itertools.count(1)


@pytest.fixture
def make_user(db, county):
    def make(role: str, *codes: str, password: str = "pw-Fangkong-2026", **extra) -> User:
        user = User.objects.create_user(
            username=extra.pop("username", f"{role}{next(_usernames)}"),
            password=password,
            role=role,
            **extra,
        )
        user.regions.set(codes)
        return user

    return make


_sequence = itertools.count(1)


def new_id_number(birth=dt.date(1985, 3, 14), sex="M", region="230231") -> str:
    return idnumbers.make(region, birth, next(_sequence) % 500, sex)


@pytest.fixture
def make_person(db, county):
    from fangkong.core import names
    from fangkong.people.models import Person, Source

    def make(region_code: str = GRID_A1, name: str = "张伟", **fields) -> Person:
        pinyin, initials = names.keys(name)
        fields.setdefault("id_number", new_id_number())
        if fields["id_number"]:
            info = idnumbers.parse(fields["id_number"])
            fields.setdefault("birth_date", info.birth_date)
            fields.setdefault("sex", info.sex)
        fields.setdefault("phone", "13912345678")
        fields.setdefault("source", Source.VILLAGE)
        return Person.objects.create(
            region_code=region_code,
            name=name,
            name_pinyin=pinyin,
            name_initials=initials,
            **fields,
        )

    return make


@pytest.fixture
def hq_user(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


CHROMIUM = "/usr/bin/chromium"
# Marks for a module of browser tests: run by default and in CI, skipped only where Debian's
# chromium is missing (scripts/test.sh installs it when it can).
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.fixture
def browser():
    """Debian chromium driven by Playwright (never Playwright's own browser download)."""
    # Playwright's sync API runs an event loop in this thread; the ORM in fixtures must
    # still run here, so Django's async-safety guard is lifted for these tests.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def client_for():
    """A Django test client logged in as ``user`` (Chinese, the default language)."""
    from django.test import Client

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
