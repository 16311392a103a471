"""Region tree with counts, households, and background-task progress pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.models import TaskRecord
from fangkong.core.roles import Role
from fangkong.people import services
from fangkong.people.models import Household
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, GRID_B1, VILLAGE_A, VILLAGE_B

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(make_person, household_a, zhang, wang_c):
    make_person(GRID_A2, "张维")
    make_person(GRID_B1, "赵六")
    Household.objects.create(region_id=GRID_B1, address="富强镇永胜村一组1号")
    return zhang


def _node(nodes, code):
    return next(n for n in nodes if n.code == code)


def test_tree_starts_at_the_jurisdiction_with_counts(make_user, login_client, populated):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    response = login_client(township).get("/regions/")
    (root,) = response.context["nodes"]
    assert (root.code, root.persons, root.households) == (FUQIANG, 3, 2)
    assert root.children == 2
    body = response.content.decode()
    assert "富强镇" in body and "乡镇（街道）" in body and f'hx-get="/regions/{FUQIANG}/"' in body


def test_children_load_as_a_partial_with_counts(make_user, login_client, populated):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    response = login_client(township).get(f"/regions/{FUQIANG}/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    nodes = response.context["nodes"]
    assert (_node(nodes, VILLAGE_A).persons, _node(nodes, VILLAGE_A).households) == (2, 1)
    assert (_node(nodes, VILLAGE_B).persons, _node(nodes, VILLAGE_B).households) == (1, 1)
    assert _node(nodes, VILLAGE_A).children == 2
    assert f"/persons/?region={VILLAGE_A}" in body


def test_counts_stay_inside_the_jurisdiction(make_user, login_client, populated):
    # A county user sees the whole county; a cadre of 富强村 sees only 富强村 in it.
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    (root,) = login_client(hq).get("/regions/").context["nodes"]
    assert (root.code, root.persons) == (COUNTY, 4)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    (root,) = login_client(cadre).get("/regions/").context["nodes"]
    assert (root.code, root.persons, root.households) == (VILLAGE_A, 2, 1)
    assert login_client(cadre).get(f"/regions/{FUQIANG}/").status_code == 404


def test_tree_queries_do_not_grow_with_the_number_of_nodes(make_user, login_client, populated):
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    client = login_client(hq)
    counted = {}
    for code in (COUNTY, FUQIANG):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/regions/{code}/", HTTP_HX_REQUEST="true")
        counted[code] = (len(response.context["nodes"]), len(queries))
    assert counted[COUNTY][0] == 16  # the 16 real townships of 拜泉县
    assert counted[FUQIANG][0] == 2
    assert counted[COUNTY][1] == counted[FUQIANG][1]


def test_supply_officer_sees_regions_without_people_counts(make_user, login_client, populated):
    officer = make_user(Role.SUPPLY_OFFICER, FUQIANG)
    response = login_client(officer).get("/regions/")
    (root,) = response.context["nodes"]
    assert root.persons is None and root.households is None
    assert "/persons/?region=" not in response.content.decode()


def test_household_list_detail_and_members(cadre, login_client, populated, household_a):
    client = login_client(cadre)
    response = client.get("/households/", {"q": "一组"})
    assert [row["address"] for row in response.context["rows"]] == ["富强镇富强村一组18号"]
    body = client.get(f"/households/{household_a.pk}/").content.decode()
    assert "张伟" in body and "户主" in body and "未编入十户联防单元" in body


def test_household_create_and_edit(cadre, login_client, county):
    client = login_client(cadre)
    response = client.post("/households/new/", {"address": "", "region_code": ""})
    form = response.context["form"]
    assert form.errors["address"] == ["住址不能为空"]
    assert form.errors["region_code"] == ["所属网格不能为空"]
    response = client.post("/households/new/", {"address": "富强村二组5号", "region_code": GRID_A2})
    household = Household.objects.get(address="富强村二组5号")
    assert response["Location"] == f"/households/{household.pk}/"
    response = client.post(
        f"/households/{household.pk}/edit/",
        {"address": "富强村二组6号", "region_code": GRID_A2, "version": 1},
    )
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.address, household.version) == ("富强村二组6号", 2)


def test_household_version_conflict(cadre, login_client, household_a):
    client = login_client(cadre)
    services.update_household(
        user=cadre, household_id=household_a.pk, expected_version=1, data={"address": "新住址1号"}
    )
    response = client.post(
        f"/households/{household_a.pk}/edit/",
        {"address": "另一个住址", "region_code": GRID_A1, "version": 1},
    )
    body = response.content.decode()
    assert "该记录已被他人修改，请刷新后重试" in body and "新住址1号" in body


@pytest.fixture
def tasks(cadre, make_user):
    other = make_user(Role.TOWNSHIP, FUQIANG)
    mine = TaskRecord.objects.create(
        kind="import",
        title="导入返乡人员名单",
        created_by=cadre,
        total=400,
        done=100,
        status=TaskRecord.Status.RUNNING,
    )
    done = TaskRecord.objects.create(
        kind="import",
        title="导入常住人口",
        created_by=cadre,
        total=10,
        done=10,
        status=TaskRecord.Status.SUCCEEDED,
        result={"created": 10, "errors": []},
    )
    theirs = TaskRecord.objects.create(kind="import", title="乡镇的导入", created_by=other)
    return mine, done, theirs


def test_task_list_shows_own_tasks_with_a_polling_progress_bar(cadre, login_client, tasks):
    mine, done, _theirs = tasks
    response = login_client(cadre).get("/tasks/")
    body = response.content.decode()
    assert [t.title for t in response.context["tasks"]] == ["导入常住人口", "导入返乡人员名单"]
    assert f'hx-get="/tasks/{mine.pk}/progress/" hx-trigger="every 1s"' in body
    assert f'hx-get="/tasks/{done.pk}/progress/"' not in body  # finished: no polling
    assert 'aria-valuenow="25"' in body and "进行中" in body and "已完成" in body


def test_progress_partial_stops_polling_when_done(cadre, login_client, tasks):
    mine, *_ = tasks
    client = login_client(cadre)
    assert "every 1s" in client.get(f"/tasks/{mine.pk}/progress/").content.decode()
    TaskRecord.objects.filter(pk=mine.pk).update(status=TaskRecord.Status.SUCCEEDED, done=400)
    body = client.get(f"/tasks/{mine.pk}/progress/").content.decode()
    assert "every 1s" not in body and 'aria-valuenow="100"' in body


def test_tasks_of_others_are_404_but_headquarters_sees_all(cadre, make_user, login_client, tasks):
    *_, theirs = tasks
    assert login_client(cadre).get(f"/tasks/{theirs.pk}/").status_code == 404
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    response = login_client(hq).get("/tasks/")
    assert len(response.context["tasks"]) == 3
    assert login_client(hq).get(f"/tasks/{theirs.pk}/").status_code == 200


def test_task_detail(cadre, login_client, tasks):
    _, done, _ = tasks
    body = login_client(cadre).get(f"/tasks/{done.pk}/").content.decode()
    assert "导入常住人口" in body and "结果" in body and "created" in body


def test_person_create_prefills_the_household(cadre, login_client, household_a):
    response = login_client(cadre).get(f"/persons/new/?household={household_a.pk}")
    assert response.context["form"]["household"].value() == str(household_a.pk)
    assert GRID_A1 in response.content.decode()
