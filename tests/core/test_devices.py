"""Field-app devices (issue 20): a phone is registered on its first signed-in request, a lost
phone is revoked by its user or the user's supervisor, and every later request from it is
refused and audited, by session, cookie or token; a cadre may not revoke the phones of
users outside the area, nor may a grid worker revoke anyone else's."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.core.models import ApiToken, AuditEvent, Device
from fangkong.core.roles import Role
from tests.conftest import FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_B, VILLAGE_C

pytestmark = pytest.mark.django_db

PHONE = "0f6c2c1e-6d3a-4b57-9f55-3a5d1c2b7e10"
OTHER_PHONE = "a1b2c3d4-0000-4000-8000-1234567890ab"


def _phone(user, key: str = PHONE) -> Client:
    client = Client(headers={"User-Agent": "Mozilla/5.0 (Linux; Android 12) Chrome/120"})
    client.force_login(user)
    client.cookies["fk_device"] = key
    return client


@pytest.fixture
def worker(make_user):
    return make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="王网格")


@pytest.fixture
def cadre_a(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun_a")


def test_a_phone_is_registered_once_and_its_session_bound(worker):
    phone = _phone(worker)
    assert phone.get("/").status_code in (200, 302)
    assert phone.get("/api/v1/me").status_code == 200
    device = Device.objects.get()
    assert (device.user, device.key, device.revoked) == (worker, PHONE, False)
    assert "Android" in device.label
    assert phone.session["fk_device"] == PHONE


def test_a_revoked_phone_is_refused_even_without_its_cookie(worker, cadre_a):
    phone = _phone(worker)
    assert phone.get("/api/v1/me").status_code == 200
    device = Device.objects.get()

    supervisor = Client()
    supervisor.force_login(cadre_a)
    listed = supervisor.get("/api/v1/devices").json()
    assert [d["id"] for d in listed] == [device.pk]
    assert listed[0]["user_display"] == "王网格"
    answer = supervisor.post(f"/api/v1/devices/{device.pk}/revoke")
    assert answer.status_code == 200 and answer.json()["revoked"] is True

    # The session of the phone ended with the revocation.
    assert phone.get("/api/v1/me").status_code == 401
    # A copy of the session bound to the phone, its cookie removed, is refused too.
    thief = Client()
    thief.force_login(worker)
    thief.cookies["fk_device"] = PHONE
    refused = thief.get("/api/v1/me")
    assert refused.status_code == 401
    assert "停用" in refused.json()["detail"]
    assert refused.cookies["fk_device"].value == ""  # the server drops the key
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.DENIED, object_type="device", user=worker
    ).exists()
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.UPDATE, object_type="device", user=cadre_a
    ).exists()
    # A page request from it goes to the login page.
    again = Client()
    again.force_login(worker)
    again.cookies["fk_device"] = PHONE
    page = again.get("/screening/visits/")
    assert page.status_code == 302 and "/login/" in page["Location"]

    # The same user on a new phone (a new key) works.
    assert _phone(worker, OTHER_PHONE).get("/api/v1/me").status_code == 200


def test_a_token_sent_from_a_revoked_phone_stops_working(worker, client):
    token = ApiToken.issue(worker)
    headers = {"Authorization": f"Bearer {token}", "X-Fangkong-Device": PHONE}
    assert Client(headers=headers).get("/api/v1/me").status_code == 200
    device = Device.objects.get(user=worker)
    owner = Client()
    owner.force_login(worker)
    assert owner.post(f"/api/v1/devices/{device.pk}/revoke").status_code == 200
    assert Client(headers=headers).get("/api/v1/me").status_code == 401


def test_revocation_is_bounded_by_role_and_jurisdiction(worker, make_user):
    _phone(worker).get("/api/v1/me")
    device = Device.objects.get()
    other_village = make_user(Role.VILLAGE_CADRE, VILLAGE_B)
    other_town = make_user(Role.TOWNSHIP, VILLAGE_C[:9])
    colleague = make_user(Role.GRID_WORKER, GRID_A1)
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    for outsider in (other_village, other_town, colleague, doctor):
        c = Client()
        c.force_login(outsider)
        assert c.get("/api/v1/devices").json() == []
        assert c.post(f"/api/v1/devices/{device.pk}/revoke").status_code == 404
        page = c.post("/account/devices/", {"device": device.pk})
        assert page.status_code == 404
    device.refresh_from_db()
    assert not device.revoked
    assert Client().post(f"/api/v1/devices/{device.pk}/revoke").status_code == 401

    # The township over the village may, through the page.
    township = make_user(Role.TOWNSHIP, FUQIANG)
    c = Client()
    c.force_login(township)
    listing = c.get("/account/devices/")
    assert "王网格" in listing.content.decode()
    assert c.post("/account/devices/", {"device": device.pk}).status_code == 302
    device.refresh_from_db()
    assert device.revoked and device.revoked_by == township


def test_a_user_spanning_two_villages_is_not_a_village_cadres_to_revoke(make_user, cadre_a):
    spanning = make_user(Role.GRID_WORKER, GRID_A1, VILLAGE_C)
    _phone(spanning).get("/api/v1/me")
    c = Client()
    c.force_login(cadre_a)
    assert c.get("/api/v1/devices").json() == []


def test_the_owner_sees_and_revokes_their_own_phone_on_the_page(worker):
    phone = _phone(worker)
    page = phone.get("/account/devices/").content.decode()
    assert "（本机）" in page and "停用此设备" in page
    device = Device.objects.get()
    assert phone.post("/account/devices/", {"device": device.pk}).status_code == 302
    device.refresh_from_db()
    assert device.revoked
    assert phone.get("/api/v1/me").status_code == 401
