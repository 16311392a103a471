"""Every tip-off endpoint refuses roles without the action (403), anonymous callers (401 on
the API, the login page for pages) — except the public form, receipt and status pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.core.roles import Role
from tests.conftest import COUNTY, VILLAGE_A

pytestmark = pytest.mark.django_db

API = [
    ("get", "/api/v1/tipoffs/tips", {}),
    ("post", "/api/v1/tipoffs/tips", {"kind": "other", "region_code": VILLAGE_A, "text": "x"}),
    ("get", "/api/v1/tipoffs/tips/1", {}),
    (
        "post",
        "/api/v1/tipoffs/tips/1/verify",
        {"outcome": "verified", "finding": "x", "version": 1},
    ),
    ("get", "/api/v1/tipoffs/rewards", {}),
    ("get", "/api/v1/tipoffs/ledger", {}),
    ("post", "/api/v1/tipoffs/rewards/1/pay", {"payment_record": "x", "version": 1}),
]
PAGES = ["tipoffs:home", "tipoffs:new", "tipoffs:rewards"]


@pytest.mark.parametrize(("method", "path", "body"), API)
def test_api_refuses_anonymous_and_other_roles(method, path, body, make_user, client_for):
    assert getattr(Client(), method)(path).status_code == 401
    testing = make_user(Role.TESTING_STAFF, COUNTY, username="caiyang_t")
    call = getattr(client_for(testing), method)
    response = call(path, body, content_type="application/json") if method == "post" else call(path)
    assert response.status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_pages_refuse_anonymous_and_other_roles(name, make_user, client_for):
    response = Client().get(reverse(name))
    assert response.status_code == 302 and "/login" in response["Location"]
    supply = make_user(Role.SUPPLY_OFFICER, COUNTY, username="wuzi_t")
    assert client_for(supply).get(reverse(name)).status_code == 403


def test_detail_and_poster_pages_refused(make_user, client_for, county):
    supply = make_user(Role.SUPPLY_OFFICER, COUNTY, username="wuzi_t2")
    assert client_for(supply).get(reverse("tipoffs:tip", args=[1])).status_code == 403
    assert client_for(supply).get(reverse("tipoffs:poster", args=[VILLAGE_A])).status_code == 403
    assert client_for(supply).get(reverse("tipoffs:photo", args=[1, 1])).status_code == 403


def test_grid_worker_cannot_verify_or_pay(make_user, client_for, submit, rules):
    tip = submit()
    grid = make_user(Role.GRID_WORKER, VILLAGE_A, username="wangge_t")
    client = client_for(grid)
    verify = client.post(
        f"/api/v1/tipoffs/tips/{tip.pk}/verify",
        {"outcome": "verified", "finding": "x", "version": 1},
        content_type="application/json",
    )
    assert verify.status_code == 403
    pay = client.post(
        "/api/v1/tipoffs/rewards/1/pay",
        {"payment_record": "x", "version": 1},
        content_type="application/json",
    )
    assert pay.status_code == 403
    # The page shows no verification form and refuses a forged POST.
    assert (
        client.post(reverse("tipoffs:tip", args=[tip.pk]), {"outcome": "verified"}).status_code
        == 404
    )


def test_public_pages_are_open(county):
    client = Client()
    assert client.get(reverse("tipoffs:report")).status_code == 200
    assert client.get(reverse("tipoffs:status")).status_code == 200
    assert client.get(reverse("tipoffs:receipt", args=["AAAAAAAAAA"])).status_code == 404


def test_poster_is_a_qr_for_the_village(make_user, client_for, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun_p")
    page = client_for(cadre).get(reverse("tipoffs:poster", args=[VILLAGE_A]))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    png = client_for(cadre).get(reverse("tipoffs:poster", args=[VILLAGE_A]) + "?format=png")
    assert png["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    other = make_user(Role.VILLAGE_CADRE, "230231100201", username="cun_q")
    assert client_for(other).get(reverse("tipoffs:poster", args=[VILLAGE_A])).status_code == 404
