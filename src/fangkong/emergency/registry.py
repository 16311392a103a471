"""What the emergency layer plugs into the core: its figures, self-inspection rules and the
person-timeline entries of zone measures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import figures, inspection, jurisdiction, timeline
from fangkong.core.roles import Action

from . import services
from .models import Capacity, Zone, ZoneChange, ZoneKind, ZoneMeasure


def _under_measures(kind: str | None) -> Any:
    def compute(query: figures.FigureQuery) -> dict[str, int]:
        measures = ZoneMeasure.objects.filter(since__lte=query.at, zone__status=Zone.Status.ACTIVE)
        if kind:
            measures = measures.filter(kind=kind)
        return figures.count_by_region(measures, query)

    return compute


def plans_due(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A unit whose plan was never reviewed or is past its review date (drills on an
    outdated plan are how "打乱仗" happens)."""
    today = timezone.localtime(query.now).date()
    for plan in services.plans_due(query.prefix, today):
        since = (
            plan.reviewed_on + dt.timedelta(days=plan.review_every_days)
            if plan.reviewed_on
            else today
        )
        yield inspection.Finding(
            rule="emergency.plan_unreviewed",
            ref=f"emergency.plan:{plan.pk}",
            region_code=plan.region_code,
            what=_("%(unit)s: emergency plan “%(title)s” is not reviewed")
            % {"unit": plan.unit_name, "title": plan.title},
            since=timezone.make_aware(dt.datetime.combine(since, dt.time.min)),
            url=reverse("emergency:plans"),
            responsible=plan.unit_name,
        )


def clinics_not_ready(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A fever clinic or triage point without staff, equipment, drugs or duty in place."""
    points = Capacity.objects.filter(
        jurisdiction.prefix_q("region_code", [query.prefix]),
        kind__in=[Capacity.Kind.FEVER_CLINIC, Capacity.Kind.TRIAGE_POINT],
    )
    for point in points:
        if point.four_in_place:
            continue
        yield inspection.Finding(
            rule="emergency.four_in_place",
            ref=f"emergency.capacity:{point.pk}",
            region_code=point.region_code,
            what=_("%(name)s: staff, equipment, drugs and duty are not all in place")
            % {"name": point.name},
            since=query.now,
            url=reverse("emergency:capacity"),
        )


def zone_entries(actor: Any, person_id: int) -> list[timeline.TimelineEntry]:
    measure = ZoneMeasure.objects.filter(person_id=person_id).select_related("zone").first()
    if measure is None:
        return []
    zone = measure.zone
    entries = [
        timeline.TimelineEntry(
            at=measure.since,
            module="emergency",
            kind=_("Zone"),
            title=_("Lives in %(zone)s: %(kind)s")
            % {"zone": zone.name, "kind": zone.get_kind_display()},
            detail=_("%(movement)s; test every %(days)s days")
            % {"movement": measure.get_movement_display(), "days": measure.test_every_days},
            url=reverse("emergency:zone", args=[zone.pk]),
            tone="alert" if zone.kind == ZoneKind.SEALED else "",
        )
    ]
    lifted = ZoneChange.objects.filter(zone=zone, what="lifted").first()
    if lifted is not None:
        entries.append(
            timeline.TimelineEntry(
                at=lifted.at,
                module="emergency",
                kind=_("Zone"),
                title=_("%(zone)s lifted") % {"zone": zone.name},
                url=reverse("emergency:zone", args=[zone.pk]),
            )
        )
    return entries


def register() -> None:
    for key, kind, label, order in (
        ("emergency.under_measures", None, gettext_lazy("People under zone measures"), 900),
        ("emergency.sealed", ZoneKind.SEALED, gettext_lazy("People in sealed zones"), 901),
    ):
        figures.register(
            figures.Figure(
                key=key,
                label=label,
                module="emergency",
                compute=_under_measures(kind),
                unit=gettext_lazy("people"),
                order=order,
                list_url=lambda code: reverse("emergency:zones"),
                permission=Action.EMERGENCY_VIEW,
            )
        )
    inspection.register(
        inspection.Rule(
            key="emergency.plan_unreviewed",
            label=gettext_lazy("Emergency plan missing its review"),
            module="emergency",
            aspect=inspection.Aspect.EMERGENCY,
            run=plans_due,
            description=gettext_lazy(
                "A unit's emergency plan never reviewed or past its review date"
            ),
            deadline_hours=72,
            order=900,
        )
    )
    inspection.register(
        inspection.Rule(
            key="emergency.four_in_place",
            label=gettext_lazy("Fever clinic or triage point not ready"),
            module="emergency",
            aspect=inspection.Aspect.EMERGENCY,
            run=clinics_not_ready,
            description=gettext_lazy("Staff, equipment, drugs and duty (四到位) not all in place"),
            deadline_hours=24,
            order=901,
        )
    )
    timeline.register(
        timeline.TimelineSource(
            key="emergency.zone",
            module="emergency",
            label=gettext_lazy("Zones"),
            permission=Action.EMERGENCY_VIEW,
            entries=zone_entries,
        )
    )
