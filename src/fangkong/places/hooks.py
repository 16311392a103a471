"""What places gives core's registries: daily figures, self-inspection rules, timeline entries.

Figures count "as of" the query's moment where the data allows (closures from the status
history; flows by their own timestamps). Rules are read-only and bounded by the prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import CharField, Count, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core import figures, inspection, jurisdiction, timeline
from fangkong.core.figures import FigureQuery
from fangkong.core.inspection import Finding, RuleQuery
from fangkong.core.roles import Action
from fangkong.core.timeline import TimelineEntry

from . import services
from .models import (
    DailyCheck,
    DrugClass,
    DrugSale,
    Gathering,
    GatheringKind,
    Inspection,
    Outcome,
    Place,
    PlaceKind,
    PlaceStatus,
    Resumption,
    ResumptionStatus,
    StatusChange,
)


def _under(queryset: Any, prefix: str, field: str = "region_code") -> Any:
    return queryset.filter(jurisdiction.prefix_q(field, [prefix])) if prefix else queryset


def _status_as_of(at: dt.datetime) -> Any:
    """Places annotated with their status at ``at`` (from the history; never changed: open)."""
    last = (
        StatusChange.objects.filter(place=OuterRef("pk"), effective_at__lte=at)
        .order_by("-effective_at", "-id")
        .values("status")[:1]
    )
    return Place.objects.filter(created_at__lte=at).annotate(
        status_at=Coalesce(Subquery(last), Value(PlaceStatus.OPEN.value, output_field=CharField()))
    )


def closed_places(query: FigureQuery) -> dict[str, int]:
    rows = _status_as_of(query.at).filter(status_at=PlaceStatus.CLOSED)
    return figures.count_by_region(rows, query)


def still_open(query: FigureQuery) -> dict[str, int]:
    rows = (
        _status_as_of(query.at)
        .filter(kind__in=services.CLOSURE_KINDS)
        .exclude(status_at=PlaceStatus.CLOSED)
    )
    return figures.count_by_region(rows, query)


def _flow(queryset: Any, field: str, query: FigureQuery) -> Any:
    return queryset.filter(**{f"{field}__gte": query.day_start, f"{field}__lte": query.at})


def gatherings_stopped(query: FigureQuery) -> dict[str, int]:
    rows = Gathering.objects.filter(outcome__in=[Outcome.STOPPED, Outcome.POSTPONED])
    return figures.count_by_region(_flow(rows, "decided_at", query), query)


def tables_stopped(query: FigureQuery) -> dict[str, int]:
    rows = _flow(
        Gathering.objects.filter(outcome__in=[Outcome.STOPPED, Outcome.POSTPONED]),
        "decided_at",
        query,
    )
    rows = _under(rows, query.prefix)
    grouped = (
        rows.order_by()
        .annotate(_g=Substr("region_code", 1, query.group_length))
        .values_list("_g")
        .annotate(_n=Sum("tables"))
    )
    return {code: n or 0 for code, n in grouped if code and len(code) == query.group_length}


def inspections_today(query: FigureQuery) -> dict[str, int]:
    return figures.count_by_region(_flow(Inspection.objects.all(), "inspected_at", query), query)


def enterprises_resumed(query: FigureQuery) -> dict[str, int]:
    approved = Resumption.objects.filter(
        place=OuterRef("pk"), status=ResumptionStatus.APPROVED, decided_at__lte=query.at
    )
    rows = Place.objects.filter(kind=PlaceKind.ENTERPRISE).filter(Exists(approved))
    return figures.count_by_region(rows, query)


def fever_drug_buyers(query: FigureQuery) -> dict[str, int]:
    rows = DrugSale.objects.filter(drug_class__in=[DrugClass.ANTIPYRETIC, DrugClass.COUGH])
    return figures.count_by_region(_flow(rows, "sold_at", query), query)


def students_with_fever(query: FigureQuery) -> dict[str, int]:
    rows = DailyCheck.objects.filter(day=query.day, temperature__gte=services.FEVER)
    return figures.count_by_region(rows.filter(recorded_at__lte=query.at), query)


FIGURES = [
    figures.Figure(
        key="places.closed",
        label=_("责令关停场所"),
        module="places",
        compute=closed_places,
        unit=_("家"),
        order=700,
        list_url=figures.list_page("places:place_list", region="region", status="closed"),
        permission=Action.PLACES_VIEW,
    ),
    figures.Figure(
        key="places.still_open",
        label=_("应关未关场所"),
        module="places",
        compute=still_open,
        unit=_("家"),
        order=701,
        list_url=figures.list_page("places:campaign", region="region"),
        permission=Action.PLACES_VIEW,
    ),
    figures.Figure(
        key="places.gatherings_stopped",
        label=_("今日劝停聚集性活动"),
        module="places",
        compute=gatherings_stopped,
        kind=figures.FLOW,
        unit=_("起"),
        order=702,
        list_url=figures.list_page("places:gatherings", region="region"),
        permission=Action.PLACES_VIEW,
        higher_is_better=True,
    ),
    figures.Figure(
        key="places.tables_stopped",
        label=_("今日劝停宴席桌数"),
        module="places",
        compute=tables_stopped,
        kind=figures.FLOW,
        unit=_("桌"),
        order=703,
        list_url=figures.list_page("places:gatherings", region="region"),
        permission=Action.PLACES_VIEW,
        higher_is_better=True,
    ),
    figures.Figure(
        key="places.inspections",
        label=_("今日场所检查"),
        module="places",
        compute=inspections_today,
        kind=figures.FLOW,
        unit=_("家次"),
        order=704,
        list_url=figures.list_page("places:place_list", region="region"),
        permission=Action.PLACES_VIEW,
        higher_is_better=True,
    ),
    figures.Figure(
        key="places.enterprises_resumed",
        label=_("已复工企业"),
        module="places",
        compute=enterprises_resumed,
        unit=_("家"),
        order=705,
        list_url=figures.list_page("places:enterprises", region="region"),
        permission=Action.PLACES_VIEW,
        higher_is_better=True,
    ),
    figures.Figure(
        key="places.fever_drug_buyers",
        label=_("今日购买退烧止咳药"),
        module="places",
        compute=fever_drug_buyers,
        kind=figures.FLOW,
        unit=_("人次"),
        order=706,
        list_url=figures.list_page("places:pharmacy", region="region"),
        permission=Action.PLACES_VIEW,
    ),
    figures.Figure(
        key="places.students_fever",
        label=_("今日晨午检发热师生"),
        module="places",
        compute=students_with_fever,
        kind=figures.FLOW,
        unit=_("人"),
        order=707,
        list_url=figures.list_page("places:schools", region="region"),
        permission=Action.PLACES_VIEW,
    ),
]


# --- self-inspection rules ------------------------------------------------------------------


def _detail(place_id: int) -> str:
    return reverse("places:place_detail", args=[place_id])


def inspection_overdue(query: RuleQuery) -> Iterator[Finding]:
    """Open places with no inspection in :data:`services.INSPECTION_DAYS` days."""
    cutoff = query.now - dt.timedelta(days=services.INSPECTION_DAYS)
    recent = Inspection.objects.filter(place=OuterRef("pk"), inspected_at__gte=cutoff)
    last = Inspection.objects.filter(place=OuterRef("pk")).order_by("-inspected_at")
    rows = (
        _under(Place.objects.exclude(status=PlaceStatus.CLOSED), query.prefix)
        .filter(created_at__lte=cutoff)
        .annotate(last_at=Subquery(last.values("inspected_at")[:1]))
        .filter(~Exists(recent))
        .select_related("cadre")
        .order_by("region_code", "pk")
    )
    for place in rows.iterator(chunk_size=2000):
        since = place.last_at or place.created_at
        yield Finding(
            rule="places.inspection_overdue",
            ref=f"places.place:{place.pk}",
            region_code=place.region_code,
            what=f"{place.get_kind_display()}“{place.name}”已超过{services.INSPECTION_DAYS}天未检查",
            since=since + dt.timedelta(days=services.INSPECTION_DAYS),
            url=_detail(place.pk),
            responsible=(place.cadre.display_name or place.cadre.username) if place.cadre else "",
        )


def gathering_over_limit(query: RuleQuery) -> Iterator[Finding]:
    """A gathering held although it is a banquet or over the table limit, or one still
    waiting for persuasion on (or after) its day."""
    today = timezone.localtime(query.now).date()
    rows = _under(Gathering.objects.all(), query.prefix).filter(
        Q(outcome=Outcome.HELD)
        & (Q(kind=GatheringKind.BANQUET) | Q(tables__gt=services.MAX_TABLES_HELD))
        | Q(outcome=Outcome.PENDING, date__lte=today + dt.timedelta(days=1))
    )
    for g in rows.order_by("date", "pk").iterator(chunk_size=2000):
        if g.outcome == Outcome.HELD:
            what = f"{g.get_kind_display()}（{g.organiser_name}，{g.tables}桌）超过规模仍举办"
        else:
            what = (
                f"{g.date:%m月%d日}{g.get_kind_display()}"
                f"（{g.organiser_name}，{g.tables}桌）尚未劝导"
            )
        yield Finding(
            rule="places.gathering_over_limit",
            ref=f"places.gathering:{g.pk}",
            region_code=g.region_code,
            what=what,
            since=g.recorded_at,
            url=reverse("places:gatherings"),
        )


def disinfection_missed(query: RuleQuery) -> Iterator[Finding]:
    """Open places with fewer disinfection rounds yesterday than their kind requires."""
    yesterday = timezone.localtime(query.now).date() - dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(yesterday, dt.time.min))
    end = start + dt.timedelta(days=1)
    rows = (
        _under(Place.objects.exclude(status=PlaceStatus.CLOSED), query.prefix)
        .filter(created_at__lt=start)
        .annotate(
            rounds=Count(
                "disinfections",
                filter=Q(disinfections__done_at__gte=start, disinfections__done_at__lt=end),
            )
        )
        .order_by("region_code", "pk")
    )
    for place in rows.iterator(chunk_size=2000):
        needed = services.rounds_required(place.kind)
        if place.rounds >= needed:
            continue
        yield Finding(
            rule="places.disinfection_missed",
            ref=f"places.disinfection:{place.pk}:{yesterday.isoformat()}",
            region_code=place.region_code,
            what=f"“{place.name}”昨日消毒{place.rounds}次，少于规定的{needed}次",
            since=end,
            url=_detail(place.pk),
        )


def fever_buyer_not_followed(query: RuleQuery) -> Iterator[Finding]:
    """Buyers of fever or cough drugs not followed up within a day."""
    cutoff = query.now - dt.timedelta(hours=24)
    rows = _under(DrugSale.objects.all(), query.prefix).filter(
        follow_up="open",
        drug_class__in=[DrugClass.ANTIPYRETIC, DrugClass.COUGH],
        sold_at__lte=cutoff,
    )
    for sale in rows.order_by("sold_at", "pk").iterator(chunk_size=2000):
        yield Finding(
            rule="places.fever_buyer_not_followed",
            ref=f"places.sale:{sale.pk}",
            region_code=sale.region_code,
            what=f"购药人{sale.buyer_name}（{sale.get_drug_class_display()}）超过24小时未跟进",
            since=sale.sold_at + dt.timedelta(hours=24),
            url=reverse("places:pharmacy"),
            person_id=sale.person_id,
        )


RULES = [
    inspection.Rule(
        key="places.inspection_overdue",
        label=_("场所超期未检查"),
        module="places",
        aspect=inspection.Aspect.RISK,
        run=inspection_overdue,
        description=_("营业中的场所超过7天没有检查记录"),
        deadline_hours=48,
        order=700,
    ),
    inspection.Rule(
        key="places.gathering_over_limit",
        label=_("聚集性活动超规模或未劝导"),
        module="places",
        aspect=inspection.Aspect.RISK,
        run=gathering_over_limit,
        description=_("宴席一律不办；有条件举办不超过5桌；报告的活动须在当天前劝导"),
        deadline_hours=12,
        order=701,
    ),
    inspection.Rule(
        key="places.disinfection_missed",
        label=_("场所消毒次数不足"),
        module="places",
        aspect=inspection.Aspect.RISK,
        run=disinfection_missed,
        description=_("营业场所每日消毒不少于2次，其他场所每日1次"),
        deadline_hours=24,
        order=702,
    ),
    inspection.Rule(
        key="places.fever_buyer_not_followed",
        label=_("购买退烧止咳药人员未跟进"),
        module="places",
        aspect=inspection.Aspect.RISK,
        run=fever_buyer_not_followed,
        description=_("药店实名登记的退烧、止咳药购买人24小时内须走访"),
        deadline_hours=24,
        order=703,
    ),
]


# --- person timeline -----------------------------------------------------------------------------


def person_entries(actor: Any, person_id: int) -> list[TimelineEntry]:
    """Fever-drug purchases and school checks with a fever, for the person's page."""
    entries = []
    for sale in DrugSale.objects.filter(person_id=person_id).select_related("pharmacy")[:50]:
        fever = sale.drug_class in (DrugClass.ANTIPYRETIC, DrugClass.COUGH)
        entries.append(
            TimelineEntry(
                at=sale.sold_at,
                module="places",
                kind="药店购药",
                title=f"在{sale.pharmacy.name}购买{sale.drug_name}（{sale.get_drug_class_display()}）",
                detail="建议排查：近期发热或咳嗽，请走访核实" if fever else "",
                url=reverse("places:pharmacy"),
                tone="alert" if fever and sale.follow_up == "open" else "",
            )
        )
    checks = DailyCheck.objects.filter(
        member__person_id=person_id, temperature__gte=services.FEVER
    ).select_related("member__school_class__school")[:50]
    for check in checks:
        entries.append(
            TimelineEntry(
                at=check.recorded_at,
                module="places",
                kind="晨午检",
                title=f"{check.member.school_class.school.name}{check.get_slot_display()}体温{check.temperature}℃",
                detail=check.symptoms,
                url=reverse("places:class_detail", args=[check.member.school_class_id]),
                tone="alert",
            )
        )
    return entries


TIMELINE = timeline.TimelineSource(
    key="places.person",
    module="places",
    label=_("场所（药店购药、学校晨午检）"),
    permission=Action.PLACES_VIEW,
    entries=person_entries,
)
