"""Daily figures and self-inspection rules of screening, registered with core for the
command boards, daily reports and self-inspection (issue 13)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import figures, inspection
from fangkong.core.jurisdiction import prefix_q
from fangkong.core.roles import Action
from fangkong.people.models import Source

from .models import SourceRecord, Stay, VisitTask


def screened(query: figures.FigureQuery) -> dict[str, int]:
    """Travel and stay records of arrivals recorded by the moment (people screened)."""
    return figures.count_by_region(Stay.objects.filter(created_at__lte=query.at), query)


def _new_today(source: str | None):
    def compute(query: figures.FigureQuery) -> dict[str, int]:
        rows = Stay.objects.filter(created_at__gte=query.day_start, created_at__lte=query.at)
        if source is not None:
            rows = rows.filter(source=source)
        return figures.count_by_region(rows, query)

    return compute


def visits_overdue(query: figures.FigureQuery) -> dict[str, int]:
    """Door visits past due at the moment and not done by it."""
    rows = VisitTask.objects.filter(created_at__lte=query.at, due_at__lt=query.at).filter(
        Q(done_at__isnull=True) | Q(done_at__gt=query.at)
    )
    return figures.count_by_region(rows, query)


UNVISITED = "screening.returnee_unvisited_2h"
POLICE_ONLY = "screening.police_without_village_record"


def returnee_unvisited(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A flagged arrival whose door visit is still open two hours after it was asked for."""
    rows = VisitTask.objects.filter(
        status=VisitTask.Status.OPEN, created_at__lt=query.now - dt.timedelta(hours=2)
    )
    if query.prefix:
        rows = rows.filter(prefix_q("region_code", [query.prefix]))
    for task in rows.select_related("person", "assignee").iterator(chunk_size=2000):
        yield inspection.Finding(
            rule=UNVISITED,
            ref=f"screening.visit:{task.pk}",
            region_code=task.region_code,
            what=_("返乡人员%(name)s抵达已超过2小时仍未走访") % {"name": task.person.name},
            since=task.created_at + dt.timedelta(hours=2),
            url=reverse("screening:visit", args=[task.pk]),
            responsible=str(task.assignee or ""),
            person_id=task.person_id,
        )


def police_without_village(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """An entry of the police list that the village never reported (no village record of the
    same person, or not linked to any registered person at all)."""
    village = SourceRecord.objects.filter(person_id=OuterRef("person_id"), source=Source.VILLAGE)
    rows = SourceRecord.objects.filter(source=Source.POLICE).filter(
        Q(person__isnull=True) | ~Exists(village)
    )
    if query.prefix:
        rows = rows.filter(prefix_q("region_code", [query.prefix]))
    for record in rows.iterator(chunk_size=2000):
        yield inspection.Finding(
            rule=POLICE_ONLY,
            ref=f"screening.record:{record.pk}",
            region_code=record.region_code,
            what=_("%(name)s在公安推送名单中，但村里没有登记") % {"name": record.name},
            since=record.created_at,
            url=reverse("screening:reconciliation"),
            person_id=record.person_id,
        )


def register() -> None:
    lazy = gettext_lazy
    people = lazy("人")
    for key, label, compute, kind, order in (
        ("screening.screened", lazy("累计排查"), screened, figures.STOCK, 10),
        (
            "screening.new_police",
            lazy("今日公安推送新增"),
            _new_today(Source.POLICE),
            figures.FLOW,
            12,
        ),
        (
            "screening.new_checkpoint",
            lazy("今日卡口登记新增"),
            _new_today(Source.CHECKPOINT),
            figures.FLOW,
            13,
        ),
    ):
        figures.register(
            figures.Figure(
                key=key,
                label=label,
                module="screening",
                compute=compute,
                kind=kind,
                unit=people,
                order=order,
                list_url=figures.list_page("screening:home"),
                permission=Action.SCREENING_VIEW,
            )
        )
    figures.register(
        figures.Figure(
            key="screening.visits_overdue",
            label=lazy("逾期未走访"),
            module="screening",
            compute=visits_overdue,
            unit=people,
            order=50,
            list_url=figures.list_page("screening:visits"),
            permission=Action.SCREENING_VIEW,
        )
    )
    risk = inspection.Aspect.RISK
    inspection.register(
        inspection.Rule(
            key=UNVISITED,
            label=lazy("返乡人员抵达2小时未走访"),
            module="screening",
            aspect=risk,
            run=returnee_unvisited,
            deadline_hours=2,
            order=40,
        )
    )
    inspection.register(
        inspection.Rule(
            key=POLICE_ONLY,
            label=lazy("公安名单有、村里无记录"),
            module="screening",
            aspect=inspection.Aspect.SYSTEM,
            run=police_without_village,
            deadline_hours=24,
            order=41,
        )
    )
