"""Figures, self-inspection rules and person timeline entries of tip-offs (for core)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import figures, inspection, jurisdiction, regions, timeline
from fangkong.core.roles import Action

from .models import TipOff, TipStatus

TIP_UNVERIFIED = "tipoffs.unverified_late"


def received(query: figures.FigureQuery) -> dict[str, int]:
    """Tip-offs received on the query's day, up to its moment."""
    qs = TipOff.objects.filter(created_at__gte=query.day_start, created_at__lte=query.at)
    return figures.count_by_region(qs, query)


def verified(query: figures.FigureQuery) -> dict[str, int]:
    """Tip-offs found true on the query's day."""
    qs = TipOff.objects.filter(
        status=TipStatus.VERIFIED, verified_at__gte=query.day_start, verified_at__lte=query.at
    )
    return figures.count_by_region(qs, query)


def overdue(query: figures.FigureQuery) -> dict[str, int]:
    """Tip-offs past their verification deadline and not yet decided at the query's moment."""
    qs = TipOff.objects.filter(created_at__lte=query.at, deadline__lt=query.at).filter(
        Q(verified_at__isnull=True) | Q(verified_at__gt=query.at)
    )
    return figures.count_by_region(qs, query)


def unverified_late(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A tip-off not verified within the time limit (services.VERIFY_WITHIN_HOURS)."""
    qs = TipOff.objects.filter(status=TipStatus.PENDING, deadline__lt=query.now)
    if query.prefix:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [query.prefix]))
    tips = list(qs.order_by("deadline"))
    labels = regions.region_labels([t.region_code for t in tips])
    for tip in tips:
        yield inspection.Finding(
            rule=TIP_UNVERIFIED,
            ref=f"tipoffs.tip:{tip.pk}",
            region_code=tip.region_code,
            what=_("Tip-off %(code)s (%(kind)s, %(village)s) not verified by %(deadline)s")
            % {
                "code": tip.receipt_code,
                "kind": tip.get_kind_display(),
                "village": labels.get(tip.region_code, ""),
                "deadline": tip.deadline.strftime("%m-%d %H:%M"),
            },
            since=tip.deadline,
            url=reverse("tipoffs:tip", args=[tip.pk]),
        )


def person_entries(actor: Any, person_id: int) -> list[timeline.TimelineEntry]:
    """Verified tip-offs that named a registered person (the tipster is never shown)."""
    qs = jurisdiction.scope(TipOff.objects.filter(person_id=person_id), actor)
    return [
        timeline.TimelineEntry(
            at=tip.verified_at or tip.created_at,
            module="tipoffs",
            kind=_("Tip-off"),
            title=_("Tip-off %(code)s: %(kind)s, %(status)s")
            % {
                "code": tip.receipt_code,
                "kind": tip.get_kind_display(),
                "status": tip.get_status_display(),
            },
            detail=tip.finding[:200],
            url=reverse("tipoffs:tip", args=[tip.pk]),
            tone="alert" if tip.status == TipStatus.VERIFIED else "",
        )
        for tip in qs.order_by("-created_at")[:50]
    ]


def register() -> None:
    def list_url(code: str) -> str:
        return reverse("tipoffs:home")

    figures.register(
        figures.Figure(
            key="tipoffs.received",
            label=gettext_lazy("Tip-offs received"),
            module="tipoffs",
            compute=received,
            kind=figures.FLOW,
            unit=gettext_lazy("tips"),
            order=850,
            list_url=list_url,
            permission=Action.TIPOFF_VIEW,
        )
    )
    figures.register(
        figures.Figure(
            key="tipoffs.verified",
            label=gettext_lazy("Tip-offs verified true"),
            module="tipoffs",
            compute=verified,
            kind=figures.FLOW,
            unit=gettext_lazy("tips"),
            order=851,
            list_url=list_url,
            permission=Action.TIPOFF_VIEW,
        )
    )
    figures.register(
        figures.Figure(
            key="tipoffs.overdue",
            label=gettext_lazy("Tip-offs not verified in time"),
            module="tipoffs",
            compute=overdue,
            unit=gettext_lazy("tips"),
            order=852,
            list_url=list_url,
            permission=Action.TIPOFF_VIEW,
        )
    )
    inspection.register(
        inspection.Rule(
            key=TIP_UNVERIFIED,
            label=gettext_lazy("Tip-off not verified in time"),
            module="tipoffs",
            aspect=inspection.Aspect.SUPERVISION,
            run=unverified_late,
            description=gettext_lazy("Tip-offs still unverified 24 hours after they arrived"),
            deadline_hours=24,
            order=850,
        )
    )
    timeline.register(
        timeline.TimelineSource(
            key="tipoffs.tips",
            module="tipoffs",
            label=gettext_lazy("Tip-offs"),
            permission=Action.TIPOFF_VIEW,
            entries=person_entries,
        )
    )
