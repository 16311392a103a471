"""Sampling staff of a point, set on its page and through the API: only active testing
staff working in or over the point's region, by a planner whose jurisdiction covers the
point, guarded by the point's version and audited; everyone else refused (403 / 404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from fangkong.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.testing import services
from fangkong.testing.models import SamplingPoint
from tests.conftest import COUNTY, FUQIANG, GRID_A1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A)


@pytest.fixture
def point(cadre):
    return services.create_point(
        user=cadre,
        name="村委会",
        location="广场",
        region_code=GRID_A1,
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        lanes=1,
        throughput_per_lane_hour=60,
    )


@pytest.fixture
def staff(make_user):
    """Eligible samplers of the village, the county and the grid, and three who are not."""
    return {
        "village": make_user(Role.TESTING_STAFF, VILLAGE_A, username="cy_village"),
        "county": make_user(Role.TESTING_STAFF, COUNTY, username="cy_county"),
        "grid": make_user(Role.TESTING_STAFF, GRID_A1, username="cy_grid"),
        "elsewhere": make_user(Role.TESTING_STAFF, VILLAGE_C, username="cy_elsewhere"),
        "worker": make_user(Role.GRID_WORKER, GRID_A1, username="wg_a1"),
        "inactive": make_user(Role.TESTING_STAFF, VILLAGE_A, username="cy_gone", is_active=False),
    }


def staff_of(point) -> set[str]:
    return set(SamplingPoint.objects.get(pk=point.pk).staff.values_list("username", flat=True))


def test_a_planner_adds_and_removes_staff_on_the_point_page(cadre, point, staff):
    client = client_for(cadre)
    url = f"/testing/points/{point.pk}/"
    page = client.get(url).content.decode()
    assert "采样人员" in page and "尚未安排采样人员" in page
    for eligible in ("cy_village", "cy_county", "cy_grid"):
        assert eligible in page
    for other in ("cy_elsewhere", "wg_a1", "cy_gone"):
        assert other not in page
    # The list of points leads to the page.
    assert url in client.get("/testing/points/").content.decode()

    ids = [staff["village"].pk, staff["county"].pk]
    response = client.post(url, {"staff_ids": ids, "version": 1})
    assert response.status_code == 302 and response.url == url
    assert staff_of(point) == {"cy_village", "cy_county"}
    assert SamplingPoint.objects.get(pk=point.pk).version == 2
    shown = client.get(url).content.decode()
    assert "采样人员已更新" in shown and 'name="version" value="2"' in shown

    client.post(url, {"staff_ids": [staff["village"].pk], "version": 2})
    assert staff_of(point) == {"cy_village"}
    events = list(
        AuditEvent.objects.filter(object_type="testing.point", object_id=str(point.pk))
        .order_by("pk")
        .values_list("kind", "fields", "detail", "user")
    )
    assert events == [
        ("update", ["staff"], "+cy_county,cy_village --", cadre.pk),
        ("update", ["staff"], "+- -cy_county", cadre.pk),
    ]


def test_a_stale_staff_list_is_refused_not_applied(cadre, point, staff):
    client = client_for(cadre)
    url = f"/testing/points/{point.pk}/"
    client.post(url, {"staff_ids": [staff["village"].pk], "version": 1})
    # A second planner's form still holds version 1: it must not undo the first change.
    response = client.post(url, {"staff_ids": [staff["grid"].pk], "version": 1}, follow=True)
    assert "该记录已被他人修改" in response.content.decode()
    assert staff_of(point) == {"cy_village"}
    with pytest.raises(VersionConflict) as raised:
        services.set_point_staff(user=cadre, point_id=point.pk, staff_ids=[], expected_version=1)
    assert raised.value.current_version == 2


@pytest.mark.parametrize("who", ["elsewhere", "worker", "inactive"])
def test_only_eligible_testing_staff_can_be_added(cadre, point, staff, who):
    client = client_for(cadre)
    url = f"/testing/points/{point.pk}/"
    response = client.post(url, {"staff_ids": [staff[who].pk], "version": 1})
    assert response.status_code == 200  # the form again, with the reason
    assert staff_of(point) == set()
    with pytest.raises(ValidationFailed) as raised:
        services.set_point_staff(
            user=cadre, point_id=point.pk, staff_ids=[staff[who].pk], expected_version=1
        )
    assert raised.value.errors[0].field == "staff_ids"
    assert SamplingPoint.objects.get(pk=point.pk).version == 1


def test_the_staff_form_is_refused_to_other_roles_and_jurisdictions(make_user, cadre, point, staff):
    url = f"/testing/points/{point.pk}/"
    body = {"staff_ids": [staff["village"].pk], "version": 1}
    assert Client().get(url).status_code == 302  # to the login page
    assert Client().post(url, body).status_code == 302
    # Testing staff see the point and its staff, but may not change them.
    sampler = client_for(staff["village"])
    page = sampler.get(url)
    assert page.status_code == 200 and 'name="staff_ids"' not in page.content.decode()
    assert sampler.post(url, body).status_code == 403
    assert client_for(make_user(Role.SUPPLY_OFFICER, VILLAGE_A)).get(url).status_code == 403
    # A planner of another village does not see the point at all.
    outsider = client_for(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, body).status_code == 404
    assert staff_of(point) == set()
    assert AuditEvent.objects.filter(kind="denied", detail__contains=url).count() == 4


def test_a_village_planner_does_not_staff_the_township_point(make_user, cadre, staff):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    point = services.create_point(
        user=township,
        name="镇卫生院",
        location="院内",
        region_code=FUQIANG,
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        lanes=2,
        throughput_per_lane_hour=60,
    )
    url = f"/testing/points/{point.pk}/"
    village = client_for(cadre)
    page = village.get(url)
    assert page.status_code == 200 and 'name="staff_ids"' not in page.content.decode()
    assert village.post(url, {"staff_ids": [staff["county"].pk], "version": 1}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.set_point_staff(user=cadre, point_id=point.pk, staff_ids=[], expected_version=1)
    # The township's planner does; a village sampler works inside the township's region.
    ok = client_for(township).post(url, {"staff_ids": [staff["village"].pk], "version": 1})
    assert ok.status_code == 302 and staff_of(point) == {"cy_village"}


def test_new_points_take_only_eligible_staff(cadre, staff):
    point = services.create_point(
        user=cadre,
        name="小学",
        location="操场",
        region_code=GRID_A1,
        opens_at=dt.time(7),
        closes_at=dt.time(19),
        lanes=1,
        throughput_per_lane_hour=60,
        staff_ids=[staff["grid"].pk],
    )
    assert staff_of(point) == {"cy_grid"}
    with pytest.raises(ValidationFailed):
        services.create_point(
            user=cadre,
            name="小学二",
            location="操场",
            region_code=GRID_A1,
            opens_at=dt.time(7),
            closes_at=dt.time(19),
            lanes=1,
            throughput_per_lane_hour=60,
            staff_ids=[staff["elsewhere"].pk],
        )


# -- the API ---------------------------------------------------------------------------------


def put(client: ApiClient, path: str, body, **headers):
    import json

    return client.client.put(
        "/api/v1" + path, json.dumps(body), content_type="application/json", headers=headers
    )


def test_the_staff_api_reads_and_replaces_the_list_with_versions(cadre, point, staff):
    api = ApiClient(cadre)
    path = f"/testing/points/{point.pk}/staff"
    read = api.get(path)
    assert read.status_code == 200 and read["ETag"] == '"1"'
    assert read.json() == {"point_id": point.pk, "version": 1, "staff": []}

    missing = put(api, path, {"staff_ids": [staff["village"].pk]})
    assert missing.status_code == 428 and missing.json()["errors"][0]["field"] == "version"

    ids = [staff["village"].pk, staff["county"].pk]
    done = put(api, path, {"staff_ids": ids}, **{"If-Match": '"1"'})
    assert done.status_code == 200 and done["ETag"] == '"2"'
    assert {m["username"] for m in done.json()["staff"]} == {"cy_village", "cy_county"}
    assert api.get("/testing/points").json()[0]["version"] == 2

    stale = put(api, path, {"staff_ids": [], "version": 1})
    assert stale.status_code == 409
    bad = put(api, path, {"staff_ids": [staff["elsewhere"].pk], "version": 2})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "staff_ids"
    emptied = put(api, path, {"staff_ids": [], "version": 2})
    assert emptied.status_code == 200 and emptied.json() == {
        "point_id": point.pk,
        "version": 3,
        "staff": [],
    }
    assert AuditEvent.objects.filter(object_type="testing.point", channel="api").count() == 2


def test_the_staff_api_refuses_other_roles_and_jurisdictions(make_user, point, staff):
    path = f"/testing/points/{point.pk}/staff"
    body = {"staff_ids": [staff["village"].pk], "version": 1}
    assert ApiClient().get(path).status_code == 401
    assert put(ApiClient(), path, body).status_code == 401
    assert ApiClient(make_user(Role.SUPPLY_OFFICER, VILLAGE_A)).get(path).status_code == 403
    assert put(ApiClient(staff["village"]), path, body).status_code == 403
    outsider = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert outsider.get(path).status_code == 404
    assert put(outsider, path, body).status_code == 404
    assert staff_of(point) == set()
