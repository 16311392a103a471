"""What testing plugs into the core kit: person-timeline entries and daily figures.

Timeline: a person's samples (with the tube's result), recalls for a single-tube retest,
suspected cases and due tests, each linking to the round. Figures: samples taken today,
positive or suspicious pooled tubes today, persons recalled and not yet retested, suspected
cases today.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from fangkong.core import figures
from fangkong.core.roles import Action
from fangkong.core.timeline import TimelineEntry, TimelineSource

from .models import DueTest, RecallEntry, Sample, SuspectedCase, TestResult, Tube

MODULE = "testing"


def timeline_entries(actor: Any, person_id: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    samples = (
        Sample.objects.filter(person_id=person_id)
        .select_related("tube", "campaign")
        .order_by("-sampled_at")[:30]
    )
    for sample in samples:
        tube = sample.tube
        title = f"结果：{tube.get_result_display()}" if tube.result else "已采样，待出结果"
        kind = "单管复核" if sample.attempt else "核酸采样"
        entries.append(
            TimelineEntry(
                at=sample.sampled_at,
                module=MODULE,
                kind=kind,
                title=title,
                detail=f"{sample.campaign.name} · 管 {tube.barcode}",
                url=reverse("testing:campaign", args=[sample.campaign_id]),
                tone="alert" if tube.result and tube.result != TestResult.NEGATIVE else "",
            )
        )
    recalls = (
        RecallEntry.objects.filter(person_id=person_id)
        .select_related("recall", "campaign")
        .order_by("-recall__created_at")[:10]
    )
    for entry in recalls:
        entries.append(
            TimelineEntry(
                at=entry.recall.created_at,
                module=MODULE,
                kind="召回复核",
                title="已复核" if entry.retest_id else "待召回单管复核",
                detail=f"{entry.campaign.name} · 混管{entry.recall.get_reason_display()}",
                url=reverse("testing:recalls", args=[entry.campaign_id]),
                tone="" if entry.retest_id else "alert",
            )
        )
    for case in SuspectedCase.objects.filter(person_id=person_id).order_by("-created_at")[:5]:
        entries.append(
            TimelineEntry(
                at=case.created_at,
                module=MODULE,
                kind="疑似阳性",
                title=f"单管阳性：{case.get_status_display()}",
                detail="",
                url=case.handed_over_url or reverse("testing:suspected"),
                tone="alert",
            )
        )
    due = DueTest.objects.filter(person_id=person_id).order_by("due_on")[:10]
    for test in due:
        entries.append(
            TimelineEntry(
                at=test.due_on,
                module=MODULE,
                kind="应检",
                title=f"应于 {test.due_on:%m-%d} 核酸检测",
                detail="",
                url="",
            )
        )
    return entries


def sampled_today(query: figures.FigureQuery) -> dict[str, int]:
    qs = Sample.objects.filter(sampled_at__gte=query.day_start, sampled_at__lte=query.at)
    return figures.count_by_region(qs, query)


def abnormal_tubes_today(query: figures.FigureQuery) -> dict[str, int]:
    """Pooled tubes resulted positive or suspicious today, by the region of their samples
    (a tube counts once per region it holds samples of)."""
    tubes = Tube.objects.filter(
        resulted_at__gte=query.day_start,
        resulted_at__lte=query.at,
        capacity__gt=1,
        result__in=(TestResult.POSITIVE, TestResult.INVALID),
    )
    qs = Sample.objects.filter(tube__in=tubes, attempt=0)
    counted: dict[str, set[int]] = {}
    if query.prefix:
        from fangkong.core.jurisdiction import prefix_q

        qs = qs.filter(prefix_q("region_code", [query.prefix]))
    for code, tube_id in qs.values_list("region_code", "tube_id"):
        counted.setdefault(code[: query.group_length], set()).add(tube_id)
    return {code: len(ids) for code, ids in counted.items() if len(code) == query.group_length}


def recalls_open(query: figures.FigureQuery) -> dict[str, int]:
    qs = RecallEntry.objects.filter(recall__created_at__lte=query.at, retest__isnull=True)
    return figures.count_by_region(qs, query)


def suspected_today(query: figures.FigureQuery) -> dict[str, int]:
    qs = SuspectedCase.objects.filter(created_at__gte=query.day_start, created_at__lte=query.at)
    return figures.count_by_region(qs, query)


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from fangkong.core import timeline

    from . import demo

    demo.register()

    timeline.register(
        TimelineSource(
            key="testing",
            module=MODULE,
            label=_("Nucleic-acid testing"),
            permission=Action.TESTING_VIEW,
            entries=timeline_entries,
        )
    )
    for figure in (
        figures.Figure(
            key="testing.sampled",
            label="今日采样人次",
            module=MODULE,
            compute=sampled_today,
            kind=figures.FLOW,
            unit="人次",
            order=50,
            list_url=figures.list_page("testing:home"),
            permission=Action.TESTING_VIEW,
            higher_is_better=True,
        ),
        figures.Figure(
            key="testing.abnormal_tubes",
            label="今日混管阳性或可疑",
            module=MODULE,
            compute=abnormal_tubes_today,
            kind=figures.FLOW,
            unit="管",
            order=51,
            list_url=figures.list_page("testing:tasks"),
            permission=Action.TESTING_VIEW,
        ),
        figures.Figure(
            key="testing.recalls_open",
            label="待召回复核",
            module=MODULE,
            compute=recalls_open,
            kind=figures.STOCK,
            unit="人",
            order=52,
            list_url=figures.list_page("testing:tasks"),
            permission=Action.TESTING_VIEW,
        ),
        figures.Figure(
            key="testing.suspected",
            label="今日单管阳性",
            module=MODULE,
            compute=suspected_today,
            kind=figures.FLOW,
            unit="人",
            order=53,
            list_url=figures.list_page("testing:suspected"),
            permission=Action.TESTING_POSITIVES,
        ),
    ):
        figures.register(figure)
