"""Line-list import (病例一览表): cases and who-infected-whom links from .xlsx or .csv.

Columns (English or Chinese headers; the DS4C names are accepted too): case id, onset,
report and confirmation dates, region code, infected-by, exposure type, name, status.
Every row is checked and every fault is reported by row (as the spreadsheet numbers it,
header = 1), column and message; rows with a fault in a required field are skipped, while a
bad infected-by link only drops that link — the case itself and every sound chain are still
built. The file is imported in one transaction: all sound rows or, on a database error,
nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, jurisdiction, uploads
from fangkong.core.batching import chunks
from fangkong.core.errors import FieldError, ValidationFailed
from fangkong.core.models import AuditEvent, Region
from fangkong.core.roles import Action

from . import chains as chain_rules
from .models import Case, CaseStatus, FoundVia
from .services import require, window_start

MAX_ROWS = 200_000

HEADERS = {
    "case_id": ("case_id", "case id", "patient_id", "病例编号", "编号"),
    "onset_date": ("onset_date", "onset", "symptom_onset_date", "发病日期"),
    "report_date": ("report_date", "报告日期"),
    "confirmation_date": ("confirmation_date", "confirmed_date", "确诊日期"),
    "region": ("region", "region_code", "区划代码", "现住址区划"),
    "infected_by": ("infected_by", "infected by", "传染源", "感染来源病例"),
    "exposure_type": ("exposure_type", "infection_case", "暴露方式", "感染途径"),
    "name": ("name", "姓名"),
    "status": ("status", "分类", "病例分类"),
}
STATUS_WORDS = {
    "confirmed": CaseStatus.CONFIRMED,
    "确诊": CaseStatus.CONFIRMED,
    "确诊病例": CaseStatus.CONFIRMED,
    "asymptomatic": CaseStatus.ASYMPTOMATIC,
    "无症状": CaseStatus.ASYMPTOMATIC,
    "无症状感染者": CaseStatus.ASYMPTOMATIC,
    "suspected": CaseStatus.SUSPECTED,
    "疑似": CaseStatus.SUSPECTED,
    "疑似病例": CaseStatus.SUSPECTED,
    "excluded": CaseStatus.EXCLUDED,
    "排除": CaseStatus.EXCLUDED,
}


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class LineRow:
    row: int
    case_id: str
    region_code: str
    status: str
    name: str = ""
    onset_date: dt.date | None = None
    report_date: dt.date | None = None
    confirmation_date: dt.date | None = None
    infected_by: str = ""
    exposure_type: str = ""


@dataclass
class Parsed:
    rows: list[LineRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # sound case → infected-by
    chains: chain_rules.Chains | None = None


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """The cells of the first sheet (or the CSV) as text, header row first."""
    if filename.lower().endswith((".xlsx", ".xls", ".ods")):
        from python_calamine import CalamineWorkbook

        uploads.check_archive(content)  # a zip bomb is refused before calamine (issue 11)
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
        return [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    text = content.decode("utf-8-sig", errors="replace")
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _cell(value: Any) -> str:
    # calamine hands integers back as floats (1000000001.0) and dates as dates.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _date(text: str) -> dt.date:
    text = text.strip()
    if "/" in text:  # M/D/YYYY, the DS4C and Excel-US form
        month, day, year = (int(p) for p in text.split("/"))
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text.replace(".", "-"))


def parse(table: list[list[str]], *, default_region: str) -> Parsed:
    """Check every row and the links between rows; no database access.

    ``default_region`` is the region a row without a region code belongs to (the
    jurisdiction the list is imported into).
    """
    out = Parsed()
    if not table:
        out.errors.append(RowError(1, "", _("The file is empty")))
        return out
    header = [h.strip().lower() for h in table[0]]
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                columns[key] = i
                break
    if "case_id" not in columns:
        out.errors.append(RowError(1, "case_id", _("No case id column")))
        return out
    if len(table) - 1 > MAX_ROWS:
        out.errors.append(RowError(1, "", _("At most %(n)s rows per file") % {"n": MAX_ROWS}))
        return out
    seen: dict[str, int] = {}
    today = timezone.localdate()
    for number, cells in enumerate(table[1:], start=2):

        def get(key: str, cells=cells) -> str:
            i = columns.get(key)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        if not any(c.strip() for c in cells):
            continue
        case_id = get("case_id")
        bad = False
        if not case_id:
            out.errors.append(RowError(number, "case_id", _("The case id is empty")))
            continue
        if len(case_id) > 40 or "\x00" in case_id:
            out.errors.append(RowError(number, "case_id", _("Not a valid case id")))
            continue
        if case_id in seen:
            out.errors.append(
                RowError(
                    number,
                    "case_id",
                    _("Case %(id)s already appears in row %(row)s")
                    % {"id": case_id, "row": seen[case_id]},
                )
            )
            continue
        seen[case_id] = number
        dates: dict[str, dt.date | None] = {}
        for key in ("onset_date", "report_date", "confirmation_date"):
            text = get(key)
            dates[key] = None
            if not text:
                continue
            try:
                value = _date(text)
            except ValueError:
                out.errors.append(
                    RowError(number, key, _("%(value)s is not a date") % {"value": text[:40]})
                )
                continue
            if not dt.date(2019, 1, 1) <= value <= today:
                out.errors.append(
                    RowError(number, key, _("The date must lie between 2019 and today"))
                )
                continue
            dates[key] = value
        region = get("region") or default_region
        if not region.isdigit() or not region.startswith(default_region):
            out.errors.append(
                RowError(
                    number,
                    "region",
                    _("%(code)s is not a region code under %(region)s")
                    % {"code": region[:20], "region": default_region},
                )
            )
            bad = True
        status_text = get("status").lower()
        status = STATUS_WORDS.get(status_text, CaseStatus.CONFIRMED if not status_text else "")
        if not status:
            out.errors.append(
                RowError(
                    number, "status", _("Unknown status %(value)s") % {"value": status_text[:20]}
                )
            )
            bad = True
        if bad:
            continue
        row = LineRow(
            row=number,
            case_id=case_id,
            region_code=region,
            status=status,
            name=get("name")[:64],
            infected_by=get("infected_by"),
            exposure_type=get("exposure_type")[:40],
            **dates,
        )
        out.rows.append(row)
    by_id = {r.case_id: r for r in out.rows}
    index = {cid: i for i, cid in enumerate(by_id)}
    links = []
    for r in out.rows:
        if not r.infected_by:
            continue
        if r.infected_by not in by_id:
            out.errors.append(
                RowError(
                    r.row,
                    "infected_by",
                    _("Case %(id)s is not in the file; the case is kept without this link")
                    % {"id": r.infected_by[:40]},
                )
            )
            continue
        links.append((index[r.case_id], index[r.infected_by]))
    built = chain_rules.build(range(len(index)), links)
    ids = list(by_id)
    messages = {
        "self": _("The case names itself as its source; the link is dropped"),
        "mutual": _("Cases %(a)s and %(b)s name each other as source; both links are dropped"),
        "cycle": _("The infected-by links form a loop through %(a)s and %(b)s; dropped"),
    }
    for child, source, why in built.dropped:
        r = by_id[ids[child]]
        out.errors.append(
            RowError(r.row, "infected_by", messages[why] % {"a": ids[child], "b": ids[source]})
        )
    out.chains = built
    out.links = {ids[c]: ids[p] for c, p in built.parent.items()}
    return out


@dataclass
class ImportSummary:
    created: int
    linked: int
    errors: list[RowError]
    clusters: int
    largest_cluster: int


@transaction.atomic
def import_line_list(
    *, user: Any, content: bytes, filename: str, region_code: str, channel: str = "web"
) -> ImportSummary:
    """Import a line list into the user's jurisdiction ``region_code``.

    Cases whose id is already recorded in the region are skipped (re-importing a corrected
    list adds only the new rows); links resolve inside the file.
    """
    require(user, Action.TRACING_MANAGE)
    if (
        not jurisdiction.covers(user, region_code)
        or not Region.objects.filter(code=region_code).exists()
    ):
        raise ValidationFailed(
            [FieldError("region_code", _("The region must lie in your jurisdiction"))]
        )
    try:
        table = read_table(content, filename)
    except uploads.UnsafeUpload as exc:
        raise ValidationFailed([FieldError("file", exc.message)]) from None
    parsed = parse(table, default_region=region_code)
    visible = jurisdiction.scope(Case.objects.all(), user)
    known = {
        external_id
        for chunk in chunks([r.case_id for r in parsed.rows])
        for external_id in visible.filter(external_id__in=chunk).values_list(
            "external_id", flat=True
        )
    }
    rows = [r for r in parsed.rows if r.case_id not in known]
    valid_regions = set(
        Region.objects.filter(code__in={r.region_code for r in rows}).values_list("code", flat=True)
    )
    fresh = []
    for r in rows:
        if r.region_code not in valid_regions:
            parsed.errors.append(RowError(r.row, "region", _("Unknown region code")))
            continue
        case = Case(
            external_id=r.case_id,
            name=r.name,
            region_code=r.region_code,
            status=r.status,
            onset_date=r.onset_date,
            report_date=r.report_date,
            confirmation_date=r.confirmation_date,
            found_via=FoundVia.LINE_LIST,
            exposure_type=r.exposure_type,
            source_file=filename[:200],
            source_row=r.row,
            created_by=user,
        )
        case.window_start = window_start(case)
        fresh.append(case)
    Case.objects.bulk_create(fresh, batch_size=2000)
    by_external = {
        external_id: pk
        for chunk in chunks(sorted(set(parsed.links) | set(parsed.links.values())))
        for external_id, pk in Case.objects.filter(
            region_code__startswith=region_code, external_id__in=chunk
        ).values_list("external_id", "pk")
    }
    updates = []
    for child, source in parsed.links.items():
        if child in by_external and source in by_external:
            updates.append(Case(pk=by_external[child], infected_by_id=by_external[source]))
    Case.objects.bulk_update(updates, ["infected_by"], batch_size=2000)
    audit.record(
        user=user,
        kind=AuditEvent.Kind.IMPORT,
        object_type="case",
        channel=channel,
        detail=f"{filename[:100]}: {len(fresh)} cases, {len(updates)} links",
    )
    sizes = [len(m) for m in parsed.chains.clusters.values()] if parsed.chains else []
    parsed.errors.sort(key=lambda e: (e.row, e.column))
    return ImportSummary(
        created=len(fresh),
        linked=len(updates),
        errors=parsed.errors,
        clusters=sum(1 for s in sizes if s > 1),
        largest_cluster=max(sizes, default=0),
    )
