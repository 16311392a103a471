"""Every screening upload refuses a zip bomb before parsing it (issue 11)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.core.models import ApiToken
from fangkong.core.roles import Role
from fangkong.screening.models import LedgerImport, RiskArea
from tests.bombs import forged_bomb, xlsx_bomb
from tests.conftest import COUNTY, VILLAGE_A

API = "/api/v1/screening"


@pytest.fixture(autouse=True)
def _ledger_dir(settings, tmp_path):
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"


def _api(user):
    return Client(headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})


@pytest.mark.parametrize("bomb", [xlsx_bomb, forged_bomb])
def test_risk_area_import_refuses_a_bomb(make_user, bomb):
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    upload = SimpleUploadedFile("风险地区.xlsx", bomb(64))
    answer = _api(hq).post(f"{API}/risk-areas/import", {"file": upload})
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["field"] == "file" and ("压缩比" in error["message"] or "解压" in error["message"])
    assert not RiskArea.objects.exists()


def test_ledger_upload_through_the_api_refuses_a_bomb(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    answer = _api(cadre).post(
        f"{API}/ledgers/arrivals/imports",
        {"file": SimpleUploadedFile("台账.xlsx", xlsx_bomb(64)), "mode": "valid"},
    )
    assert answer.status_code == 202, answer.content
    record = LedgerImport.objects.get(pk=answer.json()["id"])
    assert record.status == LedgerImport.Status.REJECTED
    assert "压缩比异常" in record.message
    assert record.task.status == "failed" and "压缩比异常" in record.task.message


def test_ledger_upload_page_refuses_a_bomb(make_user, client_for):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    answer = client_for(cadre).post(
        reverse("screening:upload"),
        {
            "kind": "arrivals",
            "source": "village",
            "mode": "all",
            "file": SimpleUploadedFile("台账.xlsx", forged_bomb(64)),
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    record = LedgerImport.objects.get()
    assert record.status == LedgerImport.Status.REJECTED
    page = client_for(cadre).get(answer["Location"]).content.decode()
    assert "异常" in page
