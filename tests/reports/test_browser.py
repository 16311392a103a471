"""In Debian chromium: the county board (charts render, no console errors) and a village
cadre filing a zero report on a 375 px phone."""

from __future__ import annotations

import pytest

from fangkong.core.roles import Role
from fangkong.reports import services
from fangkong.reports.models import DailyReport
from tests.conftest import BROWSER_TEST, COUNTY, GRID_A1, VILLAGE_C

PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


def _login(page, url, username):
    page.goto(url)
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_county_board_and_a_village_zero_report_on_a_phone(
    live_server, browser, make_user, isolate
):
    from playwright.sync_api import expect

    make_user(Role.COUNTY_HQ, COUNTY, username="xian_b", display_name="县指挥部")
    make_user(Role.VILLAGE_CADRE, VILLAGE_C, username="cun_c", display_name="村干部")
    isolate(GRID_A1, "张伟")
    services.refresh()

    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    # Chromium's own /favicon.ico request (404) is logged to the console but is no page
    # resource; failed page resources are caught by the response listener below.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    _login(page, f"{live_server.url}/", "xian_b")
    expect(page.locator("h1")).to_contain_text("疫情防控态势")
    card = page.locator('[data-figure="quarantine.home"]')
    expect(card).to_contain_text("居家隔离")
    expect(card.locator(".r-card-value")).to_contain_text("1")
    expect(card.locator("svg.chart-trend polyline")).to_have_count(1)
    expect(page.locator("svg.chart-bars rect")).not_to_have_count(0)
    page.get_by_role("link", name="富强镇").first.click()
    expect(page.locator("h1")).to_contain_text("富强镇")
    assert errors == []

    phone = browser.new_page(viewport={"width": 375, "height": 812}, locale="zh-CN")
    phone.on("pageerror", lambda e: errors.append(str(e)))
    _login(phone, f"{live_server.url}/reports/daily/{VILLAGE_C}/", "cun_c")
    zero = phone.locator("#zero-report")
    expect(zero).to_be_visible()
    box = zero.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 375
    phone.locator("textarea[name=situation]").fill("今日无新情况")
    zero.click()
    expect(phone.locator("body")).to_contain_text("日报已报送")
    assert DailyReport.objects.get(region_code=VILLAGE_C).status == "zero"
    assert errors == []
