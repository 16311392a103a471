"""The supplies pages: Chinese, reachable from the nav, denials, issue from the store page
with the next issue prefilled, ledger and stock exports as real .xlsx, the import page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from fangkong.core.roles import Role
from fangkong.supplies import services
from fangkong.supplies.models import Movement, StockLevel
from tests.conftest import BAIQUAN, FUQIANG, VILLAGE_A

from .conftest import issue, receive

pytestmark = pytest.mark.django_db


def test_the_supply_officer_lands_on_the_stock_board(client_for, officer, store, masks, post):
    receive(officer, store, masks, 10)
    client = client_for(officer)
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0].startswith("/supplies/")
    page = home.content.decode()
    assert "库存与可供天数" in page and "富强镇物资库" in page and "医用外科口罩" in page
    assert "预警" in page  # 10 masks against 18 a day planned for the post


def test_issue_from_the_store_page_and_the_next_one_is_prefilled(
    client_for, officer, store, masks, post
):
    receive(officer, store, masks, 100)
    client = client_for(officer)
    r = client.post(
        f"/supplies/warehouses/{store.pk}/",
        {
            "form": "issue",
            "item_id": masks.pk,
            "recipient_id": post.pk,
            "quantity": "30",
            "received_by": "值班组长",
        },
        follow=True,
    )
    assert "已发放医用外科口罩30个给富强镇东卡点，结存70个" in r.content.decode()
    form = r.context["issue_form"]
    assert form.initial == {"item_id": masks.pk, "recipient_id": post.pk, "quantity": Decimal(30)}
    r = client.post(
        f"/supplies/warehouses/{store.pk}/",
        {"form": "issue", "item_id": masks.pk, "recipient_id": post.pk, "quantity": "71"},
    )
    assert r.status_code == 200 and "库存不足" in r.content.decode()
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == 70


def test_pages_deny_roles_and_areas(client_for, make_user, officer, store, masks, other_store):
    doctor = client_for(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))
    assert doctor.get("/supplies/").status_code == 403
    post_staff = client_for(make_user(Role.CHECKPOINT_STAFF, FUQIANG))
    assert post_staff.get(f"/supplies/warehouses/{store.pk}/").status_code == 200
    r = post_staff.post(
        f"/supplies/warehouses/{store.pk}/",
        {"form": "move", "kind": "receipt", "item_id": masks.pk, "quantity": "5"},
    )
    assert r.status_code == 403 and not Movement.objects.exists()
    assert post_staff.get("/supplies/funds/").status_code == 403
    assert post_staff.get("/supplies/import/").status_code == 403
    keeper = client_for(officer)
    assert keeper.get(f"/supplies/warehouses/{other_store.pk}/").status_code == 404
    assert (
        client_for(make_user(Role.SUPPLY_OFFICER, BAIQUAN))
        .get(f"/supplies/warehouses/{store.pk}/")
        .status_code
        == 404
    )
    anonymous = keeper.__class__()
    assert anonymous.get("/supplies/").status_code == 302


def test_every_page_renders_in_chinese(client_for, county_officer, store, masks, post):
    receive(county_officer, store, masks, 10)
    issue(county_officer, store, masks, 2, post)
    d = services.record_donation(
        actor=county_officer,
        donor="某企业",
        donor_kind="firm",
        item_id=masks.pk,
        quantity=5,
        value=4,
        warehouse_id=store.pk,
    )
    anon = services.record_donation(
        actor=county_officer,
        donor="张干部",
        donor_kind="cadre",
        publish_name=False,
        amount=100,
        region_code=FUQIANG,
    )
    client = client_for(county_officer)
    for url, text in (
        ("/supplies/", "主粮储备"),
        ("/supplies/setup/", "领用单位"),
        (f"/supplies/units/{post.pk}/ledger/", "物资领用台账"),
        ("/supplies/import/", "盘点表"),
        ("/supplies/requests/", "提交申领"),
        ("/supplies/orders/", "采购"),
        ("/supplies/donations/", "捐赠"),
        (f"/supplies/donations/{d.pk}/certificate/", "捐赠证书"),
        ("/supplies/funds/", "经费"),
        ("/supplies/prices/", "价格监测"),
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert text in r.content.decode(), url
    staple = client.get("/supplies/").context["staple"]
    rice = staple[0].item
    assert (rice.name, rice.per_capita_daily) == ("大米", Decimal("0.00025"))
    public = client.__class__().get("/supplies/donations/public/230231/").content.decode()
    assert "某企业" in public and "张干部" not in public and "爱心人士（匿名）" in public
    assert anon.certificate_no


def test_ledger_and_stock_exports_are_real_workbooks(client_for, officer, store, masks, post):
    receive(officer, store, masks, 10)
    issue(officer, store, masks, 3, post, received_by="值班组长")
    client = client_for(officer)
    r = client.get(f"/supplies/units/{post.pk}/ledger/?format=xlsx")
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "富强镇东卡点 物资领用台账"
    assert rows[4][1:6] == ("富强镇物资库", "医用外科口罩", 3, "个", "值班组长")
    r = client.get("/supplies/stock.xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][:5] == ("富强镇物资库", "李保管", "医用外科口罩", 7, "个")


def test_import_page_lists_errors_by_row_and_column(client_for, officer, store, masks):
    book = Workbook()
    book.active.append(["仓库", "物资", "实盘数量"])
    book.active.append(["富强镇物资库", "医用外科口罩", "-3"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "count.xlsx"
    r = client_for(officer).post("/supplies/import/", {"file": buffer})
    page = r.content.decode()
    assert r.status_code == 200 and "import-errors" in page and "实盘数量" in page
    assert not Movement.objects.exists()


def test_requests_show_a_fair_share_and_approval_issues(
    client_for, make_user, officer, county_officer, store, masks, post, village_unit
):
    receive(officer, store, masks, 100)
    staff = make_user(Role.CHECKPOINT_STAFF, FUQIANG)
    client_for(staff).post(
        "/supplies/requests/", {"recipient_id": post.pk, "item_id": masks.pk, "quantity": "100"}
    )
    services.create_request(
        actor=officer, recipient_id=village_unit.pk, item_id=masks.pk, quantity=100
    )
    page = client_for(officer).get("/supplies/requests/")
    pending = page.context["pending"]
    # 6 on duty against 1,200 residents (12): 100 shared 33/66.
    assert [s[0] for _, s in pending] == [Decimal(33), Decimal(66)]
    request = pending[0][0]
    r = client_for(officer).post(
        f"/supplies/requests/{request.pk}/decide/",
        {"version": request.version, "quantity": "33", "warehouse_id": store.pk},
        follow=True,
    )
    assert "已批准并发放33" in r.content.decode()
    assert StockLevel.objects.get(warehouse=store, item=masks).quantity == 67
