"""The laboratory result uploads refuse a zip bomb before parsing it (issue 11): the
1.2 MB .xlsx that took the web server down through this endpoint."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.core.models import TaskRecord
from fangkong.testing import labfiles
from fangkong.testing import tasks as background
from fangkong.testing.models import UnmatchedResult
from tests.bombs import forged_bomb, xlsx_bomb
from tests.people.conftest import ApiClient


@pytest.mark.parametrize("bomb", [xlsx_bomb, forged_bomb])
def test_the_api_upload_refuses_a_bomb(round_, sampler, bomb):
    answer = ApiClient(sampler).client.post(
        f"/api/v1/testing/campaigns/{round_.pk}/results/file",
        {"file": SimpleUploadedFile("结果.xlsx", bomb(64))},
    )
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["field"] == "file" and ("压缩比" in error["message"] or "解压" in error["message"])
    assert not UnmatchedResult.objects.exists()


def test_the_results_page_refuses_a_bomb(round_, sampler, client_for):
    page = client_for(sampler).post(
        reverse("testing:results", args=[round_.pk]),
        {"file": SimpleUploadedFile("结果.xlsx", xlsx_bomb(64))},
    )
    assert page.status_code == 200
    assert "压缩比异常" in page.content.decode()
    assert not UnmatchedResult.objects.exists()


def test_the_background_import_refuses_a_bomb(round_, sampler, tmp_path):
    path = tmp_path / "结果.xlsx"
    path.write_bytes(xlsx_bomb(64))
    record = TaskRecord.objects.create(kind="testing.results", title="t", created_by=sampler)
    background.import_results_file.call(record.pk, campaign_id=round_.pk, path=str(path))
    record.refresh_from_db()
    assert record.status == TaskRecord.Status.FAILED and "压缩比异常" in record.message
    assert not path.exists()


def test_the_parser_itself_refuses_a_bomb():
    with pytest.raises(labfiles.LabFileError):
        labfiles.parse("x.xlsx", forged_bomb(64))
