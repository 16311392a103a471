"""The households API: create, list, detail with masked members, versioned update, idempotency."""

from __future__ import annotations

import pytest

from fangkong.core import idnumbers
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.people.models import Household, Person
from tests.conftest import GRID_A1, GRID_A2, GRID_B1, VILLAGE_A

from .conftest import ApiClient


def _create(api, address="富强村1号", region_code=GRID_A1, **headers):
    return api.post("/households", {"address": address, "region_code": region_code}, **headers)


def test_create_and_read_a_household(hq_api):
    response = _create(hq_api, address="  富强村  2号 ")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["address"] == "富强村 2号"
    assert (body["region_code"], body["region_name"], body["version"]) == (
        GRID_A1,
        "富强村第1组",
        1,
    )
    assert body["members"] == []
    assert response["ETag"] == '"1"'
    detail = hq_api.get(f"/households/{body['id']}")
    assert detail.status_code == 200
    assert detail["ETag"] == '"1"'
    assert detail.json()["address"] == "富强村 2号"
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.CREATE, object_type="household", object_id=str(body["id"])
    ).exists()


def test_household_must_be_in_a_village_or_grid_that_exists(hq_api):
    township = _create(hq_api, region_code="230231106")
    assert township.status_code == 400
    assert township.json()["errors"][0]["field"] == "region_code"
    unknown = _create(hq_api, region_code="230231106299")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "region_code"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"address": "", "region_code": GRID_A1}, "address"),
        ({"address": "x" * 201, "region_code": GRID_A1}, "address"),
        ({"address": "富强\x00村", "region_code": GRID_A1}, "address"),
        ({"address": "富强村", "region_code": "abc"}, "region_code"),
        ({"address": "富强村"}, "region_code"),
        ({"address": "富强村", "region_code": GRID_A1, "head_id": "1"}, "head_id"),
    ],
)
def test_schema_errors_name_the_field(hq_api, body, field):
    response = hq_api.post("/households", body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Household.objects.exists()


def test_list_filters_by_region_and_address(hq_api):
    _create(hq_api, "富强村1号", GRID_A1)
    _create(hq_api, "富强村2号", GRID_A2)
    _create(hq_api, "永胜村1号", GRID_B1)
    listed = hq_api.get("/households").json()
    assert [h["address"] for h in listed["items"]] == ["富强村1号", "富强村2号", "永胜村1号"]
    assert listed["next_cursor"] is None
    by_village = hq_api.get("/households", {"region_code": VILLAGE_A}).json()["items"]
    assert {h["address"] for h in by_village} == {"富强村1号", "富强村2号"}
    assert [h["address"] for h in hq_api.get("/households", {"q": "永胜"}).json()["items"]] == [
        "永胜村1号"
    ]
    assert hq_api.get("/households", {"q": "永\x00"}).status_code == 422


def test_list_pages_with_a_cursor(hq_api):
    for n in range(5):
        _create(hq_api, f"富强村{n}号")
    seen, cursor = [], ""
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = hq_api.get("/households", params).json()
        seen += [h["id"] for h in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5


def test_detail_lists_members_masked_per_role(hq_api, make_user, make_person):
    household = _create(hq_api).json()
    member = make_person(GRID_A1, name="张伟", household_id=household["id"])
    make_person(GRID_A1, name="邻居")  # not a member
    staff = ApiClient(make_user(Role.CHECKPOINT_STAFF, VILLAGE_A))
    members = staff.get(f"/households/{household['id']}").json()["members"]
    assert [m["name"] for m in members] == ["张伟"]
    assert members[0]["id_number"] == idnumbers.mask(member.id_number)
    assert members[0]["phone"] == "139****5678"
    assert not AuditEvent.objects.filter(
        user=staff.user, kind=AuditEvent.Kind.READ_SENSITIVE
    ).exists()
    full = hq_api.get(f"/households/{household['id']}").json()["members"]
    assert full[0]["id_number"] == member.id_number


def test_head_is_shown_by_name(hq_api, make_person):
    household = _create(hq_api).json()
    head = make_person(GRID_A1, name="户主甲", household_id=household["id"])
    response = hq_api.patch(f"/households/{household['id']}", {"head_id": head.pk, "version": 1})
    assert response.status_code == 200, response.json()
    assert (response.json()["head_id"], response.json()["head_name"]) == (head.pk, "户主甲")
    listed = hq_api.get("/households").json()["items"][0]
    assert listed["head_name"] == "户主甲"


def test_update_moves_members_with_the_household(hq_api, make_person):
    household = _create(hq_api).json()
    member = make_person(GRID_A1, household_id=household["id"])
    response = hq_api.patch(
        f"/households/{household['id']}",
        {"region_code": GRID_A2, "address": "富强村新址"},
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    assert Person.objects.get(pk=member.pk).region_code == GRID_A2


def test_update_needs_a_current_version(hq_api):
    household = _create(hq_api).json()
    path = f"/households/{household['id']}"
    missing = hq_api.patch(path, {"address": "新址"})
    assert missing.status_code == 428
    assert missing.json()["errors"][0]["field"] == "version"
    assert hq_api.patch(path, {"address": "新址", "version": 1}).status_code == 200
    stale = hq_api.patch(path, {"address": "又一新址", "version": 1})
    assert stale.status_code == 409
    assert stale["ETag"] == '"2"'
    assert Household.objects.get(pk=household["id"]).address == "新址"


def test_head_from_outside_the_jurisdiction_is_refused(make_user, make_person):
    outsider = make_person(GRID_B1, name="外村人")
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    household = _create(cadre).json()
    response = cadre.patch(f"/households/{household['id']}", {"head_id": outsider.pk, "version": 1})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "head_id"


def test_idempotent_household_create(hq_api):
    key = {"Idempotency-Key": "household-once"}
    first = _create(hq_api, **key)
    again = _create(hq_api, **key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Household.objects.count() == 1
    other = _create(hq_api, address="另一户", **key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_key_used_for_a_person_cannot_create_a_household(hq_api):
    key = {"Idempotency-Key": "one-key"}
    assert (
        hq_api.post("/persons", {"name": "张伟", "region_code": GRID_A1}, **key).status_code == 201
    )
    assert _create(hq_api, **key).status_code == 422
