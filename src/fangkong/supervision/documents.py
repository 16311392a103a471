"""The supervision bulletin (督查通报) of a period, as a Word file, from live data.

Inspections of the period in the actor's area, each failed item with its rectification
state, discipline cases and commendations. No personal data beyond the names of the cadres
concerned, which a bulletin publishes by design.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone

from fangkong.core import regions

from . import services
from .models import Commendation, InspectionStatus, ItemResult, RectificationStatus

FONT = "SimSun"


def _day(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def bulletin(actor: Any, *, start: dt.date, end: dt.date) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    inspections = list(
        services.inspections_in_scope(actor)
        .filter(planned_for__gte=start, planned_for__lte=end, status=InspectionStatus.DONE)
        .prefetch_related("items__rectification")
        .order_by("planned_for", "pk")
    )
    cases = list(
        services.cases_in_scope(actor).filter(opened_at__date__gte=start, opened_at__date__lte=end)
    )
    from fangkong.core import jurisdiction

    commendations = list(
        jurisdiction.scope(Commendation.objects.all(), actor).filter(
            given_at__date__gte=start, given_at__date__lte=end
        )
    )
    labels = regions.region_labels(
        [i.region_code for i in inspections] + [c.region_code for c in cases]
    )

    document = Document()
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("疫情防控督查通报")
    run.bold = True
    run.font.size = Pt(22)
    document.add_paragraph(f"（{_day(start)}至{_day(end)}）").alignment = WD_ALIGN_PARAGRAPH.CENTER

    failed = [item for i in inspections for item in i.items.all() if item.result == ItemResult.FAIL]
    closed = sum(
        1
        for item in failed
        if getattr(item, "rectification", None)
        and item.rectification.status == RectificationStatus.CLOSED
    )
    unannounced = sum(1 for i in inspections if i.unannounced)
    document.add_paragraph(
        f"一、总体情况。本期共开展督查 {len(inspections)} 次，其中“四不两直”暗访 {unannounced} 次，"
        f"发现问题 {len(failed)} 个，已整改销号 {closed} 个，尚在整改 {len(failed) - closed} 个。"
    )
    document.add_paragraph("二、发现的问题及整改情况。")
    if failed:
        table = document.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, text in zip(
            table.rows[0].cells, ["地点", "问题", "整改时限", "整改情况", "状态"], strict=True
        ):
            cell.text = text
        for inspection in inspections:
            for item in inspection.items.all():
                if item.result != ItemResult.FAIL:
                    continue
                rect = getattr(item, "rectification", None)
                row = table.add_row().cells
                row[0].text = f"{labels.get(inspection.region_code, '')} {inspection.place_name}"
                row[1].text = f"{item.text}：{item.note}"
                row[2].text = _day(rect.deadline) if rect else ""
                row[3].text = (rect.report if rect else "") or "—"
                row[4].text = rect.get_status_display() if rect else ""
    else:
        document.add_paragraph("本期督查未发现问题。")
    document.add_paragraph("三、纪律处理。")
    if cases:
        for n, case in enumerate(cases, start=1):
            decision = case.get_decision_display()
            document.add_paragraph(
                f"{n}. {labels.get(case.region_code, '')} {case.post} {case.person_name}："
                f"{case.offence.name}。{case.evidence} 处理：{decision}。"
            )
    else:
        document.add_paragraph("本期无纪律处理。")
    document.add_paragraph("四、表彰。")
    if commendations:
        for n, item in enumerate(commendations, start=1):
            document.add_paragraph(f"{n}. {item.name}：{item.reason}")
    else:
        document.add_paragraph("本期无表彰。")
    document.add_paragraph("请各单位对照问题逐项整改，按时报送整改情况。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
