"""What contact tracing plugs into the core kit: daily figures, self-inspection rules and the
person timeline (registered from :mod:`fangkong.tracing.apps`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fangkong.core import figures, inspection, isolation, jurisdiction, timeline
from fangkong.core.jurisdiction import prefix_q
from fangkong.core.roles import Action, can
from fangkong.people.models import Person

from .models import INFECTIOUS, Case, Classification, Level, TaskStatus, TracingTask
from .selectors import cases_visible_to, mask_name

LEVEL_NAMES = {Level.CLOSE: "密切接触者", Level.SECONDARY: "次密切接触者"}


def reach_limit_hours() -> int:
    """Hours within which a newly found contact must be reached: REQUIREMENTS §4 names 2 hours
    to know a person who arrives (004/2k 「回家兩小時內掌握其情況」); a setting may change it."""
    return int(getattr(settings, "FANGKONG_TRACING_REACH_HOURS", 2))


def _classified_at(at: dt.datetime) -> QuerySet[Classification]:
    return Classification.objects.filter(classified_at__lte=at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at)
    )


def _level_count(level: str):  # type: ignore[no-untyped-def]
    def compute(query: figures.FigureQuery) -> dict[str, int]:
        return figures.count_by_region(_classified_at(query.at).filter(level=level), query)

    return compute


def unreached_count(query: figures.FigureQuery) -> dict[str, int]:
    """Tasks created by ``at`` and not reached by then (cancelled ones never count)."""
    queryset = (
        TracingTask.objects.filter(created_at__lte=query.at)
        .exclude(status=TaskStatus.CANCELLED)
        .filter(Q(reached_at__isnull=True) | Q(reached_at__gt=query.at))
    )
    return figures.count_by_region(queryset, query)


def new_cases(query: figures.FigureQuery) -> dict[str, int]:
    queryset = Case.objects.filter(
        status__in=INFECTIOUS, created_at__gte=query.day_start, created_at__lte=query.at
    )
    return figures.count_by_region(queryset, query)


# The risk map (emergency) reads cases of the last 14 days: one incubation period.
RISK_CASE_DAYS = 14


def cases_14d(query: figures.FigureQuery) -> dict[str, int]:
    """Confirmed and asymptomatic cases recorded in the 14 days up to the moment."""
    queryset = Case.objects.filter(
        status__in=INFECTIOUS,
        created_at__gt=query.at - dt.timedelta(days=RISK_CASE_DAYS),
        created_at__lte=query.at,
    )
    return figures.count_by_region(queryset, query)


def unreached_contacts(query: inspection.RuleQuery) -> Iterable[inspection.Finding]:
    """Open tracing tasks older than the limit: a contact nobody has reached yet."""
    limit = reach_limit_hours()
    tasks = TracingTask.objects.filter(
        status=TaskStatus.OPEN, created_at__lte=query.now - dt.timedelta(hours=limit)
    ).select_related("person", "assignee")
    if query.prefix:
        tasks = tasks.filter(prefix_q("region_code", [query.prefix]))
    for task in tasks.order_by("id").iterator(chunk_size=2000):
        level = LEVEL_NAMES.get(task.level, task.level)
        yield inspection.Finding(
            rule="tracing.contact_unreached",
            ref=f"tracing.task:{task.pk}",
            region_code=task.region_code,
            what=f"{level}{task.person.name}超过{limit}小时未联系到",
            since=task.created_at,
            url=reverse("tracing:home"),
            responsible=str(task.assignee) if task.assignee else "",
            person_id=task.person_id,
        )


def person_entries(actor: Any, person_id: int) -> list[timeline.TimelineEntry]:
    """The person's own cases, their classification as a contact (through whom) and the
    tracing tasks that reached them."""
    entries = []
    for case in Case.objects.filter(person_id=person_id).order_by("-created_at")[:10]:
        entries.append(
            timeline.TimelineEntry(
                at=case.created_at,
                module="tracing",
                kind=_("病例"),
                title=f"{case.get_status_display()}",
                detail="；".join(
                    x
                    for x in (
                        f"发病 {case.onset_date}" if case.onset_date else "",
                        f"确诊 {case.confirmation_date}" if case.confirmation_date else "",
                        case.hospital,
                    )
                    if x
                ),
                url=reverse("tracing:case_detail", args=[case.pk]),
                tone="alert" if case.status in INFECTIOUS else "",
            )
        )
    classification = (
        Classification.objects.filter(person_id=person_id).order_by("-classified_at").first()
    )
    if classification is not None:
        via = Person.objects.filter(pk=classification.via_person_id).first()
        via_name = ""
        if via is not None:
            via_name = (
                via.name if jurisdiction.covers(actor, via.region_code) else mask_name(via.name)
            )
        detail = classification.measure
        if classification.exposure_date:
            detail = f"末次接触 {classification.exposure_date}；{detail}"
        case = Case.objects.filter(person_id=classification.via_person_id).first()
        entries.append(
            timeline.TimelineEntry(
                at=classification.classified_at,
                module="tracing",
                kind=_("接触者"),
                title=LEVEL_NAMES.get(classification.level, classification.level)
                + (f"（经 {via_name}）" if via_name else "")
                + ("，已解除" if classification.ended_at else ""),
                detail=detail,
                url=reverse("tracing:case_detail", args=[case.pk]) if case else "",
                tone="" if classification.ended_at else "alert",
            )
        )
    for task in TracingTask.objects.filter(person_id=person_id, status=TaskStatus.REACHED).order_by(
        "-reached_at"
    )[:10]:
        if task.reached_at:
            entries.append(
                timeline.TimelineEntry(
                    at=task.reached_at,
                    module="tracing",
                    kind=_("流调"),
                    title="已联系并告知管控措施",
                    detail=task.note,
                )
            )
    return entries


def classification_source(actor: Any, pk: str) -> isolation.SourceLink | None:
    """An order made for a contact names the case it came through and links to the case
    page when the viewer may open it (the case's name masked outside their area)."""
    if not pk.isdigit():
        return None
    classification = Classification.objects.select_related("via_person").filter(pk=int(pk)).first()
    if classification is None:
        return None
    level = LEVEL_NAMES.get(classification.level, classification.get_level_display())
    via = classification.via_person
    if via is None:
        return isolation.SourceLink(label=f"流调判定{level}")
    shown = via.name if jurisdiction.covers(actor, via.region_code) else mask_name(via.name)
    label = f"流调判定{level}（经 {shown}）"
    url = ""
    if can(actor, Action.TRACING_VIEW):
        case = _case_behind(actor, via.pk)
        if case is not None:
            url = reverse("tracing:case_detail", args=[case.pk])
    return isolation.SourceLink(label=label, url=url)


def _case_behind(actor: Any, person_id: int) -> Case | None:
    """The case a contact traces back to: the person's own case, else up the "through"
    chain (a contact of a contact reaches the case in two steps)."""
    seen: set[int] = set()
    while person_id not in seen and len(seen) < 4:
        seen.add(person_id)
        case = cases_visible_to(actor).filter(person_id=person_id).order_by("-pk").first()
        if case is not None:
            return case
        via = (
            Classification.objects.filter(person_id=person_id)
            .values_list("via_person_id", flat=True)
            .first()
        )
        if via is None:
            return None
        person_id = via
    return None


def register() -> None:
    isolation.register_source("tracing.classification", classification_source)
    figures.register(
        figures.Figure(
            key="tracing.new_cases",
            label=_("今日新增病例"),
            module="tracing",
            compute=new_cases,
            kind=figures.FLOW,
            unit=_("例"),
            order=450,
            list_url=figures.list_page("tracing:home"),
            permission=Action.TRACING_VIEW,
        )
    )
    figures.register(
        figures.Figure(
            key="tracing.cases_14d",
            label=_("近14天病例"),
            module="tracing",
            compute=cases_14d,
            kind=figures.STOCK,
            unit=_("例"),
            order=449,
            list_url=figures.list_page("tracing:home"),
            permission=Action.TRACING_VIEW,
            tags=("risk:case",),
        )
    )
    figures.register(
        figures.Figure(
            key="tracing.close_contacts",
            label=_("密切接触者"),
            module="tracing",
            compute=_level_count(Level.CLOSE),
            kind=figures.STOCK,
            unit=_("人"),
            order=451,
            list_url=figures.list_page("tracing:home"),
            permission=Action.TRACING_VIEW,
            tags=("risk:contact",),
        )
    )
    figures.register(
        figures.Figure(
            key="tracing.secondary_contacts",
            label=_("次密切接触者"),
            module="tracing",
            compute=_level_count(Level.SECONDARY),
            kind=figures.STOCK,
            unit=_("人"),
            order=452,
            list_url=figures.list_page("tracing:home"),
            permission=Action.TRACING_VIEW,
            tags=("risk:contact",),
        )
    )
    figures.register(
        figures.Figure(
            key="tracing.unreached",
            label=_("尚未联系到的接触者"),
            module="tracing",
            compute=unreached_count,
            kind=figures.STOCK,
            unit=_("人"),
            order=453,
            list_url=figures.list_page("tracing:home"),
            permission=Action.TRACING_VIEW,
        )
    )
    inspection.register(
        inspection.Rule(
            key="tracing.contact_unreached",
            label=_("接触者超时未联系"),
            module="tracing",
            aspect=inspection.Aspect.RISK,
            run=unreached_contacts,
            description=_("新判定的密接或次密接超过时限（默认2小时）仍未联系到"),
            deadline_hours=2,
            order=450,
        )
    )
    timeline.register(
        timeline.TimelineSource(
            key="tracing.contacts",
            module="tracing",
            label=_("流调"),
            permission=Action.TRACING_VIEW,
            entries=person_entries,
        )
    )
