"""Bulk import of a county folder (regions, households, units, persons) — the project's one
import path for generated counties and resident ledgers (台账).

A folder holds ``regions.csv``, ``households.csv``, ``units.csv`` and ``persons.csv`` in the
format :mod:`fangkong.synth` writes (UTF-8 with or without BOM; every value read as text, so
ID numbers and phones never turn into numbers). :func:`load_county_dir` loads it.

The rules it keeps, and why:

- **Every row is validated; bad rows are reported, not imported.** ID numbers follow GB 11643
  (the same rules as :func:`fangkong.core.idnumbers.parse`, through an inlined validator whose
  tables make a million checks cost dictionary lookups; anything the fast path does not accept
  goes through ``parse`` itself for the exact verdict and message), phones follow
  :mod:`fangkong.core.phones`, names are cleaned and keyed for pinyin search with
  :mod:`fangkong.core.names`. Sex and birth date, when given, must agree with the ID number.
  An error names the file, the row (data rows count from 1, the header not counted — the
  ``row`` column of generated files) and the column, with a Chinese message for the cadre.
- **Atomic.** The whole load is one transaction: a fatal error (missing file or column, more
  than ``max_errors`` bad rows, a database error) rolls everything back, so there is never half
  a county in the registry.
- **Idempotent.** Persons are matched by ID number (required in these files for exactly this
  reason), households by region and address, units by region and name. Re-running a folder
  creates nothing new and reports what already existed.
- **Provenance, not a million history rows.** Each imported person carries ``source=import``,
  ``source_file`` and ``source_row``; the load writes one :class:`AuditEvent` of kind
  ``import`` with the counts and the file, instead of one :class:`PersonChange` per person
  (a million change rows would double the load and say nothing the provenance fields do not).
  Changes made after the import are recorded per person as usual.
- **Concurrency.** The three registry tables are locked against other writers for the
  duration (readers continue), so the set of existing ID numbers cannot change under the load.

How it is fast (``bench/load_residents.py`` measures it against a raw ``COPY``):

- On PostgreSQL, persons stream through ``COPY ... FROM STDIN`` as pre-formatted text, in
  batches, while Python validates the next batch (the server parses on the other core).
- Primary keys are reserved from the table's sequence up front, so heads of households and
  unit leaders are known without a second pass or an UPDATE of a million rows.
- When a table is empty (the first load of a county), its secondary indexes and foreign keys
  are dropped inside the transaction and rebuilt from their exact catalogue definitions at the
  end — one sorted build per index instead of a million random insertions, and one join per
  foreign key instead of a million trigger checks. The rebuild time is part of the load; the
  final tables have every index and constraint they had before. (While this runs, readers of
  those empty tables wait: ``DROP INDEX`` takes an exclusive lock until commit.)
- On SQLite, rows go in with ``executemany`` in batches of 5,000 inside the one transaction;
  indexes of empty tables are rebuilt at the end too, except those leading with a foreign-key
  column, which SQLite's own foreign-key checks need while rows go in.
- The cyclic garbage collector is paused during the load (millions of long-lived tuples
  would otherwise be rescanned again and again); it is switched back on afterwards.

Primary keys are reserved for every row of ``persons.csv``, so rejected and skipped rows
leave gaps in the id sequence (harmless: ids are surrogate keys).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from fangkong.core import audit, idnumbers, jurisdiction, names, phones, regions
from fangkong.core.idnumbers import CHECK_CHARS, WEIGHTS
from fangkong.core.models import AuditEvent, Region, RegionLevel
from fangkong.core.text import name_problem

from .models import Household, JointDefenceUnit, Person, PersonCategory

FILES = ("regions.csv", "households.csv", "units.csv", "persons.csv")
REQUIRED_COLUMNS = {
    "regions.csv": ("code", "name"),
    "households.csv": ("household_no", "region_code", "address"),
    "units.csv": ("unit_no", "region_code", "name"),
    "persons.csv": ("id_number", "name", "household_no"),
}
DEFAULT_MAX_ERRORS = 10_000
SQLITE_BATCH = 5_000
COPY_BATCH = 5_000  # rows per COPY write (~600 kB of person text)
PROGRESS_EVERY = 5_000
RESIDENCE_LEVELS = (RegionLevel.VILLAGE, RegionLevel.GRID)

PERSON_COPY_COLUMNS = (
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
    "source_row",
    "source",
    "source_file",
    "created_at",
    "updated_at",
    "version",
)
HOUSEHOLD_COLUMNS = (
    "id",
    "region_id",
    "region_code",
    "address",
    "head_id",
    "unit_id",
    "version",
    "created_at",
    "updated_at",
)
UNIT_COLUMNS = ("id", "region_id", "region_code", "name", "leader_id")

_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEX = {"M": "M", "F": "F", "男": "M", "女": "F", "m": "M", "f": "F"}
_TRUE = {"1", "true", "True", "TRUE", "是", "y", "Y", "yes"}
_FALSE = {"", "0", "false", "False", "FALSE", "否", "n", "N", "no"}
_CATEGORY_LABELS = {
    "常住居民": "resident",
    "返乡人员": "returnee",
    "流动人口": "floating",
    "在外人员": "elsewhere",
}


@dataclass(frozen=True)
class RowError:
    """One rejected row: which file, which data row (from 1), which column, and why."""

    file: str
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoadSummary:
    """What a load did; ``errors`` lists every rejected row (at most ``max_errors``)."""

    directory: str
    source_file: str
    method: str = ""
    regions_created: int = 0
    units_created: int = 0
    units_existing: int = 0
    households_created: int = 0
    households_existing: int = 0
    persons_created: int = 0
    persons_existing: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [e.as_dict() for e in self.errors]
        return data

    def __str__(self) -> str:
        return self.describe()

    def describe(self, *, with_time: bool = True) -> str:
        """One Chinese sentence for the CLI, the task record and the audit log."""
        text = (
            f"新增 {self.persons_created:,} 人、{self.households_created:,} 户、"
            f"{self.units_created:,} 个十户联防单元；已存在跳过 {self.persons_existing:,} 人、"
            f"{self.households_existing:,} 户；错误 {self.rows_rejected:,} 行"
        )
        return text + (f"；用时 {self.seconds:.1f} 秒" if with_time else "")


class ImportFailed(Exception):
    """A fatal problem: nothing was imported. ``errors`` holds the row errors seen so far."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class _Errors:
    """Collects row errors; too many means the wrong file, and the load is abandoned."""

    def __init__(self, limit: int) -> None:
        self.items: list[RowError] = []
        self.limit = limit

    def add(self, file: str, row: int, column: str, message: str) -> None:
        self.items.append(RowError(file, row, column, message))
        if len(self.items) > self.limit:
            raise ImportFailed(
                f"错误行超过 {self.limit:,} 行，导入已全部撤销；请确认文件是否正确",
                self.items[: self.limit],
            )


class FastIdValidator:
    """GB 11643 validation with precomputed partial sums; same verdicts as ``parse``.

    The check digit is ``Σ weight·digit mod 11`` over three independent parts (area code,
    birth date, sequence), so a number is valid when three table lookups succeed and their
    sums give its last character. Tables fill lazily: an area code or date is validated once
    with the exact rules of :mod:`~fangkong.core.idnumbers`, then reused a million times.
    Anything else — lower-case ``x``, spaces, full-width digits, 15-digit numbers, and every
    invalid number — goes to :func:`idnumbers.parse`, which decides and words the message.
    """

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dt.date.today()
        self._area: dict[str, int] = {}
        self._date: dict[str, tuple[str, int] | None] = {}
        self._seq: dict[str, tuple[int, str]] = {
            f"{n:03d}": (
                sum(w * int(c) for w, c in zip(WEIGHTS[14:17], f"{n:03d}", strict=True)),
                "M" if n % 2 else "F",
            )
            for n in range(1000)
        }

    def _area_sum(self, area: str) -> int:
        total = self._area.get(area)
        if total is None:
            if (
                not area.isdigit()
                or not area.isascii()
                or area[:2] in {"00", "10"}
                or (area[0] == "9")
            ):
                return -1
            total = self._area[area] = sum(
                w * int(c) for w, c in zip(WEIGHTS[:6], area, strict=True)
            )
        return total

    def _date_info(self, digits: str) -> tuple[str, int] | None:
        if digits in self._date:
            return self._date[digits]
        info = None
        if digits.isdigit() and digits.isascii():
            try:
                born = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
            except ValueError:
                born = None
            if born is not None and idnumbers.EARLIEST_BIRTH <= born <= self.today:
                info = (
                    born.isoformat(),
                    sum(w * int(c) for w, c in zip(WEIGHTS[6:14], digits, strict=True)),
                )
        self._date[digits] = info
        return info

    def check(self, raw: str, *, allow_legacy: bool = True) -> tuple[str, str, str]:
        """(number, birth date ISO, sex) or raise :class:`idnumbers.IdNumberError`;
        ``allow_legacy`` as in :func:`idnumbers.parse` (convert 15-digit numbers or refuse)."""
        if len(raw) == 18:
            area = self._area_sum(raw[:6])
            date = self._date_info(raw[6:14])
            seq = self._seq.get(raw[14:17])
            if (
                area >= 0
                and date is not None
                and seq is not None
                and CHECK_CHARS[(area + date[1] + seq[0]) % 11] == raw[17]
            ):
                return raw, date[0], seq[1]
        info = idnumbers.parse(raw, allow_legacy=allow_legacy, today=self.today)
        return info.number, info.birth_date.isoformat(), info.sex


def _parse_date(text: str) -> str | None:
    """A birth date as ledgers write it (2020-01-05, 2020/1/5, 20200105, 2020.1.5) → ISO."""
    match = re.fullmatch(r"(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?", text.strip())
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


def _count_rows(path: Path) -> int:
    """Data rows in a CSV file, counted by line ends (for progress only)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(0, lines - 1)


def _reader(path: Path) -> tuple[Iterator[list[str]], dict[str, int]]:
    """A csv reader past the header, and the header's column positions."""
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        handle.close()
        raise ImportFailed(f"{path.name} 是空文件（缺少表头）")
    columns = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in REQUIRED_COLUMNS[path.name] if c not in columns]
    if missing:
        handle.close()
        raise ImportFailed(f"{path.name} 缺少列：{'、'.join(missing)}")

    def rows() -> Iterator[list[str]]:
        with handle:
            yield from reader

    return rows(), columns


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _copy_text(value: str) -> str:
    """Escape a value for COPY text format (only addresses can need it)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _Loader:
    """One load: validation state, id reservations, and the writes, in one transaction."""

    def __init__(
        self,
        directory: Path,
        *,
        source_file: str,
        progress: Callable[[int, int], None] | None,
        user: Any,
        max_errors: int,
        channel: str,
    ) -> None:
        self.dir = directory
        self.channel = channel
        self.source_file = source_file[:200]
        self.progress = progress
        self.user = user
        self.errors = _Errors(max_errors)
        self.summary = LoadSummary(directory=str(directory), source_file=self.source_file)
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        if self.postgres:
            self.now_text = self.now.isoformat()
        else:
            self.now_text = str(connection.ops.adapt_datetimefield_value(self.now))
        self.total = 0
        self.residence: set[str] = set()
        self.outside: set[str] = set()
        self.deferred: list[str] = []  # DDL to run after the rows are in (PostgreSQL)

    # -- regions --------------------------------------------------------------------------

    def load_regions(self) -> None:
        file = "regions.csv"
        rows, col = _reader(self.dir / file)
        known = dict(Region.objects.values_list("code", "level"))
        accepted: list[tuple[str, str, bool]] = []
        candidates: list[tuple[int, str, str, bool]] = []
        for number, row in enumerate(rows, start=1):
            if not any(row):
                continue
            code, name = _cell(row, col["code"]), names.clean(_cell(row, col["name"]))
            generated = _cell(row, col.get("generated")) in _TRUE
            if not code.isdigit() or not code.isascii():
                self.errors.add(file, number, "code", f"区划代码 {code} 只能由数字组成")
                continue
            try:
                regions.level_of(code)
            except ValueError:
                self.errors.add(
                    file, number, "code", f"区划代码 {code} 的长度不对（应为2、4、6、9、12或15位）"
                )
                continue
            if not name or len(name) > 64 or _FORBIDDEN.search(name):
                self.errors.add(file, number, "name", "名称为空、过长（最多64字）或含不允许的字符")
                continue
            given_parent = _cell(row, col.get("parent_code"))
            if given_parent and given_parent != regions.parent_code(code):
                self.errors.add(
                    file, number, "parent_code", f"上级代码 {given_parent} 与区划代码 {code} 不符"
                )
                continue
            candidates.append((number, code, name, generated))
        for number, code, name, generated in sorted(candidates, key=lambda c: (len(c[1]), c[1])):
            parent = regions.parent_code(code)
            if parent is not None and parent not in known:
                self.errors.add(file, number, "parent_code", f"区划 {code} 的上级 {parent} 不存在")
                continue
            known[code] = regions.level_of(code)
            accepted.append((code, name, generated))
        self.summary.regions_created = regions.upsert_regions(accepted)
        residence = {code for code, level in known.items() if level in RESIDENCE_LEVELS}
        if self.user is not None:
            self.outside = {c for c in residence if not jurisdiction.covers(self.user, c)}
        self.residence = residence

    def check_region(self, file: str, number: int, code: str) -> bool:
        if code in self.outside:
            self.errors.add(file, number, "region_code", f"区划代码 {code} 不在您的管辖范围内")
            return False
        if code not in self.residence:
            self.errors.add(
                file, number, "region_code", f"区划代码 {code} 不存在或不是村（社区）、组（网格）"
            )
            return False
        return True

    # -- id reservation and table preparation ---------------------------------------------

    def lock_and_prepare(self) -> None:
        """Lock out other writers; on empty PostgreSQL tables, defer index and FK builds."""
        tables = [m._meta.db_table for m in (Person, Household, JointDefenceUnit)]
        if not self.postgres:
            # SQLite: the IMMEDIATE transaction already holds the only write lock. Indexes
            # of empty tables are rebuilt at the end, as on PostgreSQL — except those that
            # lead with a foreign-key column: SQLite's foreign-key checks look up child
            # rows through them on every parent insert, and without them each lookup
            # would scan the table.
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
                    if not cursor.fetchone()[0]:
                        continue
                    cursor.execute(f"PRAGMA foreign_key_list({table})")
                    fk_columns = {row[3] for row in cursor.fetchall()}
                    cursor.execute(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
                        [table],
                    )
                    for name, definition in cursor.fetchall():
                        cursor.execute(f'PRAGMA index_info("{name}")')
                        leading = cursor.fetchone()
                        if leading is None or leading[2] in fk_columns:
                            continue
                        cursor.execute(f'DROP INDEX "{name}"')
                        self.deferred.append(definition)
            return
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
            empty = []
            for table in tables:
                cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
                if cursor.fetchone()[0]:
                    empty.append(table)
            if empty:
                self.summary.method = "copy+rebuild"
                # Session settings for this transaction only: memory and workers for the
                # index builds at the end.
                cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
                cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            else:
                self.summary.method = "copy"
            if empty:
                # Check the deferred constraints of the regions just written now: ALTER TABLE
                # refuses to run while trigger events are pending on a referenced table.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in empty:
                self._defer_indexes(cursor, table)

    def _defer_indexes(self, cursor: Any, table: str) -> None:
        cursor.execute(
            """
            SELECT conname, pg_get_constraintdef(oid), contype
            FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('f', 'u')
            ORDER BY conname
            """,
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY i.relname
            """,
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition, _kind in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Unique constraints first (their indexes), then plain indexes, then foreign keys,
        # which can use the indexes just built on the referencing side.
        self.deferred += [
            f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d, k in constraints if k == "u"
        ]
        self.deferred += [definition for _name, definition in indexes]
        self.deferred += [
            f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d, k in constraints if k == "f"
        ]

    def reserve_ids(self, model: type[Model], count: int) -> int:
        """The first of ``count`` consecutive primary keys nobody else will use."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute("SELECT nextval(%s)", [sequence])
                first = int(cursor.fetchone()[0])
                if count > 1:
                    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
                return first
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            highest = int(cursor.fetchone()[0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            return max(highest, int(found[0]) if found else 0) + 1

    # -- units and households ---------------------------------------------------------------

    def read_units(self) -> None:
        file = "units.csv"
        rows, col = _reader(self.dir / file)
        existing = {
            (code, name): pk
            for code, name, pk in JointDefenceUnit.objects.values_list("region_code", "name", "id")
        }
        self.unit_ids: dict[str, int] = {}
        self.new_units: list[tuple[int, str, str, int | None]] = []  # (index, region, name, row)
        seen: set[str] = set()
        pending: list[tuple[str, str, str, int | None]] = []
        for number, row in enumerate(rows, start=1):
            if not any(row):
                continue
            unit_no, code = _cell(row, col["unit_no"]), _cell(row, col["region_code"])
            name = names.clean(_cell(row, col["name"]))
            leader_text = _cell(row, col.get("leader_person_row"))
            if not unit_no:
                self.errors.add(file, number, "unit_no", "十户联防单元编号不能为空")
                continue
            if unit_no in seen:
                self.errors.add(file, number, "unit_no", f"十户联防单元编号 {unit_no} 重复")
                continue
            seen.add(unit_no)
            if not self.check_region(file, number, code):
                continue
            if not name or len(name) > 64 or _FORBIDDEN.search(name):
                self.errors.add(file, number, "name", "名称为空、过长（最多64字）或含不允许的字符")
                continue
            leader_row = None
            if leader_text:
                if not leader_text.isdigit():
                    self.errors.add(file, number, "leader_person_row", "联户长行号须为数字")
                    continue
                leader_row = int(leader_text)
            if (code, name) in existing:
                self.unit_ids[unit_no] = existing[(code, name)]
                self.summary.units_existing += 1
            else:
                pending.append((unit_no, code, name, leader_row))
        first = self.reserve_ids(JointDefenceUnit, len(pending)) if pending else 0
        for k, (unit_no, code, name, leader_row) in enumerate(pending):
            self.unit_ids[unit_no] = first + k
            self.new_units.append((first + k, code, name, leader_row))
        self.leader_rows = {u[3] for u in self.new_units if u[3] is not None}

    def read_households(self) -> None:
        file = "households.csv"
        rows, col = _reader(self.dir / file)
        existing: dict[tuple[str, str], int] = {}
        if Household.objects.exists():
            existing = {
                (code, address): pk
                for code, address, pk in Household.objects.values_list(
                    "region_code", "address", "id"
                )
            }
        # household_no → (id, region code, is new)
        self.households: dict[str, tuple[int, str, bool]] = {}
        pending: list[tuple[str, str, str, int | None]] = []
        unit_col = col.get("unit_no")
        households = self.households
        residence, outside = self.residence, self.outside
        unit_ids = self.unit_ids
        i_no, i_region, i_address = col["household_no"], col["region_code"], col["address"]
        width = max(col.values()) + 1
        for number, row in enumerate(rows, start=1):
            if len(row) < width:
                if not any(row):
                    continue
                row = row + [""] * (width - len(row))
            household_no, code = row[i_no].strip(), row[i_region].strip()
            address = row[i_address].strip()
            if "  " in address or not address.isprintable():
                address = " ".join(address.split())
            unit_no = row[unit_col].strip() if unit_col is not None else ""
            if not household_no:
                self.errors.add(file, number, "household_no", "户编号不能为空")
                continue
            if household_no in households:
                self.errors.add(file, number, "household_no", f"户编号 {household_no} 重复")
                continue
            if code not in residence or code in outside:
                self.check_region(file, number, code)
                continue
            if not address or len(address) > 200 or _FORBIDDEN.search(address):
                self.errors.add(
                    file, number, "address", "住址为空、过长（最多200字）或含不允许的字符"
                )
                continue
            unit_id = None
            if unit_no:
                unit_id = unit_ids.get(unit_no)
                if unit_id is None:
                    self.errors.add(
                        file, number, "unit_no", f"十户联防单元 {unit_no} 不存在或该行有错误"
                    )
                    continue
            found = existing.get((code, address)) if existing else None
            if found is not None:
                households[household_no] = (found, code, False)
                self.summary.households_existing += 1
            else:
                households[household_no] = (0, code, True)  # id assigned below
                pending.append((household_no, code, address, unit_id))
        first = self.reserve_ids(Household, len(pending)) if pending else 0
        self.new_households: list[list[Any]] = []
        for k, (household_no, code, address, unit_id) in enumerate(pending):
            self.households[household_no] = (first + k, code, True)
            # [id, region, address, head_id, unit_id]; the head is filled in from persons.csv
            self.new_households.append([first + k, code, address, None, unit_id])
        self.household_first = first

    # -- persons --------------------------------------------------------------------------

    def prepare_persons(self) -> None:
        """Database reads the person stream needs, done before COPY holds the connection."""
        self.total = _count_rows(self.dir / "persons.csv")
        self.existing_ids: set[str] = set()
        if Person.objects.exists():
            self.existing_ids = {
                number
                for number in Person.objects.exclude(id_number=None).values_list(
                    "id_number", flat=True
                )
                if number
            }
        self.first_person_id = self.reserve_ids(Person, self.total) if self.total else 0

    def person_rows(self) -> Iterator[tuple[str, ...]]:
        """Validated new persons as tuples of text in :data:`PERSON_COPY_COLUMNS` order
        (without the constant trailing columns); rejects and skips as it goes.

        It must not touch the database: it runs while COPY holds the connection.
        """
        file = "persons.csv"
        rows, col = _reader(self.dir / file)
        existing = self.existing_ids
        seen: dict[str, int] = {}
        next_id = self.first_person_id
        validator = FastIdValidator(timezone.localdate())
        area_get, date_get, seq_get = validator._area.get, validator._date.get, validator._seq.get
        check_chars = CHECK_CHARS
        char_cache: dict[str, str] = {}
        char_py = char_cache.get
        surname_py = names.SURNAME_READINGS.get

        def fill(char: str) -> str:
            value = char_cache[char] = names.char_pinyin(char)
            return value

        keys_cache: dict[str, tuple[str, str, str]] = {}
        households = self.households
        new_households = self.new_households
        household_first = self.household_first
        leader_rows = self.leader_rows
        self.leader_ids: dict[int, int] = {}
        errors = self.errors
        mobile = _MOBILE.fullmatch
        categories = set(PersonCategory.values)
        i_id, i_name, i_hh = col["id_number"], col["name"], col["household_no"]
        i_row, i_sex, i_birth = col.get("row"), col.get("sex"), col.get("birth_date")
        i_phone, i_region = col.get("phone"), col.get("region_code")
        i_category, i_head = col.get("category"), col.get("is_head")
        width = len(col)
        progress, every, total = self.progress, PROGRESS_EVERY, self.total
        summary = self.summary
        number = created = 0
        for number, row in enumerate(rows, start=1):
            if progress is not None and number % every == 0:
                progress(number, total)
            if len(row) < width:
                if not any(row):
                    continue
                row = row + [""] * (width - len(row))
            raw_id = row[i_id].strip()
            # The validator's fast path, inlined (see FastIdValidator.check).
            area = area_get(raw_id[:6])
            date = date_get(raw_id[6:14])
            seq = seq_get(raw_id[14:17])
            if (
                area is not None
                and date is not None
                and seq is not None
                and len(raw_id) == 18
                and check_chars[(area + date[1] + seq[0]) % 11] == raw_id[17]
            ):
                id_number, birth, sex = raw_id, date[0], seq[1]
            else:
                try:
                    id_number, birth, sex = validator.check(raw_id)
                except idnumbers.IdNumberError as exc:
                    errors.add(file, number, "id_number", exc.message)
                    continue
            if id_number in seen:
                errors.add(file, number, "id_number", f"身份证号码与第 {seen[id_number]} 行重复")
                continue
            seen[id_number] = number
            if id_number in existing:
                summary.persons_existing += 1
                continue
            name = row[i_name]
            keys: tuple[str, str, str] | None
            if name.isalpha() and len(name) <= 64:
                # A name of letters only is already clean (names.clean changes only spaces
                # and dots); its keys come from the per-character cache, as names.keys does.
                first = surname_py(name[0]) or char_py(name[0]) or fill(name[0])
                rest = [char_py(c) or fill(c) for c in name[1:]]
                keys = (
                    name,
                    (first + "".join(rest))[: names.PINYIN_MAX_LENGTH],
                    (first[:1] + "".join([r[:1] for r in rest]))[: names.INITIALS_MAX_LENGTH],
                )
            else:
                keys = keys_cache.get(name)
                if keys is None:
                    cleaned = names.clean(name)
                    if name_problem(cleaned) or _FORBIDDEN.search(cleaned):
                        errors.add(
                            file, number, "name", "姓名为空、过长（最多64字）或含不允许的字符"
                        )
                        continue
                    pinyin, initials = names.keys(cleaned)
                    keys = keys_cache[name] = (cleaned, pinyin, initials)
            household = households.get(row[i_hh].strip())
            if household is None:
                region = row[i_region].strip() if i_region is not None else ""
                if region and (region not in self.residence or region in self.outside):
                    self.check_region(file, number, region)  # the root cause, if it is that
                else:
                    errors.add(
                        file,
                        number,
                        "household_no",
                        f"户编号 {row[i_hh].strip()} 不存在或该户有错误",
                    )
                continue
            household_id, household_region, household_new = household
            if i_region is not None:
                region = row[i_region].strip()
                if region != household_region and region:
                    if region not in self.residence or region in self.outside:
                        self.check_region(file, number, region)
                    else:
                        errors.add(file, number, "region_code", "居住地区划代码与所在户不一致")
                    continue
            region = household_region
            if i_sex is not None:
                given = row[i_sex].strip()
                if given and _SEX.get(given) != sex:
                    errors.add(file, number, "sex", "性别与身份证号码不一致")
                    continue
            if i_birth is not None:
                given = row[i_birth].strip()
                if given and given != birth and _parse_date(given) != birth:
                    errors.add(file, number, "birth_date", "出生日期与身份证号码不一致")
                    continue
            phone = row[i_phone].strip() if i_phone is not None else ""
            if phone and not (len(phone) == 11 and mobile(phone)):
                try:
                    phone = phones.normalize(phone)
                except phones.PhoneError as exc:
                    errors.add(file, number, "phone", exc.message)
                    continue
            category = row[i_category].strip() if i_category is not None else ""
            if category not in categories:
                if not category:
                    category = "resident"
                elif category in _CATEGORY_LABELS:
                    category = _CATEGORY_LABELS[category]
                else:
                    errors.add(
                        file,
                        number,
                        "category",
                        f"人员类别 {category} 无效（resident、returnee、floating、elsewhere）",
                    )
                    continue
            head_text = row[i_head].strip() if i_head is not None else ""
            if head_text not in _FALSE and head_text not in _TRUE:
                errors.add(file, number, "is_head", "是否户主应填 1 或 0")
                continue
            row_text = row[i_row].strip() if i_row is not None else ""
            row_no = int(row_text) if row_text.isdigit() else number
            person_id = next_id
            next_id += 1
            if head_text in _TRUE and household_new:
                slot = new_households[household_id - household_first]
                if slot[3] is None:
                    slot[3] = person_id
            if row_no in leader_rows:
                self.leader_ids[row_no] = person_id
            created += 1
            yield (
                str(person_id),
                id_number,
                keys[0],
                keys[1],
                keys[2],
                sex,
                birth,
                phone,
                str(household_id),
                region,
                category,
                str(number),
            )
        summary.persons_created = created
        if progress is not None:
            progress(number, total)

    def write_persons(self) -> None:
        self.prepare_persons()
        rows = self.person_rows()
        tail = f"\timport\t{_copy_text(self.source_file)}\t{self.now_text}\t{self.now_text}\t1\n"
        if self.postgres:
            from psycopg.copy import QueuedLibpqWriter

            columns = ", ".join(PERSON_COPY_COLUMNS)
            sql = f"COPY {Person._meta.db_table} ({columns}) FROM STDIN"
            with connection.cursor() as cursor:
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                # A writer thread sends each batch while this thread validates the next:
                # the socket wait releases the GIL, so Python and the server overlap.
                with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
                    batch: list[str] = []
                    append = batch.append
                    for values in rows:
                        append("\t".join(values) + tail)
                        if len(batch) >= COPY_BATCH:
                            copy.write("".join(batch).encode())
                            batch.clear()
                    if batch:
                        copy.write("".join(batch).encode())
            return
        constants = ("import", self.source_file, self.now_text, self.now_text, 1)
        sql = (
            f"INSERT INTO {Person._meta.db_table} ({', '.join(PERSON_COPY_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(PERSON_COPY_COLUMNS))})"
        )
        with connection.cursor() as cursor:
            batch_rows: list[tuple[Any, ...]] = []
            for values in rows:
                batch_rows.append(values + constants)
                if len(batch_rows) >= SQLITE_BATCH:
                    cursor.executemany(sql, batch_rows)
                    batch_rows.clear()
            if batch_rows:
                cursor.executemany(sql, batch_rows)

    def write_households_and_units(self) -> None:
        now = self.now_text
        self.summary.households_created = len(self.new_households)
        self.summary.units_created = len(self.new_units)
        leaders = self.leader_ids
        units = [
            (pk, code, code, name, leaders.get(row) if row is not None else None)
            for pk, code, name, row in self.new_units
        ]
        self._write(JointDefenceUnit._meta.db_table, UNIT_COLUMNS, units)
        if self.postgres:
            # Pre-formatted COPY text; addresses were checked free of tabs, line ends and
            # backslashes, so nothing needs escaping.
            null = "\\N"
            lines = [
                f"{pk}\t{code}\t{code}\t{address}\t"
                f"{null if head is None else head}\t{null if unit is None else unit}"
                f"\t1\t{now}\t{now}\n"
                for pk, code, address, head, unit in self.new_households
            ]
            self._copy_lines(Household._meta.db_table, HOUSEHOLD_COLUMNS, lines)
        else:
            households = [
                (pk, code, code, address, head, unit, 1, now, now)
                for pk, code, address, head, unit in self.new_households
            ]
            self._write(Household._meta.db_table, HOUSEHOLD_COLUMNS, households)

    def _copy_lines(self, table: str, columns: tuple[str, ...], lines: list[str]) -> None:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for start in range(0, len(lines), COPY_BATCH):
                copy.write("".join(lines[start : start + COPY_BATCH]).encode())

    def _write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Insert rows: COPY text on PostgreSQL, executemany batches on SQLite."""
        if not rows:
            return
        if self.postgres:
            lines = [
                "\t".join("\\N" if v is None else _copy_text(str(v)) for v in values) + "\n"
                for values in rows
            ]
            self._copy_lines(table, columns, lines)
            return
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(rows), SQLITE_BATCH):
                cursor.executemany(sql, rows[start : start + SQLITE_BATCH])

    def finish(self) -> None:
        """Rebuild deferred indexes and constraints; refresh planner statistics."""
        if not self.postgres:
            with connection.cursor() as cursor:
                for statement in self.deferred:
                    cursor.execute(statement)
            return
        with connection.cursor() as cursor:
            for statement in self.deferred:
                cursor.execute(statement)
            for model in (Person, Household, JointDefenceUnit):
                cursor.execute(f"ANALYZE {model._meta.db_table}")

    def run(self) -> LoadSummary:
        # The load builds millions of small objects that live until the end; the cyclic
        # collector would walk them again and again for nothing. It is back on afterwards.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if enabled:
                gc.enable()

    def _run(self) -> LoadSummary:
        started = time.perf_counter()
        for name in FILES:
            if not (self.dir / name).is_file():
                raise ImportFailed(f"文件夹 {self.dir} 中缺少 {name}")
        self.summary.method = self.summary.method or ("copy" if self.postgres else "executemany")
        phases = self.summary.phases
        mark = time.perf_counter()

        def step(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            phases[name] = round(now - mark, 3)
            mark = now

        with transaction.atomic():
            self.load_regions()
            self.lock_and_prepare()
            if not self.postgres:
                self.summary.method = "executemany"
            step("regions")
            self.read_units()
            self.read_households()
            step("read_households_units")
            self.write_persons()
            step("persons")
            self.write_households_and_units()
            step("write_households_units")
            self.finish()
            step("rebuild_indexes_analyze")
            self.summary.errors = list(self.errors.items)
            self.summary.rows_rejected = len(self.errors.items)
            audit.record(
                user=self.user,
                kind=AuditEvent.Kind.IMPORT,
                object_type="person",
                object_id=self.summary.persons_created,
                fields=["id_number", "name", "phone", "birth_date", "sex", "region_code"],
                channel=self.channel,
                detail=f"{self.source_file}：{self.summary.describe(with_time=False)}",
            )
        step("commit")
        self.summary.seconds = round(time.perf_counter() - started, 3)
        return self.summary


def load_county_dir(
    path: Path,
    *,
    source_label: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    user: Any = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    channel: str = "cli",
) -> LoadSummary:
    """Load a county folder in one transaction; see the module docstring for the rules.

    ``source_label`` is stored as each person's ``source_file`` (default
    ``<folder name>/persons.csv``). ``progress(done, total)`` is called every few thousand
    person rows. When ``user`` is given, rows outside their jurisdiction are rejected and the
    audit event names them. Raises :class:`ImportFailed` (nothing imported) on a fatal error.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ImportFailed(f"找不到文件夹 {directory}")
    label = source_label or f"{directory.name}/persons.csv"
    loader = _Loader(
        directory,
        source_file=label,
        progress=progress,
        user=user,
        max_errors=max_errors,
        channel=channel,
    )
    return loader.run()
