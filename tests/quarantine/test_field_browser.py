"""The offline round on a phone (375×812) in Debian chromium (issue 20): the doctor opens the
round online once, loses the network, records three readings, reloads (the page comes from
the service worker and the queue from IndexedDB), gets the network back, and the readings
reach the server exactly once; a reading for an order changed meanwhile is shown as a
conflict with the server's version, stored only when the doctor resends it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.quarantine import services
from fangkong.quarantine.models import HealthCheck, IsolationOrder
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_the_round_offline_then_synced_exactly_once(live_server, browser, make_user, make_person):
    from playwright.sync_api import expect

    make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="doctor_a", display_name="孙医生")
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    all_day = ((dt.time(0, 0), dt.time(23, 59, 59)),)
    orders = []
    for n, name in enumerate(["张伟", "李娜", "王强", "赵敏"], start=1):
        home = Household.objects.create(region_id=GRID_A1, address=f"富强村一组 {n} 号")
        person = make_person(GRID_A1, name, household=home)
        orders.append(
            services.order_isolation(
                user=cadre,
                data=services.OrderInput(
                    person_id=person.pk,
                    kind="home",
                    starts_at=timezone.now() - dt.timedelta(days=1),
                    days=14,
                    policy_version="中高风险返乡 v3",
                    check_windows=all_day,
                ),
            )
        )

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/quarantine/round/")
    page.locator("input[name=username]").fill("doctor_a")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".q-row")).to_have_count(4)
    # Installed: the worker controls the page once it is active; this visit caches the round.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["start_url"] == "/"

    context.set_offline(True)
    rows = {o.pk: page.locator(f"#round-{o.pk}") for o in orders}
    rows[orders[0].pk].locator("button.q-tap").click()
    fever = rows[orders[1].pk]
    fever.locator("summary").click()
    fever.locator("input[name=temperature]").fill("38.6")
    fever.locator("details form button[type=submit]").click()
    absent = rows[orders[2].pk]
    absent.locator("summary").click()
    absent.locator("input[name=absent]").check()
    absent.locator("details form button[type=submit]").click()
    rows[orders[3].pk].locator("button.q-tap").click()
    for order in orders:
        expect(rows[order.pk].locator(".field-pending")).to_contain_text("待同步")
    expect(page.locator("#field-status")).to_contain_text("4 条待同步")
    assert HealthCheck.objects.count() == 0

    # Offline reload: the page from the service worker's cache, the queue from IndexedDB.
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator(".q-row")).to_have_count(4)
    expect(rows[orders[1].pk].locator(".field-pending")).to_contain_text("38.6 °C · 待同步")
    expect(page.locator("#field-status")).to_contain_text("离线：4 条待同步")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "field-round-offline-phone.png", full_page=True)

    # Meanwhile the cadre extends 赵敏's isolation on the server.
    last = IsolationOrder.objects.get(pk=orders[3].pk)
    services.extend_order(
        user=cadre,
        order_id=last.pk,
        version=last.version,
        ends_at=last.ends_at + dt.timedelta(days=3),
        reason="密接复检",
    )

    context.set_offline(False)
    for order in orders[:3]:
        expect(page.locator(f"#round-{order.pk}.is-done")).to_be_visible()
    expect(page.locator(f"#round-{orders[1].pk} p.q-alert").first).to_contain_text("38.6")
    conflict = rows[orders[3].pk].locator(".field-conflict")
    expect(conflict).to_contain_text("第 1 版 → 第 2 版")
    page.screenshot(path=SCREENSHOTS / "field-round-conflict-phone.png", full_page=True)
    assert HealthCheck.objects.count() == 3

    # Sending again (the button, a reload) stores nothing twice.
    page.reload()
    expect(page.locator("#field-status")).to_contain_text("1 条需处理")
    assert HealthCheck.objects.count() == 3
    assert HealthCheck.objects.filter(order_id=orders[3].pk).count() == 0
    # The doctor checks the new end and resends: stored, once.
    rows[orders[3].pk].get_by_role("button", name="按服务器新版本重新提交").click()
    expect(page.locator(f"#round-{orders[3].pk}.is-done")).to_be_visible()
    expect(page.locator("#field-status")).to_contain_text("全部已同步")
    assert HealthCheck.objects.count() == 4
    assert len(set(HealthCheck.objects.values_list("client_id", flat=True))) == 4
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the round is {width}px wide on a 375px screen"

    # Logging out drops the cached round: offline, the names are no longer on the phone.
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("input[name=username]")).to_be_visible()
    context.set_offline(True)
    page.goto(f"{live_server.url}/quarantine/round/")
    expect(page.locator("body")).to_contain_text("当前离线")
    expect(page.locator("body")).not_to_contain_text("张伟")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_service_worker_updates_cleanly_to_a_new_version(
    live_server, browser, make_user, monkeypatch
):
    """A changed shell file gives a new worker: it takes over and the old cache is gone."""
    from playwright.sync_api import expect

    from fangkong.web import field

    make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="doctor_a")
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/quarantine/round/")
    page.locator("input[name=username]").fill("doctor_a")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("caches.keys().then(k => k.length === 1)")
    old = page.evaluate("caches.keys()")
    assert old[0].startswith("fangkong-field-")

    original = field._read
    monkeypatch.setattr(
        field,
        "_read",
        lambda p: original(p) + (b"\n// v2\n" if p == "fangkong/field.js" else b""),
    )
    field._worker_cached.cache_clear()
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    page.wait_for_function(
        "old => caches.keys().then(k => k.length === 1 && k[0] !== old)", arg=old[0], timeout=15000
    )
    new = page.evaluate("caches.keys()")[0]
    shell = page.evaluate(
        "name => caches.open(name).then(c => c.keys())"
        ".then(k => k.map(r => new URL(r.url).pathname))",
        new,
    )
    assert "/static/fangkong/field.js" in shell
    field._worker_cached.cache_clear()
    context.close()
