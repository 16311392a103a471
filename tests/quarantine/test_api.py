"""The isolation API as a client sees it: contracts, idempotency, bounded input."""

from __future__ import annotations

import uuid

import pytest
from freezegun import freeze_time

from fangkong.quarantine.models import HealthCheck, IsolationOrder
from tests.conftest import GRID_A1

from .conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def cadre_api(api_as, cadre):
    return api_as(cadre)


def _order_body(person_id, **extra):
    body = {
        "person_id": person_id,
        "kind": "home",
        "starts_at": "2026-03-01T08:00:00+08:00",
        "days": 14,
        "policy_version": "中高风险返乡 v3",
        "required_test_days": [1, 7, 14],
    }
    return body | extra


@freeze_time(local(2026, 3, 1, 9))
def test_create_an_order_once_with_an_idempotency_key(cadre_api, make_person):
    person = make_person(GRID_A1, "张伟")
    key = str(uuid.uuid4())
    first = cadre_api.post("/quarantine/orders", _order_body(person.pk), **{"Idempotency-Key": key})
    again = cadre_api.post("/quarantine/orders", _order_body(person.pk), **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert IsolationOrder.objects.count() == 1
    body = first.json()
    assert body["status"] == "active" and body["version"] == 1
    assert [t["day"] for t in body["tests"]] == [1, 7, 14]
    assert body["id_number"] == person.id_number  # a cadre sees the full ID number
    conflict = cadre_api.post(
        "/quarantine/orders", _order_body(person.pk), **{"Idempotency-Key": str(uuid.uuid4())}
    )
    assert conflict.status_code == 400
    assert conflict.json()["errors"][0]["field"] == "person_id"


@freeze_time(local(2026, 3, 1, 9))
def test_input_is_bounded_strict_and_nul_free(cadre_api, make_person):
    person = make_person()
    cases = [
        _order_body(person.pk, manual_reason="x\x00y"),
        _order_body(person.pk, policy_version="v" * 101),
        _order_body(person.pk, starts_at=0),
        _order_body(person.pk, kind="prison"),
        _order_body(person.pk, days=0),
        _order_body(0),
    ]
    for body in cases:
        response = cadre_api.post("/quarantine/orders", body)
        assert response.status_code == 422, body
        assert response.json()["errors"]
    far = cadre_api.post(
        "/quarantine/orders", _order_body(person.pk, starts_at="9999-12-31T23:00:00+08:00")
    )
    assert far.status_code == 400
    assert far.json()["errors"][0]["field"] == "starts_at"
    assert IsolationOrder.objects.count() == 0


@freeze_time(local(2026, 3, 1, 9))
def test_readings_one_by_one_and_in_batches(api_as, doctor, make_order, make_person, household):
    orders = [make_order(person=make_person(name=f"人{i}", household=household)) for i in range(3)]
    api = api_as(doctor)
    one = api.post("/quarantine/checks", {"order_id": orders[0].pk, "temperature": "38.5"})
    assert one.status_code == 201
    assert [a["kind"] for a in one.json()["alerts"]] == ["fever"]
    refused = api.post("/quarantine/checks", {"order_id": orders[0].pk, "temperature": "20.0"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "temperature"
    batch = {
        "readings": [
            {
                "order_id": o.pk,
                "normal": True,
                "client_id": f"dev-1-{o.pk}",
                "taken_at": "2026-03-01T08:30:00+08:00",
            }
            for o in orders
        ]
    }
    first = api.post("/quarantine/checks/batch", batch)
    assert first.json() == {"stored": 3, "duplicates": 0, "alerts": 0}
    again = api.post("/quarantine/checks/batch", batch)
    assert again.json() == {"stored": 0, "duplicates": 3, "alerts": 0}
    assert HealthCheck.objects.count() == 4
    too_many = api.post("/quarantine/checks/batch", {"readings": batch["readings"] * 200})
    assert too_many.status_code == 422
    round_ = api.get("/quarantine/round").json()
    assert len(round_) == 3 and all(e["done"] for e in round_)
    assert round_[0]["open_alerts"] == ["fever"]
    board = api.get("/quarantine/board").json()
    assert board["total"]["home"] == 3
    assert board["total"]["fevers_today"] == 1
    assert board["total"]["due"] == 0


@freeze_time(local(2026, 3, 1, 9))
def test_sites_rooms_and_the_roster(api_as, township, make_order, make_person):
    api = api_as(township)
    site = api.post("/quarantine/sites", {"name": "富强镇中学隔离点", "region_code": "230231106"})
    assert site.status_code == 201
    site_id = site.json()["id"]
    rooms = api.post(
        f"/quarantine/sites/{site_id}/rooms", {"numbers": ["101", "102"], "capacity": 2}
    )
    assert rooms.status_code == 201
    order = make_order(by=township, kind="centralised", cost_bearer="government")
    assigned = api.post(
        f"/quarantine/orders/{order.pk}/room", {"version": 1, "room_id": rooms.json()[0]["id"]}
    )
    assert assigned.status_code == 200
    assert "101" in assigned.json()["room"]
    sites = api.get("/quarantine/sites").json()
    assert sites[0]["free_rooms"] == 1 and sites[0]["free_beds"] == 3
    roster = api.get(f"/quarantine/sites/{site_id}/roster", {"day": "2026-03-01"}).json()
    assert [r["person_name"] for r in roster["in_room"]] == ["张伟"]
    assert [r["person_name"] for r in roster["arriving"]] == ["张伟"]
    stale = api.post(
        f"/quarantine/orders/{order.pk}/room", {"version": 1, "room_id": rooms.json()[1]["id"]}
    )
    assert stale.status_code == 409


@freeze_time(local(2026, 3, 16, 9))
def test_release_refused_then_notice_downloaded(api_as, cadre, make_order):
    order = make_order(required_test_days=(14,))
    api = api_as(cadre)
    refused = api.post(f"/quarantine/orders/{order.pk}/release", {"version": 1})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "tests.14"
    api.post(
        f"/quarantine/orders/{order.pk}/tests/14",
        {"result": "negative", "sampled_on": "2026-03-15"},
    )
    released = api.post(f"/quarantine/orders/{order.pk}/release", {"version": 1})
    assert released.status_code == 200
    assert released.json()["released"]["status"] == "released"
    notice = api.get(f"/quarantine/orders/{order.pk}/release-notice")
    assert notice.status_code == 200
    assert notice["Content-Type"].startswith("application/vnd.openxmlformats")
    assert notice.content[:2] == b"PK"


@freeze_time(local(2026, 3, 1, 9))
def test_unmasked_id_numbers_are_audited_and_others_see_them_masked(
    cadre_api, api_as, doctor, make_order
):
    from fangkong.core.models import AuditEvent

    order = make_order()
    full = cadre_api.get(f"/quarantine/orders/{order.pk}").json()["id_number"]
    assert full == order.person.id_number
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.READ_SENSITIVE)
    assert (event.object_type, event.object_id, event.fields) == (
        "person",
        str(order.person_id),
        ["id_number"],
    )
    masked = api_as(doctor).get(f"/quarantine/orders/{order.pk}").json()["id_number"]
    assert masked != full and "*" in masked
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.READ_SENSITIVE).count() == 1


@freeze_time(local(2026, 3, 1, 9))
def test_a_doctor_lists_the_alerts_of_the_people_in_their_care(
    api_as, doctor, make_user, make_order, make_person, household
):
    from decimal import Decimal

    from fangkong.quarantine import services

    mine = make_order(responsible_ids=(doctor.pk,))
    other = make_order(person=make_person(name="李娜", household=household))
    for order in (mine, other):
        services.record_check(
            user=doctor, reading=services.Reading(order_id=order.pk, temperature=Decimal("38.0"))
        )
    api = api_as(doctor)
    assert len(api.get("/quarantine/alerts").json()) == 2
    only_mine = api.get("/quarantine/alerts", {"mine": "true"}).json()
    assert [a["order_id"] for a in only_mine] == [mine.pk]
