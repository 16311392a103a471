"""The regions API and /me: the tree is public to region.view, its counts are jurisdictional."""

from __future__ import annotations

import pytest

from fangkong.core.models import Region
from fangkong.core.roles import MATRIX, Role
from tests.conftest import (
    BAIQUAN,
    COUNTY,
    FUQIANG,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    GRID_C1,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
)

from .conftest import ApiClient


@pytest.fixture
def populated(make_person):
    """Three people in village A (two grids), one in village B, two in village C."""
    for grid in (GRID_A1, GRID_A1, GRID_A2, GRID_B1, GRID_C1, GRID_C1):
        make_person(grid)


def _codes(items) -> list[str]:
    return [r["code"] for r in items]


def test_list_filters_by_level_and_prefix(hq_api, county):
    townships = hq_api.get("/regions", {"level": "township", "limit": 500}).json()
    assert len(townships["items"]) == 16  # 拜泉县's real townships
    assert {r["level"] for r in townships["items"]} == {"township"}
    under = hq_api.get("/regions", {"under": FUQIANG}).json()["items"]
    assert _codes(under) == [
        FUQIANG,
        VILLAGE_A,
        GRID_A1,
        GRID_A2,
        VILLAGE_B,
        VILLAGE_B + "001",
        VILLAGE_B + "002",
    ]
    villages = hq_api.get("/regions", {"level": "village", "under": FUQIANG}).json()["items"]
    assert _codes(villages) == [VILLAGE_A, VILLAGE_B]
    assert villages[0]["parent_code"] == FUQIANG
    assert villages[0]["generated"] is True
    by_name = hq_api.get("/regions", {"q": "富强"}).json()["items"]
    assert FUQIANG in _codes(by_name) and VILLAGE_A in _codes(by_name)


def test_list_pages_through_every_region_once(hq_api, county):
    total = Region.objects.count()
    seen, cursor = [], ""
    while True:
        params = {"limit": 7, "with_count": "true", **({"cursor": cursor} if cursor else {})}
        body = hq_api.get("/regions", params).json()
        assert body["count"] == total
        seen += _codes(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(Region.objects.values_list("code", flat=True))


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"level": "planet"}, 422, "level"),
        ({"under": "23a"}, 422, "under"),
        ({"under": "23\x00"}, 422, "under"),
        ({"limit": 0}, 422, "limit"),
        ({"cursor": "garbage"}, 400, "cursor"),
        ({"q": "x" * 65}, 422, "q"),
    ],
)
def test_bad_list_parameters_name_the_field(hq_api, county, params, status, field):
    response = hq_api.get("/regions", params)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field


def test_detail_has_parent_ancestors_children_and_counts(hq_api, populated):
    body = hq_api.get(f"/regions/{VILLAGE_A}").json()
    assert (body["name"], body["level"], body["statistical_code"]) == (
        "富强村",
        "village",
        VILLAGE_A,
    )
    assert body["parent"]["code"] == FUQIANG
    assert _codes(body["ancestors"]) == ["23", "2302", COUNTY, FUQIANG]
    assert [(c["code"], c["persons"]) for c in body["children"]] == [(GRID_A1, 2), (GRID_A2, 1)]
    assert body["persons"] == 3
    county_body = hq_api.get(f"/regions/{COUNTY}").json()
    assert county_body["persons"] == 6
    assert county_body["statistical_code"] == COUNTY + "000000"


def test_detail_of_unknown_or_malformed_code(hq_api, county):
    assert hq_api.get("/regions/230231999").status_code == 404
    malformed = hq_api.get("/regions/23x")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "code"


def test_counts_only_include_people_inside_the_users_jurisdiction(make_user, populated):
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    county_body = cadre.get(f"/regions/{COUNTY}").json()
    assert county_body["persons"] == 3  # village A's three, not the county's six
    children = {c["code"]: c["persons"] for c in county_body["children"]}
    assert children[FUQIANG] == 3
    assert children[BAIQUAN] == 0
    village_c = cadre.get(f"/regions/{VILLAGE_C}")
    assert village_c.status_code == 200  # the region itself is public
    assert village_c.json()["persons"] == 0


def test_role_without_person_view_gets_null_counts(make_user, populated):
    officer = ApiClient(make_user(Role.SUPPLY_OFFICER, COUNTY))
    body = officer.get(f"/regions/{COUNTY}").json()
    assert body["persons"] is None and body["households"] is None
    assert all(c["persons"] is None for c in body["children"])
    tree = officer.get("/regions/tree").json()
    assert tree[0]["persons"] is None


def test_tree_nests_to_the_requested_depth_with_counts(hq_api, populated):
    tree = hq_api.get("/regions/tree", {"root": FUQIANG, "depth": 2}).json()
    assert len(tree) == 1
    root = tree[0]
    assert (root["code"], root["persons"]) == (FUQIANG, 4)
    assert [(v["code"], v["persons"]) for v in root["children"]] == [(VILLAGE_A, 3), (VILLAGE_B, 1)]
    grids = root["children"][0]["children"]
    assert [(g["code"], g["persons"], g["children"]) for g in grids] == [
        (GRID_A1, 2, []),
        (GRID_A2, 1, []),
    ]
    shallow = hq_api.get("/regions/tree", {"root": FUQIANG, "depth": 0}).json()
    assert shallow[0]["children"] == []


def test_tree_defaults_to_the_users_own_regions(make_user, populated):
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A, VILLAGE_C))
    tree = cadre.get("/regions/tree").json()
    assert [(n["code"], n["persons"]) for n in tree] == [(VILLAGE_C, 2), (VILLAGE_A, 3)]
    assert [c["code"] for c in tree[1]["children"]] == [GRID_A1, GRID_A2]


def test_tree_counts_are_scoped_too(make_user, populated):
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    tree = cadre.get("/regions/tree", {"root": COUNTY, "depth": 3}).json()
    assert tree[0]["persons"] == 3
    baiquan = next(t for t in tree[0]["children"] if t["code"] == BAIQUAN)
    assert baiquan["persons"] == 0
    assert baiquan["children"][0]["code"] == VILLAGE_C


def test_tree_parameters_are_checked(hq_api, county):
    assert hq_api.get("/regions/tree", {"root": "230231999"}).status_code == 404
    deep = hq_api.get("/regions/tree", {"depth": 9})
    assert deep.status_code == 422
    assert deep.json()["errors"][0]["field"] == "depth"


def test_household_counts(hq_api, populated):
    hq_api.post("/households", {"address": "富强村1号", "region_code": GRID_A1})
    body = hq_api.get(f"/regions/{VILLAGE_A}").json()
    assert body["households"] == 1
    assert [c["households"] for c in body["children"]] == [1, 0]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_read_regions(make_user, county, role):
    api = ApiClient(make_user(role, VILLAGE_A))
    assert api.get("/regions", {"level": "county"}).status_code == 200
    assert api.get(f"/regions/{VILLAGE_C}").status_code == 200
    assert api.get("/regions/tree").status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_me_describes_the_caller(make_user, county, role):
    user = make_user(role, VILLAGE_A, GRID_C1, display_name="测试用户")
    body = ApiClient(user).get("/me").json()
    assert body["username"] == user.username
    assert body["display_name"] == "测试用户"
    assert body["role"] == role.value
    assert body["role_label"] == str(role.label)
    assert [r["code"] for r in body["regions"]] == sorted([VILLAGE_A, GRID_C1])
    assert body["actions"] == sorted(a.value for a in MATRIX[role])
    expected_fields = {
        f
        for f, a in (("id_number", "person.view_id_number"), ("phone", "person.view_phone"))
        if a in body["actions"]
    }
    assert set(body["unmasked_fields"]) == expected_fields


def test_openapi_documents_the_endpoints(hq_api):
    schema = hq_api.client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/regions",
        "/api/v1/regions/tree",
        "/api/v1/regions/{code}",
        "/api/v1/me",
        "/api/v1/persons",
        "/api/v1/persons/{person_id}",
        "/api/v1/persons/{person_id}/history",
        "/api/v1/households",
        "/api/v1/households/{household_id}",
    ):
        assert path in schema["paths"], path
    patch = schema["paths"]["/api/v1/persons/{person_id}"]["patch"]["responses"]
    assert {"200", "400", "404", "409", "422", "428"} <= set(patch)
