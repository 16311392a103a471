"""Uploaded ledgers (issue 11): stored readable by the server alone, deleted after the
import with the digest kept, and a per-user upload quota."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time

from fangkong.core.models import Upload
from fangkong.core.roles import Role
from fangkong.screening.models import LedgerImport
from tests.conftest import VILLAGE_A

from .test_ledgers import arrival, csv_bytes, upload


@pytest.fixture(autouse=True)
def _today(settings, tmp_path):
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"
    with freeze_time("2022-01-10 12:00:00"):
        yield


@pytest.fixture
def cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_queued_ledger_is_readable_by_the_server_alone(cadre, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    answer = upload(cadre, csv_bytes([arrival("张伟")]), "台账.csv")
    assert answer.status_code == 202
    record = LedgerImport.objects.get()
    assert record.status == LedgerImport.Status.QUEUED
    assert _mode(Path(record.path)) == 0o600
    assert _mode(Path(settings.FANGKONG_LEDGER_DIR)) == 0o700


def test_the_file_is_deleted_after_the_import_and_its_digest_kept(cadre, settings):
    content = csv_bytes([arrival("张伟")])
    answer = upload(cadre, content, "台账.csv")
    assert answer.json()["status"] == "done"
    record = LedgerImport.objects.get()
    assert not Path(record.path).exists()
    assert list(Path(settings.FANGKONG_LEDGER_DIR).iterdir()) == []
    digest = hashlib.sha256(content).hexdigest()
    assert record.file_hash == digest
    kept = Upload.objects.get()
    assert (kept.digest, kept.size, kept.user_id) == (digest, len(content), cadre.pk)
    assert kept.deleted_at is not None
    # The same file again is recognised row by row, though the first copy is gone.
    again = upload(cadre, content, "台账.csv").json()
    assert again["rows_imported"] == 0 and again["rows_existing"] == 1


def test_a_rejected_file_is_deleted_too(cadre, settings):
    answer = upload(cadre, b"not,a,ledger\n1,2,3\n", "台账.csv")
    assert answer.json()["status"] == "rejected"
    assert list(Path(settings.FANGKONG_LEDGER_DIR).iterdir()) == []


def test_the_daily_quota_of_files_and_bytes(cadre, make_user, settings):
    settings.FANGKONG_UPLOAD_QUOTA_FILES = 2
    for name in ("甲", "乙"):
        assert upload(cadre, csv_bytes([arrival(name)]), "台账.csv").status_code == 202
    refused = upload(cadre, csv_bytes([arrival("丙")]), "台账.csv")
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert error["field"] == "file" and "上限" in error["message"]
    other = make_user(Role.VILLAGE_CADRE, VILLAGE_A)  # the quota is per user
    assert upload(other, csv_bytes([arrival("丁")]), "台账.csv").status_code == 202
    settings.FANGKONG_UPLOAD_QUOTA_FILES = 100
    settings.FANGKONG_UPLOAD_QUOTA_BYTES = 1000
    big = upload(cadre, csv_bytes([arrival(f"名{i}") for i in range(20)]), "台账.csv")
    assert big.status_code == 400 and "上限" in big.json()["errors"][0]["message"]
    assert list(Path(settings.FANGKONG_LEDGER_DIR).glob("upload-*")) == []  # no partial file
    with freeze_time("2022-01-11 12:00:01"):  # a day later
        assert upload(cadre, csv_bytes([arrival("戊")]), "台账.csv").status_code == 202
