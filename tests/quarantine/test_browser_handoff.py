"""One path through the day in Debian chromium, by names only: an investigator adds a contact
to a case by typing the name; the township opens the isolation form prefilled from the
contact (start at the last exposure, the policy's tests) and orders it; the village doctor
opens the system on today's round and records the contact's first check."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.quarantine.models import CheckSchedule, CheckWindow, IsolationOrder
from fangkong.tracing import services
from tests.conftest import BROWSER_TEST, COUNTY, FUQIANG, GRID_A1, VILLAGE_A

pytestmark = BROWSER_TEST
PASSWORD = "pw-Fangkong-2026"


def _login(page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_contact_to_isolation_order_to_the_doctors_round(
    live_server, browser, make_user, make_person, settings
):
    from playwright.sync_api import expect

    # This county's policy: close contacts isolate at home for 14 days (policy is data).
    settings.FANGKONG_TRACING_MEASURES = {"close": ("home", 14), "secondary": ("home", 7)}
    # A check window around the clock, so the round has a check due whenever this runs.
    schedule = CheckSchedule.objects.create(name="twice-daily")
    CheckWindow.objects.create(schedule=schedule, opens_at=dt.time(0, 0), closes_at=dt.time(23, 59))
    make_user(Role.INVESTIGATOR, COUNTY, username="liudiao")
    make_user(Role.TOWNSHIP, FUQIANG, username="fuqiang")
    make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="cunyi")
    patient = make_person(GRID_A1, "赵敏")
    make_person(GRID_A1, "孙立")
    case = services.record_case(
        user=make_user(Role.INVESTIGATOR, COUNTY),
        data=services.CaseInput(
            status="confirmed",
            person_id=patient.pk,
            onset_date=dt.date.today() - dt.timedelta(days=3),
        ),
    )
    exposure = dt.date.today() - dt.timedelta(days=2)

    # The investigator adds the contact by name, on a phone.
    page = browser.new_page(viewport={"width": 375, "height": 800})
    _login(page, f"{live_server.url}/tracing/cases/{case.pk}/", "liudiao")
    search = page.get_by_label("接触者（本辖区人员）")
    search.fill("孙立")
    page.locator(".picker-option", has_text="孙立").first.click()
    contact_form = page.locator(f"form[action='/tracing/cases/{case.pk}/contacts/']")
    contact_form.locator("select[name=exposure_type]").select_option("household")
    contact_form.locator("input[name=last_exposure_date]").fill(exposure.isoformat())
    contact_form.locator("button[type=submit]").click()
    expect(page.locator("table").filter(has_text="孙立").first).to_be_visible()
    page.close()

    # The township orders the isolation from the contact list: the form is already filled.
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, f"{live_server.url}/tracing/cases/{case.pk}/", "fuqiang")
    page.get_by_role("link", name="下达隔离").first.click()
    assert page.locator("input[name=starts_at]").input_value() == f"{exposure.isoformat()}T00:00"
    assert page.locator("input[name=required_test_days]").input_value() == "1,7,14"
    assert page.locator("select[name=kind]").input_value() == "home"
    assert page.locator("input[data-picker-search]").input_value().startswith("孙立")
    page.locator("form button[type=submit].button-primary").click()
    expect(page.get_by_role("heading", name="孙立")).to_be_visible()
    order = IsolationOrder.objects.get(person__name="孙立")
    assert sorted(order.tests.values_list("day", flat=True)) == [1, 7, 14]
    page.close()

    # The doctor opens the system on today's round and records the first check in one tap.
    page = browser.new_page(viewport={"width": 375, "height": 800})
    _login(page, f"{live_server.url}/", "cunyi")
    row = page.locator("li[data-person='孙立']")
    expect(row).to_be_visible()
    assert "/quarantine/round/" in page.url
    expect(row).to_contain_text("第3/14天")
    row.get_by_role("button", name="正常").click()
    expect(page.locator("li[data-person='孙立'].is-done")).to_be_visible()
    assert order.checks.count() == 1
