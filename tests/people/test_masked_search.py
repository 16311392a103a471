"""A search by a whole ID number or phone from a role that may see it only masked is audited
(the hit confirms the number), in the API and on the web."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from tests.conftest import FUQIANG, GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


def _searches(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.MASKED_SEARCH))


def test_a_masked_role_searching_a_full_id_number_is_audited(api_as, make_user, make_person):
    person = make_person(GRID_A1)
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)  # full phone, masked ID
    api = api_as(doctor)
    body = api.get("/persons", {"q": person.id_number}).json()
    assert [p["id"] for p in body["items"]] == [person.pk]
    (event,) = _searches(doctor)
    assert event.channel == "api" and event.fields == ["id_number"]
    assert person.id_number not in event.detail and "found=1" in event.detail
    api.get("/persons", {"q": person.phone})  # the phone is the doctor's to see
    api.get("/persons", {"q": "张"})
    assert len(_searches(doctor)) == 1


def test_a_masked_role_searching_a_full_phone_on_the_web_is_audited(make_user, make_person):
    make_person(GRID_A1, phone="13912345678")
    checkpoint = make_user(Role.CHECKPOINT_STAFF, FUQIANG)
    client = Client()
    client.force_login(checkpoint)
    assert client.get("/persons/", {"q": "139 1234 5678"}).status_code == 200
    (event,) = _searches(checkpoint)
    assert event.channel == "web" and event.fields == ["phone"]
    assert "13912345678" not in event.detail


def test_a_role_that_sees_the_numbers_leaves_no_search_event(api_as, make_user, make_person):
    person = make_person(GRID_A1)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    api_as(cadre).get("/persons", {"q": person.id_number})
    assert _searches(cadre) == []
