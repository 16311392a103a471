"""Import of a pharmacy's real-name sales from its counter system (.xlsx or .csv).

Every row is checked before anything is stored: one bad row refuses the whole file, and the
errors name the row and the column. Rows are keyed by receipt number, so importing the same
file again (or a file overlapping one entered at the counter) adds nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangkong.core.errors import FieldError, ValidationFailed

from . import services
from .models import DrugClass

COLUMNS = {
    "小票号": "receipt_no",
    "销售时间": "sold_at",
    "药品类别": "drug_class",
    "药品名称": "drug_name",
    "购药人": "buyer_name",
    "身份证号": "buyer_id_number",
    "电话": "buyer_phone",
}
REQUIRED = ("小票号", "销售时间", "药品类别", "药品名称", "购药人")
CLASSES = {str(label): value for value, label in DrugClass.choices} | {
    v: v for v in DrugClass.values
}
MAX_ROWS = 5000
FIELD_COLUMN = {field: column for column, field in COLUMNS.items()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or receipt number read as a number
    return str(value).strip()


def read_rows(name: str, content: bytes) -> list[dict[str, Any]]:
    """The data rows of the file as {column: value}, with the header row checked."""
    if name.lower().endswith(".csv"):
        text = content.decode("utf-8-sig", errors="replace")
        table = [row for row in csv.reader(io.StringIO(text))]
    elif name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:
            raise ValidationFailed([FieldError("file", "无法读取该 Excel 文件")]) from None
        table = [list(row) for row in book.active.iter_rows(values_only=True)]
    else:
        raise ValidationFailed([FieldError("file", "请上传 .xlsx 或 .csv 文件")])
    if not table:
        raise ValidationFailed([FieldError("file", "文件是空的")])
    header = [_cell(h) for h in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationFailed([FieldError("file", "第1行缺少列：" + "、".join(missing))])
    rows = []
    for values in table[1:]:
        if not any(_cell(v) for v in values):
            continue
        rows.append({h: values[i] if i < len(values) else None for i, h in enumerate(header)})
    if len(rows) > MAX_ROWS:
        raise ValidationFailed([FieldError("file", f"一次最多导入{MAX_ROWS}行")])
    return rows


def _sold_at(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _cell(value).replace("/", "-")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("请写成 2026-12-03 09:30") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def import_sales(*, actor: Any, pharmacy_id: int, name: str, content: bytes) -> tuple[int, int]:
    """Import the file's sales for one pharmacy; returns (new sales, rows already known)."""
    rows = read_rows(name, content)
    errors: list[FieldError] = []
    inputs = []
    for number, row in enumerate(rows, start=2):
        try:
            sold_at = _sold_at(row.get("销售时间"))
        except ValueError as exc:
            errors.append(FieldError(f"第{number}行「销售时间」", str(exc)))
            continue
        drug_class = CLASSES.get(_cell(row.get("药品类别")), "")
        if not drug_class:
            errors.append(
                FieldError(f"第{number}行「药品类别」", "应为退烧药、止咳药、抗病毒药或抗生素")
            )
            continue
        inputs.append(
            (
                number,
                services.SaleInput(
                    receipt_no=_cell(row.get("小票号")),
                    drug_class=drug_class,
                    drug_name=_cell(row.get("药品名称")),
                    buyer_name=_cell(row.get("购药人")),
                    sold_at=sold_at,
                    buyer_id_number=_cell(row.get("身份证号")),
                    buyer_phone=_cell(row.get("电话")),
                ),
            )
        )
    created = repeated = 0
    with transaction.atomic():
        for number, data in inputs:
            try:
                with transaction.atomic():
                    _sale, new = services.record_sale(
                        actor=actor, pharmacy_id=pharmacy_id, data=data
                    )
            except ValidationFailed as exc:
                errors += [
                    FieldError(f"第{number}行「{FIELD_COLUMN.get(e.field, e.field)}」", e.message)
                    for e in exc.errors
                ]
                continue
            created, repeated = created + new, repeated + (not new)
        if errors:
            raise ValidationFailed(errors[:200], detail="文件有错误，未导入任何一行")
    return created, repeated
