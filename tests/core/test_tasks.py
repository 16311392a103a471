"""The task kit (issue 11): record, progress, Chinese failure, retry, reaper, heartbeats,
the worker's reconnect, and "worker last seen" on the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from fangkong.core import tasks
from fangkong.core.errors import PermissionDenied, VersionConflict
from fangkong.core.models import Region, TaskRecord, WorkerBeat
from fangkong.core.roles import Role

from . import kit_tasks

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE
    kit_tasks.CALLS.clear()


def _enqueue(user, code, fail=""):
    return tasks.enqueue(
        kit_tasks.add_region, title=f"添加 {code}", user=user, args=[code], kwargs={"fail": fail}
    )


def test_a_task_runs_with_its_record_and_arguments(immediate, make_user):
    user = make_user(Role.COUNTY_HQ, "230231")
    record = _enqueue(user, "990001")
    assert record.status == TaskRecord.Status.SUCCEEDED
    assert record.kind == "test.add_region" and record.attempts == 1
    assert record.message == "已添加 990001" and record.result == {"code": "990001"}
    assert record.percent == 100 and record.task_result_id
    assert record.arguments == {"args": ["990001"], "kwargs": {"fail": ""}}
    assert record.task_path == "tests.core.kit_tasks.add_region"


def test_an_expected_failure_shows_its_sentence_and_keeps_the_row_errors(immediate, make_user):
    record = _enqueue(make_user(Role.COUNTY_HQ, "230231"), "990002", "expected")
    assert record.status == TaskRecord.Status.FAILED
    assert record.message == "第 3 行：身份证号校验位错误"
    assert record.result == {"errors": [{"row": 3}]}
    assert not Region.objects.filter(code="990002").exists()


def test_an_unexpected_failure_is_chinese_and_never_raw_database_text(immediate, make_user):
    _enqueue(make_user(Role.COUNTY_HQ, "230231"), "990003", "crash")
    record = TaskRecord.objects.get(kind="test.add_region")
    assert record.status == TaskRecord.Status.FAILED
    assert record.message.startswith("添加失败，已全部撤销：")
    assert "secret_table" not in record.message
    assert not Region.objects.filter(code="990003").exists()


def test_retry_runs_the_failed_task_again_once_on_the_same_record(immediate, make_user, db):
    user = make_user(Role.VILLAGE_CADRE, "230231")
    _enqueue(user, "990004", "crash-once")
    record = TaskRecord.objects.get(kind="test.add_region")
    assert tasks.can_retry(user, record)
    again = tasks.retry(record, user=user)
    assert again.pk == record.pk and again.status == TaskRecord.Status.SUCCEEDED
    assert again.attempts == 2 and kit_tasks.CALLS == ["990004", "990004"]
    assert Region.objects.filter(code="990004").count() == 1
    with pytest.raises(VersionConflict):  # a second click on a finished task
        tasks.retry(again, user=user)


def test_only_the_owner_or_a_supervisor_may_retry(immediate, make_user):
    owner = make_user(Role.VILLAGE_CADRE, "230231")
    _enqueue(owner, "990005", "crash")
    record = TaskRecord.objects.get(kind="test.add_region")
    stranger = make_user(Role.VILLAGE_CADRE, "230231")
    assert not tasks.can_retry(stranger, record)
    with pytest.raises(PermissionDenied):
        tasks.retry(record, user=stranger)
    assert tasks.can_retry(make_user(Role.COUNTY_HQ, "230231"), record)


def test_a_record_that_already_ended_does_not_run_again(immediate, make_user):
    record = _enqueue(make_user(Role.COUNTY_HQ, "230231"), "990006")
    kit_tasks.add_region.call(record.pk, "990006")  # a second delivery of the same task
    assert kit_tasks.CALLS == ["990006"]


# ------------------------------------------------------------------ reaper and heartbeats


def _queued(settings, user, code):
    settings.TASKS = DATABASE
    return _enqueue(user, code)


def _claim(record, worker, minutes_ago):
    from django_tasks_db.models import DBTaskResult

    result = DBTaskResult.objects.get(pk=record.task_result_id)
    result.claim(worker)
    started = timezone.now() - dt.timedelta(minutes=minutes_ago)
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=started)
    TaskRecord.objects.filter(pk=record.pk).update(
        status=TaskRecord.Status.RUNNING, started_at=started, worker_id=worker
    )
    return result


def test_the_reaper_fails_the_tasks_of_a_worker_that_stopped_beating(settings, make_user):
    user = make_user(Role.COUNTY_HQ, "230231")
    dead, alive = _queued(settings, user, "990007"), _queued(settings, user, "990008")
    _claim(dead, "host:1:1", minutes_ago=10)
    _claim(alive, "host:2:1", minutes_ago=10)
    WorkerBeat.objects.create(
        worker_id="host:1:1", last_seen=timezone.now() - dt.timedelta(minutes=5)
    )
    tasks.beat("host:2:1")
    assert tasks.reap() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == TaskRecord.Status.FAILED and "停止响应" in dead.message
    assert "重试" in dead.message
    assert alive.status == TaskRecord.Status.RUNNING
    from django_tasks_db.models import DBTaskResult

    failed = DBTaskResult.objects.get(pk=dead.task_result_id)
    assert failed.status == "FAILED" and failed.exception_class_path.endswith("WorkerDied")
    assert tasks.reap() == 0  # once


def test_the_reaper_fails_a_record_whose_task_ended_without_saying_so(settings, make_user):
    from django_tasks_db.models import DBTaskResult

    record = _queued(settings, make_user(Role.COUNTY_HQ, "230231"), "990009")
    DBTaskResult.objects.filter(pk=record.task_result_id).update(status="FAILED")
    TaskRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert tasks.reap() == 1
    record.refresh_from_db()
    assert record.status == TaskRecord.Status.FAILED and "结果未能记录" in record.message


def test_a_queued_task_waits_for_a_worker_and_is_not_reaped(settings, make_user):
    record = _queued(settings, make_user(Role.COUNTY_HQ, "230231"), "990010")
    TaskRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert tasks.reap() == 0


def test_the_reaper_is_a_periodic_job():
    from fangkong.core import periodic

    assert "core.reap_tasks" in {job.name for job in periodic.jobs()}


def test_worker_status_and_its_warning_on_the_pages(db, make_user, client_for):
    hq = make_user(Role.COUNTY_HQ, "230231")
    assert tasks.worker_status().stale and tasks.worker_status().last_seen is None
    page = client_for(hq).get(reverse("web:tasks")).content.decode()
    assert "后台进程未在运行" in page and "从未启动过" in page
    assert "worker-down" in page  # the banner the supervising roles see on every page
    WorkerBeat.objects.create(worker_id="w", last_seen=timezone.now() - dt.timedelta(minutes=10))
    tasks._STATUS_CACHE.clear()
    page = client_for(hq).get(reverse("web:tasks")).content.decode()
    assert "后台进程未在运行" in page and "最后在线时间" in page
    tasks.beat("w")
    status = tasks.worker_status()
    assert not status.stale and status.seconds_ago is not None and status.seconds_ago < 5
    page = client_for(hq).get(reverse("web:tasks")).content.decode()
    assert "后台进程最后在线" in page and "后台进程未在运行" not in page


def test_the_retry_button_and_post(immediate, make_user, client_for):
    owner = make_user(Role.VILLAGE_CADRE, "230231")
    _enqueue(owner, "990011", "crash-once")
    record = TaskRecord.objects.get(kind="test.add_region")
    client = client_for(owner)
    page = client.get(reverse("web:task_detail", args=[record.pk])).content.decode()
    assert "重试" in page and "添加失败，已全部撤销" in page
    response = client.post(reverse("web:task_retry", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == TaskRecord.Status.SUCCEEDED
    stranger = client_for(make_user(Role.VILLAGE_CADRE, "230231"))
    assert stranger.post(reverse("web:task_retry", args=[record.pk])).status_code == 404


# ------------------------------------------------------------------ the worker's reconnect


def test_the_worker_reconnects_with_back_off_after_losing_the_database(monkeypatch, db):
    from django_tasks_db.management.commands.db_worker import Worker

    from fangkong.core.management.commands import worker as command

    runs = []

    def flaky(self):
        runs.append(1)
        if len(runs) < 4:
            raise OperationalError("server closed the connection unexpectedly")

    pauses: list[float] = []
    monkeypatch.setattr(Worker, "run", flaky)
    monkeypatch.setattr(command.time, "sleep", pauses.append)
    failed: list[str] = []
    monkeypatch.setattr(command, "fail_claimed_tasks", lambda who, why: failed.append(who) or 0)
    resilient = command.ResilientWorker(
        queue_names=["default"],
        interval=0.1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="host:9:1",
        excluded_queue_names=[],
    )
    resilient.run()
    assert len(runs) == 4
    assert pauses == [0.5, 1.0, 2.0]
    assert failed == ["host:9:1"] * 3  # what it ran when the connection went is failed


def test_persistent_connections_are_health_checked_on_postgresql(monkeypatch):
    from fangkong import settings as module

    config = module._env_database("X", "postgres://u@h:5432/db", conn_max_age=600)
    assert config["CONN_MAX_AGE"] == 600 and config["CONN_HEALTH_CHECKS"] is True
