"""Every screening export writes what people typed as text, never as a formula (issue 11)."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from fangkong.core.roles import Role
from fangkong.screening.models import Stay
from tests.conftest import COUNTY, VILLAGE_A
from tests.core.test_exports import assert_neutral

from .test_ledgers import API, arrival, client, csv_bytes, upload

CALC = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example")'  # no comma: the CSV helper splits on it


@pytest.fixture(autouse=True)
def _today(settings, tmp_path):
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"
    with freeze_time("2022-01-10 12:00:00"):
        yield


def test_the_ledger_export_writes_typed_text_as_text(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    rows = [arrival("张伟", 从何地来=CALC, 交通方式及车次=LINK)]
    answer = upload(cadre, csv_bytes(rows), "台账.csv")
    assert answer.json()["status"] == "done", answer.json()
    assert Stay.objects.filter(place=CALC).exists()  # stored as typed
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    export = client(hq).get(f"{API}/ledgers/arrivals/export.xlsx")
    assert export.status_code == 200, export.content
    assert_neutral(export.content, [CALC, LINK])


def test_the_error_report_writes_the_bad_values_as_text(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    answer = upload(cadre, csv_bytes([arrival("张伟", id_number=CALC, left=LINK)]), "台账.csv")
    body = answer.json()
    assert body["rows_rejected"] == 1, body
    report = client(cadre).get(f"{API}/ledgers/imports/{body['id']}/errors.xlsx")
    assert report.status_code == 200
    assert_neutral(report.content, [LINK])
