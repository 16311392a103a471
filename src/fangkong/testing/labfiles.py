"""Reading a laboratory's result file (.xlsx or .csv) into (barcode, result, row) triples.

Labs send what their systems export: a header row somewhere near the top naming the tube
barcode and the result in Chinese or English, results written 阴性/阳性/无效 or
negative/positive/invalid (or +/-). Every value is read as text — a barcode typed into Excel
comes back from calamine as a float (``1.2e+11``) and is turned back into its digits. A row
that cannot be read is reported by row and column, never guessed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .models import TestResult

MAX_ROWS = 200_000
BARCODE_HEADERS = {
    "barcode",
    "tube",
    "tube barcode",
    "条码",
    "管码",
    "试管条码",
    "采样管条码",
    "样本条码",
    "条形码",
    "试管编号",
}
RESULT_HEADERS = {"result", "结果", "检测结果", "核酸结果", "检测结论"}
RESULTS = {
    "阴性": TestResult.NEGATIVE,
    "negative": TestResult.NEGATIVE,
    "neg": TestResult.NEGATIVE,
    "-": TestResult.NEGATIVE,
    "阴": TestResult.NEGATIVE,
    "阳性": TestResult.POSITIVE,
    "positive": TestResult.POSITIVE,
    "pos": TestResult.POSITIVE,
    "+": TestResult.POSITIVE,
    "阳": TestResult.POSITIVE,
    "无效": TestResult.INVALID,
    "invalid": TestResult.INVALID,
    "复检": TestResult.INVALID,
    "无效样本": TestResult.INVALID,
}


class LabFileError(Exception):
    """The file as a whole cannot be read (format, header); nothing was applied."""


@dataclass
class LabFile:
    results: list[tuple[str, str, int]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def parse_result(text: str) -> str | None:
    return RESULTS.get(text.strip().lower())


def read_rows(name: str, content: bytes) -> list[list[Any]]:
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm", ".xls")):
        from python_calamine import CalamineWorkbook

        from fangkong.core import uploads

        try:
            uploads.check_archive(content)  # a zip bomb is refused before calamine (issue 11)
        except uploads.UnsafeUpload as exc:
            raise LabFileError(exc.message) from None
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:
            raise LabFileError(_("The spreadsheet cannot be read: %(e)s") % {"e": exc}) from None
    if lower.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return list(csv.reader(io.StringIO(content.decode(encoding))))
            except UnicodeDecodeError:
                continue
        raise LabFileError(_("The CSV file is neither UTF-8 nor GB18030 text"))
    raise LabFileError(_("Send an .xlsx or .csv file"))


def parse(name: str, content: bytes) -> LabFile:
    """The results of a lab file; rows are numbered as the spreadsheet shows them (from 1)."""
    rows = read_rows(name, content)
    header_at = barcode_col = result_col = None
    for i, row in enumerate(rows[:20]):
        labels = [_text(c).lower() for c in row]
        b = next((j for j, v in enumerate(labels) if v in BARCODE_HEADERS), None)
        r = next((j for j, v in enumerate(labels) if v in RESULT_HEADERS), None)
        if b is not None and r is not None:
            header_at, barcode_col, result_col = i, b, r
            break
    if header_at is None or barcode_col is None or result_col is None:
        raise LabFileError(
            _("No header with a tube barcode column (条码) and a result column (结果) was found")
        )
    if len(rows) - header_at - 1 > MAX_ROWS:
        raise LabFileError(_("At most %(n)d rows a file") % {"n": MAX_ROWS})
    out = LabFile()
    for i, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = [_text(c) for c in row]
        if not any(cells):
            continue
        barcode = cells[barcode_col].upper() if barcode_col < len(cells) else ""
        result_text = cells[result_col] if result_col < len(cells) else ""
        if not barcode or len(barcode) > 32 or "\x00" in barcode:
            out.errors.append(
                {"row": i, "column": "barcode", "message": _("Missing or unreadable tube barcode")}
            )
            continue
        result = parse_result(result_text)
        if result is None:
            out.errors.append(
                {
                    "row": i,
                    "column": "result",
                    "message": _("Unknown result %(r)s (write 阴性, 阳性 or 无效)")
                    % {"r": result_text[:20]},
                }
            )
            continue
        out.results.append((barcode, result, i))
    return out
