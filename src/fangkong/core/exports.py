"""Spreadsheet exports that cannot carry a formula (issue 11: formula injection).

A name, an address or a place typed by anyone ends up in a cadre's Excel: written as it
came, ``=cmd|' /C calc'!A0`` or ``=HYPERLINK("http://…")`` becomes a live formula (xlsxwriter
turns strings starting with ``=`` into formulas by default) and Excel or WPS runs it when
the file is opened. Every export therefore writes through this module:

- :func:`workbook` — an xlsxwriter workbook whose strings stay strings
  (``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers`` off) and whose
  worksheets pass every string cell through :func:`neutralise`;
- :func:`neutralise` — a text starting with ``= + - @``, a tab or a carriage return gets a
  leading apostrophe (shown, so the reader sees the text was changed), except a plain
  number such as ``-3`` or ``+8613912345678``, which no spreadsheet runs;
- :func:`csv_writer` — the same for .csv files.

Formulas the code writes on purpose go through ``write_formula`` and are not touched.
"""

from __future__ import annotations

import csv
import re
from typing import IO, Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` safe to put in a spreadsheet cell: a text that a spreadsheet would read as
    a formula gets a leading apostrophe; anything else comes back unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWorksheet(Worksheet):
    """A worksheet whose string cells are neutralised, whichever write method is used."""

    def _write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        return super()._write_string(row, col, neutralise(string), cell_format)


class SafeWorkbook(xlsxwriter.Workbook):
    worksheet_class = SafeWorksheet


def workbook(out: Any, options: dict[str, Any] | None = None) -> SafeWorkbook:
    """An xlsxwriter workbook for exports (in memory unless told otherwise)."""
    settings = {"in_memory": True, **(options or {})}
    settings.update(strings_to_formulas=False, strings_to_urls=False, strings_to_numbers=False)
    return SafeWorkbook(out, settings)


class _SafeWriter:
    def __init__(self, handle: IO[str], **kwargs: Any) -> None:
        self.writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Any) -> Any:
        return self.writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Any) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str], **kwargs: Any) -> _SafeWriter:
    """``csv.writer`` whose cells are neutralised."""
    return _SafeWriter(handle, **kwargs)
