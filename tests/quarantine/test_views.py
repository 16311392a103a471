"""The isolation pages: they render for the right roles and deny the rest like the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from freezegun import freeze_time

from fangkong.core.roles import Role
from fangkong.quarantine import services
from fangkong.quarantine.models import HealthCheck, IsolationOrder
from tests.conftest import FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C

from .conftest import local

pytestmark = pytest.mark.django_db
NOW = local(2026, 3, 1, 9)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@freeze_time(NOW)
def test_pages_render_for_a_village_doctor(make_order, doctor, township):
    order = make_order()
    services.record_check(
        user=doctor, reading=services.Reading(order_id=order.pk, temperature=Decimal("38.0"))
    )
    site = services.create_site(user=township, name="富强镇隔离点", region_code=FUQIANG)
    client = client_for(doctor)
    for url in (
        "/quarantine/",
        "/quarantine/round/",
        "/quarantine/alerts/",
        "/quarantine/orders/",
        f"/quarantine/orders/{order.pk}/",
        "/quarantine/sites/",
        f"/quarantine/sites/{site.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "张伟" in client.get("/quarantine/round/").content.decode()
    docx = client.get(f"/quarantine/orders/{order.pk}/release-notice.docx")
    assert docx.content[:2] == b"PK"


@freeze_time(NOW)
def test_one_tap_records_a_normal_reading_and_swaps_the_row(make_order, doctor):
    order = make_order()
    client = client_for(doctor)
    response = client.post(
        f"/quarantine/round/{order.pk}/", {"normal": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "is-done" in response.content.decode()
    check = HealthCheck.objects.get()
    assert check.reported_normal and check.slot == local(2026, 3, 1, 6)
    fever = client.post(
        f"/quarantine/round/{order.pk}/", {"temperature": "50"}, headers={"HX-Request": "true"}
    )
    assert "43.0" in fever.content.decode()  # refused, in the row, with the plausible range


@freeze_time(NOW)
def test_a_cadre_orders_and_releases_through_the_pages(cadre, township, make_person, household):
    person = make_person(GRID_A1, "张伟", household=household)
    client = client_for(cadre)
    response = client.post(
        "/quarantine/orders/new/",
        {
            "person_id": person.pk,
            "kind": "home",
            "starts_at": "2026-03-01 08:00",
            "days": 14,
            "policy_version": "v3",
            "required_test_days": "1,14",
        },
    )
    assert response.status_code == 302
    order = IsolationOrder.objects.get()
    page = client.get(f"/quarantine/orders/{order.pk}/").content.decode()
    assert "not yet releasable" in page.lower() or "尚不能解除" in page
    client.post(f"/quarantine/orders/{order.pk}/release/", {"version": 1})
    assert IsolationOrder.objects.get().status == "active"
    client_for(township).post(
        f"/quarantine/orders/{order.pk}/release/", {"version": 1, "override_reason": "指挥部批准"}
    )
    assert IsolationOrder.objects.get(pk=order.pk).status == "released"


@freeze_time(NOW)
def test_pages_deny_like_the_api(make_order, make_user, doctor):
    order = make_order()
    anonymous = Client()
    for url in ("/quarantine/", "/quarantine/round/", f"/quarantine/orders/{order.pk}/"):
        assert anonymous.get(url).status_code == 302  # to the login page
    outsider = client_for(make_user(Role.VILLAGE_DOCTOR, VILLAGE_C))
    assert outsider.get(f"/quarantine/orders/{order.pk}/").status_code == 404
    assert outsider.post(f"/quarantine/round/{order.pk}/", {"normal": "1"}).status_code == 404
    checkpoint = client_for(make_user(Role.CHECKPOINT_STAFF, VILLAGE_A))
    assert checkpoint.get("/quarantine/").status_code == 403
    assert checkpoint.get("/quarantine/round/").status_code == 403
    assert client_for(doctor).get("/quarantine/orders/new/").status_code == 403
    assert (
        client_for(doctor)
        .post(f"/quarantine/orders/{order.pk}/end/", {"version": 1, "reason": "x"})
        .status_code
        == 403
    )
    assert HealthCheck.objects.count() == 0


@freeze_time(NOW)
def test_the_agreement_scan_is_uploaded_and_served_only_inside_the_jurisdiction(
    make_order, cadre, make_user, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    order = make_order()
    client = client_for(cadre)
    bad = SimpleUploadedFile("agreement.exe", b"MZ", content_type="application/octet-stream")
    client.post(f"/quarantine/orders/{order.pk}/agreement/", {"version": 1, "scan": bad})
    assert not IsolationOrder.objects.get().agreement_scan
    scan = SimpleUploadedFile("协议 ../x.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    response = client.post(
        f"/quarantine/orders/{order.pk}/agreement/",
        {"version": 1, "scan": scan, "signed_on": "2026-03-01"},
    )
    assert response.status_code == 302
    stored = IsolationOrder.objects.get()
    assert stored.has_agreement and stored.agreement_scan.name.endswith(f"order-{order.pk}.pdf")
    download = client.get(f"/quarantine/orders/{order.pk}/agreement-scan/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 signed"
    outsider = client_for(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert outsider.get(f"/quarantine/orders/{order.pk}/agreement-scan/").status_code == 404


@freeze_time(NOW)
def test_a_site_shows_free_rooms_and_logs_waste(township):
    site = services.create_site(user=township, name="富强镇隔离点", region_code=FUQIANG)
    client = client_for(township)
    client.post(f"/quarantine/sites/{site.pk}/", {"numbers": "101-105", "capacity": "2"})
    assert site.rooms.count() == 5
    page = client.get(f"/quarantine/sites/{site.pk}/").content.decode()
    assert "101" in page and "105" in page
    client.post(f"/quarantine/sites/{site.pk}/", {"bags": "3", "note": "医废转运"})
    assert site.waste_pickups.get().bags == 3


def test_a_supply_officer_lands_on_the_supply_requests(make_user):
    officer = client_for(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    response = officer.get("/quarantine/")
    assert response.status_code == 302 and response["Location"] == "/quarantine/supplies/"
    assert officer.get("/quarantine/supplies/").status_code == 200
    assert officer.get("/quarantine/round/").status_code == 403
