"""Tracing hands contacts to isolation through core.isolation (from the last exposure, with
the policy's tests); contacts picked by name; what tracing registers in the core kit
(figures, the unreached-contact rule, timeline, the investigator's home)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.core import figures, inspection, timeline
from fangkong.core.errors import PermissionDenied
from fangkong.core.roles import Role
from fangkong.quarantine.models import IsolationOrder
from fangkong.tracing import selectors, services
from fangkong.tracing.models import Classification, TracingTask
from tests.conftest import FUQIANG, VILLAGE_A

pytestmark = pytest.mark.django_db


@pytest.fixture
def township(make_user):
    return make_user(Role.TOWNSHIP, FUQIANG, display_name="镇防控办")


def _cluster(case_of, link, people):
    case = case_of(people["p0"])
    link(case, people["p0"], people["p1"], days_ago=3)  # close contact
    link(case, people["p1"], people["p2"], days_ago=1)  # contact of a contact
    return case


def test_contacts_go_to_isolation_from_their_last_exposure_with_the_policys_tests(
    case_of, link, people, township
):
    case = _cluster(case_of, link, people)
    made = services.order_required_isolation(user=township, case_id=case.pk)
    assert made == 2
    close = IsolationOrder.objects.get(person=people["p1"])
    exposure = dt.date.today() - dt.timedelta(days=3)
    assert timezone.localtime(close.starts_at).date() == exposure
    assert (close.kind, sorted(close.tests.values_list("day", flat=True))) == (
        "centralised",
        [1, 7, 14],
    )
    assert (
        close.source
        == f"tracing.classification:{Classification.objects.get(person=people['p1']).pk}"
    )
    secondary = IsolationOrder.objects.get(person=people["p2"])
    assert secondary.kind == "home" and sorted(secondary.tests.values_list("day", flat=True)) == [
        1,
        7,
    ]
    # A second hand-over orders nothing twice.
    assert services.order_required_isolation(user=township, case_id=case.pk) == 0
    assert IsolationOrder.objects.count() == 2


def test_the_investigator_may_classify_but_not_order_isolation(case_of, link, people, investigator):
    _cluster(case_of, link, people)
    assert not IsolationOrder.objects.exists()
    with pytest.raises(PermissionDenied):
        services.order_required_isolation(user=investigator)


def test_the_case_page_offers_isolation_prefilled_and_hands_over_in_one_click(
    case_of, link, people, township
):
    case = _cluster(case_of, link, people)
    client = Client()
    client.force_login(township)
    page = client.get(f"/tracing/cases/{case.pk}/").content.decode()
    assert "下达隔离" in page and "/quarantine/orders/new/?person=" in page
    # Who must reach a contact is named (core.regions.region_labels), never a region code.
    text = re.sub(r"<[^>]+>", " ", page)
    assert not re.findall(r"(?<![0-9])230231[0-9]{6}(?:[0-9]{3})?(?![0-9])", text)
    assert "富强村" in text
    exposure = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    assert f"start={exposure}T00%3A00" in page and "tests=1%2C7%2C14" in page
    response = client.post("/tracing/isolation/", {"case": case.pk})
    assert response.status_code == 302 and response["Location"] == f"/tracing/cases/{case.pk}/"
    assert IsolationOrder.objects.count() == 2
    page = client.get(f"/tracing/cases/{case.pk}/").content.decode()
    assert "已下达" in page


def test_a_contact_is_added_by_picking_a_person_not_typing_a_number(case_of, people, investigator):
    case = case_of(people["p0"])
    client = Client()
    client.force_login(investigator)
    page = client.get(f"/tracing/cases/{case.pk}/").content.decode()
    assert "人员库编号" not in page and "Person number" not in page
    assert "/pick/persons/" in page
    client.post(
        f"/tracing/cases/{case.pk}/contacts/",
        {"exposure_type": "household", "contact_person_id": people["p3"].pk},
    )
    assert Classification.objects.filter(person=people["p3"], level="close").exists()
    # An ID number typed into the id field is a clear message, not a 404 that loses the form.
    response = client.post(
        f"/tracing/cases/{case.pk}/contacts/",
        {"exposure_type": "household", "contact_person_id": "230231198503140011"},
        follow=True,
    )
    assert response.status_code == 200


def test_attendees_are_named_not_numbered(people, investigator):
    client = Client()
    client.force_login(investigator)
    start = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/tracing/events/new/",
        {
            "kind": "dinner",
            "title": "聚餐",
            "place": "饭店",
            "region_code": VILLAGE_A,
            "starts_at": start,
            "ends_at": start,
            "attendees": "甲1、甲2\n无此人",
        },
    )
    assert response.status_code == 200
    assert "找不到“无此人”" in response.content.decode()


def test_region_named_finds_the_most_specific_region(county):
    assert selectors.region_named("黑龙江省拜泉县富强镇") == FUQIANG
    assert selectors.region_named("广州") == ""


def test_figures_the_unreached_rule_and_the_timeline(case_of, link, people, investigator):
    _cluster(case_of, link, people)
    now = timezone.now()
    query = figures.FigureQuery(prefix=FUQIANG, group_length=12, at=now)
    assert figures.compute("tracing.close_contacts", query) == {VILLAGE_A: 1}
    assert figures.compute("tracing.secondary_contacts", query) == {VILLAGE_A: 1}
    assert figures.compute("tracing.unreached", query) == {VILLAGE_A: 2}
    assert figures.compute("tracing.new_cases", query) == {VILLAGE_A: 1}
    assert not inspection.run("tracing.contact_unreached", inspection.RuleQuery("", now))
    later = now + dt.timedelta(hours=3)
    found = inspection.run("tracing.contact_unreached", inspection.RuleQuery(VILLAGE_A, later))
    assert {f.person_id for f in found} == {people["p1"].pk, people["p2"].pk}
    assert all("小时未联系到" in f.what for f in found)
    task = TracingTask.objects.get(person=people["p1"])
    services.mark_reached(user=investigator, task_id=task.pk)
    assert figures.compute("tracing.unreached", query) == {VILLAGE_A: 2}  # as of before
    entries = timeline.entries_for(investigator, people["p1"].pk)
    assert any(e.module == "tracing" and "密切接触者" in e.title for e in entries)
    assert any("甲0" in e.title for e in entries)
    assert timeline.entries_for(investigator, people["p0"].pk)[0].kind == "病例"


def test_the_investigator_opens_on_cases_and_contacts_to_reach(case_of, link, people, investigator):
    case = _cluster(case_of, link, people)
    case.investigator = investigator
    case.save()
    client = Client()
    client.force_login(investigator)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/tracing/")
    page = client.get(response["Location"]).content.decode()
    assert "我负责的病例" in page and "甲0" in page
    assert "甲1" in page and "甲2" in page  # the contacts to reach


def test_tracing_pages_show_no_internal_ids_or_region_codes(case_of, link, people, township):
    case = _cluster(case_of, link, people)
    client = Client()
    client.force_login(township)
    for url in (
        "/tracing/",
        f"/tracing/cases/{case.pk}/",
        "/tracing/cases/new/",
        "/tracing/events/new/",
        "/tracing/notices/",
    ):
        html = client.get(url).content.decode()
        visible = re.sub(
            r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
        )
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", visible), url
        assert "编号" not in visible and "代码" not in visible, url


def test_the_order_page_links_back_to_the_case_it_came_from(
    case_of, link, people, township, client_for, make_user
):
    case = _cluster(case_of, link, people)
    services.order_required_isolation(user=township, case_id=case.pk)
    case_url = f"/tracing/cases/{case.pk}/"
    for person, via in (("p1", people["p0"].name), ("p2", people["p1"].name)):
        order = IsolationOrder.objects.get(person=people[person])
        page = client_for(township).get(f"/quarantine/orders/{order.pk}/").content.decode()
        assert "下达来源" in page and f"经 {via}" in page and case_url in page
    # Someone who may not open tracing sees where it came from, without the link.
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    order = IsolationOrder.objects.get(person=people["p1"])
    page = client_for(doctor).get(f"/quarantine/orders/{order.pk}/").content.decode()
    assert "流调判定密切接触者" in page and case_url not in page
