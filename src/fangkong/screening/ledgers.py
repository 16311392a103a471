"""Ledgers (台账) in and out as Excel: templates, validated imports, error reports, exports.

Three ledgers: arrivals/returnees (返乡人员), people living elsewhere (在外人员) and residents
(常住人口). For each there is an .xlsx template (Chinese headers, drop-down lists, an
instructions sheet); an upload is stored, hashed and imported by the worker.

The rules an import keeps, and why:

- **Every row is validated** — names, GB 11643 ID numbers (the registry's fast validator;
  15-digit numbers are refused with a request for the 18-digit one), sex and birth date
  agreeing with the ID number, phones, village/grid codes inside the uploader's
  jurisdiction, dates (typed as text in any common form; not in the future where the past
  is meant), choice lists, duplicate rows — and each error names the row as Excel numbers
  it, the column header, the value and a Chinese sentence. The report is downloadable as
  .xlsx.
- **The cadre chooses the mode**: "all or nothing" stores nothing when a row fails; "valid
  rows" stores the valid rows and returns the rest in the report.
- **Atomic and idempotent**: one transaction per import, and the rows it stored are recorded
  on the import as ranges of row numbers (``rows_done``: a million consecutive rows are one
  pair) under the file's content hash, so if the worker dies nothing is half imported, and
  re-importing the same file stores only rows not stored before. Re-importing a fixed copy
  of the file (a new hash) matches the persons again and skips stays already recorded.
- Persons are matched by ID number (inside the jurisdiction; a number registered in another
  jurisdiction is refused rather than revealed) or, without one, by name and phone in the
  same village; otherwise they are registered with the ledger as their source.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import io
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from fangkong.core import audit, idnumbers, jurisdiction, names, phones
from fangkong.core.batching import chunks
from fangkong.core.errors import FieldError, NotFound, ValidationFailed
from fangkong.core.masking import present, present_birth_date, visible_fields
from fangkong.core.models import AuditEvent, Region, RegionLevel, TaskRecord
from fangkong.core.regions import ancestor_codes, region_labels
from fangkong.core.roles import Action, can
from fangkong.core.text import name_problem
from fangkong.people.bulk_import import FastIdValidator
from fangkong.people.models import Household, Person, PersonCategory, Source

from .evaluation import latest_run
from .models import (
    ImportMode,
    LedgerImport,
    LedgerKind,
    PersonElsewhere,
    Stay,
    Urgency,
)
from .services import parse_date, require
from .sheets import FORMULA_MESSAGE, SheetError, Table, read

SEX_WORDS = {"男": "M", "女": "F"}
TYPE_WORDS = {
    "在外定居": "settled",
    "返乡过节": "holiday",
    "学生": "student",
    "务工人员": "migrant",
}
URGENCY_WORDS = {"低": "low", "中": "mid", "高": "high"}
SOURCE_WORDS = {
    "村级上报": Source.VILLAGE,
    "公安推送": Source.POLICE,
    "主动申报": Source.SELF_REPORT,
    "卡点登记": Source.CHECKPOINT,
    "群众举报": Source.TIP_OFF,
}


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    kind: str = "text"  # text, date, past_date, choice, region
    choices: tuple[str, ...] = ()
    note: str = ""
    # Older headers still accepted in files (the region column used to ask for a code).
    aliases: tuple[str, ...] = ()
    # The sentence for an empty required cell, when the generic one says too little.
    missing: str = ""


REGION_HEADER = "所属村组"


def _person_columns(*, phone_required: bool = False, id_required: bool = False) -> tuple:
    """The person columns; which of them are required depends on the ledger, and the
    template marks exactly the columns the validator requires."""
    return (
        Column("姓名", "name", True, note="与身份证一致"),
        Column(
            "身份证号",
            "id_number",
            id_required,
            note="18位；请将单元格设为“文本”，以免末位变成0",
            missing="常住人口台账必须填写身份证号",
        ),
        Column("性别", "sex", kind="choice", choices=("男", "女")),
        Column("出生日期", "birth_date", kind="past_date", note="如 1985-03-14"),
        Column(
            "手机号",
            "phone",
            phone_required,
            note="11位手机号或带区号的座机",
            missing="返乡人员须填写手机号，便于联系",
        ),
        Column(
            REGION_HEADER,
            "region_code",
            True,
            kind="region",
            note="从下拉列表选择本人所属的村（社区）或组；也可填写12位以上的区划代码",
            aliases=("村组代码",),
        ),
    )


COLUMNS: dict[str, tuple[Column, ...]] = {
    LedgerKind.ARRIVALS: (
        *_person_columns(phone_required=True),
        Column("从何地来", "place", True, note="如 湖北省武汉市江汉区"),
        Column("来源地代码", "place_code", note="来源地区划代码，可不填"),
        Column("在该地起始日期", "arrived", kind="past_date"),
        Column("离开该地日期", "left", True, kind="past_date"),
        Column("交通方式及车次", "transport", note="如 G1234次列车"),
    ),
    LedgerKind.ELSEWHERE: (
        *_person_columns(),
        Column("在外类型", "kind", True, "choice", tuple(TYPE_WORDS)),
        Column("现居城市", "current_city", True),
        Column("现居地代码", "current_code", note="现居地区划代码，可不填"),
        Column("计划返乡日期", "return_date", kind="date"),
        Column("返乡迫切程度", "urgency", True, "choice", tuple(URGENCY_WORDS)),
        Column("最近联系日期", "last_contact", kind="past_date"),
    ),
    LedgerKind.RESIDENTS: (*_person_columns(id_required=True), Column("住址", "address", True)),
}
TITLES = {
    LedgerKind.ARRIVALS: "返乡人员台账",
    LedgerKind.ELSEWHERE: "在外人员台账",
    LedgerKind.RESIDENTS: "常住人口台账",
}
TEMPLATE_ROWS = 2000  # rows that carry the drop-down lists


def ledger_dir() -> Path:
    from fangkong.core.uploads import private_dir

    return private_dir(Path(settings.FANGKONG_LEDGER_DIR))


def discard_file(ledger: LedgerImport) -> None:
    """Delete the stored file once its import has ended, unless another import of the same
    file still waits for it; the digest stays on the record (a re-upload of the same file
    is still recognised, row by row)."""
    from fangkong.core import uploads

    waiting = LedgerImport.objects.filter(path=ledger.path, status=LedgerImport.Status.QUEUED)
    if ledger.path and not waiting.exclude(pk=ledger.pk).exists():
        _keep_rejected_rows(ledger)
        uploads.discard(ledger.path, ledger.file_hash)


REJECTED_ROWS_KEPT = 5000  # the rejected rows kept to return once the file is deleted


def _keep_rejected_rows(ledger: LedgerImport) -> None:
    """Copy the rejected rows (only those) out of the file about to be deleted, so the
    error report can still hand them back to be fixed and imported again."""
    wanted = {int(e["row"]) for e in ledger.errors if int(e.get("row") or 0) >= 2}
    if not wanted:
        return
    try:
        table = read(Path(ledger.path), ledger.file_name)
    except (SheetError, OSError):
        return
    rows = [[n, list(cells)] for n, cells in table.rows if n in wanted][:REJECTED_ROWS_KEPT]
    ledger.rejected = {"headers": list(table.headers), "rows": rows}
    LedgerImport.objects.filter(pk=ledger.pk).update(rejected=ledger.rejected)


# ---------------------------------------------------------------- templates


REGION_LIST_LIMIT = 20_000  # villages and groups offered in the template's drop-down


def own_regions(user: Any) -> dict[str, str]:
    """The villages and groups of the user's jurisdiction, code → a name clear county-wide
    ("富强村第1组（富强镇）"), in code order: what the template offers and the import reads."""
    if user is None:
        return {}
    codes = list(
        jurisdiction.scope(
            Region.objects.filter(level__in=(RegionLevel.VILLAGE, RegionLevel.GRID)),
            user,
            field="code",
        )
        .order_by("code")
        .values_list("code", flat=True)[:REGION_LIST_LIMIT]
    )
    labels = region_labels(codes)
    return {code: labels.get(code, code) for code in codes}


def template(kind: str, user: Any = None) -> bytes:
    """The .xlsx template of a ledger: headers, drop-down lists (the user's own villages and
    groups by name), an instructions sheet. Required columns are the ones the validator
    requires, marked yellow."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = COLUMNS[kind]
    book = Workbook()
    sheet = book.active
    sheet.title = TITLES[kind]
    regions = own_regions(user)
    bold = Font(bold=True)
    must = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        if column.required:
            cell.fill = must
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        area = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        if column.kind == "choice":
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="请从下拉列表选择",
                error="只能填写：" + "、".join(column.choices),
            )
            rule.add(area)
            sheet.add_data_validation(rule)
        elif column.kind == "region" and regions:
            rule = DataValidation(
                type="list",
                formula1=f"='村组名单'!$A$1:$A${len(regions)}",
                allow_blank=False,
                showErrorMessage=False,  # a code typed by hand is still accepted
            )
            rule.add(area)
            sheet.add_data_validation(rule)
        elif column.key in ("id_number", "phone", "region_code", "place_code", "current_code"):
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"  # text: keeps digits
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 70
    notes.append([f"{TITLES[kind]} 填写说明"])
    notes.append(["1. 只在第一个工作表填写；第一行表头不要修改、删除或调换顺序。"])
    notes.append(["2. 黄色表头为必填列。不要合并单元格，不要使用公式（请“选择性粘贴—数值”）。"])
    notes.append(["3. 日期写成 2022-01-03、2022/1/3 或 2022年1月3日。"])
    notes.append(["4. 身份证号为18位；旧的15位号码请换成18位。"])
    notes.append(
        [
            "5. 导入时可选择“有错误则全部不导入”或“导入正确的行，退回错误行”；"
            "同一文件重复导入不会重复登记。"
        ]
    )
    notes.append([])
    notes.append(["列名", "是否必填", "说明"])
    for column in columns:
        explained = column.note or ("可选：" + "、".join(column.choices) if column.choices else "")
        notes.append([column.header, "必填" if column.required else "", explained])
    if regions:
        listed = book.create_sheet("村组名单")
        for row, label in enumerate(regions.values(), start=1):
            listed.cell(row=row, column=1, value=label)
        listed.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- upload


def upload(
    *, user: Any, kind: str, mode: str, source: str, file_name: str, chunks: Any
) -> LedgerImport:
    """Store an uploaded ledger and queue its import; returns the import record.

    The file is stored under its SHA-256, so the same file uploaded twice is one file and
    its rows are recognised as already imported.
    """
    require(user, Action.LEDGER_IMPORT)
    errors = []
    if kind not in LedgerKind.values:
        errors.append(FieldError("kind", "未知的台账类型"))
    if mode not in ImportMode.values:
        errors.append(FieldError("mode", "请选择导入方式"))
    if source not in Source.values:
        errors.append(FieldError("source", "未知的信息来源"))
    if errors:
        raise ValidationFailed(errors)
    from fangkong.core import uploads

    from .sheets import max_bytes

    # Stored readable by the server's user alone, counted against the user's daily quota;
    # deleted once imported (core.uploads), the digest kept on the import record.
    try:
        kept = uploads.store_private(
            chunks,
            ledger_dir(),
            limit=max_bytes(),
            user=user,
            kind="screening.ledger",
            file_name=file_name,
        )
    except uploads.UnsafeUpload as exc:
        raise ValidationFailed([FieldError("file", exc.message)]) from None
    file_hash = kept.digest
    suffix = Path(file_name).suffix.lower()[:6]
    stored = ledger_dir() / f"{file_hash}{suffix}"
    kept.path.replace(stored)
    uploads.record_upload(user, "screening.ledger", file_name, kept)
    record = TaskRecord.objects.create(
        kind="screening.ledger_import",
        title=f"导入{TITLES[kind]}：{file_name}"[:200],
        created_by=user,
    )
    ledger = LedgerImport.objects.create(
        kind=kind,
        mode=mode,
        source=source,
        file_name=file_name[:200],
        file_hash=file_hash,
        path=str(stored),
        task=record,
        created_by=user,
    )
    from .tasks import ledger_import_task

    result = ledger_import_task.enqueue(record.pk, ledger.pk)
    TaskRecord.objects.filter(pk=record.pk, task_result_id="").update(
        task_result_id=str(result.id)[:64]
    )
    ledger.refresh_from_db()
    return ledger


def import_died(*, task_record_id: int | None, reason: str, **kwargs: Any) -> None:
    """The worker died while importing (a file that unpacks past its memory ceiling): the
    import failed, with the worker's reason, instead of staying queued for ever."""
    if task_record_id is None:
        return
    LedgerImport.objects.filter(task_id=task_record_id, status=LedgerImport.Status.QUEUED).update(
        status=LedgerImport.Status.FAILED, message=reason[:500]
    )
    for ledger in LedgerImport.objects.filter(task_id=task_record_id):
        discard_file(ledger)


def get_import(user: Any, import_id: int) -> LedgerImport:
    """An import the user may see: their own, or any for those who follow every task."""
    require(user, Action.LEDGER_IMPORT)
    found = LedgerImport.objects.filter(pk=import_id).select_related("task").first()
    if found is None:
        raise NotFound(import_id)
    if found.created_by_id != user.pk and not can(user, Action.TASK_VIEW_ALL):
        raise NotFound(import_id)
    return found


# ---------------------------------------------------------------- validation


class _Row:
    __slots__ = ("number", "person_id", "region_code", "values")

    def __init__(self, number: int, values: dict[str, Any]) -> None:
        self.number = number
        self.values = values
        self.person_id: int | None = None
        self.region_code = values.get("region_code", "")


class _Validator:
    """Validates ledger rows one by one, remembering what earlier rows held (duplicates).

    A million-row ledger repeats the same few hundred dates, villages and ID areas over and
    over, so dates are parsed once per distinct text, ID numbers go through the registry's
    table-driven GB 11643 check (:class:`FastIdValidator`), and mobile numbers already in
    canonical form skip the normaliser. Anything unusual takes the slow, exact path, which
    words the error.
    """

    def __init__(self, user: Any, kind: str, today: dt.date) -> None:
        self.user = user
        self.kind = kind
        self.today = today
        self.ids = FastIdValidator(today)
        self.columns = COLUMNS[kind]
        self.by_key = {c.key: c for c in self.columns}
        self.regions = set(
            jurisdiction.scope(
                Region.objects.filter(level__in=(RegionLevel.VILLAGE, RegionLevel.GRID)),
                user,
                field="code",
            ).values_list("code", flat=True)
        )
        # Names as the template's drop-down offers them, and without the township; a name
        # two regions share maps to None (ambiguous). Built here: the reader thread that
        # validates never touches the database.
        self.by_name: dict[str, str | None] = {}
        for code, label in region_labels(self.regions).items():
            short = label.split("（", 1)[0]
            for name in {label, short}:
                self.by_name[name] = None if name in self.by_name else code
        self.seen: dict[str, int] = {}
        self.errors: list[dict[str, Any]] = []
        self._dates: dict[str, dt.date | None] = {}
        self._births: dict[str, dt.date] = {}
        self._plan = [
            (
                c,
                c.key,
                c.required,
                c.kind,
                frozenset(c.choices),
                10**9 if c.key == "address" else 100,
            )
            for c in self.columns
        ]

    def error(self, number: int, column: Column | str, value: str, message: str) -> None:
        header = column.header if isinstance(column, Column) else column
        self.errors.append(
            {"row": number, "column": header, "value": value[:200], "message": message}
        )

    def _date(self, text: str) -> dt.date | None:
        """The date a cell means (``None`` when it is not one), parsed once per text."""
        try:
            return self._dates[text]
        except KeyError:
            pass
        try:
            when = parse_date(text[:10] if text[:4].isdigit() and len(text) >= 19 else text)
        except (ValueError, TypeError):
            when = None
        if len(self._dates) < 200_000:
            self._dates[text] = when
        return when

    def row(self, number: int, cells: Sequence[str]) -> _Row | None:
        """Validate one row (``cells`` in the ledger's column order)."""
        before = len(self.errors)
        values: dict[str, Any] = {}
        for (column, key, required, kind, choices, longest), text in zip(
            self._plan, cells, strict=True
        ):
            if not text:
                if required:
                    self.error(number, column, "", column.missing or f"“{column.header}”为必填项")
                values[key] = None
                continue
            if "\x00" in text:
                self.error(number, column, text.replace("\x00", ""), "含有不可见的控制字符")
                continue
            if len(text) > longest:
                self.error(number, column, text, "内容过长（最多100个字）")
                continue
            if kind == "text" or kind == "region":
                values[key] = text
            elif kind == "choice":
                if text not in choices:
                    self.error(number, column, text, "只能填写：" + "、".join(column.choices))
                    continue
                values[key] = text
            else:
                when = self._date(text)
                if when is None:
                    self.error(number, column, text, "不是有效日期，请写成 2022-01-03")
                    continue
                if kind == "past_date" and when > self.today:
                    self.error(number, column, text, "日期晚于今天")
                    continue
                values[key] = when
        self._person(number, values)
        self._specific(number, values)
        if len(self.errors) > before:
            return None
        return _Row(number, values)

    def _col(self, key: str) -> Column:
        return self.by_key[key]

    def _person(self, number: int, v: dict[str, Any]) -> None:
        if v.get("name"):
            v["name"] = names.clean(v["name"])
            problem = name_problem(v["name"])
            if problem is not None:
                self.error(number, self._col("name"), v["name"], problem)
        raw_id = v.get("id_number")
        if raw_id:
            try:
                id_number, birth_iso, sex = self.ids.check(raw_id, allow_legacy=False)
            except idnumbers.IdNumberError as exc:
                self.error(number, self._col("id_number"), raw_id, exc.message)
            else:
                born = self._births.get(birth_iso)
                if born is None:
                    born = self._births[birth_iso] = dt.date.fromisoformat(birth_iso)
                v["id_number"] = id_number
                stated = SEX_WORDS.get(v.get("sex") or "")
                if stated and stated != sex:
                    self.error(number, self._col("sex"), v["sex"], "性别与身份证号不符")
                if v.get("birth_date") and v["birth_date"] != born:
                    self.error(
                        number,
                        self._col("birth_date"),
                        str(v["birth_date"]),
                        "出生日期与身份证号不符",
                    )
                v["sex"], v["birth_date"] = sex, born
                if id_number in self.seen:
                    self.error(
                        number, self._col("id_number"), raw_id, f"与第{self.seen[id_number]}行重复"
                    )
                else:
                    self.seen[id_number] = number
        else:
            v["sex"] = SEX_WORDS.get(v.get("sex") or "", "")
            key = f"{v.get('name')}|{v.get('phone')}"
            if v.get("name") and v.get("phone"):
                if key in self.seen:
                    self.error(
                        number,
                        self._col("name"),
                        v["name"],
                        f"与第{self.seen[key]}行重复（姓名和手机号相同）",
                    )
                else:
                    self.seen[key] = number
        phone = v.get("phone")
        if phone and not (len(phone) == 11 and _CANONICAL_MOBILE.fullmatch(phone)):
            try:
                v["phone"] = phones.normalize(phone)
            except phones.PhoneError as exc:
                self.error(number, self._col("phone"), phone, exc.message)
        code = v.get("region_code")
        if code and code not in self.regions:
            found = self.by_name.get(code.replace(" ", ""), "")
            if found:
                v["region_code"] = found
            elif found is None:
                self.error(
                    number,
                    self._col("region_code"),
                    code,
                    "有同名的村（社区）或组，请从下拉列表选择带镇名的名称",
                )
            elif code.isdigit():
                self.error(
                    number, self._col("region_code"), code, "不是您辖区内的村（社区）或组代码"
                )
            else:
                self.error(
                    number,
                    self._col("region_code"),
                    code,
                    "不是您辖区内的村（社区）或组，请从下拉列表选择",
                )

    def _specific(self, number: int, v: dict[str, Any]) -> None:
        for key in ("place_code", "current_code"):
            code = v.get(key)
            if code and (not code.isdigit() or len(code) not in (2, 4, 6, 9, 12)):
                self.error(number, self._col(key), code, "区划代码应为2、4、6、9或12位数字")
        if v.get("arrived") and v.get("left") and v["arrived"] > v["left"]:
            self.error(number, self._col("left"), str(v["left"]), "离开日期早于起始日期")


_CANONICAL_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _header_problem(table: Table, kind: str) -> str | None:
    """Why the header row does not fit the ledger ``kind`` (``None`` when it does)."""
    columns = COLUMNS[kind]
    known = {h for c in columns for h in (c.header, *c.aliases)}
    missing = [c.header for c in columns if _position(table.headers, c) is None]
    if not missing:
        return None
    unknown = [h for h in table.headers if h and h not in known]
    message = "缺少列：" + "、".join(missing)
    if unknown:
        message += "；不认识的列：" + "、".join(unknown)
    return message + f"。请使用“{TITLES[kind]}”模板"


def _position(headers: list[str], column: Column) -> int | None:
    """Where the column is in the file's header row (its header or an older alias)."""
    for header in (column.header, *column.aliases):
        if header in headers:
            return headers.index(header)
    return None


CHUNK_ROWS = 10_000  # validated rows handed from the reader thread to the writer at a time
_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _ValidatedChunks:
    """The table's rows, read and validated in a background thread, ``CHUNK_ROWS`` at a time.

    Why a thread: storing a chunk is mostly waiting for PostgreSQL (look-ups, then COPY while
    the server updates the person indexes), and reading the next chunk is Python work (cell
    conversion, validation). Run one after the other they add up; with the reader in a
    thread, the server's work on chunk *n* overlaps with the reading of chunk *n + 1*. The
    thread never touches the database (its validator was built beforehand), so the import
    keeps one connection and one transaction. ``count`` is the number of data rows read.
    """

    def __init__(self, table: Table, kind: str, validator: _Validator) -> None:
        self._table = table
        self._positions = [_position(table.headers, c) or 0 for c in COLUMNS[kind]]
        self._validator = validator
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=3)
        self._stop = threading.Event()
        self._language = translation.get_language()
        self.count = 0
        self._thread = threading.Thread(target=self._read, name="ledger-reader", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        positions, validate = self._positions, self._validator.row
        formulas, headers = self._table.formulas, self._table.headers
        try:
            with translation.override(self._language):
                chunk: list[_Row] = []
                for number, cells in self._table.rows:
                    if self._stop.is_set():
                        return
                    self.count += 1
                    if number in formulas:
                        for index in formulas[number]:
                            self._validator.error(
                                number,
                                headers[index] if index < len(headers) else f"第{index + 1}列",
                                cells[index] if index < len(cells) else "",
                                "单元格" + FORMULA_MESSAGE,
                            )
                        continue
                    row = validate(number, [cells[i] for i in positions])
                    if row is not None:
                        chunk.append(row)
                    if len(chunk) >= CHUNK_ROWS:
                        if not self._put(chunk):
                            return
                        chunk = []
                if chunk:
                    self._put(chunk)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failure(exc))
        finally:
            self._put(_END)

    def __iter__(self) -> Iterator[list[_Row]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    def close(self) -> None:
        """Stop the reader (when the consumer gave up early) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.1)
        self._thread.join()


class _Rejected(Exception):
    """All or nothing, and something failed: the stored chunks are rolled back."""


def run_import(
    *,
    import_id: int,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> LedgerImport:
    """Validate and store one uploaded ledger (the worker's side of :func:`upload`)."""
    # A large ledger keeps millions of small objects alive until the end; the cyclic
    # collector would rescan them again and again for nothing. It is back on afterwards.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_import(import_id=import_id, progress=progress, today=today)
    finally:
        if enabled:
            gc.enable()


def _reject(
    ledger: LedgerImport, errors: list[dict[str, Any]], total: int, message: str
) -> LedgerImport:
    ledger.status = LedgerImport.Status.REJECTED
    ledger.rows_total = total
    ledger.rows_imported = ledger.rows_existing = 0
    ledger.errors = errors[:5000]
    ledger.rows_rejected = len({e["row"] for e in errors})
    ledger.message = message[:500]
    ledger.save()
    return ledger


def _run_import(
    *,
    import_id: int,
    progress: Callable[[int, int], None] | None,
    today: dt.date | None,
) -> LedgerImport:
    """Read, validate and store chunk by chunk in one transaction (see
    :class:`_ValidatedChunks`); all or nothing rolls the stored chunks back on the first
    error, but reading goes on to the end so the report lists every faulty row."""
    ledger = LedgerImport.objects.select_related("created_by").get(pk=import_id)
    user = ledger.created_by
    try:
        table = read(Path(ledger.path), ledger.file_name)
    except SheetError as exc:
        error = {"row": 0, "column": "", "value": ledger.file_name, "message": exc.message}
        return _reject(ledger, [error], 0, exc.message)
    problem = _header_problem(table, ledger.kind)
    if problem:
        error = {
            "row": 1,
            "column": "",
            "value": "、".join(table.headers)[:200],
            "message": problem,
        }
        return _reject(ledger, [error], 0, problem)
    validator = _Validator(user, ledger.kind, today or timezone.localdate())
    chunks = _ValidatedChunks(table, ledger.kind, validator)
    all_or_nothing = ledger.mode == ImportMode.ALL_OR_NOTHING
    refused: list[dict[str, Any]] = []
    stored = existing = 0
    changes = Changes()
    ranges: list[list[int]] = []
    try:
        with transaction.atomic():
            _lock_file(ledger.file_hash)
            done = _rows_done(ledger.file_hash)
            for chunk in chunks:
                before = len(refused)
                registered = _refuse_foreign_ids(user, chunk, refused)
                if all_or_nothing and (validator.errors or refused):
                    continue  # rolled back below; read on for the full error report
                refused_here = {e["row"] for e in refused[before:]}
                valid = [r for r in chunk if r.number not in refused_here]
                fresh = [r for r in valid if r.number not in done]
                _store(ledger, user, fresh, registered, changes)
                stored += len(fresh)
                existing += len(valid) - len(fresh)
                ranges.extend(row_ranges(r.number for r in fresh))
                if progress is not None:
                    progress(chunks.count, max(table.total, chunks.count))
            errors = sorted(validator.errors + refused, key=lambda e: e["row"])
            if chunks.count == 0:
                raise _Rejected("表格中没有数据行")
            if errors and all_or_nothing:
                raise _Rejected(
                    f"共 {chunks.count:,} 行，{len({e['row'] for e in errors}):,} 行有错误；"
                    "按“有错误则全部不导入”方式，未导入任何数据"
                )
            ledger.rows_total = chunks.count
            ledger.errors = errors[:5000]
            ledger.rows_rejected = len({e["row"] for e in errors})
            ledger.rows_imported = stored
            ledger.rows_existing = existing
            ledger.rows_done = _merge_ranges(ranges)
            changes.unchanged += existing
            ledger.changes = changes.as_dict()
            ledger.status = LedgerImport.Status.DONE
            ledger.message = (
                f"导入 {stored:,} 行；此前已导入跳过 {existing:,} 行；"
                f"错误退回 {ledger.rows_rejected:,} 行"
            )[:500]
            ledger.save()
            audit.record(
                user=user,
                kind=AuditEvent.Kind.IMPORT,
                object_type="ledger",
                object_id=ledger.pk,
                channel="task",
                detail=ledger.message,
            )
    except _Rejected as rejected:
        errors = sorted(validator.errors + refused, key=lambda e: e["row"])
        if chunks.count == 0:
            errors.append({"row": 2, "column": "", "value": "", "message": str(rejected)})
        return _reject(ledger, errors, chunks.count, str(rejected))
    finally:
        chunks.close()
    return ledger


def follow_up(ledger: LedgerImport) -> LedgerImport:
    """After an arrivals import stored stays, the policy regions above the uploader are
    evaluated again, so the new stays get their decisions and the visits those need at once
    (not when the county next changes a rule). Records how many of the persons the import
    named now have a measure, and the visits created, in ``ledger.changes``."""
    from .evaluation import NoPolicy, evaluate_region
    from .models import ControlPolicy, Measure, ScreeningDecision
    from .visits import create_for_region

    changes = dict(ledger.changes or {})
    if ledger.kind != LedgerKind.ARRIVALS or not changes.get("stays"):
        return ledger
    codes = set(jurisdiction.user_codes(ledger.created_by))
    candidates = codes | ancestor_codes(codes)
    policy_regions = sorted(
        set(
            ControlPolicy.objects.filter(region_code__in=candidates).values_list(
                "region_code", flat=True
            )
        )
    )
    persons = [*changes.get("added_ids", []), *changes.get("updated_ids", [])]
    decided = visits = 0
    runs = []
    for code in policy_regions:
        try:
            evaluate_region(region_code=code, why=f"台账导入：{ledger.file_name}")
        except NoPolicy:
            continue
        visits += create_for_region(region_code=code)
        run = latest_run(code)
        if run is not None:
            runs.append(run.pk)
    if runs and persons:
        decided = (
            ScreeningDecision.objects.filter(run_id__in=runs, person_id__in=persons)
            .exclude(measure=Measure.NONE)
            .count()
        )
    changes.update(decisions=decided, visits=visits, evaluated=bool(runs))
    ledger.changes = changes
    ledger.save(update_fields=["changes"])
    return ledger


def row_ranges(numbers: Iterable[int]) -> list[list[int]]:
    """Row numbers as sorted inclusive ranges: a million consecutive rows are one pair."""
    ranges: list[list[int]] = []
    for number in sorted(numbers):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        elif not ranges or number > ranges[-1][1]:
            ranges.append([number, number])
    return ranges


def _merge_ranges(ranges: list[list[int]]) -> list[list[int]]:
    """Ranges from consecutive chunks joined where one ends right before the next starts."""
    merged: list[list[int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


class _RowsDone:
    """Membership in the row ranges earlier imports of the same file stored."""

    def __init__(self, ranges: list[list[int]]) -> None:
        self._ranges = sorted(ranges)
        self._starts = [first for first, _last in self._ranges]

    def __contains__(self, number: int) -> bool:
        at = bisect.bisect_right(self._starts, number) - 1
        return at >= 0 and self._ranges[at][1] >= number


def _rows_done(file_hash: str) -> _RowsDone:
    """The rows of this file (by content hash) that earlier imports stored."""
    ranges: list[list[int]] = []
    for stored in LedgerImport.objects.filter(
        file_hash=file_hash, status=LedgerImport.Status.DONE
    ).values_list("rows_done", flat=True):
        ranges.extend(stored or [])
    return _RowsDone(ranges)


def _lock_file(file_hash: str) -> None:
    """Serialise imports of the same file (PostgreSQL: a transaction-scoped advisory lock;
    SQLite transactions here start IMMEDIATE, which serialises every writer already), so two
    workers given the same file cannot both find its rows new.

    Also switches JIT compilation off for the import's transaction: the person table grows
    under the import faster than its statistics, the inflated estimates price each chunk's
    look-up above ``jit_above_cost``, and compiling costs more than the look-up runs."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [file_hash])


def _refuse_foreign_ids(
    user: Any, rows: list[_Row], refused: list[dict[str, Any]]
) -> dict[str, tuple[int, str]]:
    """Look up every ID number the rows carry, once. Rows whose number is registered outside
    the user's jurisdiction are added to ``refused`` as row errors: the person is not moved,
    and whose village holds them is not revealed. Returns the others found,
    ``{number: (pk, region_code)}``."""
    numbers = {r.values["id_number"]: r for r in rows if r.values.get("id_number")}
    if not numbers:
        return {}
    mine = jurisdiction.user_codes(user)
    registered: dict[str, tuple[int, str]] = {}
    for number, pk, region_code in _persons_by_id_number(list(numbers)):
        if region_code.startswith(mine):
            registered[number] = (pk, region_code)
        else:
            refused.append(
                {
                    "row": numbers[number].number,
                    "column": "身份证号",
                    "value": number,
                    "message": "该身份证号已在其他辖区登记，请联系上级核实",
                }
            )
    return registered


def _persons_by_id_number(numbers: list[str]) -> Iterator[tuple[str, int, str]]:
    """(ID number, pk, region code) of the registered persons among ``numbers``: on
    PostgreSQL as one array parameter per 100,000 numbers (an ``IN`` list of that size costs
    more to build and parse than to run), elsewhere in ``IN`` chunks."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for chunk in chunks(numbers, 100_000):
                cursor.execute(
                    "SELECT id_number, id, region_code FROM people_person "
                    "WHERE id_number = ANY(%s)",
                    [chunk],
                )
                yield from cursor.fetchall()
        return
    for chunk in chunks(numbers):
        yield from Person.objects.filter(id_number__in=chunk).values_list(
            "id_number", "pk", "region_code"
        )


def _persons_by_contact(rows: list[_Row]) -> dict[tuple, int]:
    """The registered persons named by rows without an ID number, by village, name and phone
    — the lowest id first, as a lookup row by row would find. A query per 5,000 phones."""
    wanted = {
        (r.values["region_code"], r.values["name"], r.values["phone"])
        for r in rows
        if not r.values.get("id_number") and r.values.get("phone")
    }
    by_contact: dict[tuple, int] = {}
    for chunk in chunks(sorted({phone for _code, _name, phone in wanted})):
        found = (
            Person.objects.filter(phone__in=chunk)
            .order_by("-pk")
            .values_list("region_code", "name", "phone", "pk")
        )
        for code, name, phone, pk in found:
            if (code, name, phone) in wanted:
                by_contact[(code, name, phone)] = pk  # descending: the lowest pk wins
    return by_contact


def _households(rows: list[_Row]) -> dict[tuple[str, str], int]:
    """The household of each (grid, address) of a residents ledger, created when missing."""
    keys = {(r.values["region_code"], r.values["address"][:200]) for r in rows}
    found: dict[tuple[str, str], int] = {}

    def load(codes: list[str]) -> None:
        for chunk in chunks(codes):
            for code, address, pk in (
                Household.objects.filter(region_id__in=chunk)
                .order_by("-pk")
                .values_list("region_id", "address", "pk")
            ):
                if (code, address) in keys:
                    found[(code, address)] = pk

    codes = sorted({code for code, _address in keys})
    load(codes)
    missing = sorted(keys - found.keys())
    if missing:
        Household.objects.bulk_create(
            [
                Household(region_id=code, region_code=code, address=address)
                for code, address in missing
            ],
            batch_size=2000,
        )
        load(sorted({code for code, _address in missing}))
    return found


COPY_BATCH = 5000  # rows per COPY write
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_text(value: str) -> str:
    """A value escaped for COPY text format (most values need nothing)."""
    if _COPY_SPECIAL.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy(table: str, columns: tuple[str, ...], lines: Iterator[str]) -> None:
    """Stream pre-formatted COPY text lines into ``table``, a batch at a time."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy,
    ):
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= COPY_BATCH:
                copy.write("".join(batch).encode())
                batch.clear()
        if batch:
            copy.write("".join(batch).encode())


def _reserve_ids(model: Any, count: int) -> list[int]:
    """``count`` primary keys drawn from the table's sequence (PostgreSQL): nobody else
    will get them, whatever runs concurrently, so rows can reference them before insert.

    Only the lowest, the highest and the count come back when the values are consecutive
    (nobody else drew from the sequence meanwhile, the usual case): sending ten thousand
    one-number rows cost the server more than drawing them."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # The sequence is named once: pg_get_serial_sequence() inside the series would look
        # it up in the catalogue for every value (most of the cost of drawing them).
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT min(v), max(v), count(*),"
            " CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE array_agg(v) END"
            " FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) drawn",
            [sequence, count],
        )
        low, high, drawn, scattered = cursor.fetchone()
    if scattered is not None:
        return sorted(scattered)
    assert drawn == count
    return list(range(low, high + 1))


PERSON_COLUMNS = (
    "id",
    "id_number",
    "name",
    "name_pinyin",
    "name_initials",
    "sex",
    "birth_date",
    "phone",
    "household_id",
    "region_code",
    "category",
    "source",
    "source_file",
    "source_row",
    "created_at",
    "updated_at",
    "version",
)
STAY_COLUMNS = (
    "person_id",
    "region_code",
    "place_code",
    "place",
    "arrived",
    "left",
    "transport",
    "source",
    "source_file",
    "source_row",
    "created_by_id",
    "created_at",
)


IDS_KEPT = 500  # persons named on the result page per kind of change


@dataclass
class Changes:
    """What an import changed: persons registered, persons already registered whose record
    gained something (a stay, where they live now), and rows that changed nothing."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    stays: int = 0
    added_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stays": self.stays,
            "added_ids": self.added_ids,
            "updated_ids": self.updated_ids,
        }


def _store(
    ledger: LedgerImport,
    user: Any,
    rows: list[_Row],
    registered: dict[str, tuple[int, str]],
    changes: Changes | None = None,
) -> None:
    """Write the valid rows in bulk: look-ups go by the thousand; on PostgreSQL new persons
    and stays stream through ``COPY`` (person ids reserved from the sequence first, so stays
    can name them), elsewhere ``bulk_create`` in batches. ``registered`` holds the persons
    already found by ID number (:func:`_refuse_foreign_ids`)."""
    now = timezone.now()
    by_contact = _persons_by_contact(rows)
    households = _households(rows) if ledger.kind == LedgerKind.RESIDENTS else {}
    category = {
        LedgerKind.ARRIVALS: PersonCategory.RETURNEE,
        LedgerKind.ELSEWHERE: PersonCategory.ELSEWHERE,
    }.get(ledger.kind, PersonCategory.RESIDENT)
    new: list[tuple[_Row, str | None]] = []  # (row, household id)
    for row in rows:
        v = row.values
        if v.get("id_number"):
            found = registered.get(v["id_number"])
            if found is not None:  # inside the jurisdiction: _refuse_foreign_ids ran first
                row.person_id, row.region_code = found
                continue
        elif v.get("phone"):
            pk = by_contact.get((v["region_code"], v["name"], v["phone"]))
            if pk is not None:
                row.person_id, row.region_code = pk, v["region_code"]
                continue
        household_id = (
            households[(v["region_code"], v["address"][:200])]
            if ledger.kind == LedgerKind.RESIDENTS
            else None
        )
        new.append((row, household_id))
    stays = (
        _new_stays(rows, {id(row) for row, _h in new})
        if (ledger.kind == LedgerKind.ARRIVALS)
        else []
    )
    if connection.vendor == "postgresql":
        _insert_copy(ledger, user, stays, new, category, now)
    else:
        _insert_orm(ledger, user, stays, new, category, now)
    if changes is not None:
        _count_changes(ledger.kind, rows, new, stays, changes)
    if ledger.kind == LedgerKind.ELSEWHERE:
        # One upsert per person; when two rows name the same person the later row wins,
        # as it would row by row.
        latest = {r.person_id: r for r in rows}
        PersonElsewhere.objects.bulk_create(
            [
                PersonElsewhere(
                    person_id=person_id,
                    region_code=r.region_code,
                    kind=TYPE_WORDS[r.values["kind"]],
                    current_city=r.values["current_city"],
                    current_code=r.values.get("current_code") or "",
                    return_date=r.values.get("return_date"),
                    urgency=URGENCY_WORDS[r.values["urgency"]],
                    last_contact=r.values.get("last_contact"),
                    updated_at=now,
                )
                for person_id, r in latest.items()
            ],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["person"],
            update_fields=[
                "region_code",
                "kind",
                "current_city",
                "current_code",
                "return_date",
                "urgency",
                "last_contact",
                "updated_at",
            ],
        )


def _count_changes(
    kind: str, rows: list[_Row], new: list[tuple[_Row, Any]], stays: list[_Row], changes: Changes
) -> None:
    created = {id(row) for row, _h in new}
    with_stay = {id(row) for row in stays}
    changes.stays += len(stays)
    for row in rows:
        if id(row) in created:
            changes.added += 1
            if len(changes.added_ids) < IDS_KEPT and row.person_id is not None:
                changes.added_ids.append(row.person_id)
        elif kind == LedgerKind.ELSEWHERE or id(row) in with_stay:
            changes.updated += 1
            if (
                len(changes.updated_ids) < IDS_KEPT
                and row.person_id is not None
                and row.person_id not in changes.updated_ids
            ):
                changes.updated_ids.append(row.person_id)
        else:
            changes.unchanged += 1


def _new_stays(rows: list[_Row], new_persons: set[int]) -> list[_Row]:
    """The arrival rows whose stay is not recorded yet. A cadre who fixes the rejected rows
    of a ledger and imports the whole file again must not double every other stay: for
    persons already registered, a stay with the same place and the same dates is skipped."""
    known = [r.person_id for r in rows if id(r) not in new_persons]
    recorded: set[tuple[int, str, dt.date, dt.date]] = set()
    for chunk in chunks(sorted({pk for pk in known if pk is not None})):
        recorded.update(
            Stay.objects.filter(person_id__in=chunk).values_list(
                "person_id", "place", "arrived", "left"
            )
        )
    if not recorded:
        return rows
    kept = []
    for r in rows:
        v = r.values
        key = (r.person_id, v["place"], v.get("arrived") or v["left"], v["left"])
        if key not in recorded:
            recorded.add(key)
            kept.append(r)
    return kept


def _insert_orm(
    ledger: LedgerImport,
    user: Any,
    stays: list[_Row],
    new: list[tuple[_Row, Any]],
    category: str,
    now: dt.datetime,
) -> None:
    """SQLite (and any other backend): ``bulk_create`` in batches."""
    source = ledger.source
    persons = []
    for row, household_id in new:
        v = row.values
        pinyin, initials = names.keys(v["name"])
        persons.append(
            Person(
                id_number=v.get("id_number") or None,
                name=v["name"],
                name_pinyin=pinyin,
                name_initials=initials,
                sex=v.get("sex") or "",
                birth_date=v.get("birth_date"),
                phone=v.get("phone") or "",
                region_code=v["region_code"],
                household_id=household_id,
                category=category,
                source=source,
                source_file=ledger.file_name[:200],
                source_row=row.number,
                created_at=now,
                updated_at=now,
            )
        )
    created = Person.objects.bulk_create(persons, batch_size=2000)
    for (row, _h), person in zip(new, created, strict=True):
        row.person_id, row.region_code = person.pk, person.region_code
    Stay.objects.bulk_create(
        [
            Stay(
                person_id=r.person_id,
                region_code=r.region_code,
                place=r.values["place"],
                place_code=r.values.get("place_code") or "",
                arrived=r.values.get("arrived") or r.values["left"],
                left=r.values["left"],
                transport=r.values.get("transport") or "",
                source=source,
                source_file=ledger.file_name[:200],
                source_row=r.number,
                created_by=user,
            )
            for r in stays
        ],
        batch_size=2000,
    )


def _insert_copy(
    ledger: LedgerImport,
    user: Any,
    stays: list[_Row],
    new: list[tuple[_Row, Any]],
    category: str,
    now: dt.datetime,
) -> None:
    """PostgreSQL: reserve person ids, then ``COPY`` persons and stays."""
    null = "\\N"
    stamp = now.isoformat()
    file_name = _copy_text(ledger.file_name[:200])
    source = ledger.source
    ids = _reserve_ids(Person, len(new))
    for (row, _h), pk in zip(new, ids, strict=True):
        row.person_id = pk  # region_code stays the row's own, as the ORM path stores it
    tail = f"\t{category}\t{source}\t{file_name}\t"
    end = f"\t{stamp}\t{stamp}\t1\n"

    def persons() -> Iterator[str]:
        for row, household_id in new:
            v = row.values
            name = v["name"]
            pinyin, initials = names.keys(name)
            birth = v.get("birth_date")
            yield (
                f"{row.person_id}\t{v.get('id_number') or null}\t{_copy_text(name)}\t"
                f"{_copy_text(pinyin)}\t{_copy_text(initials)}\t{v.get('sex') or ''}\t"
                f"{birth.isoformat() if birth else null}\t{_copy_text(v.get('phone') or '')}"
                f"\t{null if household_id is None else household_id}\t{row.region_code}"
                f"{tail}{row.number}{end}"
            )

    _copy(Person._meta.db_table, PERSON_COLUMNS, persons())
    if stays:
        user_id = null if user is None else str(user.pk)
        stay_tail = f"\t{source}\t{file_name}\t"
        stay_end = f"\t{user_id}\t{stamp}\n"

        def stay_lines() -> Iterator[str]:
            for r in stays:
                v = r.values
                left = v["left"].isoformat()
                arrived = v["arrived"].isoformat() if v.get("arrived") else left
                yield (
                    f"{r.person_id}\t{r.region_code}\t{v.get('place_code') or ''}\t"
                    f"{_copy_text(v['place'])}\t{arrived}\t{left}\t"
                    f"{_copy_text(v.get('transport') or '')}{stay_tail}{r.number}"
                    f"{stay_end}"
                )

        _copy(Stay._meta.db_table, STAY_COLUMNS, stay_lines())


# ---------------------------------------------------------------- reports and exports


def error_report(ledger: LedgerImport) -> bytes:
    """The rejected rows returned as .xlsx, to fix and import again: the first sheet holds
    each rejected row as uploaded (same header, so the fixed sheet imports as it is; the
    faulty cells in red with the error as a comment) with the errors of the row in a last
    column "错误说明"; the second sheet lists every error by row and column."""
    from fangkong.core import exports

    by_row: dict[int, list[dict[str, Any]]] = {}
    for error in ledger.errors:
        by_row.setdefault(int(error["row"]), []).append(error)
    out = io.BytesIO()
    book = exports.workbook(out)
    bold = book.add_format({"bold": True})
    wrong = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    rows = book.add_worksheet("退回的行")
    headers = _returned_rows(ledger, by_row, rows, bold, wrong)
    rows.set_column(0, max(len(headers) - 1, 0), 16)
    rows.freeze_panes(1, 0)
    sheet = book.add_worksheet("错误清单")
    sheet.write_row(0, 0, ["行号", "列", "填写内容", "错误说明"], bold)
    for i, error in enumerate(ledger.errors, start=1):
        sheet.write_number(i, 0, error["row"])
        sheet.write_string(i, 1, error["column"])
        sheet.write_string(i, 2, error["value"])
        sheet.write_string(i, 3, error["message"])
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 2, 20)
    sheet.set_column(3, 3, 60)
    book.close()
    return out.getvalue()


COMMENTS_KEPT = 2000  # cell comments in a returned file (Excel slows down past that)


def _returned_rows(
    ledger: LedgerImport, by_row: dict[int, list[dict[str, Any]]], sheet: Any, bold: Any, wrong: Any
) -> list[str]:
    """Write the rejected rows of the stored upload to ``sheet``; returns its header."""
    table: Any = None
    try:
        table = read(Path(ledger.path), ledger.file_name)
    except (SheetError, OSError):
        if ledger.rejected.get("rows"):
            # The upload was deleted after its import: the rejected rows were kept.
            table = _KeptRows(ledger.rejected["headers"], ledger.rejected["rows"])
    if table is None or not by_row or min(by_row) < 2:
        # The file itself was refused (unreadable, wrong header): nothing to return by row.
        headers = [c.header for c in COLUMNS[ledger.kind]] + ["错误说明"]
        sheet.write_row(0, 0, headers, bold)
        for i, (number, errors) in enumerate(sorted(by_row.items()), start=1):
            sheet.write_string(i, len(headers) - 1, _explain(number, errors))
        return headers
    headers = [*table.headers, "错误说明"]
    sheet.write_row(0, 0, headers, bold)
    note_column = len(headers) - 1
    position = {h: i for i, h in enumerate(table.headers)}
    out, comments = 1, 0
    for number, cells in table.rows:
        errors = by_row.get(number)
        if errors is None:
            continue
        flagged: dict[int, str] = {}
        for error in errors:
            index = position.get(error["column"])
            if index is not None:
                flagged[index] = (flagged.get(index, "") + " " + error["message"]).strip()
        for index, text in enumerate(cells):
            if index in flagged:
                sheet.write_string(out, index, text, wrong)
                if comments < COMMENTS_KEPT:
                    sheet.write_comment(out, index, flagged[index])
                    comments += 1
            else:
                sheet.write_string(out, index, text)
        for index in flagged:
            if index >= len(cells):
                sheet.write_string(out, index, "", wrong)
        sheet.write_string(out, note_column, _explain(number, errors))
        out += 1
    return headers


@dataclass
class _KeptRows:
    headers: list[str]
    rows: list[list[Any]]


def _explain(number: int, errors: list[dict[str, Any]]) -> str:
    parts = [f"{e['column']}：{e['message']}" if e["column"] else e["message"] for e in errors]
    return f"原第{number}行：" + "；".join(parts)


EXPORT_HEADERS = {
    LedgerKind.ARRIVALS: [
        "姓名",
        "身份证号",
        "手机号",
        "村组代码",
        "从何地来",
        "来源地代码",
        "在该地起始日期",
        "离开该地日期",
        "交通方式及车次",
        "信息来源",
    ],
    LedgerKind.ELSEWHERE: [
        "姓名",
        "身份证号",
        "手机号",
        "村组代码",
        "在外类型",
        "现居城市",
        "计划返乡日期",
        "返乡迫切程度",
        "最近联系日期",
    ],
    LedgerKind.RESIDENTS: ["姓名", "身份证号", "手机号", "村组代码", "性别", "出生日期", "住址"],
}


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def export(
    *,
    user: Any,
    kind: str,
    region_code: str | None = None,
    urgency: str | None = None,
    since: dt.date | None = None,
    channel: str = "api",
) -> bytes:
    """A filtered ledger as .xlsx, ID numbers and phones masked unless the role may see them
    (and birth dates cut to the year where the ID number is masked).

    Only rows inside the user's jurisdiction are written; the export is audited with the
    count and the unmasked fields, as one event.
    """
    from fangkong.core import exports

    require(user, Action.LEDGER_EXPORT)
    if kind not in LedgerKind.values:
        raise NotFound(kind)
    visible = visible_fields(user)
    source_words = dict(Source.choices)
    type_words = {v: k for k, v in TYPE_WORDS.items()}
    urgency_words = {v: k for k, v in URGENCY_WORDS.items()}
    region_q = jurisdiction.prefix_q("region_code", [region_code]) if region_code else None

    def person_cells(p: Person) -> list[str]:
        return [
            p.name,
            present("id_number", p.id_number, visible),
            present("phone", p.phone, visible),
            p.region_code,
        ]

    rows: Any
    if kind == LedgerKind.ARRIVALS:
        stays = jurisdiction.scope(Stay.objects.select_related("person"), user)
        if since:
            stays = stays.filter(left__gte=since)
        if region_q is not None:
            stays = stays.filter(region_q)
        rows = (
            [
                *person_cells(s.person),
                s.place,
                s.place_code,
                _date(s.arrived),
                _date(s.left),
                s.transport,
                str(source_words.get(s.source, s.source)),
            ]
            for s in stays.order_by("-left", "id").iterator(chunk_size=5000)
        )
    elif kind == LedgerKind.ELSEWHERE:
        away = jurisdiction.scope(PersonElsewhere.objects.select_related("person"), user)
        if urgency:
            away = away.filter(urgency=urgency)
        if region_q is not None:
            away = away.filter(region_q)
        rows = (
            [
                *person_cells(e.person),
                type_words[e.kind],
                e.current_city,
                _date(e.return_date),
                urgency_words[e.urgency],
                _date(e.last_contact),
            ]
            for e in away.order_by("region_code", "id").iterator(chunk_size=5000)
        )
    else:
        people = jurisdiction.scope(Person.objects.select_related("household"), user)
        if region_q is not None:
            people = people.filter(region_q)
        rows = (
            [
                *person_cells(p),
                {"M": "男", "F": "女"}.get(p.sex, ""),
                present_birth_date(p.birth_date, visible) or "",
                p.household.address if p.household else "",
            ]
            for p in people.order_by("region_code", "id").iterator(chunk_size=5000)
        )
    out = io.BytesIO()
    book = exports.workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet(TITLES[kind])
    sheet.write_row(0, 0, EXPORT_HEADERS[kind], book.add_format({"bold": True}))
    count = 0
    for count, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            sheet.write_string(count, col, value or "")
    book.close()
    audit.record(
        user=user,
        kind=AuditEvent.Kind.EXPORT,
        object_type="ledger",
        channel=channel,
        fields=visible,
        detail=f"{TITLES[kind]} {count} 行",
    )
    return out.getvalue()


def urgent_from_risk_areas(user: Any, *, since: dt.date) -> list[PersonElsewhere]:
    """High-urgency people living elsewhere whose current place became a risk area since
    ``since`` — the ones to call and persuade to stay where they are."""
    from .models import RiskArea

    require(user, Action.SCREENING_VIEW)
    areas = list(
        RiskArea.objects.filter(valid_from__gte=since).exclude(valid_to__lt=timezone.localdate())
    )
    qs = jurisdiction.scope(PersonElsewhere.objects.select_related("person"), user)
    found = []
    for item in qs.filter(urgency=Urgency.HIGH):
        for area in areas:
            if (
                (area.region_code and item.current_code.startswith(area.region_code))
                or (not area.region_code and area.place in item.current_city)
                or (area.region_code and area.place and area.place in item.current_city)
            ):
                found.append(item)
                break
    return found
