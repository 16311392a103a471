"""Isolation ordered from other modules (core.isolation), rooms suggested and assigned in bulk,
the order form prefilled from the step before, the round in the order a doctor walks it,
and what the module registers in the core kit (figures, rules, timeline, role home)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core import figures, inspection, isolation, timeline
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.quarantine import forms, ordering, selectors, services
from fangkong.quarantine.models import Alert, HealthCheck, IsolationOrder, Room
from tests.conftest import COUNTY, GRID_A1, GRID_C1, VILLAGE_A

from .conftest import local

pytestmark = pytest.mark.django_db


def _request(person, **extra):
    values = {
        "person_id": person.pk,
        "kind": "centralised",
        "starts_at": local(2026, 3, 1, 0),
        "days": 14,
        "source": f"tracing.classification:{person.pk}",
        "reason": "密接：家庭聚餐",
        "required_test_days": (1, 7, 14),
    }
    values.update(extra)
    return isolation.IsolationRequest(**values)


@freeze_time("2026-03-03 09:00:00+08:00")
def test_the_orderer_is_registered_and_orders_once_per_source(township, make_person):
    assert isolation.available()
    person = make_person(GRID_A1, "周密")
    placed = isolation.order(_request(person), by_user=township)
    assert placed.created and placed.url == f"/quarantine/orders/{placed.order_id}/"
    order = IsolationOrder.objects.get(pk=placed.order_id)
    assert order.starts_at == local(2026, 3, 1, 0)  # the last exposure, not now
    assert sorted(order.tests.values_list("day", flat=True)) == [1, 7, 14]
    assert order.cost_bearer == "government" and order.manual_reason == "密接：家庭聚餐"
    again = isolation.order(_request(person), by_user=township)
    assert not again.created and again.order_id == placed.order_id
    assert isolation.orders_for([placed_source := f"tracing.classification:{person.pk}"]) == {
        placed_source: again
    }
    assert IsolationOrder.objects.count() == 1


@freeze_time("2026-03-03 09:00:00+08:00")
def test_the_orderer_checks_role_and_jurisdiction(make_user, make_person, cadre):
    investigator = make_user(Role.INVESTIGATOR, COUNTY)
    person = make_person(GRID_A1, "周密")
    with pytest.raises(PermissionDenied):
        isolation.order(_request(person), by_user=investigator)
    elsewhere = make_person(GRID_C1, "外村人")
    with pytest.raises(NotFound):
        isolation.order(_request(elsewhere, kind="home"), by_user=cadre)
    assert not IsolationOrder.objects.exists()


@freeze_time("2026-03-03 09:00:00+08:00")
def test_rooms_are_suggested_in_numeric_order_households_together_and_booked_in_bulk(
    county_hq, make_person
):
    site = services.create_site(user=county_hq, name="县隔离点", region_code=COUNTY)
    services.add_rooms(user=county_hq, site_id=site.pk, numbers=["10", "2", "1"], capacity=2)
    Room.objects.filter(site=site, number="1").update(occupants=2, party="p999999")  # full
    family = Household.objects.create(region_id=GRID_A1, address="富强村一组 5 号")
    a = make_person(GRID_A1, "甲", household=family)
    b = make_person(GRID_A1, "乙", household=family)
    c = make_person(GRID_A1, "丙")
    for person in (a, b, c):
        isolation.order(_request(person), by_user=county_hq)
    plans = ordering.suggest_rooms(county_hq)
    rooms = {p.order.person.name: p.suggested.label for p in plans}
    assert rooms == {"甲": "县隔离点 2", "乙": "县隔离点 2", "丙": "县隔离点 10"}
    client = Client()
    client.force_login(county_hq)
    page = client.get("/quarantine/rooms/")
    assert page.status_code == 200 and "分配全部房间" in page.content.decode()
    data = {f"room_{p.order.pk}": p.suggested.room_id for p in plans}
    response = client.post("/quarantine/rooms/", data)
    assert response.status_code == 302
    assert set(IsolationOrder.objects.values_list("person__name", "room__number")) == {
        ("甲", "2"),
        ("乙", "2"),
        ("丙", "10"),
    }
    assert "集中隔离人员都已分配房间" in client.get("/quarantine/rooms/").content.decode()


def test_the_bulk_room_page_is_refused_without_the_sites_action(cadre):
    client = Client()
    client.force_login(cadre)
    assert client.get("/quarantine/rooms/").status_code == 403


@freeze_time("2026-03-03 09:00:00+08:00")
def test_the_order_form_is_prefilled_from_the_step_before(cadre, make_person, household):
    person = make_person(GRID_A1, "钱多多", household=household)
    member = make_person(GRID_A1, "钱少少", household=household)
    client = Client()
    client.force_login(cadre)
    page = client.get(
        f"/quarantine/orders/new/?person={person.pk}&kind=home&days=7"
        "&start=2026-03-01T00:00&tests=1,4,7&reason=密接：聚餐"
    ).content.decode()
    assert 'value="2026-03-01T00:00"' in page  # a datetime-local the browser accepts
    assert "钱多多" in page and 'value="1,4,7"' in page and "密接：聚餐" in page
    assert re.search(r'<option value="home" selected>\s*居家隔离', page)
    assert "人员编号" not in page and "户编号" not in page
    response = client.post(
        "/quarantine/orders/new/",
        {
            "person_id": person.pk,
            "kind": "home",
            "starts_at": "2026-03-01T00:00",
            "days": 7,
            "manual_reason": "密接：聚餐",
            "required_test_days": "1,4,7",
            "with_household": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    orders = IsolationOrder.objects.order_by("id")
    assert [o.person_id for o in orders] == [person.pk, member.pk]
    assert orders[0].starts_at == local(2026, 3, 1, 0)


@given(st.text(max_size=30))
def test_order_initial_never_fails_on_any_query(text):
    params = {"person": text, "kind": text, "days": text, "start": text, "tests": text}
    initial = forms.order_initial(params, local(2026, 3, 3, 9))
    assert "starts_at" in initial


@freeze_time("2026-03-03 09:00:00+08:00")
def test_the_round_puts_fevers_first_then_addresses_in_numeric_order(cadre, doctor, make_person):
    orders = {}
    for number in ("10", "2", "1"):
        home = Household.objects.create(region_id=GRID_A1, address=f"富强村一组 {number} 号")
        person = make_person(GRID_A1, f"住{number}号", household=home)
        orders[number] = services.order_isolation(
            user=cadre,
            data=services.OrderInput(
                person_id=person.pk,
                kind="home",
                starts_at=local(2026, 3, 1, 8),
                days=14,
                manual_reason="返乡",
            ),
        )
    services.record_check(
        user=doctor,
        reading=services.Reading(
            order_id=orders["10"].pk, temperature=__import__("decimal").Decimal("38.4")
        ),
    )
    entries = selectors.todays_round(doctor)
    assert [e.order.person.name for e in entries] == ["住10号", "住1号", "住2号"]
    assert (entries[1].day, entries[1].total_days) == (3, 14)
    page = Client()
    page.force_login(doctor)
    html = page.get("/quarantine/round/").content.decode()
    assert "第3/14天" in html
    alerts = page.get("/quarantine/alerts/").content.decode()
    assert "— 请选择处置结果 —" in alerts


@freeze_time("2026-03-03 09:00:00+08:00")
def test_fever_alerts_come_before_missed_checks(cadre, doctor, make_person):
    order = services.order_isolation(
        user=cadre,
        data=services.OrderInput(
            person_id=make_person(GRID_A1, "甲").pk,
            kind="home",
            starts_at=local(2026, 3, 1, 8),
            days=14,
            manual_reason="返乡",
        ),
    )
    Alert.objects.create(
        order=order,
        region_code=order.region_code,
        kind="missed",
        raised_at=local(2026, 3, 2, 12),
        level=2,
    )
    Alert.objects.create(
        order=order, region_code=order.region_code, kind="fever", raised_at=local(2026, 3, 3, 8)
    )
    assert [a.kind for a in selectors.list_alerts(doctor)] == ["fever", "missed"]


@freeze_time("2026-03-03 21:00:00+08:00")
def test_figures_rules_and_timeline(cadre, doctor, make_person):
    person = make_person(GRID_A1, "孙立")
    order = services.order_isolation(
        user=cadre,
        data=services.OrderInput(
            person_id=person.pk,
            kind="home",
            starts_at=local(2026, 3, 1, 8),
            days=14,
            manual_reason="返乡",
            required_test_days=(1, 7),
        ),
    )
    query = figures.FigureQuery(prefix="230231106", group_length=12, at=local(2026, 3, 3, 21))
    assert figures.compute("quarantine.home", query) == {VILLAGE_A: 1}
    before = figures.FigureQuery(prefix="", group_length=6, at=local(2026, 2, 28, 21))
    assert figures.compute("quarantine.home", before) == {}
    # Ordered two days ago and never checked: overdue.
    IsolationOrder.objects.filter(pk=order.pk).update(created_at=local(2026, 3, 1, 8))
    found = inspection.run(
        "quarantine.check_overdue",
        inspection.RuleQuery(prefix=VILLAGE_A, now=local(2026, 3, 3, 21)),
    )
    assert [f.ref for f in found] == [f"quarantine.order:{order.pk}"]
    assert "孙立" in found[0].what
    HealthCheck.objects.create(
        order=order, taken_at=local(2026, 3, 3, 15), temperature="36.5", method="door"
    )
    assert not inspection.run(
        "quarantine.check_overdue", inspection.RuleQuery(prefix="", now=local(2026, 3, 3, 21))
    )
    entries = timeline.entries_for(doctor, person.pk)
    assert any(e.module == "quarantine" and "居家隔离" in e.title for e in entries)
    assert any("核酸" in e.detail for e in entries)


def test_the_doctor_opens_on_the_round(doctor):
    client = Client()
    client.force_login(doctor)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/quarantine/round/")
    assert client.get(response["Location"]).status_code == 200


@freeze_time("2026-03-03 09:00:00+08:00")
def test_isolation_pages_show_no_internal_ids_or_region_codes(cadre, county_hq, make_person):
    order = isolation.order(_request(make_person(GRID_A1, "周密")), by_user=county_hq)
    client = Client()
    client.force_login(county_hq)
    for url in (
        "/quarantine/",
        "/quarantine/orders/",
        order.url,
        "/quarantine/orders/new/",
        "/quarantine/sites/",
        "/quarantine/rooms/",
        "/quarantine/alerts/",
    ):
        html = client.get(url).content.decode()
        visible = re.sub(
            r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
        )
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", visible), url
        assert "编号" not in visible, url
        assert "人员类别" not in visible, url  # the supply select names supplies, not people


@freeze_time("2026-03-03 09:00:00+08:00")
def test_rooms_through_the_api(api_as, county_hq, cadre, make_person):
    site = services.create_site(user=county_hq, name="县隔离点", region_code=COUNTY)
    services.add_rooms(user=county_hq, site_id=site.pk, numbers=["1", "2"], capacity=1)
    for name in ("甲", "乙"):
        isolation.order(_request(make_person(GRID_A1, name)), by_user=county_hq)
    api = api_as(county_hq)
    plans = api.get("/quarantine/rooms/suggestions").json()
    assert [p["suggested_room"] for p in plans] == ["县隔离点 1", "县隔离点 2"]
    pairs = [{"order_id": p["order_id"], "room_id": p["suggested_room_id"]} for p in plans]
    pairs.append(
        {"order_id": plans[0]["order_id"] + 1000, "room_id": plans[0]["suggested_room_id"]}
    )
    done = api.post("/quarantine/rooms/assign", {"assignments": pairs}).json()
    assert sorted(done["assigned"]) == sorted(p["order_id"] for p in plans)
    assert [e["order_id"] for e in done["errors"]] == [plans[0]["order_id"] + 1000]
    # A village cadre may see suggestions but not book rooms.
    assert api_as(cadre).post("/quarantine/rooms/assign", {"assignments": pairs}).status_code == 403
