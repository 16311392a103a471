"""In Debian chromium: the county draws a sealed zone by picking a village and ticking a
grid; a volunteer signs up on a phone-sized screen without an account."""

from __future__ import annotations

import pytest

from fangkong.core.roles import Role
from fangkong.emergency.models import Volunteer, Zone, ZoneMeasure
from tests.conftest import BROWSER_TEST, COUNTY, GRID_A1, GRID_A2, VILLAGE_A

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_the_county_draws_a_zone_by_picking_grids(
    live_server, browser, make_user, make_person, settings
):
    from playwright.sync_api import expect

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    make_user(Role.COUNTY_HQ, COUNTY, username="xian", display_name="王主任")
    make_person(GRID_A1, "张伟")
    make_person(GRID_A2, "李娜")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/emergency/zones/new/")
    page.get_by_label("用户名").fill("xian")
    page.get_by_label("密码").fill("pw-Fangkong-2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="划定封控管控区")).to_be_visible()
    page.get_by_label("在哪个区域内划定").select_option(VILLAGE_A)
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("名称").fill("富强村第1组封控区")
    page.get_by_label("富强村第1组").check()
    page.get_by_label("依据").fill("县指挥部令第12号")
    page.get_by_label("批准人").fill("王主任")
    page.get_by_role("button", name="确认划定").click()
    expect(page.get_by_role("heading", name="富强村第1组封控区")).to_be_visible()
    expect(page.get_by_text("张伟")).to_be_visible()
    expect(page.get_by_text("李娜")).to_have_count(0)
    assert Zone.objects.get().region_code == GRID_A1
    assert ZoneMeasure.objects.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.django_db(transaction=True)
def test_a_volunteer_signs_up_on_a_phone(live_server, browser, county):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 375, "height": 812})
    page.goto(f"{live_server.url}/emergency/join/")
    expect(page.get_by_role("heading", name="志愿者报名")).to_be_visible()
    page.get_by_label("姓名").fill("马骏")
    page.get_by_label("电话").fill("13800001111")
    page.get_by_label("村（社区）").select_option(VILLAGE_A)
    page.get_by_label("特长").fill("有货车驾照")
    page.get_by_role("button", name="报名").click()
    expect(page.get_by_role("heading", name="谢谢您")).to_be_visible()
    assert Volunteer.objects.get().phone == "13800001111"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.django_db(transaction=True)
def test_the_county_assigns_a_volunteer_on_a_phone(live_server, browser, make_user, county):
    from playwright.sync_api import expect

    make_user(Role.COUNTY_HQ, COUNTY, username="xian")
    Volunteer.objects.create(
        name="马骏", phone="13800001111", region_code=VILLAGE_A, skills="有货车驾照"
    )
    page = browser.new_page(viewport={"width": 375, "height": 812})
    page.goto(f"{live_server.url}/emergency/volunteers/")
    page.get_by_label("用户名").fill("xian")
    page.get_by_label("密码").fill("pw-Fangkong-2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("有货车驾照")).to_be_visible()
    # One card per volunteer on a phone: nothing spills sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_label("岗位").fill("物资配送")
    page.get_by_role("button", name="安排").click()
    expect(page.get_by_text("已安排岗位")).to_be_visible()
    assert Volunteer.objects.get().post == "物资配送"
