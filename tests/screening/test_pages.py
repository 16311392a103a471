"""The screening pages: a cadre downloads the template, uploads, sees the errors; denials."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time
from openpyxl import load_workbook

from fangkong.core.roles import Role
from fangkong.screening.models import LedgerImport
from tests.conftest import GRID_A1, VILLAGE_A, VILLAGE_C

from .test_ledgers import arrival, xlsx


@pytest.fixture(autouse=True)
def _ledger_dir(settings, tmp_path):
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"


def browser(user=None, language="zh-hans"):
    c = Client()
    if user is not None:
        c.force_login(user)
    c.cookies["django_language"] = language
    return c


@freeze_time("2022-01-10 12:00:00")
def test_cadre_template_upload_errors_in_chinese(make_user, policy, high_area):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    c = browser(cadre)
    from fangkong.screening.models import SourceRecord

    SourceRecord.objects.create(
        source="police", name="张伟", region_code=GRID_A1, reported_on="2022-01-05"
    )
    home = c.get("/screening/")
    body = home.content.decode()
    assert home.status_code == 200 and "风险地区" in body
    assert "公安名单有、村未上报" in body and GRID_A1[:12] not in body
    template = c.get("/screening/ledgers/arrivals/template.xlsx")
    assert load_workbook(io.BytesIO(template.content)).sheetnames == [
        "返乡人员台账",
        "填写说明",
        "村组名单",
    ]
    content = xlsx([arrival("张伟"), arrival("李娜", left="2022-13-40")])
    answer = c.post(
        "/screening/ledgers/upload/",
        {
            "kind": "arrivals",
            "source": "village",
            "mode": "valid",
            "file": SimpleUploadedFile("台账.xlsx", content),
        },
    )
    ledger = LedgerImport.objects.get()
    assert answer.status_code == 302 and answer.url == f"/screening/ledgers/imports/{ledger.pk}/"
    page = c.get(answer.url).content.decode()
    assert "不是有效日期" in page and "下载退回的行" in page
    assert c.get(f"/screening/ledgers/imports/{ledger.pk}/errors.xlsx").status_code == 200
    exported = c.get("/screening/ledgers/arrivals/export.xlsx")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/")


def test_pages_deny_by_role_and_login(make_user, county):
    assert browser().get("/screening/").status_code == 302  # to the login page
    supply = browser(make_user(Role.SUPPLY_OFFICER, VILLAGE_A))
    assert supply.get("/screening/").status_code == 403
    doctor = browser(make_user(Role.VILLAGE_DOCTOR, VILLAGE_A))
    assert doctor.get("/screening/").status_code == 200
    for path in (
        "/screening/ledgers/upload/",
        "/screening/ledgers/arrivals/template.xlsx",
        "/screening/ledgers/arrivals/export.xlsx",
    ):
        assert doctor.get(path).status_code == 403, path


@freeze_time("2022-01-10 12:00:00")
def test_import_page_of_someone_else_is_404(make_user, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    browser(cadre).post(
        "/screening/ledgers/upload/",
        {
            "kind": "arrivals",
            "source": "village",
            "mode": "all",
            "file": SimpleUploadedFile("a.xlsx", xlsx([arrival(region=GRID_A1)])),
        },
    )
    ledger = LedgerImport.objects.get()
    other = browser(make_user(Role.VILLAGE_CADRE, VILLAGE_C))
    assert other.get(f"/screening/ledgers/imports/{ledger.pk}/").status_code == 404
    assert other.get(f"/screening/ledgers/imports/{ledger.pk}/errors.xlsx").status_code == 404


def test_pages_in_english(make_user, county):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    page = browser(cadre, "en").get("/screening/").content.decode()
    assert "Risk areas in force" in page


def test_catalogue_is_complete_and_compiled():
    """Every msgid of the app's catalogue is translated and the .mo is up to date."""
    import subprocess
    from pathlib import Path

    from django.utils import translation

    import fangkong.screening as app

    po = Path(app.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in stats and "fuzzy" not in stats, stats
    mo = po.with_suffix(".mo")
    assert mo.stat().st_mtime >= po.stat().st_mtime - 1
    with translation.override("zh-hans"):
        assert translation.gettext("Import nothing if any row fails") == "有错误则全部不导入"
        assert translation.gettext("Export ledgers") == "导出台账"
