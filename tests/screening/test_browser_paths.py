"""Two whole paths in Debian chromium on a 375 px phone, in Chinese, using names and the UI
only (issue 12):

1. A village cadre downloads nothing and types no code: uploads a returnee ledger naming the
   village by name, sees what changed and the decision, and opens the isolation order form
   prefilled from it (person, kind, start, days, tests).
2. The sampler logs in and lands on the scan screen of the round under way, scans an ID
   into a pooled tube; the lab's result file reports the pool positive; the recall list
   names the person to retest.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from openpyxl import Workbook

from fangkong.core.roles import Role
from fangkong.screening import ledgers, services
from fangkong.testing import services as testing
from tests.conftest import BROWSER_TEST, COUNTY, FUQIANG, GRID_A1, VILLAGE_A, new_id_number

from .conftest import STANDARD_RULES

PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.fixture(autouse=True)
def _immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"


def _login(page, url, username):
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_cadre_imports_a_ledger_and_orders_isolation_from_the_decision(
    live_server, browser, make_user, tmp_path
):
    from playwright.sync_api import expect

    hq = make_user(Role.COUNTY_HQ, COUNTY)
    (area,) = services.create_risk_areas(
        user=hq,
        reevaluate=False,
        areas=[
            services.RiskAreaInput(
                "420103", "武汉市江汉区", "high", timezone.localdate() - dt.timedelta(days=6)
            )
        ],
    )
    services.publish_policy(
        user=hq, region_code=COUNTY, title="拜泉县返乡管控", notice="", rules=STANDARD_RULES
    )
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun")
    village_name = ledgers.own_regions(cadre)[GRID_A1]
    head = [c.header for c in ledgers.COLUMNS["arrivals"]]
    left = timezone.localdate() - dt.timedelta(days=2)
    row = {
        "姓名": "返乡甲",
        "身份证号": new_id_number(),
        "手机号": "13912345678",
        "所属村组": village_name,  # the name the template's drop-down offers
        "从何地来": "湖北省武汉市江汉区",
        "来源地代码": "420103",
        "在该地起始日期": (left - dt.timedelta(days=3)).isoformat(),
        "离开该地日期": left.isoformat(),
    }
    book = Workbook()
    book.active.append(head)
    book.active.append([row.get(h, "") for h in head])
    path = tmp_path / "返乡人员.xlsx"
    book.save(path)

    page = browser.new_page(viewport={"width": 375, "height": 812})
    _login(page, f"{live_server.url}/screening/ledgers/upload/", "cun")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并导入").click()

    expect(page.get_by_text("本次导入的变化")).to_be_visible()
    expect(page.get_by_role("link", name="返乡甲").first).to_be_visible()
    expect(page.get_by_text("集中隔离 14 天")).to_be_visible()
    order = page.get_by_role("link", name="下达隔离")
    href = order.get_attribute("href")
    query = parse_qs(urlparse(href).query)
    assert query["kind"] == ["centralised"] and query["days"] == ["14"]
    assert query["starts_at"] == [f"{left + dt.timedelta(days=1)}T00:00"]
    assert query["required_test_days"] == ["1,4,7,14"]
    order.click()
    assert urlparse(page.url).path == "/quarantine/orders/new/"
    expect(page.locator("main")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the order form is {width}px wide on a 375px screen"
    assert area.pk


@pytest.mark.django_db(transaction=True)
def test_sampler_scans_then_a_positive_pool_is_recalled(
    live_server, browser, make_user, make_person, tmp_path
):
    from playwright.sync_api import expect

    planner = make_user(Role.TOWNSHIP, FUQIANG)
    make_user(Role.TESTING_STAFF, FUQIANG, username="caiyang")
    make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun")
    now = timezone.now()
    campaign = testing.create_campaign(
        user=planner,
        name="富强镇全员核酸",
        region_codes=[FUQIANG],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=8),
    )
    testing.set_campaign_status(user=planner, campaign_id=campaign.pk, status="running")
    person = make_person(GRID_A1, "王小明")

    page = browser.new_page(viewport={"width": 375, "height": 812})
    _login(page, f"{live_server.url}/", "caiyang")
    # The sampler's home is the scan screen of the round under way.
    expect(page.get_by_role("heading", name="采样 · 富强镇全员核酸")).to_be_visible()
    page.get_by_label("试管条码").fill("FQ-0100")
    page.get_by_label("试管类型").select_option("10")
    page.get_by_label("身份证号或登记码").fill(person.id_number)
    page.get_by_label("身份证号或登记码").press("Enter")
    expect(page.locator("#scan-panel")).to_contain_text("已采样：王小明")

    results = tmp_path / "结果.csv"
    results.write_text("条码,结果\nFQ-0100,阳性\n", encoding="utf-8")
    page.goto(f"{live_server.url}/testing/rounds/{campaign.pk}/results/")
    page.locator("input[type=file]").set_input_files(str(results))
    page.get_by_role("button", name="导入").click()
    expect(page.locator("main")).to_contain_text("1")

    # The village cadre sees whom to recall, by grid name.
    cadre = browser.new_page(viewport={"width": 375, "height": 812})
    _login(cadre, f"{live_server.url}/testing/rounds/{campaign.pk}/recalls/", "cun")
    page = cadre
    expect(page.locator("main")).to_contain_text("王小明")
    expect(page.locator("main")).to_contain_text("富强村")
    expect(page.locator("main")).not_to_contain_text(GRID_A1)
