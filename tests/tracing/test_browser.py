"""The chain view in Debian chromium: the vendored Cytoscape draws the cases and contacts."""

from __future__ import annotations

import datetime as dt

import pytest

from fangkong.core.roles import Role
from fangkong.tracing import services
from tests.conftest import BROWSER_TEST, COUNTY, GRID_A1

pytestmark = BROWSER_TEST


@pytest.mark.django_db(transaction=True)
def test_chain_view_draws_the_nodes(live_server, browser, make_user, make_person):
    from playwright.sync_api import expect

    investigator = make_user(Role.INVESTIGATOR, COUNTY, username="liudiao")
    onset = dt.date.today() - dt.timedelta(days=5)
    first = make_person(GRID_A1, "赵敏")
    second = make_person(GRID_A1, "钱多多")
    contact = make_person(GRID_A1, "孙立")
    source = services.record_case(
        user=investigator,
        data=services.CaseInput(status="confirmed", person_id=first.pk, onset_date=onset),
    )
    child = services.record_case(
        user=investigator,
        data=services.CaseInput(
            status="confirmed",
            person_id=second.pk,
            onset_date=onset + dt.timedelta(days=3),
            infected_by_id=source.pk,
        ),
    )
    services.record_contact(
        user=investigator, case_id=child.pk, exposure_type="household", contact_person_id=contact.pk
    )

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/tracing/chains/")
    page.get_by_label("用户名").fill("liudiao")
    page.get_by_label("密码").fill("pw-Fangkong-2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="传播链")).to_be_visible()
    # A locator assertion, not wait_for_function: a string predicate is eval'd in the page,
    # which the Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    expect(page.locator("#chain")).to_have_attribute("data-nodes", "3")
    assert page.locator("#chain canvas").count() > 0
    assert page.locator("#clusters tbody tr").count() == 1
    assert "传播链" in page.content()
