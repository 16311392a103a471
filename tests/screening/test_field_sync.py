"""The grid worker's offline visits (issue 20), at the API: per-record answers, idempotency
by key, conflicts never overwritten, jurisdiction, revoked tokens, the work set's contents."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangkong.core import tokens
from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.screening import visits
from fangkong.screening.models import VisitTask
from tests.conftest import GRID_A1, GRID_A2, GRID_C1, VILLAGE_A
from tests.people.conftest import ApiClient

pytestmark = pytest.mark.django_db
SYNC = "/screening/field/sync"
WORKSET = "/screening/field/workset"


@pytest.fixture
def api_as():
    return ApiClient


@pytest.fixture
def worker(make_user):
    return make_user(Role.GRID_WORKER, GRID_A1, username="wangge", display_name="网格员小王")


@pytest.fixture
def make_task(make_visit_task):
    return make_visit_task


def _row(task, key=None, **fields):
    row = {
        "key": key or str(uuid.uuid4()),
        "task_id": task.pk,
        "taken_at": (timezone.now() - dt.timedelta(minutes=30)).isoformat(),
        "present": True,
    }
    row.update(fields)
    return row


def test_the_same_batch_twice_records_each_visit_once(api_as, worker, make_task):
    tasks = [make_task(name=f"人{i}") for i in range(3)]
    rows = [
        _row(tasks[0]),
        _row(tasks[1], healthy=False, temperature="38.2", symptoms="咳嗽"),
        _row(tasks[2], present=False, note="邻居说外出务工"),
    ]
    api = api_as(worker)
    first = api.post(SYNC, {"visits": rows})
    assert first.status_code == 200, first.content
    assert [r["status"] for r in first.json()["results"]] == ["stored"] * 3
    again = api.post(SYNC, {"visits": rows})
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 3
    assert again.json()["duplicates"] == 3
    done = {t.pk: t for t in VisitTask.objects.filter(status=VisitTask.Status.DONE)}
    assert len(done) == 3
    sick = done[tasks[1].pk]
    assert sick.healthy is False and str(sick.temperature) == "38.2"
    assert sick.note.startswith("症状：咳嗽")
    assert done[tasks[2].pk].present is False
    # Recorded at the time of the tap on the phone, not at the sync.
    taken = dt.datetime.fromisoformat(rows[0]["taken_at"])
    assert abs(done[tasks[0].pk].done_at - taken) < dt.timedelta(seconds=1)
    assert done[tasks[0].pk].done_by == worker


def test_a_visit_recorded_by_someone_else_meanwhile_is_a_conflict(
    api_as, worker, make_task, make_user
):
    task = make_task()
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, display_name="村书记")
    visits.complete(
        user=cadre,
        task_id=task.pk,
        present=False,
        healthy=True,
        temperature=None,
        phone="",
        note="",
    )
    answer = api_as(worker).post(SYNC, {"visits": [_row(task)]}).json()
    (result,) = answer["results"]
    assert result["status"] == "conflict" and "村书记" in result["message"]
    assert result["server"]["status"] == "done" and result["server"]["present"] is False
    task.refresh_from_db()
    assert task.present is False and task.done_by == cadre  # nothing overwritten


def test_a_visit_handed_to_another_worker_is_a_conflict(api_as, worker, make_task, make_user):
    other = make_user(Role.GRID_WORKER, GRID_A1, username="other")
    task = make_task(assignee=other)
    (result,) = api_as(worker).post(SYNC, {"visits": [_row(task)]}).json()["results"]
    assert result["status"] == "conflict" and "改派" in result["message"]
    assert VisitTask.objects.get(pk=task.pk).status == VisitTask.Status.OPEN


def test_a_bad_record_is_answered_alone_and_the_rest_is_stored(api_as, worker, make_task):
    good, bad = make_task(name="好"), make_task(name="坏")
    rows = [_row(bad, healthy=False, temperature="45.0"), _row(good)]
    results = api_as(worker).post(SYNC, {"visits": rows}).json()["results"]
    assert [r["status"] for r in results] == ["invalid", "stored"]
    assert results[0]["errors"][0]["field"] == "temperature"
    assert VisitTask.objects.get(pk=bad.pk).status == VisitTask.Status.OPEN


def test_a_phone_of_village_a_cannot_write_or_read_village_c(api_as, worker, make_task):
    foreign = make_task(region_code=GRID_C1, name="外村人")
    mine = make_task(region_code=GRID_A2, name="本村人")  # same village, another grid
    api = api_as(worker)
    (result,) = api.post(SYNC, {"visits": [_row(foreign)]}).json()["results"]
    assert result["status"] == "not_found"
    assert VisitTask.objects.get(pk=foreign.pk).status == VisitTask.Status.OPEN
    response = api.get(WORKSET)
    assert response.status_code == 200
    text = response.content.decode()
    assert "外村人" not in text and "本村人" not in text  # a grid worker's own grid only
    own = make_task(name="自己网格")
    body = api.get(WORKSET).json()
    assert [v["task_id"] for v in body["visits"]] == [own.pk]
    assert own.person.id_number not in api.get(WORKSET).content.decode()
    assert own.person.phone not in api.get(WORKSET).content.decode()
    assert mine.pk not in [v["task_id"] for v in body["visits"]]


def test_a_revoked_phone_is_refused_and_other_roles_are_403(api_as, worker, make_task, make_user):
    task = make_task()
    api = api_as(worker)
    assert api.get(WORKSET).status_code == 200
    token = ApiToken.objects.get(user=worker)
    tokens.revoke(user=worker, token_id=token.pk, channel="web")
    assert api.post(SYNC, {"visits": [_row(task)]}).status_code == 401
    assert api.get(WORKSET).status_code == 401
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)  # may see screening, not record visits
    assert api_as(doctor).post(SYNC, {"visits": [_row(task)]}).status_code == 403
    assert api_as(None).get(WORKSET).status_code == 401
    assert VisitTask.objects.get(pk=task.pk).status == VisitTask.Status.OPEN


def test_malformed_keys_and_empty_batches_are_422(api_as, worker, make_task):
    task = make_task()
    api = api_as(worker)
    assert api.post(SYNC, {"visits": [_row(task, key="has space")]}).status_code == 422
    assert api.post(SYNC, {"visits": []}).status_code == 422


def test_the_visits_page_carries_the_offline_queue(client_for, worker, make_task):
    task = make_task()
    page = client_for(worker).get("/screening/visits/").content.decode()
    assert "data-field-visits" in page and f'id="visit-{task.pk}"' in page
    assert "立即同步" in page and "/api/v1/screening/field/sync" in page
    # Without the script the one-tap form still posts to the visit form.
    response = client_for(worker).post(
        f"/screening/visits/{task.pk}/", {"present": "yes", "health": "normal"}
    )
    assert response.status_code == 302
    assert VisitTask.objects.get(pk=task.pk).status == VisitTask.Status.DONE


def test_a_batch_is_audited_per_visit_and_a_twin_record_is_a_duplicate(api_as, worker, make_task):
    from fangkong.core.models import AuditEvent

    first, second = make_task(name="甲"), make_task(name="乙")
    twin = _row(first)
    rows = [twin, dict(twin), _row(second)]
    results = api_as(worker).post(SYNC, {"visits": rows}).json()["results"]
    assert [r["status"] for r in results] == ["stored", "duplicate", "stored"]
    audited = AuditEvent.objects.filter(object_type="visit_task", channel="field")
    assert sorted(audited.values_list("object_id", flat=True)) == sorted(
        [str(first.pk), str(second.pk)]
    )
    assert {e.username for e in audited} == {"wangge"}


def _backdate(*tasks, hours=2):
    from fangkong.people.models import Person

    past = timezone.now() - dt.timedelta(hours=hours)
    VisitTask.objects.filter(pk__in=[t.pk for t in tasks]).update(created_at=past)
    Person.objects.filter(pk__in=[t.person_id for t in tasks]).update(updated_at=past)


def test_the_work_set_since_a_cursor_sends_only_what_changed(api_as, worker, make_task, make_user):
    kept, done, renamed = (make_task(name=n) for n in ("留下", "已访", "改名前"))
    _backdate(kept, done, renamed)
    api = api_as(worker)
    first = api.get(WORKSET).json()
    assert first["full"] is True
    assert sorted(v["task_id"] for v in first["visits"]) == sorted([kept.pk, done.pk, renamed.pk])
    assert sorted(first["open_ids"]) == sorted([kept.pk, done.pk, renamed.pk])

    # Nothing changed: no entry is sent again, only the list of open visits.
    again = api.get(WORKSET, {"since": first["cursor"]}).json()
    assert again["full"] is False and again["visits"] == []
    assert sorted(again["open_ids"]) == sorted(first["open_ids"])

    # A new visit, a visit done at the door, a person renamed in the registry.
    new = make_task(name="新来的")
    visits.complete(
        user=worker,
        task_id=done.pk,
        present=True,
        healthy=True,
        temperature=None,
        phone="",
        note="",
    )
    renamed.person.name = "改名后"
    renamed.person.updated_at = timezone.now()
    renamed.person.save(update_fields=["name", "updated_at"])
    delta = api.get(WORKSET, {"since": first["cursor"]}).json()
    assert delta["full"] is False
    assert {v["task_id"]: v["person_name"] for v in delta["visits"]} == {
        new.pk: "新来的",
        renamed.pk: "改名后",
    }
    assert sorted(delta["open_ids"]) == sorted([kept.pk, renamed.pk, new.pk])


def test_a_cursor_of_another_scope_or_malformed_gets_the_whole_set(
    api_as, worker, make_task, make_user
):
    task = make_task(name="本网格")
    _backdate(task)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    foreign_cursor = api_as(cadre).get(WORKSET).json()["cursor"]
    api = api_as(worker)
    for since in (foreign_cursor, "v1.abc.def", "garbage", "v1.99999999999999999.x"):
        body = api.get(WORKSET, {"since": since}).json()
        assert body["full"] is True, since
        assert [v["task_id"] for v in body["visits"]] == [task.pk]
    assert api.get(WORKSET, {"since": "x" * 65}).status_code == 422
