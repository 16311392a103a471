"""Denials for every endpoint of the isolation API.

For each endpoint: no credentials → 401; a role without the action → 403; a role with the
action but another jurisdiction → 404 (the record's existence stays secret), or, for lists,
nothing of the other area. The role named as allowed is also checked to get through, so the
table cannot drift from the permission matrix unnoticed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from freezegun import freeze_time

from fangkong.core.roles import Role
from fangkong.quarantine import services
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C

from .conftest import local

pytestmark = pytest.mark.django_db
NOW = local(2026, 3, 2, 9)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: Any
    allowed: str
    denied: str
    foreign: str | None  # status for the other jurisdiction; None: a list (checked apart)


def _home(role: str) -> str:
    return FUQIANG if role in (Role.TOWNSHIP,) else VILLAGE_A


def _away(role: str) -> str:
    return BAIQUAN if role in (Role.TOWNSHIP,) else VILLAGE_C


V = "village_doctor"
C = "village_cadre"
G = "grid_worker"
T = "township"
CP = "checkpoint_staff"
IN = "inspector"


def reading(w):
    return {"order_id": w["order"], "temperature": "36.5", "client_id": str(uuid.uuid4())}


ENDPOINTS = {
    "list orders": Endpoint("get", "/quarantine/orders", None, V, CP, None),
    "create order": Endpoint(
        "post",
        "/quarantine/orders",
        lambda w: {
            "person_id": w["free_person"],
            "kind": "home",
            "starts_at": "2026-03-02T08:00:00+08:00",
            "days": 14,
            "policy_version": "v1",
        },
        C,
        V,
        "404",
    ),
    "get order": Endpoint("get", "/quarantine/orders/{order}", None, V, CP, "404"),
    "extend": Endpoint(
        "post",
        "/quarantine/orders/{order}/extend",
        lambda w: {"version": 1, "ends_at": "2026-03-30T08:00:00+08:00", "reason": "延长"},
        C,
        V,
        "404",
    ),
    "transfer": Endpoint(
        "post",
        "/quarantine/orders/{order}/transfer",
        lambda w: {"version": 1, "to": "hospital", "reason": "发热", "hospital": "县医院"},
        C,
        V,
        "404",
    ),
    "end early": Endpoint(
        "post",
        "/quarantine/orders/{order}/end",
        lambda w: {"version": 1, "reason": "登记错误"},
        C,
        V,
        "404",
    ),
    "release": Endpoint(
        "post",
        "/quarantine/orders/{order}/release",
        lambda w: {"version": 1, "override_reason": "指挥部批准提前解除"},
        T,
        V,
        "404",
    ),
    "release notice": Endpoint(
        "get", "/quarantine/orders/{order}/release-notice", None, V, CP, "404"
    ),
    "test result": Endpoint(
        "post",
        "/quarantine/orders/{order}/tests/1",
        lambda w: {"result": "negative", "sampled_on": "2026-03-02"},
        V,
        G,
        "404",
    ),
    "assign room": Endpoint(
        "post",
        "/quarantine/orders/{central}/room",
        lambda w: {"version": 1, "room_id": w["room"]},
        T,
        C,
        "404",
    ),
    "issue link": Endpoint("post", "/quarantine/orders/{order}/link", {}, V, IN, "404"),
    "revoke link": Endpoint("delete", "/quarantine/orders/{order}/link", None, V, IN, "404"),
    "order checks": Endpoint("get", "/quarantine/orders/{order}/checks", None, V, CP, "404"),
    "order supplies": Endpoint(
        "post",
        "/quarantine/orders/{order}/supplies",
        lambda w: {"category": "food", "items": "大米"},
        G,
        V,
        "404",
    ),
    "record check": Endpoint("post", "/quarantine/checks", reading, V, IN, "404"),
    "batch checks": Endpoint(
        "post", "/quarantine/checks/batch", lambda w: {"readings": [reading(w)]}, V, IN, "404"
    ),
    "round": Endpoint("get", "/quarantine/round", None, V, IN, None),
    "alerts": Endpoint("get", "/quarantine/alerts", None, V, CP, None),
    "alert outcome": Endpoint(
        "post",
        "/quarantine/alerts/{alert}/outcome",
        lambda w: {"outcome": "false_alarm", "note": "复测正常"},
        V,
        IN,
        "404",
    ),
    "board": Endpoint("get", "/quarantine/board", None, V, CP, None),
    "sites": Endpoint("get", "/quarantine/sites", None, V, CP, None),
    "create site": Endpoint(
        "post",
        "/quarantine/sites",
        lambda w: {"name": "新隔离点", "region_code": FUQIANG},
        T,
        C,
        "400",
    ),
    "site rooms": Endpoint("get", "/quarantine/sites/{site}/rooms", None, V, CP, "404"),
    "add rooms": Endpoint(
        "post",
        "/quarantine/sites/{site}/rooms",
        lambda w: {"numbers": ["201"], "capacity": 2},
        T,
        C,
        "404",
    ),
    "site roster": Endpoint("get", "/quarantine/sites/{site}/roster", None, T, CP, "404"),
    "supplies": Endpoint("get", "/quarantine/supplies", None, G, V, None),
    "deliver": Endpoint(
        "post",
        "/quarantine/supplies/{supply}/delivery",
        lambda w: {"note": "已送达"},
        G,
        V,
        "404",
    ),
    "waste": Endpoint(
        "post",
        "/quarantine/waste-pickups",
        lambda w: {"order_id": w["order"], "bags": 2},
        G,
        V,
        "404",
    ),
}


@pytest.fixture
def world(make_user, make_person, make_order, household):
    """Records of village A / 富强镇, made by the people who run them."""
    with freeze_time(NOW):
        township = make_user(Role.TOWNSHIP, FUQIANG)
        cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
        doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
        order = make_order(starts_at=local(2026, 3, 1, 8), required_test_days=(1,))
        central = make_order(
            person=make_person(name="李娜", household=household),
            by=township,
            kind="centralised",
            cost_bearer="self",
            starts_at=local(2026, 3, 1, 8),
        )
        site = services.create_site(user=township, name="富强镇隔离点", region_code=FUQIANG)
        (room,) = services.add_rooms(user=township, site_id=site.pk, numbers=["101"], capacity=2)
        _check, (alert,) = services.record_check(
            user=doctor,
            reading=services.Reading(order_id=order.pk, temperature=Decimal("38.2")),
        )
        supply = services.request_supplies(
            user=cadre, order_id=order.pk, category="food", items="米"
        )
        free_person = make_person(GRID_A1, "王五")
    return {
        "order": order.pk,
        "central": central.pk,
        "site": site.pk,
        "room": room.pk,
        "alert": alert.pk,
        "supply": supply.pk,
        "free_person": free_person.pk,
    }


def _call(client, endpoint: Endpoint, world: dict) -> Any:
    path = endpoint.path.format(**world)
    body = endpoint.body(world) if callable(endpoint.body) else endpoint.body
    with freeze_time(NOW):
        if endpoint.method == "get":
            return client.get(path)
        if endpoint.method == "delete":
            return client.client.delete("/api/v1" + path)
        return client.post(path, body or {})


@pytest.mark.parametrize("name", ENDPOINTS)
def test_unauthenticated_is_401(name, world, api_as):
    response = _call(api_as(None), ENDPOINTS[name], world)
    assert response.status_code == 401, response.content
    assert response.json()["detail"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_role_without_the_action_is_403(name, world, api_as, make_user):
    endpoint = ENDPOINTS[name]
    user = make_user(endpoint.denied, _home(endpoint.denied))
    response = _call(api_as(user), endpoint, world)
    assert response.status_code == 403, response.content


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_allowed_role_gets_through(name, world, api_as, make_user):
    endpoint = ENDPOINTS[name]
    user = make_user(endpoint.allowed, _home(endpoint.allowed))
    response = _call(api_as(user), endpoint, world)
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.foreign])
def test_another_jurisdiction_is_404(name, world, api_as, make_user):
    endpoint = ENDPOINTS[name]
    user = make_user(endpoint.allowed, _away(endpoint.allowed))
    response = _call(api_as(user), endpoint, world)
    assert response.status_code == int(endpoint.foreign), response.content


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.foreign is None])
def test_lists_of_another_jurisdiction_are_empty(name, world, api_as, make_user):
    endpoint = ENDPOINTS[name]
    user = make_user(endpoint.allowed, _away(endpoint.allowed))
    response = _call(api_as(user), endpoint, world)
    assert response.status_code == 200
    body = response.json()
    if name == "list orders":
        assert body == {"items": [], "count": 0}
    elif name == "board":
        assert not any(body["total"].values())
    else:
        assert body == []


def test_a_county_user_sees_everything(world, api_as, make_user):
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    with freeze_time(NOW):
        body = api_as(hq).get("/quarantine/orders").json()
    assert body["count"] == 2
