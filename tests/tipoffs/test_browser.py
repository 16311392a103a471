"""In Debian chromium: a tip with a photo sent from a 375 px phone by QR link, verified by
the inspector and rewarded; an inspector's checklist with a failed item rectified by the
village and closed by the team."""

from __future__ import annotations

import pytest
from django.utils import timezone
from PIL import Image

from fangkong.core.roles import Role
from fangkong.supervision import services as supervision
from fangkong.supervision.models import Rectification
from fangkong.tipoffs import services
from fangkong.tipoffs.models import PenaltyRule, RewardRule, TipOff
from tests.conftest import BROWSER_TEST, COUNTY, VILLAGE_A

pytestmark = BROWSER_TEST
PASSWORD = "pw-Fangkong-2026"


def _login(page, url, username):
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_tip_from_phone_to_reward_and_checklist_to_closed(
    live_server, browser, make_user, tmp_path, monkeypatch
):
    from playwright.sync_api import expect

    monkeypatch.setattr(services, "FORM_MIN_SECONDS", 0)
    now = timezone.now()
    RewardRule.objects.create(amount=500, valid_from=now)
    PenaltyRule.objects.create(
        cutoff=now.date(), amount_before=2022, amount_after=5000, valid_from=now
    )
    inspector = make_user(Role.INSPECTOR, COUNTY, username="ducha")
    make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun")
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (1200, 900), "green").save(photo, format="JPEG")

    # The public, on a phone, from the poster's QR code: no login.
    phone = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.goto(f"{live_server.url}/tipoffs/report/?v={VILLAGE_A}")
    expect(page.get_by_role("heading", name="疫情防控举报")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_label("未报备返乡人员").check()
    page.get_by_label("情况说明").fill("邻居家儿子昨晚从外地回来，没有登记。")
    page.get_by_label("照片（最多 3 张）").set_input_files(str(photo))
    page.get_by_label("您的电话（可不填，用于领取奖励）").fill("13800138000")
    page.get_by_role("button", name="提交举报").click()
    expect(page.get_by_role("heading", name="举报已收到")).to_be_visible()
    code = page.get_by_test_id("receipt-code").inner_text().strip()
    tip = TipOff.objects.get(receipt_code=code)
    assert tip.photos.count() == 1 and tip.region_code == VILLAGE_A

    # The inspector verifies it.
    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(desk, f"{live_server.url}/tipoffs/{tip.pk}/", "ducha")
    expect(desk.get_by_test_id("tipster-phone")).to_have_text("13800138000")
    desk.get_by_label("属实", exact=True).check()
    desk.get_by_label("核实情况").fill("上门核实属实，已登记。")
    desk.get_by_label("该村此前未登记此返乡人员（漏报）").check()
    desk.get_by_role("button", name="保存核实结果").click()
    expect(desk.get_by_test_id("tip-status")).to_have_text("属实")
    desk.goto(f"{live_server.url}/tipoffs/rewards/")
    expect(desk.get_by_test_id("ledger")).to_contain_text("500")

    # The tipster checks the status with the receipt code.
    page.goto(f"{live_server.url}/tipoffs/status/?code={code}")
    expect(page.get_by_test_id("tip-status")).to_have_text("属实")

    # The inspector's checklist on a phone: one item fails, with a photo.
    inspection = supervision.plan_inspection(
        actor=inspector,
        region_code=VILLAGE_A,
        place_kind="checkpoint",
        place_name="村口卡点",
        planned_for=timezone.localdate(),
    )
    mobile = browser.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    checklist = mobile.new_page()
    _login(checklist, f"{live_server.url}/supervision/inspections/{inspection.pk}/", "ducha")
    for position in range(1, 7):
        item = checklist.get_by_test_id(f"item-{position}")
        if position == 2:
            item.get_by_placeholder("问题说明（不合格必填）").fill("凌晨值守人员睡岗")
            item.locator("input[type=file]").set_input_files(str(photo))
            item.get_by_role("button", name="不合格").click()
        else:
            item.get_by_role("button", name="合格", exact=True).click()
        expect(checklist.get_by_test_id(f"item-{position}")).to_contain_text("结果")
    checklist.get_by_role("button", name="完成督查").click()
    expect(checklist.get_by_text("督查已完成")).to_be_visible()
    rect = Rectification.objects.get()

    # The village reports the rectification; the team verifies and closes it.
    village = browser.new_page()
    _login(village, f"{live_server.url}/supervision/rectifications/{rect.pk}/", "cun")
    village.get_by_label("整改情况").fill("已改为每班 3 人，村干部夜间查岗。")
    village.get_by_role("button", name="报送").click()
    expect(village.get_by_test_id("rect-status")).to_have_text("已整改待核验")
    checklist.goto(f"{live_server.url}/supervision/rectifications/{rect.pk}/")
    checklist.get_by_label("已整改到位，销号").check()
    checklist.get_by_role("button", name="保存核验").click()
    expect(checklist.get_by_test_id("rect-status")).to_have_text("已核验销号")
    phone.close()
    mobile.close()
