"""core.uploads: zip bombs refused before any parser inflates them (issue 11)."""

from __future__ import annotations

import io
import resource

import pytest
from openpyxl import Workbook

from fangkong.core import uploads
from tests.bombs import forged_bomb, many_members, xlsx_bomb


def _workbook(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    for i in range(rows):
        sheet.append([f"张{i}", f"23023119850314{i % 10000:04d}", "13912345678", "富强村"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_ordinary_workbook_passes(tmp_path):
    content = _workbook(5000)
    uploads.check_archive(content)
    path = tmp_path / "a.xlsx"
    path.write_bytes(content)
    uploads.check_archive(path)


def test_something_that_is_not_a_zip_is_left_to_the_parser():
    uploads.check_archive(b"name,phone\n")
    uploads.check_archive(b"\xd0\xcf\x11\xe0 an old .xls")


def test_a_bomb_is_refused_by_its_ratio_without_inflating_it_into_memory():
    bomb = xlsx_bomb(256)
    assert len(bomb) < 2 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(uploads.UnsafeUpload) as refused:
        uploads.check_archive(bomb, max_total=1024 * 2**20)
    assert "压缩比异常" in refused.value.message
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 64 * 1024  # counted, never held


def test_a_bomb_within_the_ratio_is_refused_by_the_total():
    with pytest.raises(uploads.UnsafeUpload) as refused:
        uploads.check_archive(xlsx_bomb(16), max_total=4 * 2**20)
    assert "解压后" in refused.value.message


def test_a_forged_directory_does_not_hide_a_bomb():
    with pytest.raises(uploads.UnsafeUpload):
        uploads.check_archive(forged_bomb(64))


def test_thousands_of_members_are_refused():
    with pytest.raises(uploads.UnsafeUpload) as refused:
        uploads.check_archive(many_members(5000))
    assert "部件" in refused.value.message


def test_a_truncated_archive_is_refused_as_damaged():
    with pytest.raises(uploads.UnsafeUpload) as refused:
        uploads.check_archive(_workbook(200)[:-300])
    assert "损坏" in refused.value.message


def test_oversize():
    uploads.check_size(10, 10)
    with pytest.raises(uploads.UnsafeUpload) as refused:
        uploads.check_size(3 * 2**20, 2**20)
    assert "3 MB" in refused.value.message and "1 MB" in refused.value.message


def test_store_private_writes_0600_counts_and_cleans_up(tmp_path, make_user, settings):
    import stat

    user = make_user("village_cadre", "230231")
    folder = tmp_path / "uploads"
    kept = uploads.store_private(
        [b"abc", b"def"], folder, limit=100, user=user, kind="t", file_name="a.csv"
    )
    assert stat.S_IMODE(kept.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert kept.size == 6 and len(kept.digest) == 64
    uploads.record_upload(user, "t", "a.csv", kept)
    with pytest.raises(uploads.UnsafeUpload):
        uploads.store_private([b"x" * 101], folder, limit=100, user=user, kind="t", file_name="b")
    assert list(folder.iterdir()) == [kept.path]  # the refused partial file is gone
    settings.FANGKONG_UPLOAD_QUOTA_FILES = 1
    with pytest.raises(uploads.UnsafeUpload) as refused:
        uploads.store_private([b"x"], folder, limit=100, user=user, kind="t", file_name="c")
    assert "上限" in refused.value.message
    uploads.discard(kept.path, kept.digest)
    assert not kept.path.exists()
