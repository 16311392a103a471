"""What screening plugs into the core kit: person-timeline entries and daily figures.

Timeline: a person's stays, decisions (current and past), list entries by channel and home
visits, each linking to the page where it is handled. Figures: persons under a measure
(stock, as of the moment asked where the periods allow), stays recorded today, visits open
and visits made today (flows).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from fangkong.core import figures, isolation
from fangkong.core.roles import Action, can
from fangkong.core.timeline import TimelineEntry, TimelineSource

from .evaluation import MEASURE_WORDS
from .models import EvaluationRun, Measure, ScreeningDecision, SourceRecord, Stay, VisitTask

MODULE = "screening"


def timeline_entries(actor: Any, person_id: int) -> list[TimelineEntry]:
    """Stays, decisions, list entries and visits of one person (the page already checked
    the person is inside the actor's jurisdiction)."""
    entries: list[TimelineEntry] = []
    home = reverse("screening:home")
    for stay in Stay.objects.filter(person_id=person_id).order_by("-left")[:50]:
        entries.append(
            TimelineEntry(
                at=stay.left,
                module=MODULE,
                kind="外出停留",
                title=f"{stay.place} {stay.arrived:%m-%d} 至 {stay.left:%m-%d}",
                detail=stay.get_source_display(),
                url=home,
            )
        )
    decisions = (
        ScreeningDecision.objects.filter(person_id=person_id)
        .select_related("policy")
        .order_by("-decided_at")[:20]
    )
    for decision in decisions:
        words = MEASURE_WORDS.get(decision.measure, decision.measure)
        if decision.days:
            words += f" {decision.days} 天"
        entries.append(
            TimelineEntry(
                at=decision.decided_at,
                module=MODULE,
                kind="研判决定",
                title=words,
                detail=f"{decision.reason}（第{decision.policy.version}版政策）",
                url=home,
                tone="alert" if decision.measure in (Measure.CENTRALISED, Measure.HOME) else "",
            )
        )
    for record in SourceRecord.objects.filter(person_id=person_id).order_by("-reported_on")[:20]:
        entries.append(
            TimelineEntry(
                at=record.reported_on,
                module=MODULE,
                kind="排查名单",
                title=f"{record.get_source_display()}名单",
                detail="",
                url=reverse("screening:reconciliation"),
            )
        )
    for task in VisitTask.objects.filter(person_id=person_id).order_by("-created_at")[:20]:
        if task.status == VisitTask.Status.DONE and task.done_at is not None:
            title = "走访完成：" + ("在家" if task.present else "不在家")
            if task.healthy is False:
                title += "，有症状"
            entries.append(
                TimelineEntry(
                    at=task.done_at,
                    module=MODULE,
                    kind="入户走访",
                    title=title,
                    detail=task.note,
                    url=reverse("screening:visit", args=[task.pk]),
                    tone="alert" if task.healthy is False else "",
                )
            )
        else:
            entries.append(
                TimelineEntry(
                    at=task.created_at,
                    module=MODULE,
                    kind="入户走访",
                    title=f"待走访（{timezone.localtime(task.due_at):%m-%d %H:%M} 前）",
                    detail=task.reason,
                    url=reverse("screening:visit", args=[task.pk]),
                )
            )
    return entries


# ---------------------------------------------------------------- figures


def _current_runs() -> list[int]:
    """The latest finished run of every policy region: its decisions are the current ones."""
    latest: dict[str, int] = {}
    for code, pk in (
        EvaluationRun.objects.filter(finished_at__isnull=False)
        .order_by("region_code", "finished_at", "pk")
        .values_list("region_code", "pk")
    ):
        latest[code] = pk
    return list(latest.values())


def under_measure(query: figures.FigureQuery) -> dict[str, int]:
    """Persons whose current decision isolates or monitors them on the query's day."""
    day = query.day
    qs = ScreeningDecision.objects.filter(
        run_id__in=_current_runs(),
        measure__in=(Measure.CENTRALISED, Measure.HOME, Measure.MONITORING),
        start_date__lte=day,
        end_date__gte=day,
    )
    return figures.count_by_region(qs, query)


def stays_today(query: figures.FigureQuery) -> dict[str, int]:
    qs = Stay.objects.filter(created_at__gte=query.day_start, created_at__lte=query.at)
    return figures.count_by_region(qs, query)


def visits_open(query: figures.FigureQuery) -> dict[str, int]:
    at = query.at
    qs = VisitTask.objects.filter(created_at__lte=at).filter(
        Q(done_at__isnull=True) | Q(done_at__gt=at)
    )
    return figures.count_by_region(qs, query)


def visits_done_today(query: figures.FigureQuery) -> dict[str, int]:
    qs = VisitTask.objects.filter(done_at__gte=query.day_start, done_at__lte=query.at)
    return figures.count_by_region(qs, query)


def decision_source(actor: Any, pk: str) -> isolation.SourceLink | None:
    """An order made from a screening decision names the policy and the reason."""
    decision = (
        ScreeningDecision.objects.select_related("policy").filter(pk=int(pk)).first()
        if pk.isdigit()
        else None
    )
    if decision is None:
        return None
    from .handoff import policy_name

    label = f"筛查研判（{policy_name(decision)}）：{decision.reason}"
    return isolation.SourceLink(label=label[:200])


def visit_source(actor: Any, pk: str) -> isolation.SourceLink | None:
    """An order made after a home visit links back to the visit for those who may open it."""
    from . import visits

    task = VisitTask.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if task is None:
        return None
    day = timezone.localtime(task.done_at or task.created_at).strftime("%m月%d日")
    label = f"入户走访后下达（{day}）"
    if can(actor, Action.SCREENING_EDIT) and visits.tasks_for(actor).filter(pk=task.pk).exists():
        return isolation.SourceLink(label=label, url=reverse("screening:visit", args=[task.pk]))
    return isolation.SourceLink(label=label)


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    isolation.register_source("screening.decision", decision_source)
    isolation.register_source("screening.visit", visit_source)

    from fangkong.core import timeline

    from . import demo

    demo.register()

    timeline.register(
        TimelineSource(
            key="screening",
            module=MODULE,
            label=_("Screening and ledgers"),
            permission=Action.SCREENING_VIEW,
            entries=timeline_entries,
        )
    )
    for figure in (
        figures.Figure(
            key="screening.under_measure",
            label="研判需管控人数",
            module=MODULE,
            compute=under_measure,
            kind=figures.STOCK,
            unit="人",
            order=20,
            list_url=figures.list_page("screening:home"),
            permission=Action.SCREENING_VIEW,
        ),
        figures.Figure(
            key="screening.stays_today",
            label="今日新增外出停留记录",
            module=MODULE,
            compute=stays_today,
            kind=figures.FLOW,
            unit="条",
            order=21,
            list_url=figures.list_page("screening:home"),
            permission=Action.SCREENING_VIEW,
        ),
        figures.Figure(
            key="screening.visits_open",
            label="待入户走访",
            module=MODULE,
            compute=visits_open,
            kind=figures.STOCK,
            unit="户次",
            order=22,
            list_url=figures.list_page("screening:visits"),
            permission=Action.SCREENING_VIEW,
        ),
        figures.Figure(
            key="screening.visits_done",
            label="今日完成走访",
            module=MODULE,
            compute=visits_done_today,
            kind=figures.FLOW,
            unit="户次",
            order=23,
            list_url=figures.list_page("screening:visits"),
            permission=Action.SCREENING_VIEW,
            higher_is_better=True,
        ),
    ):
        figures.register(figure)
