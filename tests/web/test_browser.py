"""One journey through the real UI in Debian chromium, all in Chinese: log in as a village
cadre, find a person by pinyin prefix, change the phone, see the new phone and its history.
Also checks that a phone-sized screen (375×812) needs no sideways scrolling."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from fangkong.core.roles import Role
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

from .conftest import PASSWORD

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))

pytestmark = BROWSER_TEST


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide on a 375px screen"


@pytest.mark.django_db(transaction=True)
def test_cadre_finds_a_person_by_pinyin_and_changes_the_phone(
    live_server, browser, make_user, make_person
):
    from playwright.sync_api import expect

    make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cadre_a", display_name="李建国")
    zhang = make_person(GRID_A1, "张伟", phone="13912345678")
    make_person(GRID_A1, "李娜", phone="13800001111")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The browser asks for English (en-US); the UI is Chinese all the same.
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
    page.goto(f"{live_server.url}/persons/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill("cadre_a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="人员", exact=True)).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text("李建国")
    expect(page.locator(".whoami")).to_contain_text("村（社区）干部")
    # Live search: typing is enough, htmx fetches the results.
    page.get_by_role("searchbox", name="查询").press_sequentially("zhangw", delay=50)
    results = page.locator("#person-results")
    expect(results).to_contain_text("共找到 1 人")
    expect(results).not_to_contain_text("李娜")
    # The results of the whole query have been swapped in (htmx pushes the URL after the
    # swap) and no request is in flight, so the link clicked is not replaced under the mouse.
    expect(page).to_have_url(re.compile(r"q=zhangw"))
    page.wait_for_load_state("networkidle")
    results.get_by_role("link", name="张伟").click()

    expect(page.get_by_role("heading", name="张伟")).to_be_visible()
    page.get_by_role("link", name="修改", exact=True).click()
    expect(page.get_by_role("heading", name="修改 张伟 的信息")).to_be_visible()
    page.get_by_label("电话").fill("1370000777")  # one digit short
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".field-error")).to_contain_text("电话号码 1370000777 格式不正确")
    page.get_by_label("电话").fill("13700007777")
    page.get_by_label("修改原因").fill("本人更换号码")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("修改已保存。")).to_be_visible()
    expect(page.locator(".facts").first).to_contain_text("13700007777")
    history = page.locator(".history-entry").first
    expect(history).to_contain_text("第 2 版")
    expect(history).to_contain_text("cadre_a")
    expect(history).to_contain_text("本人更换号码")
    expect(history.get_by_role("row", name="电话")).to_contain_text("13912345678")
    expect(history.get_by_role("row", name="电话")).to_contain_text("13700007777")
    page.screenshot(path=SCREENSHOTS / "person-detail-desktop.png", full_page=True)
    zhang.refresh_from_db()
    assert zhang.phone == "13700007777" and zhang.version == 2

    # The same pages on a phone: nothing wider than the screen, the menu folds away.
    page.set_viewport_size({"width": 375, "height": 812})
    for path in ("/", "/persons/?q=zw", f"/persons/{zhang.pk}/", "/regions/", "/tasks/"):
        page.goto(f"{live_server.url}{path}")
        _no_sideways_scroll(page)
    page.goto(f"{live_server.url}/persons/?q=zw")
    page.screenshot(path=SCREENSHOTS / "person-search-phone.png", full_page=True)
    page.goto(f"{live_server.url}/persons/{zhang.pk}/")
    page.screenshot(path=SCREENSHOTS / "person-detail-phone.png", full_page=True)
    menu = page.get_by_role("button", name="菜单")
    expect(page.locator("#sidenav")).to_be_hidden()
    menu.click()
    expect(page.locator("#sidenav")).to_be_visible()
    expect(page.locator("#sidenav")).to_contain_text("核酸检测")
    _no_sideways_scroll(page)
    page.screenshot(path=SCREENSHOTS / "menu-phone.png")
