"""The screening API: a journey, and denials for every endpoint — without a login (401),
with a role that lacks the action (403), outside the jurisdiction (404 or filtered)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time

from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.screening.models import RiskArea, ScreeningDecision, Stay
from tests.conftest import COUNTY, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

RULES = [
    {
        "level": "high",
        "look_back_days": 14,
        "measure": "centralised",
        "days": 14,
        "home_days": 7,
        "test_days": [1, 4, 7, 14],
    },
    {"level": "medium", "look_back_days": 14, "measure": "home", "days": 14, "test_days": [1, 7]},
]


@pytest.fixture
def world(make_user, make_person, policy, high_area):
    person = make_person(GRID_A1, "张伟")
    other = make_person(GRID_C1, "李娜")
    Stay.objects.create(
        person=person,
        region_code=GRID_A1,
        place_code="420103",
        place="武汉市江汉区",
        arrived=dt.date(2022, 1, 3),
        left=dt.date(2022, 1, 5),
        source="police",
    )
    return {"person": person, "other": other, "area": high_area, "policy": policy}


def endpoints(w):
    """(method, path, body, a role allowed, a role without the action)."""
    p, a, pol = w["person"].pk, w["area"].pk, w["policy"].pk
    area = {"place": "上海市", "region_code": "3101", "level": "medium", "valid_from": "2022-01-02"}
    return [
        ("get", "/screening/risk-areas", None, Role.VILLAGE_CADRE, Role.SUPPLY_OFFICER),
        ("post", "/screening/risk-areas", area, Role.COUNTY_HQ, Role.VILLAGE_CADRE),
        (
            "patch",
            f"/screening/risk-areas/{a}",
            {"version": 1, "notice": "更正"},
            Role.COUNTY_HQ,
            Role.TOWNSHIP,
        ),
        ("get", "/screening/policies", None, Role.VILLAGE_DOCTOR, Role.TESTING_STAFF),
        ("get", f"/screening/policies/{pol}", None, Role.INSPECTOR, Role.ADMIN),
        (
            "post",
            "/screening/policies",
            {"region_code": COUNTY, "title": "二版", "rules": RULES},
            Role.COUNTY_HQ,
            Role.VILLAGE_CADRE,
        ),
        ("post", "/screening/reevaluate", {"region_code": COUNTY}, Role.COUNTY_HQ, Role.TOWNSHIP),
        (
            "post",
            "/screening/stays",
            {"person_id": p, "place": "北京市", "arrived": "2022-01-01", "left": "2022-01-02"},
            Role.GRID_WORKER,
            Role.INSPECTOR,
        ),
        ("get", f"/screening/persons/{p}/stays", None, Role.GRID_WORKER, Role.SUPPLY_OFFICER),
        ("get", "/screening/decisions", None, Role.VILLAGE_CADRE, Role.TESTING_STAFF),
        (
            "get",
            f"/screening/persons/{p}/decisions",
            None,
            Role.VILLAGE_DOCTOR,
            Role.SUPPLY_OFFICER,
        ),
        ("get", "/screening/due", None, Role.VILLAGE_CADRE, Role.ADMIN),
    ]


def call(client, method, path, body):
    return getattr(client, method)(path, body) if body is not None else client.get(path)


@freeze_time("2022-01-10 12:00:00")
def test_every_endpoint_allows_the_role_and_denies_the_rest(world, make_user):
    for method, path, body, allowed, denied in endpoints(world):
        codes = COUNTY if allowed in (Role.COUNTY_HQ,) else VILLAGE_A
        ok = call(ApiClient(make_user(allowed, codes)), method, path, body)
        assert ok.status_code in (200, 201, 202), (path, ok.content)
        no = call(ApiClient(make_user(denied, VILLAGE_A)), method, path, body)
        assert no.status_code == 403, (path, denied, no.status_code)
        anon = call(ApiClient(), method, path, body)
        assert anon.status_code == 401, path


@freeze_time("2022-01-10 12:00:00")
def test_person_endpoints_outside_jurisdiction_are_404_and_lists_filtered(world, make_user):
    outsider = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    p = world["person"].pk
    assert outsider.get(f"/screening/persons/{p}/stays").status_code == 404
    assert outsider.get(f"/screening/persons/{p}/decisions").status_code == 404
    stay = {"person_id": p, "place": "北京市", "arrived": "2022-01-01", "left": "2022-01-02"}
    assert outsider.post("/screening/stays", stay).status_code == 404
    hq = ApiClient(make_user(Role.COUNTY_HQ, COUNTY))
    assert hq.post("/screening/reevaluate", {"region_code": COUNTY}).status_code == 202
    assert ScreeningDecision.objects.filter(person=world["person"]).exists()
    assert outsider.get("/screening/decisions").json()["count"] == 0
    assert outsider.get("/screening/due").json() == []
    township_c = make_user(Role.COUNTY_HQ, VILLAGE_C)
    body = {"region_code": VILLAGE_A, "title": "越权", "rules": RULES}
    assert ApiClient(township_c).post("/screening/policies", body).status_code == 404


@freeze_time("2022-01-10 12:00:00")
def test_journey_policy_flags_with_reason_and_masks_by_role(world, make_user):
    hq = ApiClient(make_user(Role.COUNTY_HQ, COUNTY))
    created = hq.post(
        "/screening/policies", {"region_code": COUNTY, "title": "二版", "rules": RULES}
    )
    assert created.status_code == 201 and created.json()["version"] == 2
    assert created.json()["task_id"]
    page = ApiClient(make_user(Role.GRID_WORKER, GRID_A1)).get("/screening/decisions").json()
    (item,) = page["items"]
    assert item["policy_version"] == 2 and item["measure"] == "centralised"
    assert "于2022-01-03至01-05在武汉市江汉区（高风险，2022-01-01起）停留" in item["reason"]
    assert "*" in item["person"]["id_number"]  # grid workers see the ID masked
    due = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A)).get("/screening/due").json()
    assert due[0]["next_test"] == "2022-01-12"  # day 7 counted from 01-06
    history = hq.get(f"/screening/persons/{world['person'].pk}/decisions").json()
    assert [h["policy_version"] for h in history] == [2]


def test_bad_bodies_are_field_errors(world, make_user):
    hq = ApiClient(make_user(Role.COUNTY_HQ, COUNTY))
    bad = hq.post("/screening/risk-areas", {"place": "x\x00", "level": "severe", "valid_from": 0})
    assert bad.status_code == 422
    backwards = hq.post(
        "/screening/risk-areas",
        {"place": "上海", "level": "high", "valid_from": "2022-01-05", "valid_to": "2022-01-01"},
    )
    assert backwards.status_code == 400
    stale = hq.patch(f"/screening/risk-areas/{world['area'].pk}", {"version": 9, "notice": "x"})
    assert stale.status_code == 409


def test_risk_area_import_from_csv_gbk_and_row_errors(make_user, county):
    user = make_user(Role.COUNTY_HQ, COUNTY)
    token = ApiToken.issue(user)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    text = (
        "地区代码,地点,风险等级,起始日期,截止日期,来源通知\n"
        "420103,武汉市江汉区,高风险,2022/1/1,,国务院联防联控机制通知\n"
        "3101,上海市,中风险,2022年1月2日,2022-01-20,\n"
    )
    upload = SimpleUploadedFile("风险地区.csv", text.encode("gbk"), "text/csv")
    ok = client.post("/api/v1/screening/risk-areas/import", {"file": upload})
    assert ok.status_code == 201, ok.content
    assert RiskArea.objects.filter(level="medium", valid_to=dt.date(2022, 1, 20)).exists()
    bad = "地区代码,地点,风险等级,起始日期\n420103,武汉,特高,2022-13-01\n"
    upload = SimpleUploadedFile("bad.csv", bad.encode("utf-8"), "text/csv")
    answer = client.post("/api/v1/screening/risk-areas/import", {"file": upload})
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"第2行 风险等级", "第2行 起始日期"}
    assert RiskArea.objects.count() == 2
    cadre = Client(
        headers={
            "Authorization": f"Bearer {ApiToken.issue(make_user(Role.VILLAGE_CADRE, VILLAGE_A))}"
        }
    )
    upload = SimpleUploadedFile("x.csv", text.encode("utf-8"), "text/csv")
    assert cadre.post("/api/v1/screening/risk-areas/import", {"file": upload}).status_code == 403
    assert Client().post("/api/v1/screening/risk-areas/import", {}).status_code == 401
