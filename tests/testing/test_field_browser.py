"""The sampler's scan screen offline on a phone (375×812) in Debian chromium (issue 20): the
sampler opens the scan screen online and records one sample, loses the signal, records two
more (queued, "待同步", the tube's count going on from the server's), reloads offline (page
from the service worker, queue from IndexedDB), gets the signal back, and each sample
reaches the server exactly once. The app opened at "/" offline shows the kept scan screen."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.testing import services
from fangkong.testing.models import Sample
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_samples_offline_then_synced_exactly_once(live_server, browser, make_user, make_person):
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
    zhang, li, wang = (make_person(GRID_A1, n) for n in ("张伟", "李娜", "王强"))

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/testing/scan/")
    page.locator("input[name=username]").fill("caiyang")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="采样 · 富强村全员核酸")).to_be_visible()
    assert page.url.endswith("/testing/scan/")

    # Online: the scan goes to the server at once, as before.
    person = page.get_by_label("身份证号或登记码")
    page.get_by_label("试管条码").fill("FQ-0001")
    page.get_by_label("试管类型").select_option("10")
    person.fill(zhang.id_number)
    person.press("Enter")
    expect(page.locator("#scan-panel")).to_contain_text("已采样：张伟，试管 FQ-0001")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    for who in (li, wang):
        person.fill(who.id_number)
        person.press("Enter")
        expect(page.locator("#t-queue .field-pending")).to_have_count(1 if who is li else 2)
    expect(page.get_by_test_id("tube-count")).to_have_text("管内 3 / 10（含待同步 2）")
    expect(page.locator("#t-field-status")).to_contain_text("离线：2 条采样待同步")
    expect(page.locator("#t-queue")).to_contain_text("试管 FQ-0001")
    expect(page.locator("#t-queue")).not_to_contain_text(li.id_number)  # shown masked
    expect(page.get_by_label("试管条码")).to_have_value("FQ-0001")
    expect(person).to_have_value("")
    assert Sample.objects.count() == 1

    # Offline reload, and the app opened at its start ("/"): the kept screen and the queue.
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator("#t-field-status")).to_contain_text("离线：2 条采样待同步")
    expect(page.locator("#t-queue .field-pending")).to_have_count(2)
    expect(page.get_by_test_id("tube-count")).to_have_text("管内 3 / 10（含待同步 2）")
    start = page.goto(f"{live_server.url}/")
    assert start is not None and start.from_service_worker
    expect(page.locator("#t-queue .field-pending")).to_have_count(2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "field-sampling-offline-phone.png", full_page=True)

    context.set_offline(False)
    expect(page.locator("#t-field-status")).to_contain_text("全部已同步")
    expect(page.locator("#t-queue .field-synced")).to_have_count(2)
    expect(page.locator("#t-queue")).to_contain_text("李娜 → 试管 FQ-0001")
    expect(page.get_by_test_id("tube-count")).to_have_text("管内 3 / 10")
    samples = Sample.objects.filter(campaign=campaign, tube__barcode="FQ-0001")
    assert samples.count() == 3
    assert samples.filter(person=li).count() == 1 and samples.filter(person=wang).count() == 1
    assert samples.get(person=li).recorded_by.username == "caiyang"

    # Opening the screen again sends nothing twice.
    page.goto(f"{live_server.url}/testing/scan/")
    expect(page.locator("#t-field-status")).to_contain_text("全部已同步")
    assert samples.count() == 3
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the scan screen is {width}px wide on a 375px screen"
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_recall_tasks_and_the_recall_list_are_readable_offline(live_server, browser, make_user):
    """A grid worker opens the recall tasks and the round's list online once; at the
    courtyard gate, without signal, both pages still open (from the service worker)."""
    from playwright.sync_api import expect

    from fangkong.testing.models import RecallTask

    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="网格员小王")
    now = timezone.now()
    campaign = services.create_campaign(
        user=cadre,
        name="富强村全员核酸",
        region_codes=[VILLAGE_A],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=8),
    )
    RecallTask.objects.create(campaign=campaign, region_code=GRID_A1, persons=3)

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/testing/tasks/")
    page.locator("input[name=username]").fill("wangge")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="召回任务")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    recalls = f"{live_server.url}/testing/rounds/{campaign.pk}/recalls/"
    page.goto(recalls)
    expect(page.get_by_role("heading", name="召回名单 · 富强村全员核酸")).to_be_visible()

    context.set_offline(True)
    response = page.goto(f"{live_server.url}/testing/tasks/")
    assert response is not None and response.from_service_worker
    expect(page.locator("main")).to_contain_text("富强村全员核酸")
    expect(page.locator("main")).to_contain_text("3")
    response = page.goto(recalls)
    assert response is not None and response.from_service_worker
    expect(page.get_by_role("heading", name="召回名单 · 富强村全员核酸")).to_be_visible()
    # A page never opened online says how to get it, rather than a browser error.
    response = page.goto(f"{live_server.url}/testing/rounds/{campaign.pk + 1}/recalls/")
    assert response is not None and response.status == 503
    expect(page.locator("body")).to_contain_text("召回任务")
    context.close()
