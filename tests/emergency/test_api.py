"""The emergency API: declared permissions, jurisdiction, field errors, public sign-up."""

from __future__ import annotations

import pytest

from fangkong.core.roles import Role
from fangkong.emergency.models import Volunteer, Zone
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db

ZONE = {
    "name": "富强村1组封控区",
    "kind": "sealed",
    "region_codes": [GRID_A1],
    "legal_basis": "县指挥部令第12号",
    "approved_by": "王主任",
}


def test_the_county_declares_and_reads_a_zone(client_for, hq, make_person, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    make_person(GRID_A1, "张伟")
    client = client_for(hq)
    created = client.post("/api/v1/emergency/zones", ZONE, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["people_under_measures"] == 1 and body["region_codes"] == [GRID_A1]
    assert client.get(f"/api/v1/emergency/zones/{body['id']}").status_code == 200
    tiles = client.get("/api/v1/emergency/risk-map").json()
    assert {t["region_code"]: t["level"] for t in tiles}[FUQIANG] == "red"
    lifted = client.post(
        f"/api/v1/emergency/zones/{body['id']}/lift",
        {"version": body["version"] + 1, "legal_basis": "解除", "approved_by": "王主任"},
        content_type="application/json",
    )
    assert lifted.status_code == 409


def test_field_errors_name_the_field(client_for, hq):
    response = client_for(hq).post(
        "/api/v1/emergency/zones", {**ZONE, "kind": "red"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert any("kind" in str(e) for e in response.json()["errors"])
    empty = client_for(hq).post(
        "/api/v1/emergency/zones", {**ZONE, "region_codes": []}, content_type="application/json"
    )
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "region_codes"


def test_denials_and_jurisdiction(client_for, make_user, hq):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    admin = make_user(Role.ADMIN)
    other_county = make_user(Role.COUNTY_HQ, BAIQUAN)
    assert (
        client_for(township)
        .post("/api/v1/emergency/zones", ZONE, content_type="application/json")
        .status_code
        == 403
    )
    assert client_for(admin).get("/api/v1/emergency/zones").status_code == 403
    mode = {"region_code": FUQIANG, "mode": "wartime", "reason": "发现病例"}
    assert (
        client_for(township)
        .post("/api/v1/emergency/mode", mode, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for(other_county)
        .post("/api/v1/emergency/mode", mode, content_type="application/json")
        .status_code
        == 404
    )
    assert (
        client_for(other_county)
        .post("/api/v1/emergency/zones", ZONE, content_type="application/json")
        .status_code
        == 404
    )
    assert not Zone.objects.exists()
    switched = client_for(hq).post("/api/v1/emergency/mode", mode, content_type="application/json")
    assert switched.status_code == 200 and switched.json()["created"]
    again = client_for(hq).post("/api/v1/emergency/mode", mode, content_type="application/json")
    assert (
        again.json()["created"] is False
        and again.json()["switch_id"] == switched.json()["switch_id"]
    )


def test_public_sign_up_and_masked_list(client, client_for, make_user, county):
    response = client.post(
        "/api/v1/emergency/volunteers/sign-up",
        {"name": "田甜", "phone": "13800002222", "region_code": VILLAGE_A},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Volunteer.objects.get().name == "田甜"
    inspector = make_user(Role.INSPECTOR, COUNTY)
    rows = client_for(inspector).get("/api/v1/emergency/volunteers").json()
    assert rows[0]["phone"] != "13800002222"
    for i in range(6):
        last = client.post(
            "/api/v1/emergency/volunteers/sign-up",
            {"name": f"人{i}", "phone": f"1380000300{i}", "region_code": VILLAGE_A},
            content_type="application/json",
        )
    assert last.status_code == 429
