"""The doctor's round on a phone (375×812) in Debian chromium: log in, open today's round,
one tap per person who is normal, one typed fever, and the alert shows at once."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.quarantine import services
from fangkong.quarantine.models import Alert, HealthCheck
from tests.conftest import BROWSER_TEST, GRID_A1, VILLAGE_A

SCREENSHOTS = Path(os.environ.get("FANGKONG_SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "pw-Fangkong-2026"

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_a_village_doctor_does_the_round_on_a_phone(live_server, browser, make_user, make_person):
    from playwright.sync_api import expect

    make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="doctor_a", display_name="孙医生")
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    # A window covering the whole day, so the test does not depend on the hour it runs at.
    all_day = ((dt.time(0, 0), dt.time(23, 59, 59)),)
    orders = []
    for n, name in enumerate(["张伟", "李娜", "王强"], start=1):
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

    page = browser.new_page(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page.goto(f"{live_server.url}/quarantine/round/")
    page.locator("input[name=username]").fill("doctor_a")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    rows = page.locator(".q-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("张伟")  # sorted by household along the way
    for order in orders[:2]:
        row = page.locator(f"#round-{order.pk}")
        row.locator("button.q-tap").click()
        # Every tap goes through the offline queue and its sync: allow for a loaded machine.
        expect(page.locator(f"#round-{order.pk}.is-done")).to_be_visible(timeout=20_000)

    fever_row = page.locator(f"#round-{orders[2].pk}")
    fever_row.locator("summary").click()
    fever_row.locator("input[name=temperature]").fill("38.6")
    fever_row.locator("form button[type=submit]").last.click()
    alert = page.locator(f"#round-{orders[2].pk}.has-alert p.q-alert")
    expect(alert).to_be_visible(timeout=20_000)
    expect(alert).to_contain_text("38.6")
    expect(page.locator("#round-progress")).to_contain_text("3 / 3", timeout=20_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "quarantine-round-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the round is {width}px wide on a 375px screen"

    page.goto(f"{live_server.url}/quarantine/alerts/")
    expect(page.locator("table")).to_contain_text("王强")
    page.screenshot(path=SCREENSHOTS / "quarantine-alerts-phone.png", full_page=True)
    for path in ("/quarantine/", f"/quarantine/orders/{orders[2].pk}/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"
    page.screenshot(path=SCREENSHOTS / "quarantine-order-phone.png", full_page=True)
    assert HealthCheck.objects.filter(reported_normal=True).count() == 2
    assert Alert.objects.get().order_id == orders[2].pk
