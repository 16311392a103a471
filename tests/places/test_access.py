"""Denials (API and pages), jurisdiction (another village's records are 404 and never
listed), masking of the buyer's and manager's personal fields by role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.places import services
from tests.conftest import GRID_A1, VILLAGE_A
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused(place_a):
    assert ApiClient().get("/places/places").status_code == 401
    response = Client().get("/places/")
    assert response.status_code == 302 and "/login" in response["Location"]


GATHERING = {
    "kind": "banquet",
    "region_code": GRID_A1,
    "place_text": "院内",
    "organiser_name": "赵",
    "date": "2026-12-03",
}
SALE = {
    "receipt_no": "x",
    "drug_class": "cough",
    "drug_name": "药",
    "buyer_name": "某",
    "sold_at": "2026-12-01T10:00:00+08:00",
}


@pytest.mark.parametrize(
    ("role", "path", "body"),
    [
        (Role.SUPPLY_OFFICER, "/places/places", None),
        (Role.TESTING_STAFF, "/places/campaign", None),
        (
            Role.GRID_WORKER,
            "/places/places",
            {"kind": "market", "name": "集市", "region_code": GRID_A1},
        ),
        (Role.INSPECTOR, "/places/gatherings", GATHERING),
        (Role.INVESTIGATOR, "/places/pharmacies/1/sales", SALE),
        (Role.GRID_WORKER, "/places/cold-storages/1/batches", {"goods": "x"}),
        (Role.VILLAGE_DOCTOR, "/places/places/1/inspections", {"items": []}),
    ],
)
def test_api_role_denials(make_user, role, path, body):
    client = ApiClient(make_user(role, VILLAGE_A))
    response = client.post(path, body) if body is not None else client.get(path)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("role", "path", "method"),
    [
        (Role.SUPPLY_OFFICER, "/places/", "get"),
        (Role.ADMIN, "/places/campaign/", "get"),
        (Role.GRID_WORKER, "/places/new/", "get"),
        (Role.INSPECTOR, "/places/gatherings/", "post"),
        (Role.VILLAGE_CADRE, "/places/resumptions/1/decide/", "post"),
        (Role.INVESTIGATOR, "/places/pharmacy/", "post"),
    ],
)
def test_page_role_denials(make_user, client_for, role, path, method):
    client = client_for(make_user(role, VILLAGE_A))
    response = getattr(client, method)(path)
    assert response.status_code == 403


def test_another_villages_place_is_404_and_unlisted(cadre_a, place_a, place_c, client_for):
    api = ApiClient(cadre_a)
    assert api.get(f"/places/places/{place_c.pk}").status_code == 404
    assert [p["id"] for p in api.get("/places/places").json()] == [place_a.pk]
    assert (
        api.post(
            f"/places/places/{place_c.pk}/status",
            {"status": "closed", "version": 1, "order_no": "1"},
        ).status_code
        == 404
    )
    client = client_for(cadre_a)
    assert client.get(f"/places/{place_c.pk}/").status_code == 404
    assert client.get(f"/places/{place_c.pk}/inspect/").status_code == 404
    assert "东升超市" not in client.get("/places/list/").content.decode()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.DENIED).exists()


def test_create_in_another_village_names_the_field(cadre_a):
    from tests.conftest import GRID_C1

    response = ApiClient(cadre_a).post(
        "/places/places", {"kind": "market", "name": "集市", "region_code": GRID_C1}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "region_code"


def _sale(cadre_a, make_place, make_person):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="仁心大药房")
    buyer = make_person(GRID_A1, "韩梅梅", phone="13987654321")
    services.record_sale(
        actor=cadre_a,
        pharmacy_id=pharmacy.pk,
        data=services.SaleInput(
            receipt_no="R1",
            drug_class="antipyretic",
            drug_name="布洛芬",
            buyer_name="韩梅梅",
            buyer_id_number=buyer.id_number,
            buyer_phone=buyer.phone,
            sold_at=timezone.now() - dt.timedelta(hours=2),
        ),
    )
    return buyer


def test_buyer_fields_masked_by_role(make_user, cadre_a, make_place, make_person, client_for):
    buyer = _sale(cadre_a, make_place, make_person)
    inspector = make_user(Role.INSPECTOR, VILLAGE_A)
    row = ApiClient(inspector).get("/places/sales").json()[0]
    assert row["buyer_id_number"] != buyer.id_number and "*" in row["buyer_id_number"]
    assert row["buyer_phone"] != buyer.phone
    page = client_for(inspector).get("/places/pharmacy/").content.decode()
    assert buyer.id_number not in page and buyer.phone not in page
    # The village cadre sees them in full, and the read is audited.
    row = ApiClient(cadre_a).get("/places/sales").json()[0]
    assert row["buyer_id_number"] == buyer.id_number and row["buyer_phone"] == buyer.phone
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.READ_SENSITIVE, object_type="places.sale"
    ).exists()


def test_manager_phone_masked_for_an_inspector(make_user, place_a, client_for):
    inspector = make_user(Role.INSPECTOR, VILLAGE_A)
    page = client_for(inspector).get(f"/places/{place_a.pk}/").content.decode()
    assert "13912340000" not in page and "王老板" in page


def test_resent_sale_over_the_api(make_user, cadre_a, make_place, make_person):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="药房")
    buyer = make_person(GRID_A1, "李雷")
    doctor = ApiClient(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))
    body = {
        "receipt_no": "RX9",
        "drug_class": "cough",
        "drug_name": "止咳糖浆",
        "buyer_name": "李雷",
        "buyer_id_number": buyer.id_number,
        "sold_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
    }
    first = doctor.post(f"/places/pharmacies/{pharmacy.pk}/sales", body)
    second = doctor.post(f"/places/pharmacies/{pharmacy.pk}/sales", body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and not second.json()["created"]
    bad = doctor.post(
        f"/places/pharmacies/{pharmacy.pk}/sales",
        {**body, "buyer_id_number": "123", "receipt_no": "RX10"},
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "buyer_id_number"


def test_api_inspection_and_cold_chain_flow(cadre_a, make_place, sink):
    api = ApiClient(cadre_a)
    place = make_place(cadre_a, kind="market", name="农贸市场")
    items = api.get(f"/places/places/{place.pk}/checklist").json()
    body = {"items": [{"item_id": i["id"], "passed": n != 0} for n, i in enumerate(items)]}
    created = api.post(f"/places/places/{place.pk}/inspections", body)
    assert created.status_code == 201 and created.json()["failed"] == 1 and len(sink.raised) == 1
    storage = make_place(cadre_a, kind="cold_storage", name="冷库")
    batch = api.post(f"/places/cold-storages/{storage.pk}/batches", {"goods": "冻虾"}).json()
    assert len(batch["missing_documents"]) == 4
    registered = api.post(f"/places/batches/{batch['id']}/register", {"version": 1}).json()
    refused = api.post(f"/places/batches/{batch['id']}/release", {"version": registered["version"]})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "documents"
    stale = api.post(f"/places/batches/{batch['id']}/release", {"version": 1})
    assert stale.status_code == 409


def test_class_link_api(cadre_a, make_place, make_person):
    school = make_place(cadre_a, kind="school", name="小学")
    school_class = services.add_class(actor=cadre_a, school_id=school.pk, name="一班")
    member = services.add_member(
        actor=cadre_a, class_id=school_class.pk, person_id=make_person().pk
    )
    token = services.new_class_link(actor=cadre_a, class_id=school_class.pk)
    body = {"slot": "morning", "checks": [{"member_id": member.pk, "temperature": "36.6"}]}
    ok = ApiClient().post(f"/places/class-link/{token}/checks", body)
    assert ok.status_code == 200 and ok.json()["recorded"] == 1
    assert ApiClient().post("/places/class-link/not-a-real-token-x/checks", body).status_code == 404
    other = ApiClient().post(
        f"/places/class-link/{token}/checks",
        {"checks": [{"member_id": member.pk + 999, "temperature": "36.6"}]},
    )
    assert other.status_code == 400


def test_pages_render_in_chinese(cadre_a, township, place_a, client_for):
    client = client_for(cadre_a)
    for path in [
        "/places/",
        "/places/list/",
        "/places/campaign/",
        "/places/gatherings/",
        "/places/enterprises/",
        "/places/schools/",
        "/places/cold-chain/",
        "/places/pharmacy/",
        f"/places/{place_a.pk}/",
        f"/places/{place_a.pk}/inspect/",
        "/places/new/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "场所" in response.content.decode() or "检查" in response.content.decode()


def test_village_cadre_home_is_places(cadre_a, client_for):
    response = client_for(cadre_a).get("/")
    assert response.status_code == 302 and response["Location"].startswith("/places/")
