"""Every supervision endpoint refuses anonymous callers and roles without the action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.core.roles import Role
from tests.conftest import COUNTY, VILLAGE_A

pytestmark = pytest.mark.django_db

API = [
    ("get", "/api/v1/supervision/inspections", {}),
    (
        "post",
        "/api/v1/supervision/inspections",
        {
            "region_code": VILLAGE_A,
            "place_kind": "market",
            "place_name": "x",
            "planned_for": "2026-12-03",
        },
    ),
    ("get", "/api/v1/supervision/inspections/1", {}),
    ("post", "/api/v1/supervision/inspections/1/finish", {"version": 1}),
    ("post", "/api/v1/supervision/items/1", {"result": "pass"}),
    ("get", "/api/v1/supervision/rectifications", {}),
    ("post", "/api/v1/supervision/rectifications/1/report", {"report": "x", "version": 1}),
    ("post", "/api/v1/supervision/rectifications/1/verify", {"accepted": True, "version": 1}),
    ("get", "/api/v1/supervision/cases", {}),
    (
        "post",
        "/api/v1/supervision/cases",
        {"region_code": VILLAGE_A, "person_name": "x", "offence_id": 1, "evidence": "x"},
    ),
    ("post", "/api/v1/supervision/cases/1/decide", {"decision": "warning", "version": 1}),
]
PAGES = [
    ("supervision:home", []),
    ("supervision:inspections", []),
    ("supervision:inspection", [1]),
    ("supervision:item_photo", [1]),
    ("supervision:rectifications", []),
    ("supervision:rectification", [1]),
    ("supervision:discipline", []),
    ("supervision:bulletin", []),
    ("supervision:video", []),
]


@pytest.mark.parametrize(("method", "path", "body"), API)
def test_api_refuses_anonymous_and_other_roles(method, path, body, make_user, client_for):
    assert getattr(Client(), method)(path).status_code == 401
    kadian = make_user(Role.CHECKPOINT_STAFF, COUNTY, username="kadian_t")
    call = getattr(client_for(kadian), method)
    response = call(path, body, content_type="application/json") if method == "post" else call(path)
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_refuse_anonymous_and_other_roles(name, args, make_user, client_for):
    response = Client().get(reverse(name, args=args))
    assert response.status_code == 302 and "/login" in response["Location"]
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A, username="cunyi_t")
    assert client_for(doctor).get(reverse(name, args=args)).status_code == 403


def test_village_cadre_cannot_inspect_or_decide(make_user, client_for, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun_t")
    client = client_for(cadre)
    assert (
        client.post(
            "/api/v1/supervision/items/1", {"result": "pass"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("supervision:item_record", args=[1]), {"result": "pass"}).status_code
        == 403
    )
    # The discipline page is readable but refuses a forged case.
    assert client.post(reverse("supervision:discipline"), {"evidence": "x"}).status_code == 404
