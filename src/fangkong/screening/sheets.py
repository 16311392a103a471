"""Reading tables that cadres upload: .xlsx (python-calamine) and .csv (UTF-8, GBK, GB18030).

Every cell comes back as text, because an ID number or a phone read as a number loses its
leading zeros or turns into ``1.3912345678e10``; calamine hands numbers over as floats, so
whole floats are written back without ``.0``. Dates in real date cells become
``YYYY-MM-DD``. What makes a file unusable is refused with a Chinese sentence naming the
fault: an old .xls renamed to .xlsx, merged cells, an empty sheet, a file over the
configured size limit. A formula (the value shown is not the value stored) is located by
row and column, so the import refuses that row alone when it keeps the valid rows.

Encoding of a .csv: Chinese Excel saves "CSV" in GBK (GB18030 is its superset); UTF-8 with
or without BOM is tried first, since valid UTF-8 Chinese is almost never valid GBK text by
accident, then GB18030.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from fangkong.core import uploads

_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class SheetError(Exception):
    """The file cannot be read as a table; ``message`` is for the cadre."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (spreadsheet row number, cells as text)
    total: int
    # Cells holding a formula, {row number: [column index, ...]} (their value is refused).
    formulas: dict[int, list[int]] = field(default_factory=dict)


def max_bytes() -> int:
    return int(settings.FANGKONG_LEDGER_MAX_BYTES)


def max_unpacked_bytes() -> int:
    """A million-row ledger's sheet XML is about 650 MB; more than this is refused."""
    return int(getattr(settings, "FANGKONG_LEDGER_MAX_UNPACKED_BYTES", 1024 * 1024 * 1024))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value).strip()


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SheetError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx") from None


_CELL_FORMULA = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]+)"[^>]*>\s*<(?:\w+:)?f[ >/]'
)
_SHEET_REL = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"')
FORMULA_MESSAGE = "含有公式：请复制后“选择性粘贴—数值”，再导入"


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The part name of the workbook's first sheet (the one that is read)."""
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return "xl/worksheets/sheet1.xml"
    found = _SHEET_REL.search(book)
    if found is None:
        return "xl/worksheets/sheet1.xml"
    rel = re.search(rb'<Relationship\b[^>]*?Id="' + re.escape(found.group(1)) + rb'"[^>]*>', rels)
    target = re.search(rb'Target="([^"]+)"', rel.group(0)) if rel else None
    if target is None:
        return "xl/worksheets/sheet1.xml"
    name = target.group(1).decode()
    return name.lstrip("/") if name.startswith("/") else "xl/" + name


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def _check_formulas(path: Path) -> dict[int, list[int]]:
    """The formula cells of the first sheet, {row number: [column index, ...]}: each such row
    is refused with its row and column, the others can still be imported. A formula in the
    header row, or one whose cell cannot be located, refuses the file. The sheet XML of a
    million-row ledger is over 600 MB, so each chunk is first searched for the two byte
    pairs a formula tag needs (a C-speed substring test) and only a chunk that has one goes
    to the regexes."""
    found: dict[int, set[int]] = {}
    with zipfile.ZipFile(path) as archive:
        name = _first_sheet(archive)
        if name not in archive.namelist():
            return {}
        with archive.open(name) as sheet:
            tail = b""
            while chunk := sheet.read(1 << 22):
                window = tail + chunk
                if (b"<f" in window or b":f" in window) and _FORMULA.search(window):
                    located = False
                    for letters, row in _CELL_FORMULA.findall(window):
                        found.setdefault(int(row), set()).add(_column_index(letters))
                        located = True
                    if not located and not _FORMULA.search(tail + b" "):
                        raise SheetError("表格" + FORMULA_MESSAGE)
                tail = window[-512:]
    if 1 in found:
        raise SheetError("表头" + FORMULA_MESSAGE)
    return {row: sorted(columns) for row, columns in found.items()}


def read(path: Path, file_name: str) -> Table:
    """Open ``path`` (uploaded as ``file_name``) as a table with its header row."""
    size = path.stat().st_size
    if size > max_bytes():
        raise SheetError(
            f"文件过大（{size / 1048576:.1f} MB），上限为 "
            f"{max_bytes() / 1048576:.0f} MB；请拆分后分批导入"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = Path(file_name).suffix.lower()
    if head.startswith(XLS_MAGIC) or suffix == ".xls":
        raise SheetError("这是旧版 Excel（.xls）文件：请在 Excel 中“另存为”.xlsx 后再导入")
    if suffix == ".xlsx":
        if not head.startswith(b"PK"):
            raise SheetError("文件扩展名为 .xlsx，但内容不是 Excel 表格")
        try:
            # A zip bomb is refused before calamine inflates it (issue 11).
            uploads.check_archive(path, max_total=max_unpacked_bytes())
        except uploads.UnsafeUpload as exc:
            raise SheetError(exc.message) from None
        return _read_xlsx(path)
    if suffix == ".csv":
        return _read_csv(path)
    raise SheetError("只能导入 .xlsx 或 .csv 文件")


def _read_xlsx(path: Path) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook

    # The formula scan (inflating the sheet XML) and calamine's parse both run outside the
    # GIL for most of their time, so they run side by side.
    with ThreadPoolExecutor(1, thread_name_prefix="formula-scan") as pool:
        formulas = pool.submit(_check_formulas, path)
        try:
            book = CalamineWorkbook.from_path(str(path))
            sheet = book.get_sheet_by_index(0)
            merged = sheet.merged_cell_ranges
        except (CalamineError, zipfile.BadZipFile, ValueError) as exc:
            formulas.cancel()
            raise SheetError(f"无法读取 Excel 文件：{exc}") from None
        if merged:
            (r0, c0), _end = merged[0]
            raise SheetError(
                f"表格含有合并单元格（第 {r0 + 1} 行第 {c0 + 1} 列起）："
                "请取消合并并在每一行填写完整后再导入"
            )
        formula_cells = formulas.result()
    # Rows are converted to Python lazily, as the import consumes them: a million-row sheet
    # is not held twice (as calamine's cells and as Python lists) and the conversion runs in
    # the import's reader thread.
    data = sheet.iter_rows()
    first = next(data, None)
    headers = [_text(v) for v in first or ()]
    if not any(headers):
        raise SheetError("第一个工作表是空的：请在第一个工作表中填写表头和数据")
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(data, start=2):
            cells = [_text(v) for v in values[:width]]
            if any(cells):
                yield number, cells + [""] * (width - len(cells))

    return Table(headers, rows(), max(sheet.height - 1, 0), formula_cells)


def _read_csv(path: Path) -> Table:
    text = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text))
    headers = [h.strip() for h in next(reader, [])]
    if not any(headers):
        raise SheetError("文件是空的：请填写表头和数据")
    width = len(headers)
    total = max(text.count("\n") - 1, 0)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(reader, start=2):
            cells = [v.strip() for v in values[:width]]
            if any(cells):
                yield number, cells + [""] * (width - len(cells))

    return Table(headers, rows(), total)
