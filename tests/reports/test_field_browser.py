"""The village reporter's zero report offline on a phone (375×812) in Debian chromium
(issue 20): the reporter opens today's report of the village online, loses the signal,
presses "今日无新情况，报零报告" (queued, "待同步"), reloads offline (page from the service
worker, queue from IndexedDB), gets the signal back, and the report is filed exactly once.
A second village's day turns busy while its phone is offline: the server's refusal is shown
on the queued report and kept until the reporter dismisses it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.quarantine.models import Alert, AlertKind
from fangkong.reports.models import DailyReport
from tests.conftest import BROWSER_TEST, GRID_B1, VILLAGE_A, VILLAGE_B

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


def _phone(browser, live_server, username):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/reports/daily/own/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#zero-report")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    return context, page


@pytest.mark.django_db(transaction=True)
def test_zero_report_offline_then_filed_exactly_once(live_server, browser, make_user, isolate):
    from playwright.sync_api import expect

    make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun_a", display_name="李村委")
    make_user(Role.VILLAGE_CADRE, VILLAGE_B, username="cun_b", display_name="王村委")
    errors: list[str] = []

    context, page = _phone(browser, live_server, "cun_a")
    page.on("pageerror", lambda e: errors.append(str(e)))
    expect(page.locator("h1")).to_contain_text("富强村")
    context.set_offline(True)
    page.locator("textarea[name=situation]").fill("今日入户走访，无异常")
    page.locator("#zero-report").click()
    state = page.locator("#zero-state")
    expect(state.locator(".field-pending")).to_contain_text("零报告 · 待同步")
    expect(page.locator("#zero-report")).to_be_hidden()
    expect(page.locator("#r-field-status")).to_contain_text("离线：1 份零报告待同步")
    assert not DailyReport.objects.exists()

    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(state.locator(".field-pending")).to_contain_text("零报告 · 待同步")
    expect(page.locator("#r-field-status")).to_contain_text("离线：1 份零报告待同步")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "field-zero-report-offline-phone.png", full_page=True)

    context.set_offline(False)
    expect(state.locator(".field-synced")).to_contain_text("日报已报送")
    expect(page.locator("#daily-state")).to_contain_text("李村委 报送（零报告）")
    expect(page.locator("#r-field-status")).to_contain_text("在线：没有待同步的报告")
    report = DailyReport.objects.get(region_code=VILLAGE_A)
    assert report.status == "zero" and report.situation == "今日入户走访，无异常"
    page.reload()
    expect(page.locator("#daily-state")).to_contain_text("零报告")
    expect(page.locator("#zero-report")).to_have_count(0)  # filed: no second zero report
    assert DailyReport.objects.filter(region_code=VILLAGE_A).count() == 1
    assert DailyReport.objects.get(region_code=VILLAGE_A).version == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the daily form is {width}px wide on a 375px screen"

    # Village B's day turns busy while its phone is offline: refused, shown, kept.
    context_b, phone_b = _phone(browser, live_server, "cun_b")
    phone_b.on("pageerror", lambda e: errors.append(str(e)))
    context_b.set_offline(True)
    phone_b.locator("#zero-report").click()
    expect(phone_b.locator("#zero-state .field-pending")).to_be_visible()
    Alert.objects.create(
        order=isolate(GRID_B1, "李娜"),
        region_code=GRID_B1,
        kind=AlertKind.FEVER,
        raised_at=timezone.now(),
    )
    context_b.set_offline(False)
    refused = phone_b.locator("#zero-state .field-conflict")
    expect(refused).to_contain_text("未报送：")
    expect(refused).to_contain_text("今日有情况，不能报零报告：")
    phone_b.reload()
    expect(refused).to_contain_text("今日有情况，不能报零报告：")
    expect(phone_b.locator("#r-field-status")).to_contain_text("1 份未报送")
    phone_b.get_by_role("button", name="知道了，移除此记录").click()
    expect(refused).to_have_count(0)
    assert not DailyReport.objects.filter(region_code=VILLAGE_B).exists()
    assert errors == []
