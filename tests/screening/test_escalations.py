"""Escalated visits (超时升级的走访): the village sees what was escalated to the village, the
township what was escalated to the township, each within its jurisdiction; they hand a
visit to another grid worker of the area or make it themselves; denials and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.screening.models import Stay, VisitTask
from tests.conftest import BAIQUAN, FUQIANG, GRID_A1, GRID_A2, GRID_C1, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

from .test_pages import browser

PHONE = "13900003333"
MASKED = "139****3333"
API = "/screening"


def _task(person, *, escalation, hours_late, assignee=None):
    stay = Stay.objects.create(
        person=person,
        region_code=person.region_code,
        place="武汉市江汉区",
        arrived=dt.date(2022, 1, 3),
        left=dt.date(2022, 1, 5),
        source="police",
    )
    now = timezone.now()
    return VisitTask.objects.create(
        person=person,
        region_code=person.region_code,
        stay=stay,
        reason="武汉市江汉区停留",
        assignee=assignee,
        due_at=now - dt.timedelta(hours=hours_late),
        escalation=escalation,
        escalated_at=now if escalation else None,
    )


@pytest.fixture
def late(make_user, make_person):
    """Two escalated visits in village A (one to the village, one to the township), one in
    village C, one in village A not yet due; the grid worker of A1 and a second one."""
    worker = make_user(Role.GRID_WORKER, GRID_A1, display_name="王网格")
    spare = make_user(Role.GRID_WORKER, VILLAGE_A, display_name="李网格")
    tasks = {
        "village": _task(
            make_person(GRID_A1, "张伟", phone=PHONE),
            escalation=VisitTask.Escalation.VILLAGE,
            hours_late=3,
            assignee=worker,
        ),
        "township": _task(
            make_person(GRID_A1, "刘洋"), escalation=VisitTask.Escalation.TOWNSHIP, hours_late=30
        ),
        "other": _task(
            make_person(GRID_C1, "孙丽"), escalation=VisitTask.Escalation.VILLAGE, hours_late=2
        ),
        "on_time": _task(
            make_person(GRID_A1, "赵敏"),
            escalation=VisitTask.Escalation.NONE,
            hours_late=-1,
            assignee=worker,
        ),
    }
    return {"worker": worker, "spare": spare, **tasks}


def ids(answer):
    assert answer.status_code == 200, answer.content
    return {v["id"] for v in answer.json()}


def test_each_level_sees_its_escalations_within_its_jurisdiction(late, make_user):
    village, township = late["village"].pk, late["township"].pk
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    assert ids(cadre.get(f"{API}/visits/escalated")) == {village, township}
    assert ids(cadre.get(f"{API}/visits/escalated", {"level": "village"})) == {village}
    assert ids(cadre.get(f"{API}/visits/escalated", {"level": "township"})) == {township}
    town = ApiClient(make_user(Role.TOWNSHIP, FUQIANG))
    assert ids(town.get(f"{API}/visits/escalated")) == {township}
    assert ids(town.get(f"{API}/visits/escalated", {"level": "village"})) == {village}
    (row,) = [v for v in cadre.get(f"{API}/visits/escalated").json() if v["id"] == village]
    assert row["assignee_name"] == "王网格" and row["escalation"] == 1
    assert 175 <= row["overdue_minutes"] <= 185 and row["person"]["phone"] == PHONE
    other_town = ApiClient(make_user(Role.TOWNSHIP, BAIQUAN))
    assert ids(other_town.get(f"{API}/visits/escalated")) == set()
    assert ids(other_town.get(f"{API}/visits/escalated", {"level": "village"})) == {
        late["other"].pk
    }


def test_escalation_page_in_chinese_with_filter_and_home_badge(late, make_user):
    cadre = browser(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    home = cadre.get("/screening/").content.decode()
    assert "/screening/visits/escalated/" in home and "超时升级的走访" in home
    assert '<span class="badge" aria-label="2 条超时升级的走访">2</span>' in home
    page = cadre.get("/screening/visits/escalated/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "张伟" in body and "刘洋" in body and "孙丽" not in body and "赵敏" not in body
    assert "已升级到村" in body and "已升级到乡镇" in body and "王网格" in body
    assert "1天6小时" in body and "3小时0分钟" in body and PHONE in body
    assert "改派" in body and "李网格" in body and "本级自行走访" in body
    only = cadre.get("/screening/visits/escalated/", {"level": "township"}).content.decode()
    assert "刘洋" in only and "张伟" not in only
    town = browser(make_user(Role.TOWNSHIP, FUQIANG)).get("/screening/visits/escalated/")
    assert "刘洋" in town.content.decode() and "张伟" not in town.content.decode()


def test_village_reassigns_to_another_grid_worker_of_the_area(late, make_user):
    task, spare = late["village"], late["spare"]
    cadre_user = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    cadre = browser(cadre_user)
    answer = cadre.post(
        f"/screening/visits/escalated/{task.pk}/reassign/",
        {"assignee": spare.pk},
        headers={"HX-Request": "true"},
    )
    body = answer.content.decode()
    assert answer.status_code == 200 and "已改派给李网格" in body
    assert f'id="escalation-{task.pk}"' in body
    task.refresh_from_db()
    assert task.assignee == spare and task.reassigned_by == cadre_user
    assert task.escalation == VisitTask.Escalation.VILLAGE  # still late, still followed
    assert task.pk in ids(ApiClient(spare).get(f"{API}/visits"))
    assert task.pk not in ids(ApiClient(late["worker"]).get(f"{API}/visits"))
    # Only a grid worker whose area covers the person; not the same one twice.
    grid_a2 = make_user(Role.GRID_WORKER, GRID_A2)
    far = make_user(Role.GRID_WORKER, VILLAGE_C)
    api = ApiClient(cadre_user)
    for worker in (grid_a2, far, spare, cadre_user):
        answer = api.post(f"{API}/visits/{task.pk}/reassign", {"assignee_id": worker.pk})
        assert answer.status_code == 400, worker
        assert answer.json()["errors"][0]["field"] == "assignee"
    plain = cadre.post(
        f"/screening/visits/escalated/{task.pk}/reassign/", {"assignee": late["worker"].pk}
    )
    assert plain.status_code == 302 and plain.url == "/screening/visits/escalated/"
    task.refresh_from_db()
    assert task.assignee == late["worker"]


def test_village_or_township_makes_the_visit_itself(late, make_user):
    task = late["village"]
    cadre_user = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    cadre = browser(cadre_user)
    form = cadre.get(f"/screening/visits/escalated/{task.pk}/handle/").content.decode()
    assert "是否在家" in form and "返回超时升级的走访" in form and f'value="{PHONE}"' in form
    wrong = cadre.post(
        f"/screening/visits/escalated/{task.pk}/handle/", {"present": "yes", "health": "symptoms"}
    )
    assert wrong.status_code == 200 and "请填写症状或体温" in wrong.content.decode()
    done = cadre.post(
        f"/screening/visits/escalated/{task.pk}/handle/",
        {"present": "yes", "health": "normal", "temperature": "36.6", "phone": PHONE},
    )
    assert done.status_code == 302 and done.url == "/screening/visits/escalated/"
    task.refresh_from_db()
    assert task.status == "done" and task.done_by == cadre_user and task.present is True
    after = cadre.get("/screening/visits/escalated/").content.decode()
    assert "对张伟的走访已登记" in after and f'id="escalation-{task.pk}"' not in after
    town = ApiClient(make_user(Role.TOWNSHIP, FUQIANG))
    answer = town.post(
        f"{API}/visits/{late['township'].pk}/handle",
        {"present": False, "healthy": True, "note": "电话联系，已外出"},
    )
    assert answer.status_code == 200 and answer.json()["status"] == "done"
    again = town.post(
        f"{API}/visits/{late['township'].pk}/handle", {"present": True, "healthy": True}
    )
    assert again.status_code == 400
    not_late = town.post(
        f"{API}/visits/{late['on_time'].pk}/handle", {"present": True, "healthy": True}
    )
    assert not_late.status_code == 400
    assert late["on_time"].__class__.objects.get(pk=late["on_time"].pk).status == "open"


def test_escalation_denials_and_masking(late, make_user):
    task = late["village"]
    body = {"present": True, "healthy": True}
    reassign = {"assignee_id": late["spare"].pk}
    anon = ApiClient()
    assert anon.get(f"{API}/visits/escalated").status_code == 401
    assert anon.post(f"{API}/visits/{task.pk}/reassign", reassign).status_code == 401
    assert anon.post(f"{API}/visits/{task.pk}/handle", body).status_code == 401
    assert browser().get("/screening/visits/escalated/").status_code == 302  # to the login
    supply = make_user(Role.SUPPLY_OFFICER, VILLAGE_A)
    assert ApiClient(supply).get(f"{API}/visits/escalated").status_code == 403
    assert browser(supply).get("/screening/visits/escalated/").status_code == 403
    # Grid workers and doctors follow visits but do not receive escalations.
    for role, code in (
        (Role.GRID_WORKER, GRID_A1),
        (Role.VILLAGE_DOCTOR, VILLAGE_A),
        (Role.CHECKPOINT_STAFF, VILLAGE_A),
    ):
        user = make_user(role, code)
        api = ApiClient(user)
        assert api.post(f"{API}/visits/{task.pk}/reassign", reassign).status_code == 403
        assert api.post(f"{API}/visits/{task.pk}/handle", body).status_code == 403
        page = browser(user)
        assert (
            page.post(
                f"/screening/visits/escalated/{task.pk}/reassign/", {"assignee": late["spare"].pk}
            ).status_code
            == 403
        )
        assert page.get(f"/screening/visits/escalated/{task.pk}/handle/").status_code == 403
    outsider = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    api = ApiClient(outsider)
    assert api.post(f"{API}/visits/{task.pk}/reassign", reassign).status_code == 404
    assert api.post(f"{API}/visits/{task.pk}/handle", body).status_code == 404
    assert (
        browser(outsider)
        .post(f"/screening/visits/escalated/{task.pk}/reassign/", {"assignee": late["spare"].pk})
        .status_code
        == 404
    )
    assert (
        browser(outsider).get(f"/screening/visits/escalated/{task.pk}/handle/").status_code == 404
    )
    # A grid worker sees only the escalated visits of their own grid.
    other_grid = make_user(Role.GRID_WORKER, GRID_A2)
    assert ids(ApiClient(other_grid).get(f"{API}/visits/escalated")) == set()
    assert "张伟" not in browser(other_grid).get("/screening/visits/escalated/").content.decode()
    own = browser(late["worker"]).get("/screening/visits/escalated/").content.decode()
    assert "张伟" in own and "/reassign/" not in own  # no actions for the grid worker
    checkpoint = browser(make_user(Role.CHECKPOINT_STAFF, VILLAGE_A))  # masked ID and phone
    page = checkpoint.get("/screening/visits/escalated/").content.decode()
    assert "张伟" in page and MASKED in page and PHONE not in page
    assert task.person.id_number not in page
    task.refresh_from_db()
    assert task.status == "open" and task.assignee == late["worker"]
