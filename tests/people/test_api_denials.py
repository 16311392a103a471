"""The jurisdiction denial matrix: every role, held in village A, against village C's data.

Outside the jurisdiction an object is absent (404, the same answer as for an id that does not
exist) for roles that may take the action; a role that may not take the action at all gets
403 whatever the object. Lists and searches never return village C's people, however exactly
they are asked for.
"""

from __future__ import annotations

import pytest

from fangkong.core.models import AuditEvent, IdempotencyRecord
from fangkong.core.roles import Action, Role, actions_for
from fangkong.people.models import Household, Person
from tests.conftest import GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C, new_id_number

from .conftest import ApiClient

ROLES = list(Role)


def _expected(role: Role, action: Action, inside: int) -> int:
    return inside if action in actions_for(role) else 403


@pytest.fixture
def world(make_person):
    """Village A and village C each with a household and a 张伟 (different ID and phone)."""
    household_a = Household.objects.create(region_id=GRID_A1, address="富强村1号")
    household_c = Household.objects.create(region_id=GRID_C1, address="东升社区1号")
    person_a = make_person(GRID_A1, name="张伟", phone="13900000001", household=household_a)
    person_c = make_person(GRID_C1, name="张伟", phone="13900000002", household=household_c)
    return {"ha": household_a, "hc": household_c, "pa": person_a, "pc": person_c}


@pytest.fixture(params=ROLES, ids=[r.value for r in ROLES])
def village_a(request, make_user):
    """A client for a user of each role, holding only village A."""
    return request.param, ApiClient(make_user(request.param, VILLAGE_A))


def test_reading_a_person_of_village_c(village_a, world):
    role, api = village_a
    pc = world["pc"]
    response = api.get(f"/persons/{pc.pk}")
    assert response.status_code == _expected(role, Action.PERSON_VIEW, 404)
    if response.status_code == 404:
        # Indistinguishable from an id that does not exist.
        assert response.json() == api.get("/persons/987654321").json()
        assert pc.id_number not in response.content.decode()
    history = api.get(f"/persons/{pc.pk}/history")
    assert history.status_code == _expected(role, Action.HISTORY_VIEW, 404)


def test_updating_a_person_of_village_c(village_a, world):
    role, api = village_a
    pc = world["pc"]
    response = api.patch(f"/persons/{pc.pk}", {"name": "改名", "version": 1})
    assert response.status_code == _expected(role, Action.PERSON_EDIT, 404)
    with_header = api.patch(f"/persons/{pc.pk}", {"name": "改名"}, **{"If-Match": '"1"'})
    assert with_header.status_code == response.status_code
    pc.refresh_from_db()
    assert (pc.name, pc.version) == ("张伟", 1)


def test_reading_and_updating_a_household_of_village_c(village_a, world):
    role, api = village_a
    hc = world["hc"]
    read = api.get(f"/households/{hc.pk}")
    assert read.status_code == _expected(role, Action.HOUSEHOLD_VIEW, 404)
    if read.status_code == 404:
        assert read.json() == api.get("/households/987654321").json()
    update = api.patch(f"/households/{hc.pk}", {"address": "改址", "version": 1})
    assert update.status_code == _expected(role, Action.HOUSEHOLD_EDIT, 404)
    hc.refresh_from_db()
    assert (hc.address, hc.version) == ("东升社区1号", 1)


def test_lists_and_searches_never_return_village_c(village_a, world):
    role, api = village_a
    pa, pc = world["pa"], world["pc"]
    queries = [
        {},
        {"q": "张伟"},
        {"q": "zhangwei"},
        {"q": "zw"},
        {"q": pc.id_number},
        {"q": pc.phone},
        {"region_code": VILLAGE_C},
        {"household_id": world["hc"].pk},
        {"with_count": "true"},
    ]
    for params in queries:
        response = api.get("/persons", params)
        assert response.status_code == _expected(role, Action.PERSON_VIEW, 200), params
        if response.status_code != 200:
            continue
        ids = {p["id"] for p in response.json()["items"]}
        assert pc.pk not in ids, params
        assert pc.id_number not in response.content.decode()
    if Action.PERSON_VIEW in actions_for(role):
        assert [p["id"] for p in api.get("/persons", {"q": "张伟"}).json()["items"]] == [pa.pk]
        assert api.get("/persons", {"with_count": "true"}).json()["count"] == 1
    households = api.get("/households")
    assert households.status_code == _expected(role, Action.HOUSEHOLD_VIEW, 200)
    if households.status_code == 200:
        assert [h["id"] for h in households.json()["items"]] == [world["ha"].pk]
        by_address = api.get("/households", {"q": "东升"}).json()["items"]
        assert by_address == []
        by_region = api.get("/households", {"region_code": VILLAGE_C}).json()["items"]
        assert by_region == []


def test_actions_inside_the_jurisdiction_follow_the_role(village_a, world):
    role, api = village_a
    pa, ha = world["pa"], world["ha"]
    read = api.get(f"/persons/{pa.pk}")
    assert read.status_code == _expected(role, Action.PERSON_VIEW, 200)
    created = api.post(
        "/persons", {"name": "新人", "id_number": new_id_number(), "region_code": GRID_A1}
    )
    assert created.status_code == _expected(role, Action.PERSON_CREATE, 201)
    unversioned = api.patch(f"/persons/{pa.pk}", {"category": "returnee"})
    assert unversioned.status_code == _expected(role, Action.PERSON_EDIT, 428)
    edited = api.patch(f"/persons/{pa.pk}", {"category": "returnee", "version": 1})
    assert edited.status_code == _expected(role, Action.PERSON_EDIT, 200)
    household = api.post("/households", {"address": "富强村9号", "region_code": GRID_A1})
    assert household.status_code == _expected(role, Action.HOUSEHOLD_EDIT, 201)
    moved = api.patch(f"/households/{ha.pk}", {"address": "富强村1号之一", "version": 1})
    assert moved.status_code == _expected(role, Action.HOUSEHOLD_EDIT, 200)
    history = api.get(f"/persons/{pa.pk}/history")
    assert history.status_code == _expected(role, Action.HISTORY_VIEW, 200)


@pytest.mark.parametrize(
    "role", [r for r in ROLES if Action.PERSON_CREATE not in actions_for(r)], ids=lambda r: r.value
)
def test_refused_creates_store_nothing(make_user, world, role):
    api = ApiClient(make_user(role, VILLAGE_A))
    before = Person.objects.count()
    plain = api.post("/persons", {"name": "新人", "region_code": GRID_A1})
    keyed = api.post(
        "/persons", {"name": "新人", "region_code": GRID_A1}, **{"Idempotency-Key": "k1"}
    )
    assert plain.status_code == keyed.status_code == 403
    assert Person.objects.count() == before
    assert not IdempotencyRecord.objects.filter(user=api.user).exists()


@pytest.mark.parametrize(
    "role", [r for r in ROLES if Action.PERSON_CREATE in actions_for(r)], ids=lambda r: r.value
)
def test_cannot_create_into_village_c_or_its_household(make_user, world, role):
    api = ApiClient(make_user(role, VILLAGE_A))
    into_c = api.post("/persons", {"name": "越界", "region_code": GRID_C1})
    assert into_c.status_code == 400
    assert [e["field"] for e in into_c.json()["errors"]] == ["region_code"]
    into_hc = api.post("/persons", {"name": "越界", "household_id": world["hc"].pk})
    assert into_hc.status_code == 400
    assert "household_id" in {e["field"] for e in into_hc.json()["errors"]}
    household_c = api.post("/households", {"address": "越界", "region_code": GRID_C1})
    assert household_c.status_code == 400
    assert household_c.json()["errors"][0]["field"] == "region_code"
    assert not Person.objects.filter(name="越界").exists()


@pytest.mark.parametrize(
    "role", [r for r in ROLES if Action.PERSON_EDIT in actions_for(r)], ids=lambda r: r.value
)
def test_cannot_move_a_person_or_household_into_village_c(make_user, world, role):
    api = ApiClient(make_user(role, VILLAGE_A))
    pa, ha = world["pa"], world["ha"]
    moved = api.patch(f"/persons/{pa.pk}", {"region_code": GRID_C1, "version": 1})
    assert moved.status_code == 400
    assert moved.json()["errors"][0]["field"] == "region_code"
    attached = api.patch(f"/persons/{pa.pk}", {"household_id": world["hc"].pk, "version": 1})
    assert attached.status_code == 400
    assert attached.json()["errors"][0]["field"] == "household_id"
    household = api.patch(f"/households/{ha.pk}", {"region_code": GRID_C1, "version": 1})
    assert household.status_code == 400
    pa.refresh_from_db()
    assert (pa.region_code, pa.household_id) == (GRID_A1, ha.pk)


def test_a_role_reaching_for_an_action_it_lacks_is_audited(make_user, world):
    api = ApiClient(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    assert api.get(f"/persons/{world['pa'].pk}").status_code == 403
    denied = AuditEvent.objects.get(user=api.user, kind=AuditEvent.Kind.DENIED)
    assert denied.channel == "api"
    assert f"GET /api/v1/persons/{world['pa'].pk} person.view" == denied.detail


def test_a_record_outside_the_jurisdiction_is_audited_once_per_request(make_user, world):
    api = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    outside = world["pc"]
    assert api.get(f"/persons/{outside.pk}").status_code == 404
    assert (
        api.patch(f"/persons/{outside.pk}", {"phone": "13800001111", "version": 1}).status_code
        == 404
    )
    assert api.get("/quarantine/orders/999999").status_code == 404
    denied = list(
        AuditEvent.objects.filter(user=api.user, kind=AuditEvent.Kind.DENIED).order_by("id")
    )
    assert [d.detail.split(" ")[:2] for d in denied] == [
        ["GET", f"/api/v1/persons/{outside.pk}"],
        ["PATCH", f"/api/v1/persons/{outside.pk}"],
        ["GET", "/api/v1/quarantine/orders/999999"],
    ]
    assert all(d.channel == "api" for d in denied)
