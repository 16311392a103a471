"""The supplies API: issuing through it, its errors, and denials for every endpoint
(no credentials 401, a role without the action 403, another township's record 404)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from fangkong.core.roles import Role
from fangkong.supplies import services
from fangkong.supplies.models import Fund, StockLevel
from tests.conftest import BAIQUAN, FUQIANG, VILLAGE_A
from tests.people.conftest import ApiClient

from .conftest import receive

pytestmark = pytest.mark.django_db


def test_issue_through_the_api_and_read_the_cover(officer, store, masks, post):
    receive(officer, store, masks, 10)
    api = ApiClient(officer)
    body = {
        "warehouse_id": store.pk,
        "item_id": masks.pk,
        "kind": "issue",
        "quantity": "4",
        "recipient_id": post.pk,
        "received_by": "值班组长",
        "client_id": "c-1",
    }
    r = api.post("/supplies/movements", body)
    assert r.status_code == 201, r.content
    assert Decimal(r.json()["balance_after"]) == 6
    assert api.post("/supplies/movements", body).json()["id"] == r.json()["id"]  # retried once
    too_many = api.post("/supplies/movements", {**body, "quantity": "7", "client_id": ""})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "quantity"
    assert "库存不足" in too_many.json()["errors"][0]["message"]
    rows = api.get("/supplies/stock").json()
    assert [(r["item"], Decimal(r["stock"])) for r in rows] == [("医用外科口罩", 6)]
    assert rows[0]["short"] is True  # 6 masks, 4 a week or 18 a day planned


def test_bad_input_is_a_422_naming_the_field(officer, store, masks):
    api = ApiClient(officer)
    r = api.post(
        "/supplies/movements",
        {"warehouse_id": store.pk, "item_id": masks.pk, "kind": "issue", "quantity": "-1"},
    )
    assert r.status_code == 422
    r = api.post(
        "/supplies/movements",
        {
            "warehouse_id": store.pk,
            "item_id": masks.pk,
            "kind": "receipt",
            "quantity": "1",
            "reason": "a\x00b",
        },
    )
    assert r.status_code == 422


def _sheet(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["仓库", "物资", "实盘数量", "批号", "备注"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_stock_count_import_reports_row_and_column_and_stores_nothing(
    officer, store, masks, client_for
):
    receive(officer, store, masks, 10)
    api = ApiClient(officer)
    bad = _sheet([["富强镇物资库", "医用外科口罩", 8], ["拜泉镇物资库", "口罩X", "八"]])
    r = api.client.post("/api/v1/supplies/stock-counts", {"file": io.BytesIO(bad)})
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(3, "仓库"), (3, "物资"), (3, "实盘数量")}
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == 10
    good = _sheet([["富强镇物资库", "医用外科口罩", 8], ["富强镇物资库", "suit", 3]])
    r = api.client.post("/api/v1/supplies/stock-counts", {"file": io.BytesIO(good)})
    assert r.status_code == 201 and r.json() == {"applied": 2}
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == 8


def test_funds_and_donations_reconcile(county_officer, store, masks):
    api = ApiClient(county_officer)
    fund = api.post(
        "/supplies/funds",
        {
            "name": "防控经费",
            "holder": "富强村",
            "region_code": VILLAGE_A,
            "amount": "20000.00",
            "allocated_on": "2026-03-01",
        },
    ).json()
    for kind, amount, doc in (
        ("spend", "3600", "凭证1"),
        ("reward", "500", "奖励1"),
        ("penalty", "1000", ""),
        ("top_up", "5000", ""),
    ):
        r = api.post(
            f"/supplies/funds/{fund['id']}/entries",
            {"kind": kind, "amount": amount, "purpose": "测试", "document": doc},
        )
        assert r.status_code == 201, r.content
    over = api.post(
        f"/supplies/funds/{fund['id']}/entries",
        {"kind": "spend", "amount": "30000", "purpose": "超支", "document": "x"},
    )
    assert over.status_code == 400 and "余额不足" in over.json()["errors"][0]["message"]
    no_doc = api.post(
        f"/supplies/funds/{fund['id']}/entries",
        {"kind": "spend", "amount": "1", "purpose": "无凭证"},
    )
    assert no_doc.json()["errors"][0]["field"] == "document"
    api.post(
        "/supplies/donations",
        {"donor": "某企业", "donor_kind": "firm", "amount": "50000", "fund_id": fund["id"]},
    )
    api.post(
        "/supplies/donations",
        {
            "donor": "某药业",
            "donor_kind": "firm",
            "item_id": masks.pk,
            "quantity": "5000",
            "value": "4000",
            "warehouse_id": store.pk,
        },
    )
    f = Fund.objects.get(pk=fund["id"])
    entries = list(f.entries.values_list("kind", "amount"))
    spent = sum(a for k, a in entries if k in ("spend", "reward"))
    received = sum(a for k, a in entries if k in ("penalty", "top_up"))
    assert f.spent == spent == Decimal(4100)
    assert f.amount == f.initial_amount + received == Decimal(76000)
    totals = api.get("/supplies/totals").json()
    assert Decimal(totals["donations_cash"]) == 50000 and Decimal(totals["donations_goods"]) == 4000
    assert Decimal(totals["funds_balance"]) == f.amount - f.spent
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == 5000


def test_price_above_threshold_is_flagged(officer):
    api = ApiClient(officer)
    watch = api.post(
        "/supplies/prices/watches",
        {
            "goods": "口罩",
            "unit": "个",
            "shop": "某药房",
            "region_code": FUQIANG,
            "baseline": "1.00",
            "threshold_pct": "20",
        },
    ).json()
    ok = api.post(
        "/supplies/prices/reports", {"watch_id": watch["id"], "day": "2026-03-01", "price": "1.20"}
    )
    high = api.post(
        "/supplies/prices/reports", {"watch_id": watch["id"], "day": "2026-03-02", "price": "1.21"}
    )
    assert ok.json()["flagged"] is False and high.json()["flagged"] is True


# Denials ----------------------------------------------------------------------------------

ENDPOINTS = [
    # method, path, body, allowed role, denied role, foreign status (None: a list)
    ("get", "/supplies/stock", None, Role.CHECKPOINT_STAFF, Role.VILLAGE_DOCTOR, None),
    ("get", "/supplies/warehouses", None, Role.INSPECTOR, Role.TESTING_STAFF, None),
    ("get", "/supplies/recipients", None, Role.SUPPLY_OFFICER, Role.INVESTIGATOR, None),
    ("get", "/supplies/items", None, Role.SUPPLY_OFFICER, Role.VILLAGE_DOCTOR, None),
    ("get", "/supplies/movements", None, Role.SUPPLY_OFFICER, Role.GRID_WORKER, None),
    (
        "post",
        "/supplies/movements",
        lambda w: {
            "warehouse_id": w["store"],
            "item_id": w["item"],
            "kind": "receipt",
            "quantity": "1",
        },
        Role.SUPPLY_OFFICER,
        Role.CHECKPOINT_STAFF,
        404,
    ),
    (
        "post",
        "/supplies/transfers",
        lambda w: {
            "from_id": w["store"],
            "to_id": w["store2"],
            "item_id": w["item"],
            "quantity": "1",
        },
        Role.COUNTY_HQ,
        Role.INSPECTOR,
        404,
    ),
    ("get", "/supplies/requests", None, Role.CHECKPOINT_STAFF, Role.INSPECTOR, None),
    (
        "post",
        "/supplies/requests",
        lambda w: {"recipient_id": w["unit"], "item_id": w["item"], "quantity": "5"},
        Role.CHECKPOINT_STAFF,
        Role.INSPECTOR,
        404,
    ),
    (
        "post",
        "/supplies/requests/{request}/approve",
        lambda w: {"version": 1, "warehouse_id": w["store"], "quantity": "1"},
        Role.SUPPLY_OFFICER,
        Role.CHECKPOINT_STAFF,
        404,
    ),
    (
        "post",
        "/supplies/requests/{request}/reject",
        {"version": 1},
        Role.TOWNSHIP,
        Role.VILLAGE_CADRE,
        404,
    ),
    ("get", "/supplies/orders", None, Role.INSPECTOR, Role.GRID_WORKER, None),
    (
        "post",
        "/supplies/orders",
        lambda w: {
            "supplier": "甲",
            "channel": "green",
            "item_id": w["item"],
            "quantity": "5",
            "warehouse_id": w["store"],
            "expected_on": "2026-03-05",
        },
        Role.SUPPLY_OFFICER,
        Role.VILLAGE_CADRE,
        404,
    ),
    (
        "post",
        "/supplies/orders/{order}/status",
        {"version": 1, "status": "delayed"},
        Role.SUPPLY_OFFICER,
        Role.CHECKPOINT_STAFF,
        404,
    ),
    (
        "post",
        "/supplies/orders/{order}/receive",
        {"version": 1},
        Role.SUPPLY_OFFICER,
        Role.INSPECTOR,
        404,
    ),
    ("get", "/supplies/donations", None, Role.SUPPLY_OFFICER, Role.INSPECTOR, None),
    (
        "post",
        "/supplies/donations",
        lambda w: {
            "donor": "某人",
            "donor_kind": "individual",
            "amount": "100",
            "region_code": w["region"],
        },
        Role.TOWNSHIP,
        Role.CHECKPOINT_STAFF,
        400,
    ),
    ("get", "/supplies/funds", None, Role.SUPPLY_OFFICER, Role.VILLAGE_CADRE, None),
    (
        "post",
        "/supplies/funds",
        lambda w: {
            "name": "经费",
            "holder": "某村",
            "region_code": w["region"],
            "amount": "100",
            "allocated_on": "2026-03-01",
        },
        Role.SUPPLY_OFFICER,
        Role.INSPECTOR,
        400,
    ),
    (
        "post",
        "/supplies/funds/{fund}/entries",
        {"kind": "spend", "amount": "1", "purpose": "买", "document": "1"},
        Role.SUPPLY_OFFICER,
        Role.CHECKPOINT_STAFF,
        404,
    ),
    ("get", "/supplies/totals", None, Role.COUNTY_HQ, Role.INSPECTOR, None),
    ("get", "/supplies/prices/watches", None, Role.GRID_WORKER, Role.INSPECTOR, None),
    (
        "post",
        "/supplies/prices/watches",
        lambda w: {
            "goods": "米",
            "unit": "斤",
            "shop": "店",
            "region_code": w["region"],
            "baseline": "2",
        },
        Role.VILLAGE_CADRE,
        Role.CHECKPOINT_STAFF,
        400,
    ),
    (
        "post",
        "/supplies/prices/reports",
        lambda w: {"watch_id": w["watch"], "day": "2026-03-01", "price": "2"},
        Role.GRID_WORKER,
        Role.INSPECTOR,
        404,
    ),
]


def _world(county_officer, store, masks, post, home: str):
    """Records in 富强镇 (home) for the allowed role; another copy lives in 拜泉镇."""
    other = services.create_warehouse(
        actor=county_officer,
        name="富强镇二库",
        level="township",
        region_code=FUQIANG,
        keeper_name="甲",
    )
    receive(county_officer, store, masks, 100)
    request = services.create_request(
        actor=county_officer, recipient_id=post.pk, item_id=masks.pk, quantity=5
    )
    order = services.create_order(
        actor=county_officer,
        supplier="甲",
        channel="green",
        item_id=masks.pk,
        quantity=5,
        warehouse_id=store.pk,
        expected_on=__import__("datetime").date(2026, 3, 5),
    )
    fund = services.allocate_fund(
        actor=county_officer,
        name="经费",
        holder="甲",
        region_code=FUQIANG,
        amount=100,
        allocated_on=__import__("datetime").date(2026, 3, 1),
    )
    watch = services.create_watch(
        actor=county_officer, goods="米", unit="斤", shop="店", region_code=VILLAGE_A, baseline=2
    )
    return {
        "store": store.pk,
        "store2": other.pk,
        "item": masks.pk,
        "unit": post.pk,
        "request": request.pk,
        "order": order.pk,
        "fund": fund.pk,
        "watch": watch.pk,
        "region": home,
    }


def _home_codes(role):
    return (VILLAGE_A,) if role in (Role.VILLAGE_CADRE, Role.GRID_WORKER) else (FUQIANG,)


@pytest.mark.parametrize(
    "method,path,body,allowed,denied,foreign", ENDPOINTS, ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS]
)
def test_denials(
    make_user, county_officer, store, masks, post, method, path, body, allowed, denied, foreign
):
    home = _home_codes(allowed)[0]
    world = _world(county_officer, store, masks, post, home)
    url = path.format(**world)
    payload = body(world) if callable(body) else body

    def call(user):
        api = ApiClient(user)
        return api.get(url) if method == "get" else api.post(url, payload)

    assert call(None).status_code == 401
    assert call(make_user(denied, *_home_codes(denied))).status_code == 403
    ok = call(make_user(allowed, *_home_codes(allowed)))
    assert ok.status_code in (200, 201), (ok.status_code, ok.content)
    away = make_user(allowed, BAIQUAN)
    far = call(away)
    if foreign is None:
        assert (
            far.status_code == 200
            and far.json()
            in (
                [],
                {
                    "donations_cash": "0.00",
                    "donations_goods": "0.00",
                    "donations_total": "0.00",
                    "funds_amount": "0.00",
                    "funds_spent": "0.00",
                    "funds_balance": "0.00",
                },
            )
        ) or path == "/supplies/items"
    else:
        if (callable(body) and "region" in str(body.__code__.co_names)) or foreign == 400:
            payload = (
                {**payload, "region_code": FUQIANG}
                if isinstance(payload, dict) and "region_code" in payload
                else payload
            )
            far = call(away)
        assert far.status_code == foreign, (far.status_code, far.content)
