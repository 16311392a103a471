"""Word reports (.docx, python-docx) generated from live data, in the red-header style of a
county document: the daily report, the stage summary (基本情况/主要做法/存在问题/下步打算),
the self-inspection report (findings by aspect, each followed by its 下步打算) and the
supervision bulletin (督查通报). Every document is stored with its snapshot and its author.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from collections import defaultdict
from typing import Any

from django.db.models import Count
from django.utils import timezone
from docx import Document as Docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from fangkong.core import inspection, jurisdiction
from fangkong.core.errors import FieldError, ValidationFailed
from fangkong.core.models import Region
from fangkong.core.permissions import require
from fangkong.core.roles import Action

from . import services
from .models import (
    DailyReport,
    Document,
    DocumentKind,
    Finding,
    Problem,
    ProblemStatus,
    Template,
)

RED = RGBColor(0xC0, 0x00, 0x00)
FONT = "仿宋"


def as_of_text(at: dt.datetime) -> str:
    local = timezone.localtime(at)
    return f"截至{local.month}月{local.day}日{local.hour}时"


def _font(
    run: Any, size: float = 16, bold: bool = False, color: RGBColor | None = None, name: str = FONT
) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = name
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color


def _red_rule(paragraph: Any) -> None:
    """A red line under the header (the 红头 of a county document)."""
    pPr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "18"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    pPr.append(border)


class _Sections:
    """What each heading of a built-in document says, as text: the values of the
    placeholders of a county's own template ({{基本情况}}, {{下步打算}}...)."""

    def __init__(self, **fixed: str) -> None:
        self.values: dict[str, list[str]] = {k: [v] for k, v in fixed.items()}
        self.current = ""

    def heading(self, text: str) -> None:
        self.current = text.split("、", 1)[-1]
        self.values.setdefault(self.current, [])

    def add(self, text: str) -> None:
        if self.current:
            self.values[self.current].append(text)

    def as_dict(self) -> dict[str, str]:
        return {k: "\n".join(v) for k, v in self.values.items()}


def _start(org: str, title: str, at: dt.datetime) -> Any:
    doc = Docx()
    doc._fk = _Sections(标题=title, 截至=as_of_text(at), 发文机关=org)
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(head.add_run(org), size=26, bold=True, color=RED, name="宋体")
    _red_rule(head)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(title), size=20, bold=True, name="宋体")
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(f"（{as_of_text(at)}）"), size=14)
    return doc


def _heading(doc: Any, text: str) -> None:
    doc._fk.heading(text)
    p = doc.add_paragraph()
    _font(p.add_run(text), size=16, bold=True, name="黑体")


def _para(doc: Any, text: str) -> None:
    doc._fk.add(text)
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(32)
    _font(p.add_run(text), size=16)


def _table(doc: Any, header: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        doc._fk.add("，".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = f"{value:,}" if isinstance(value, int) else str(value)


def _org(code: str) -> str:
    county = Region.objects.filter(code=code[:6]).values_list("name", flat=True).first() or ""
    return f"{county}新冠肺炎疫情防控指挥部"


def _name(code: str) -> str:
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code


def _save(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    _local.sections = doc._fk.as_dict()
    return out.getvalue()


_local = threading.local()  # the sections of the document last built in this thread

# Placeholders a county's template may use, by kind of document ({{name}} in the .docx).
PLACEHOLDERS = {
    DocumentKind.DAILY: (
        "标题",
        "截至",
        "发文机关",
        "基本情况",
        "报送情况",
        "各地报告",
        "新情况、问题和请求",
    ),
    DocumentKind.STAGE: (
        "标题",
        "截至",
        "发文机关",
        "基本情况",
        "主要做法",
        "存在问题",
        "下步打算",
    ),
    DocumentKind.INSPECTION: ("标题", "截至", "发文机关", "自查情况", "发现的问题及下步打算"),
    DocumentKind.BULLETIN: ("标题", "截至", "发文机关", "督查情况", "逾期未整改问题", "下步要求"),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]{1,40}?)\s*\}\}")
MAX_TEMPLATE = 5 * 1024 * 1024


def _paragraphs(doc: Any) -> list[Any]:
    out = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                out.extend(cell.paragraphs)
    for section in doc.sections:
        out.extend(section.header.paragraphs)
        out.extend(section.footer.paragraphs)
    return out


def check_template(kind: str, content: bytes) -> list[str]:
    """The placeholders a template uses; a template that is not a .docx, or uses a name this
    kind of document does not fill, is refused with the names it may use."""
    if len(content) > MAX_TEMPLATE:
        raise ValidationFailed([FieldError("file", "模板文件不能超过5 MB")])
    try:
        doc = Docx(io.BytesIO(content))
    except Exception:
        raise ValidationFailed([FieldError("file", "不是有效的Word（.docx）文件")]) from None
    used = [m for p in _paragraphs(doc) for m in _PLACEHOLDER.findall(p.text)]
    allowed = PLACEHOLDERS[DocumentKind(kind)]
    unknown = sorted({u for u in used if u not in allowed})
    if unknown:
        raise ValidationFailed(
            [
                FieldError(
                    "file",
                    "模板中有无法填写的占位符："
                    + "、".join("{{" + u + "}}" for u in unknown)
                    + "；可用的有："
                    + "、".join("{{" + a + "}}" for a in allowed),
                )
            ]
        )
    if not used:
        raise ValidationFailed([FieldError("file", "模板中没有任何占位符（如 {{基本情况}}）")])
    return used


def render_template(content: bytes, values: dict[str, str]) -> bytes:
    """Fill a county's template: each paragraph holding placeholders gets its text with the
    values (kept in its first run's format); line breaks become paragraph breaks."""
    doc = Docx(io.BytesIO(content))
    for paragraph in _paragraphs(doc):
        text = paragraph.text
        if "{{" not in text:
            continue
        filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)
        runs = paragraph.runs
        if not runs:
            continue
        lines = filled.split("\n")
        runs[0].text = lines[0]
        for run in runs[1:]:
            run.text = ""
        for line in lines[1:]:
            runs[0].add_break()
            runs[0].add_text(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _figures_now(code: str, at: dt.datetime) -> list[tuple[str, str, int]]:
    values = services.figures_from_data(code, at)
    return [(f.key, str(f.label), values.get(f.key, 0)) for f in services.report_figures()]


def _sentence(rows: list[tuple[str, str, int]]) -> str:
    return (
        "；".join(
            f"{label}{value:,}人" if "人" not in label else f"{label}{value:,}"
            for _, label, value in rows
        )
        + "。"
    )


def build_daily(code: str, day: dt.date, at: dt.datetime) -> tuple[bytes, dict[str, Any]]:
    name = _name(code)
    doc = _start(_org(code), f"{name}疫情防控工作日报", at)
    report = DailyReport.objects.filter(day=day, region_code=code).first()
    if len(code) < 12:
        values, missing = services.rollup(code, day)
        rows = [(f.key, str(f.label), values.get(f.key, 0)) for f in services.report_figures()]
    else:
        rows = [
            (k, label, report.value(k) if report else v) for k, label, v in _figures_now(code, at)
        ]
        missing = []
    _heading(doc, "一、基本情况")
    _para(doc, f"{as_of_text(at)}，{name}" + _sentence(rows))
    _table(doc, ["统计项", "数量"], [[label, value] for _, label, value in rows])
    units = services.reporting_units(code)
    if units:
        _heading(doc, "二、报送情况")
        reports = {
            r.region_code: r
            for r in DailyReport.objects.filter(day=day, region_code__in=[c for c, _ in units])
        }
        done = [n for c, n in units if c in reports]
        zero = [n for c, n in units if c in reports and reports[c].status == "zero"]
        names = dict(units)
        _para(
            doc,
            f"应报{len(units)}个，已报{len(done)}个（其中零报告{len(zero)}个），未报{len(missing)}个"
            + ("：" + "、".join(names[c] for c in missing) + "。" if missing else "。"),
        )
        narratives = [
            (names[c], r) for c, r in reports.items() if r.situation or r.problems or r.requests
        ]
        if narratives:
            _heading(doc, "三、各地报告")
            for unit, r in narratives:
                text = "；".join(t for t in (r.situation, r.problems, r.requests) if t)
                _para(doc, f"{unit}：{text}")
    elif report:
        _heading(doc, "二、新情况、问题和请求")
        _para(doc, report.situation or "无新情况。")
        if report.problems:
            _para(doc, "存在问题：" + report.problems)
        if report.requests:
            _para(doc, "请求事项：" + report.requests)
    return _save(doc), {"figures": {k: v for k, _, v in rows}, "missing": missing}


def _problems_by_aspect(code: str) -> dict[str, list[Problem]]:
    grouped: dict[str, list[Problem]] = defaultdict(list)
    for p in (
        Problem.objects.filter(region_code__startswith=code)
        .exclude(status=ProblemStatus.CLOSED)
        .order_by("aspect", "deadline")[:500]
    ):
        grouped[p.aspect].append(p)
    return grouped


def build_stage(code: str, at: dt.datetime) -> tuple[bytes, dict[str, Any]]:
    name = _name(code)
    doc = _start(_org(code), f"{name}疫情防控工作阶段性总结", at)
    rows = _figures_now(code, at)
    _heading(doc, "一、基本情况")
    _para(doc, f"{as_of_text(at)}，{name}" + _sentence(rows))
    _table(doc, ["统计项", "数量"], [[label, value] for _, label, value in rows])
    _heading(doc, "二、主要做法")
    reports = DailyReport.objects.filter(
        region_code__startswith=code, day__gte=timezone.localtime(at).date() - dt.timedelta(days=14)
    )
    filed = reports.count()
    closed = Problem.objects.filter(
        region_code__startswith=code, status=ProblemStatus.CLOSED
    ).count()
    _para(
        doc,
        f"坚持日报告、零报告制度，近14天共收到日报{filed:,}份；开展排查起底，已整改销号问题{closed:,}个。",
    )
    _heading(doc, "三、存在问题")
    grouped = _problems_by_aspect(code)
    if not grouped:
        _para(doc, "暂未发现需要整改的问题。")
    for aspect, label in inspection.Aspect.choices:
        items = grouped.get(aspect)
        if items:
            _para(
                doc,
                f"{_aspect_name(label)}：{len(items)}个，如"
                + "；".join(p.title for p in items[:3])
                + "。",
            )
    _heading(doc, "四、下步打算")
    _para(doc, _next_steps(grouped))
    open_count = sum(len(v) for v in grouped.values())
    return _save(doc), {
        "figures": {k: v for k, _, v in rows},
        "open_problems": open_count,
        "reports": filed,
    }


def _aspect_name(label: Any) -> str:
    text = str(label)
    if "（" in text:
        return text.split("（")[-1].rstrip("）")
    if "(" in text:
        return text.split("(")[-1].rstrip(")")
    return text


def _next_steps(grouped: dict[str, list[Problem]]) -> str:
    if not grouped:
        return "继续坚持常态化防控，严格落实日报告、零报告制度，持续开展排查起底。"
    parts = []
    for aspect, label in inspection.Aspect.choices:
        items = grouped.get(aspect)
        if items:
            soon = min(p.deadline for p in items)
            parts.append(
                f"针对{_aspect_name(label)}方面的{len(items)}个问题，明确责任人，于{timezone.localtime(soon):%m月%d日%H时}前完成整改"
            )
    return "；".join(parts) + "。"


def build_inspection(code: str, at: dt.datetime) -> tuple[bytes, dict[str, Any]]:
    name = _name(code)
    doc = _start(_org(code), f"{name}疫情防控排查起底自查报告", at)
    rows = Finding.objects.filter(region_code__startswith=code, resolved_at__isnull=True)
    counts = dict(rows.values_list("aspect").annotate(n=Count("pk")).values_list("aspect", "n"))
    total = sum(counts.values())
    _heading(doc, "一、自查情况")
    _para(doc, f"{as_of_text(at)}，对照九个方面开展排查起底，共发现问题{total:,}个。")
    _heading(doc, "二、发现的问题及下步打算")
    number = 0
    for aspect, label in inspection.Aspect.choices:
        n = counts.get(aspect, 0)
        if not n:
            continue
        number += 1
        _para(doc, f"（{number}）{_aspect_name(label)}方面：{n:,}个。")
        for f in rows.filter(aspect=aspect).order_by("since")[:10]:
            _para(doc, f"{f.what}（自{timezone.localtime(f.since):%m月%d日%H时}起）。")
        _para(
            doc,
            f"下步打算：{_aspect_name(label)}方面的问题由责任人在规定时限内整改，整改情况报上级确认后销号。",
        )
    if not number:
        _para(doc, "本次自查未发现问题。下步打算：继续每小时自动排查，发现问题即时整改。")
    return _save(doc), {"findings": total, "by_aspect": counts}


def build_bulletin(code: str, at: dt.datetime) -> tuple[bytes, dict[str, Any]]:
    name = _name(code)
    doc = _start(_org(code), f"{name}疫情防控督查通报", at)
    problems_open = Problem.objects.filter(region_code__startswith=code).exclude(
        status=ProblemStatus.CLOSED
    )
    overdue = problems_open.filter(deadline__lt=at, status=ProblemStatus.OPEN)
    _heading(doc, "一、督查情况")
    _para(
        doc,
        f"{as_of_text(at)}，{name}问题清单在账问题{problems_open.count():,}个，其中逾期未整改{overdue.count():,}个。",
    )
    _heading(doc, "二、逾期未整改问题")
    labels = dict(inspection.Aspect.choices)
    if overdue.exists():
        _table(
            doc,
            ["地区", "方面", "问题", "责任人", "整改时限"],
            [
                [
                    _name(p.region_code),
                    _aspect_name(labels.get(p.aspect, p.aspect)),
                    p.title,
                    p.owner_name or "—",
                    f"{timezone.localtime(p.deadline):%m月%d日%H时}",
                ]
                for p in overdue[:100]
            ],
        )
    else:
        _para(doc, "无逾期未整改问题。")
    _heading(doc, "三、下步要求")
    _para(doc, "各乡镇、各部门要对照问题清单逐项整改，整改情况及时报县指挥部确认销号。")
    return _save(doc), {"open": problems_open.count(), "overdue": overdue.count()}


BUILDERS = {
    DocumentKind.STAGE: build_stage,
    DocumentKind.INSPECTION: build_inspection,
    DocumentKind.BULLETIN: build_bulletin,
}


def generate(actor: Any, kind: str, region_code: str, *, day: dt.date | None = None) -> Document:
    """Make a document from live data now and store it with its snapshot and author."""
    require(actor, Action.REPORTS_DOCUMENTS)
    if kind not in DocumentKind.values:
        raise ValidationFailed([FieldError("kind", "没有这种文书")])
    code = services.resolve_region(actor, region_code)
    at = timezone.now()
    if kind == DocumentKind.DAILY:
        content, snapshot = build_daily(code, day or timezone.localdate(), at)
    else:
        content, snapshot = BUILDERS[DocumentKind(kind)](code, at)
    template = Template.objects.filter(county_code=code[:6], kind=kind).first()
    if template is not None:
        content = render_template(bytes(template.content), getattr(_local, "sections", {}))
        snapshot["template"] = template.name
    title = f"{_name(code)}{DocumentKind(kind).label}（{as_of_text(at)}）"
    return Document.objects.create(
        kind=kind,
        region_code=code,
        title=title[:200],
        snapshot_at=at,
        snapshot=snapshot,
        content=content,
        made_by=actor,
    )


def get_document(actor: Any, document_id: int) -> Document:
    require(actor, Action.REPORTS_BOARD)
    doc = jurisdiction.scope(Document.objects.all(), actor).filter(pk=document_id).first()
    if doc is None:
        from fangkong.core.errors import NotFound

        raise NotFound(document_id)
    return doc


def upload_template(actor: Any, kind: str, name: str, content: bytes) -> Template:
    """A county's own template for one kind of document (replaces the one before)."""
    require(actor, Action.REPORTS_SETTINGS)
    if kind not in DocumentKind.values:
        raise ValidationFailed([FieldError("kind", "没有这种文书")])
    check_template(kind, content)
    county = services.home_region(actor)[:6]
    row, _ = Template.objects.update_or_create(
        county_code=county,
        kind=kind,
        defaults={
            "name": name[:200],
            "content": content,
            "uploaded_by": actor,
            "uploaded_at": timezone.now(),
        },
    )
    return row


def remove_template(actor: Any, kind: str) -> None:
    require(actor, Action.REPORTS_SETTINGS)
    Template.objects.filter(county_code=services.home_region(actor)[:6], kind=kind).delete()
