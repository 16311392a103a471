"""A vehicle with three occupants logged on a 375 px phone screen, in Debian chromium."""

from __future__ import annotations

import pytest

from fangkong.checkpoints.models import Passage, Post
from fangkong.core.roles import Role
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_vehicle_with_three_occupants_at_375px(live_server, browser, make_user, make_person):
    from playwright.sync_api import expect

    from fangkong.checkpoints.models import CodeRule

    for colour, verdict in (("green", "pass"), ("yellow", "restrict"), ("red", "refuse")):
        CodeRule.objects.get_or_create(colour=colour, defaults={"verdict": verdict})
    make_user(Role.CHECKPOINT_STAFF, VILLAGE_A, username="kadian", display_name="卡点值守 孙强")
    post = Post.objects.create(name="富强村东卡点", kind="village_post", region_code=VILLAGE_A)
    known = make_person(GRID_A1, "王秀英")

    page = browser.new_page(viewport={"width": 375, "height": 740}, is_mobile=True)
    page.goto(f"{live_server.url}/")
    page.get_by_label("用户名").fill("kadian")
    page.get_by_label("密码").fill("pw-Fangkong-2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="富强村东卡点 · 通行登记")).to_be_visible()
    page.get_by_label("车辆").check()
    page.get_by_label("车牌号").fill("黑B·3K721")
    page.get_by_label("车上人员（每行一人：姓名或身份证号）").fill(f"{known.id_number}\n李四\n赵五")
    page.get_by_label("从何处来（省、市、县）").fill("哈尔滨市")
    page.get_by_label("体温（℃）").fill("36.5")
    expect(page.get_by_test_id("verdict")).to_contain_text("可以通行")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_test_id("recorded")).to_contain_text("黑B·3K721（3 人）")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 376)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, wide
    vehicle = Passage.objects.get(kind="vehicle")
    assert vehicle.post == post and vehicle.occupants == 3
    names = list(vehicle.occupant_rows.order_by("id").values_list("name", flat=True))
    assert names == ["王秀英", "李四", "赵五"]
