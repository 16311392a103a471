"""The line-list uploads refuse a zip bomb before parsing it (issue 11)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core.models import TaskRecord
from fangkong.core.roles import Role
from fangkong.tracing.models import Case
from tests.bombs import forged_bomb, xlsx_bomb
from tests.conftest import COUNTY, VILLAGE_A
from tests.people.conftest import ApiClient


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


@pytest.mark.parametrize("bomb", [xlsx_bomb, forged_bomb])
def test_the_api_import_refuses_a_bomb(hq, bomb):
    answer = ApiClient(hq).client.post(
        "/api/v1/tracing/imports",
        {"region_code": VILLAGE_A, "file": SimpleUploadedFile("一览表.xlsx", bomb(64))},
    )
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["field"] == "file"
    assert not Case.objects.exists()


def test_the_import_page_refuses_a_bomb(hq, client_for):
    page = client_for(hq).post(
        reverse("tracing:import"),
        {"region_code": VILLAGE_A, "file": SimpleUploadedFile("一览表.xlsx", xlsx_bomb(64))},
    )
    assert page.status_code == 200
    assert "压缩比异常" in page.content.decode()
    assert not Case.objects.exists()


def test_the_background_import_refuses_a_bomb(hq, client_for, settings, monkeypatch):
    from fangkong.tracing import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(tasks, "SYNC_LIMIT_BYTES", 1000)
    answer = client_for(hq).post(
        reverse("tracing:import"),
        {"region_code": VILLAGE_A, "file": SimpleUploadedFile("一览表.xlsx", forged_bomb(64))},
    )
    assert answer.status_code == 302
    record = TaskRecord.objects.get(kind=tasks.TASK_KIND)
    assert record.status == TaskRecord.Status.FAILED and "异常" in record.message
    assert not Case.objects.exists()
