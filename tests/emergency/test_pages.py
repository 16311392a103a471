"""Pages of the emergency layer: every page opens for the county, denials for roles and
areas that may not, the public sign-up form, masking of volunteers' phones."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.emergency import services
from fangkong.emergency.models import ModeSwitch, Plan, Volunteer, Zone
from tests.conftest import BAIQUAN, COUNTY, FUQIANG, GRID_A1, VILLAGE_A

from .conftest import zone_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(hq, make_person):
    make_person(GRID_A1, "张伟", phone="13912345678")
    return services.declare_zone(actor=hq, draft=zone_draft(), run_now=True)


def test_every_page_opens_for_the_county_in_chinese(client_for, hq, zone):
    plan = Plan.objects.create(
        region_code=FUQIANG, unit_name="中心小学", unit_kind="school", title="预案"
    )
    client = client_for(hq)
    for name, args in (
        ("emergency:home", []),
        ("emergency:mode", []),
        ("emergency:zones", []),
        ("emergency:zone_new", []),
        ("emergency:zone", [zone.pk]),
        ("emergency:map", []),
        ("emergency:plans", []),
        ("emergency:drill_new", [plan.pk]),
        ("emergency:capacity", []),
        ("emergency:volunteers", []),
        ("emergency:command", []),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        visible = re.sub(r'(href|value|action)="[^"]*"', "", response.content.decode())
        assert FUQIANG not in visible, name
    page = client.get(reverse("emergency:zone", args=[zone.pk])).content.decode()
    assert "张伟" in page and "封控区" in page


def test_drawing_a_zone_by_picking_grids(client_for, hq, make_person):
    make_person(GRID_A1, "张伟")
    client = client_for(hq)
    step_two = client.get(reverse("emergency:zone_new"), {"area": VILLAGE_A})
    assert step_two.status_code == 200 and "富强村第1组" in step_two.content.decode()
    response = client.post(
        reverse("emergency:zone_new") + f"?area={VILLAGE_A}",
        {
            "name": "富强村1组封控区",
            "kind": "sealed",
            "regions": [GRID_A1],
            "legal_basis": "县指挥部令第12号",
            "approved_by": "王主任",
        },
    )
    assert response.status_code == 302
    zone = Zone.objects.get()
    assert zone.region_code == GRID_A1 and zone.task is not None


def test_roles_without_the_permission_are_refused_and_audited(client_for, make_user, hq):
    admin = make_user(Role.ADMIN)
    grid = make_user(Role.GRID_WORKER, GRID_A1)
    township = make_user(Role.TOWNSHIP, FUQIANG)
    assert client_for(admin).get(reverse("emergency:home")).status_code == 403
    assert client_for(grid).get(reverse("emergency:zone_new")).status_code == 403
    response = client_for(township).post(
        reverse("emergency:mode"), {"region": FUQIANG, "mode": "wartime", "reason": "x"}
    )
    assert response.status_code == 403
    assert not ModeSwitch.objects.exists()
    assert AuditEvent.objects.filter(kind="denied").count() >= 3
    anonymous = Client().get(reverse("emergency:home"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_a_zone_of_another_township_is_not_found(client_for, make_user, zone):
    other = make_user(Role.TOWNSHIP, BAIQUAN)
    assert client_for(other).get(reverse("emergency:zone", args=[zone.pk])).status_code == 404
    # A village inside the zone's township sees the zone drawn over it.
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    assert client_for(cadre).get(reverse("emergency:zone", args=[zone.pk])).status_code == 200


def test_the_wartime_switch_from_the_page(client_for, hq, make_user):
    make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    response = client_for(hq).post(
        reverse("emergency:mode"), {"region": FUQIANG, "mode": "wartime", "reason": "发现病例"}
    )
    switch = ModeSwitch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/mode/{switch.pk}/")
    board = client_for(hq).get(response["Location"]).content.decode()
    assert "0 / 1" in board or "1 人中已到岗 0" in board or "0" in board


def test_volunteer_phones_are_masked_for_roles_without_phone_access(client_for, make_user, county):
    Volunteer.objects.create(name="韩雪", phone="13912345670", region_code=VILLAGE_A)
    inspector = make_user(Role.INSPECTOR, COUNTY)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    masked = client_for(inspector).get(reverse("emergency:volunteers")).content.decode()
    assert "13912345670" not in masked and "韩雪" in masked
    full = client_for(cadre).get(reverse("emergency:volunteers")).content.decode()
    assert "13912345670" in full
    assert AuditEvent.objects.filter(object_type="emergency.volunteer", user=cadre).exists()


def test_the_public_sign_up_form_needs_no_account(county):
    client = Client()
    page = client.get(reverse("emergency:join"))
    assert page.status_code == 200 and "志愿者" in page.content.decode()
    response = client.post(
        reverse("emergency:join"),
        {"name": "马骏", "phone": "13800001111", "region_code": VILLAGE_A, "skills": "货车驾照"},
    )
    assert response.status_code == 200 and Volunteer.objects.filter(name="马骏").exists()
    bad = client.post(
        reverse("emergency:join"), {"name": "", "phone": "1", "region_code": VILLAGE_A}
    )
    assert bad.status_code == 200 and Volunteer.objects.count() == 1
