"""Excel in and out: the stock-count import (盘点表), the issue ledger of a receiving unit
(领用台账) and the stock with days of cover.

The import checks every row before it stores anything; errors name the row and the column
("第3行 实盘数量：请填写数字"); a file with any error changes nothing. A good file becomes one
stock-take movement per row, all in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import xlsxwriter
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from fangkong.core.errors import FieldError, ValidationFailed
from fangkong.core.permissions import require
from fangkong.core.roles import Action

from . import selectors, services
from .models import Item, Movement, MovementKind, Recipient

COUNT_COLUMNS = ("仓库", "物资", "实盘数量", "批号", "备注")
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejected(ValidationFailed):
    """A file with errors: nothing was stored."""

    def __init__(self, rows: list[RowError]) -> None:
        super().__init__(
            [FieldError(f"第{e.row}行 {e.column}", e.message) for e in rows],
            detail=f"盘点表有{len(rows)}处错误，未导入任何数据",
        )
        self.rows = rows


def count_template(actor: Any) -> bytes:
    """A blank stock-count sheet listing the actor's stores and every item with stock."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("盘点表")
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, COUNT_COLUMNS, bold)
    row = 1
    for board in selectors.stock_board(actor):
        for line in board.rows:
            sheet.write_row(row, 0, [board.warehouse.name, line.item.name])
            row += 1
    sheet.set_column(0, 1, 22)
    sheet.set_column(2, 4, 14)
    book.close()
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def import_counts(*, actor: Any, content: bytes, file_name: str = "") -> int:
    """Apply a stock-count sheet: each row sets an item's balance in a store to the count
    (a stock-take movement of the difference). Returns the rows applied."""
    require(actor, Action.SUPPLIES_MOVE)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ImportRejected([RowError(1, "文件", "不是有效的 .xlsx 文件")]) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    where = {name: header.index(name) for name in COUNT_COLUMNS if name in header}
    missing = [name for name in COUNT_COLUMNS[:3] if name not in where]
    if missing:
        raise ImportRejected([RowError(1, name, "缺少此列") for name in missing])
    stores = {w.name: w for w in selectors.warehouses(actor)}
    items: dict[str, Item] = {}
    for item in Item.objects.all():
        items[item.name] = item
        items[item.code] = item
    errors: list[RowError] = []
    good: list[tuple[int, int, int, Decimal, str, str]] = []
    seen: dict[tuple[int, int], int] = {}
    for number, values in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            errors.append(RowError(number, "文件", f"最多{MAX_ROWS}行"))
            break
        cells = {name: _cell(values[i]) if i < len(values) else "" for name, i in where.items()}
        if not any(cells.values()):
            continue
        store = stores.get(cells["仓库"])
        if store is None:
            errors.append(RowError(number, "仓库", f"“{cells['仓库'][:30]}”不是您辖区内的仓库"))
        item = items.get(cells["物资"])
        if item is None:
            errors.append(RowError(number, "物资", f"目录中没有“{cells['物资'][:30]}”"))
        try:
            counted = Decimal(cells["实盘数量"])
            if not counted.is_finite() or counted < 0 or counted >= services.MAX_QUANTITY:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append(RowError(number, "实盘数量", "请填写不小于0的数字"))
            continue
        if store is None or item is None:
            continue
        if (store.pk, item.pk) in seen:
            errors.append(RowError(number, "物资", f"与第{seen[(store.pk, item.pk)]}行重复"))
            continue
        seen[(store.pk, item.pk)] = number
        good.append(
            (
                number,
                store.pk,
                item.pk,
                counted,
                cells.get("批号", "")[:64],
                cells.get("备注", "")[:200],
            )
        )
    if errors:
        raise ImportRejected(errors)
    reason = f"盘点表导入 {file_name}"[:200]
    with transaction.atomic():
        for number, store_id, item_id, counted, batch, note in good:
            services.record_movement(
                actor=actor,
                data=services.MovementInput(
                    warehouse_id=store_id,
                    item_id=item_id,
                    kind=MovementKind.STOCKTAKE,
                    quantity=counted,
                    reason=(note or reason)[:200],
                    batch_no=batch,
                    document=f"盘点第{number}行",
                ),
                notify=False,
            )
    return len(good)


def ledger_xlsx(recipient: Recipient, movements: list[Movement]) -> bytes:
    """The issue ledger of one receiving unit, as the keeper prints it."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("领用台账")
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    sheet.write(0, 0, f"{recipient.name} 物资领用台账", title)
    sheet.write(1, 0, f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}")
    head = ["日期时间", "发放仓库", "物资", "数量", "单位", "领取人", "用途", "经办人", "单据号"]
    sheet.write_row(3, 0, head, bold)
    for n, m in enumerate(movements, start=4):
        sheet.write_row(
            n,
            0,
            [
                f"{timezone.localtime(m.at):%Y-%m-%d %H:%M}",
                m.warehouse.name,
                m.item.name,
                float(-m.quantity),
                m.item.unit,
                m.received_by,
                m.reason,
                (m.by_user.display_name or m.by_user.username) if m.by_user else "",
                m.document,
            ],
        )
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 2, 18)
    sheet.set_column(6, 6, 24)
    book.close()
    return buffer.getvalue()


def stock_xlsx(boards: list[selectors.StoreBoard]) -> bytes:
    """Stock by store with days of cover and run-out dates."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("库存与可供天数")
    bold = book.add_format({"bold": True})
    red = book.add_format({"font_color": "#b00020", "bold": True})
    head = ["仓库", "保管员", "物资", "库存", "单位", "日均消耗", "可供天数", "预计用完", "在途"]
    sheet.write_row(0, 0, head, bold)
    row = 1
    for board in boards:
        for line in board.rows:
            c = line.cover
            sheet.write_row(
                row,
                0,
                [
                    board.warehouse.name,
                    board.warehouse.keeper_name,
                    line.item.name,
                    float(c.stock),
                    line.item.unit,
                    float(round(c.rate, 1)),
                    float(c.days) if c.days is not None else "—",
                    f"{timezone.localtime(c.run_out_at):%m-%d %H:%M}" if c.run_out_at else "",
                    float(line.coming),
                ],
                red if c.short else None,
            )
            row += 1
    sheet.set_column(0, 2, 18)
    book.close()
    return buffer.getvalue()
