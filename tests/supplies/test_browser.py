"""A township keeper issues masks to a checkpoint on a phone (375×812) in Debian chromium:
log in, land on the stock board, open the store, issue, see the balance and the alert."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from fangkong.core.roles import Role
from fangkong.supplies.models import StockLevel
from tests.conftest import BROWSER_TEST, FUQIANG

from .conftest import receive

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_a_township_keeper_issues_masks_to_a_checkpoint_on_a_phone(
    live_server, browser, make_user, county_officer, store, masks, post
):
    from playwright.sync_api import expect

    make_user(Role.SUPPLY_OFFICER, FUQIANG, username="keeper_phone", display_name="李保管")
    receive(county_officer, store, masks, 100)

    page = browser.new_page(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page.goto(f"{live_server.url}/")
    page.locator("input[name=username]").fill("keeper_phone")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("库存与可供天数")
    page.get_by_role("link", name="富强镇物资库").first.click()

    issue = page.locator("#issue")
    issue.locator("select[name=item_id]").select_option(label="医用外科口罩（个）")
    issue.locator("select[name=recipient_id]").select_option(label="富强镇东卡点（卡点）")
    issue.locator("input[name=quantity]").fill("70")
    issue.locator("input[name=received_by]").fill("值班组长 孙强")
    issue.get_by_role("button", name="确认发放").click()

    expect(page.locator(".messages")).to_contain_text(
        "已发放医用外科口罩70个给富强镇东卡点，结存30个"
    )
    row = page.locator("tr[data-item=mask_surgical]")
    expect(row.locator(".s-stock")).to_contain_text("30")
    expect(row.locator(".s-short")).to_be_visible()  # 30 masks, 18 a day planned: 1.6 days
    # The next issue is prefilled from this one.
    expect(issue.locator("input[name=quantity]")).to_have_value("70")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "supplies-issue-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the store page is {width}px wide on a 375px screen"
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == Decimal(30)
