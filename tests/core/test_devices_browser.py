"""A revoked phone in Debian chromium at 375×812 (issue 20): the grid worker signs in on a
phone (the field app gives the browser its device key), the village cadre revokes that phone
from the device page, and the worker's next page on it goes to the login page with the
reason; signing in again on it makes it a new device, which works."""

from __future__ import annotations

import pytest

from fangkong.core import devices
from fangkong.core.models import Device
from fangkong.core.roles import Role
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_a_revoked_phone_is_sent_to_the_login_page(live_server, browser, make_user):
    from playwright.sync_api import expect

    worker = make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="网格员小王")
    make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun", display_name="村书记")

    phone = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = phone.new_page()

    def sign_in(context_page, username: str) -> None:
        context_page.locator("input[name=username]").fill(username)
        context_page.locator("input[name=password]").fill(PASSWORD)
        context_page.get_by_role("button", name="登录").click()

    page.goto(f"{live_server.url}/account/devices/")
    sign_in(page, "wangge")
    expect(page.locator("h1")).to_have_text("登录设备")
    page.reload()  # the first signed-in request registered the phone
    expect(page.get_by_text("（本机）")).to_be_visible()
    first_key = Device.objects.get(user=worker).key
    assert devices.KEY_PATTERN.match(first_key)

    office = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    cadre_page = office.new_page()
    cadre_page.goto(f"{live_server.url}/account/devices/")
    sign_in(cadre_page, "cun")
    row = cadre_page.locator("tr", has_text="网格员小王")
    row.get_by_role("button", name="停用此设备").click()
    expect(cadre_page.locator("body")).to_contain_text("已停用 网格员小王 的设备")
    assert Device.objects.get(key=first_key).revoked

    page.goto(f"{live_server.url}/screening/visits/")
    expect(page.locator("input[name=password]")).to_be_visible()
    assert "/login/" in page.url

    sign_in(page, "wangge")
    page.goto(f"{live_server.url}/account/devices/")
    expect(page.locator("h1")).to_have_text("登录设备")
    page.reload()
    live = Device.objects.filter(user=worker, revoked=False)
    assert live.count() == 1 and live.get().key != first_key
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    phone.close()
    office.close()
