"""The sampler's phone page in Debian chromium at 375×812, in Chinese: log in as testing
staff, type the tube and an ID number as a scanner would (Enter submits), see the sample
recorded and the tube count go up, with no sideways scrolling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.testing import services
from fangkong.testing.models import Sample
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_a_sampler_records_samples_on_a_phone(live_server, browser, make_user, make_person):
    from playwright.sync_api import expect

    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    make_user(Role.TESTING_STAFF, VILLAGE_A, username="caiyang", display_name="赵护士")
    now = timezone.now()
    campaign = services.create_campaign(
        user=cadre,
        name="富强村全员核酸",
        region_codes=[VILLAGE_A],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=8),
    )
    first, second = make_person(GRID_A1, "张伟"), make_person(GRID_A1, "李娜")

    page = browser.new_page(viewport={"width": 375, "height": 812}, locale="en-US")
    page.goto(f"{live_server.url}/testing/rounds/{campaign.pk}/sample/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill("caiyang")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="采样 · 富强村全员核酸")).to_be_visible()
    page.get_by_label("试管条码").fill("FQ-0001")
    page.get_by_label("试管类型").select_option("10")
    page.get_by_label("身份证号或登记码").press_sequentially(first.id_number, delay=5)
    page.get_by_label("身份证号或登记码").press("Enter")  # the scanner's Enter
    panel = page.locator("#scan-panel")
    expect(panel).to_contain_text("已采样：张伟，试管 FQ-0001")
    expect(page.get_by_test_id("tube-count")).to_have_text("管内 1 / 10")

    # The tube stays filled and the ID field is ready for the next person.
    expect(page.get_by_label("试管条码")).to_have_value("FQ-0001")
    page.get_by_label("身份证号或登记码").fill(second.id_number)
    page.get_by_label("身份证号或登记码").press("Enter")
    expect(panel).to_contain_text("已采样：李娜")
    expect(page.get_by_test_id("tube-count")).to_have_text("管内 2 / 10")

    # Scanning the same person again is refused, in Chinese, and the count stays.
    page.get_by_label("身份证号或登记码").fill(first.id_number)
    page.get_by_label("身份证号或登记码").press("Enter")
    expect(panel).to_contain_text("此人本轮已采过样")
    expect(page.get_by_test_id("tube-count")).to_have_text("管内 2 / 10")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the sampling page is {width}px wide on a 375px screen"
    assert Sample.objects.filter(tube__barcode="FQ-0001").count() == 2
