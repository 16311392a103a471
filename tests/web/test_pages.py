"""Every page renders, in Simplified Chinese by default and in English once switched."""

from __future__ import annotations

import pytest

from fangkong.core import modules
from fangkong.core.models import TaskRecord

pytestmark = pytest.mark.django_db


def _pages(zhang, household_a, task):
    return [
        "/overview/",
        "/regions/",
        f"/regions/{zhang.region_code[:12]}/",
        "/persons/",
        "/persons/?q=zhangw",
        f"/persons/{zhang.pk}/",
        f"/persons/{zhang.pk}/edit/",
        "/persons/new/",
        "/households/",
        f"/households/{household_a.pk}/",
        f"/households/{household_a.pk}/edit/",
        "/households/new/",
        "/tasks/",
        f"/tasks/{task.pk}/",
        "/checkpoints/",  # the checkpoints module (built; its placeholder redirects here)
        "/screening/",
    ]


@pytest.fixture
def task(cadre):
    return TaskRecord.objects.create(
        kind="import",
        title="导入人员名单",
        created_by=cadre,
        total=200,
        done=50,
        status=TaskRecord.Status.RUNNING,
    )


def test_every_page_renders_in_chinese_by_default(cadre, login_client, zhang, household_a, task):
    client = login_client(cadre)
    for url in _pages(zhang, household_a, task):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert '<html lang="zh-Hans">' in body, url
        assert "退出登录" in body, url
        assert "李建国" in body and "村（社区）干部" in body and "富强村" in body, url
        assert "Log out" not in body, url


def test_every_page_renders_in_english_after_switching(
    cadre, login_client, zhang, household_a, task
):
    client = login_client(cadre, language="en")
    for url in _pages(zhang, household_a, task):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert '<html lang="en">' in body, url
        assert "Log out" in body and "Village (community) cadre" in body, url
        assert "退出登录" not in body, url


def test_switching_back_to_chinese(cadre, login_client):
    client = login_client(cadre, language="en")
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "概览" in client.get("/overview/").content.decode()


def test_navigation_lists_the_modules_the_role_may_open(cadre, login_client):
    body = login_client(cadre).get("/overview/").content.decode()
    for module in modules.visible_to(cadre):
        assert str(module.title) in body
    # A village cadre may not open contact tracing's team management, but may open tracing;
    # a supply officer's navigation has no person registry (it would answer 403).


@pytest.mark.parametrize("role", ["supply_officer", "checkpoint_staff", "village_doctor"])
def test_navigation_hides_what_the_role_cannot_open(role, make_user, login_client):
    from fangkong.core.roles import can
    from tests.conftest import VILLAGE_A

    user = make_user(role, VILLAGE_A)
    body = login_client(user).get("/overview/").content.decode()
    for module in modules.modules():
        if module.action and not can(user, module.action):
            assert f'href="{module.url()}"' not in body, module.slug


@pytest.mark.parametrize(
    "module", [m for m in modules.modules() if m.planned], ids=lambda m: m.slug
)
def test_later_modules_say_honestly_they_are_not_built(cadre, login_client, module):
    response = login_client(cadre).get(f"/modules/{module.slug}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "尚未开放" in body
    assert str(module.description) in body
    assert "<table" not in body  # no figures, made up or otherwise


def test_built_modules_redirect_to_their_pages(cadre, login_client):
    response = login_client(cadre).get("/modules/people/")
    assert response.status_code == 302 and response["Location"] == "/persons/"


def test_unknown_module_is_404(cadre, login_client):
    assert login_client(cadre).get("/modules/nothing/").status_code == 404


def test_home_shows_real_counts_of_the_jurisdiction(cadre, login_client, zhang, wang_c):
    response = login_client(cadre).get("/overview/")
    summary = response.context["summary"]
    # 富强村, its two grids; one household and one person inside; 王芳 of 东升社区 is not.
    assert summary == {"regions": 3, "households": 1, "persons": 1}


def test_assets_are_vendored_not_from_a_cdn(cadre, login_client):
    body = login_client(cadre).get("/overview/").content.decode()
    assert "/static/vendor/htmx/htmx.min.js" in body
    assert "http://" not in body.replace("http://testserver", "")
    assert "https://" not in body


def test_chinese_even_when_the_browser_asks_for_english(cadre, login_client):
    client = login_client(cadre)
    response = client.get("/overview/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "概览" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


def test_an_unknown_language_cookie_falls_back_to_chinese(cadre, login_client):
    client = login_client(cadre)
    client.cookies["django_language"] = "fr"
    assert "概览" in client.get("/overview/").content.decode()


def test_person_page_offers_module_actions_by_role(client, make_user, make_person):
    """Modules register actions on the person page; only roles allowed see them."""
    from fangkong.core.roles import Role
    from tests.conftest import VILLAGE_A

    person = make_person()
    client.force_login(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    page = client.get(f"/persons/{person.pk}/").content.decode()
    assert f"/quarantine/orders/new/?person={person.pk}" in page
    assert "下达隔离令" in page
    client.force_login(make_user(Role.CHECKPOINT_STAFF, VILLAGE_A))
    page = client.get(f"/persons/{person.pk}/").content.decode()
    assert "/quarantine/orders/new/" not in page
