"""Visit tasks: created for flagged persons after an evaluation, to the grid worker of the
grid, once per exposure; overdue ones escalate; the worker records the visit; denials."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time

from fangkong.core import assignments
from fangkong.core.roles import Role
from fangkong.screening import services
from fangkong.screening.models import Stay, VisitTask
from fangkong.screening.services import RuleInput
from tests.conftest import COUNTY, GRID_A1, GRID_A2, VILLAGE_A, VILLAGE_C
from tests.people.conftest import ApiClient

from .conftest import STANDARD_RULES


@freeze_time("2022-01-10 12:00:00")
def test_flagged_persons_get_one_visit_for_their_grid_worker(make_user, make_person, hq, high_area):
    worker = make_user(Role.GRID_WORKER, GRID_A1)
    assignments.assign_area(
        by_user=hq, user=worker, region_code=GRID_A1, kind="group", starts_on=dt.date(2022, 1, 1)
    )
    flagged = make_person(GRID_A1, "张伟")
    other_grid = make_person(GRID_A2, "李娜")
    for person in (flagged, other_grid):
        Stay.objects.create(
            person=person,
            region_code=person.region_code,
            place_code="420103",
            place="武汉市江汉区",
            arrived=dt.date(2022, 1, 3),
            left=dt.date(2022, 1, 5),
            source="police",
        )
    _policy, record = services.publish_policy(
        user=hq, region_code=COUNTY, title="v1", notice="", rules=STANDARD_RULES
    )
    record.refresh_from_db()
    assert "新增走访任务 2 条" in record.message
    task = VisitTask.objects.get(person=flagged)
    assert task.assignee == worker and "武汉市江汉区" in task.reason
    assert task.due_at == timezone.now() + dt.timedelta(hours=2)
    assert VisitTask.objects.get(person=other_grid).assignee is None
    services.publish_policy(
        user=hq,
        region_code=COUNTY,
        title="v2",
        notice="",
        rules=[RuleInput("high", 14, "home", days=14)],
    )
    assert VisitTask.objects.count() == 2  # same exposure: no second visit
    mine = ApiClient(worker).get("/screening/visits").json()
    assert {v["person"]["name"] for v in mine} == {"张伟"}  # 李娜 lives in another grid
    answer = ApiClient(worker).post(
        f"/screening/visits/{task.pk}/done",
        {"present": True, "healthy": True, "temperature": "36.5", "phone": "139 1234 5678"},
    )
    assert answer.status_code == 200, answer.content
    task.refresh_from_db()
    assert task.status == "done" and task.phone_checked == "13912345678"
    again = ApiClient(worker).post(
        f"/screening/visits/{task.pk}/done", {"present": True, "healthy": True}
    )
    assert again.status_code == 400


def test_overdue_visits_escalate_to_village_then_township(make_user, make_person, hq, high_area):
    person = make_person(GRID_A1)
    stay = Stay.objects.create(
        person=person,
        region_code=GRID_A1,
        place="武汉",
        arrived=dt.date(2022, 1, 3),
        left=dt.date(2022, 1, 5),
        source="police",
    )
    now = timezone.now()
    task = VisitTask.objects.create(
        person=person,
        region_code=GRID_A1,
        stay=stay,
        reason="x",
        due_at=now - dt.timedelta(hours=1),
    )
    call_command("screening_escalate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    task.refresh_from_db()
    assert task.escalation == VisitTask.Escalation.VILLAGE
    cadre = ApiClient(make_user(Role.VILLAGE_CADRE, VILLAGE_A))
    assert [v["id"] for v in cadre.get("/screening/visits", {"overdue": True}).json()] == [task.pk]
    VisitTask.objects.filter(pk=task.pk).update(due_at=now - dt.timedelta(hours=30))
    call_command("screening_escalate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    task.refresh_from_db()
    assert task.escalation == VisitTask.Escalation.TOWNSHIP


def test_visit_denials(make_user, make_person, county):
    person = make_person(GRID_A1)
    stay = Stay.objects.create(
        person=person,
        region_code=GRID_A1,
        place="武汉",
        arrived=dt.date(2022, 1, 3),
        left=dt.date(2022, 1, 5),
        source="police",
    )
    task = VisitTask.objects.create(
        person=person, region_code=GRID_A1, stay=stay, reason="x", due_at=timezone.now()
    )
    body = {"present": True, "healthy": True}
    assert ApiClient().get("/screening/visits").status_code == 401
    assert ApiClient().post(f"/screening/visits/{task.pk}/done", body).status_code == 401
    supply = ApiClient(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    assert supply.get("/screening/visits").status_code == 403
    doctor = ApiClient(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))
    assert doctor.post(f"/screening/visits/{task.pk}/done", body).status_code == 403
    outsider = ApiClient(make_user(Role.GRID_WORKER, VILLAGE_C))
    assert outsider.get("/screening/visits").json() == []
    assert outsider.post(f"/screening/visits/{task.pk}/done", body).status_code == 404


def test_escalation_is_a_periodic_job_of_the_worker():
    from fangkong.core import periodic

    assert "screening.escalate_visits" in {job.name for job in periodic.jobs()}
