"""Figures and self-inspection rules of supervision (for core's registries)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import figures, inspection, jurisdiction, regions
from fangkong.core.roles import Action

from .models import Rectification, RectificationStatus

RECTIFICATION_OVERDUE = "supervision.rectification_overdue"


def _open_at(query: figures.FigureQuery) -> Q:
    return Q(created_at__lte=query.at) & (Q(closed_at__isnull=True) | Q(closed_at__gt=query.at))


def rectifications_open(query: figures.FigureQuery) -> dict[str, int]:
    """Findings still to be rectified and closed at the query's moment."""
    return figures.count_by_region(Rectification.objects.filter(_open_at(query)), query)


def rectifications_overdue(query: figures.FigureQuery) -> dict[str, int]:
    """Open findings past their deadline at the query's moment (the report of a rectification
    stops the clock: the owner has done their part, the team's verification follows)."""
    qs = Rectification.objects.filter(_open_at(query), deadline__lt=query.at).filter(
        Q(reported_at__isnull=True)
        | Q(reported_at__gt=query.at)
        | Q(status=RectificationStatus.OPEN)
    )
    return figures.count_by_region(qs, query)


def rectifications_closed(query: figures.FigureQuery) -> dict[str, int]:
    """Findings verified and closed on the query's day."""
    qs = Rectification.objects.filter(closed_at__gte=query.day_start, closed_at__lte=query.at)
    return figures.count_by_region(qs, query)


def overdue_findings(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A finding not rectified by its deadline."""
    qs = Rectification.objects.filter(status=RectificationStatus.OPEN, deadline__lt=query.now)
    if query.prefix:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [query.prefix]))
    rows = list(qs.order_by("deadline"))
    labels = regions.region_labels([r.region_code for r in rows])
    for row in rows:
        yield inspection.Finding(
            rule=RECTIFICATION_OVERDUE,
            ref=f"supervision.rectification:{row.pk}",
            region_code=row.region_code,
            what=_("%(place)s: “%(title)s” not rectified by %(deadline)s")
            % {
                "place": labels.get(row.region_code, ""),
                "title": row.title,
                "deadline": row.deadline.strftime("%m-%d %H:%M"),
            },
            since=row.deadline,
            url=reverse("supervision:rectification", args=[row.pk]),
        )


def register() -> None:
    def list_url(code: str) -> str:
        return reverse("supervision:rectifications")

    for key, label, fn, kind, order in (
        (
            "supervision.rectifications_open",
            gettext_lazy("Findings being rectified"),
            rectifications_open,
            figures.STOCK,
            860,
        ),
        (
            "supervision.rectifications_overdue",
            gettext_lazy("Rectifications overdue"),
            rectifications_overdue,
            figures.STOCK,
            861,
        ),
        (
            "supervision.rectifications_closed",
            gettext_lazy("Rectifications closed"),
            rectifications_closed,
            figures.FLOW,
            862,
        ),
    ):
        figures.register(
            figures.Figure(
                key=key,
                label=label,
                module="supervision",
                compute=fn,
                kind=kind,
                unit=gettext_lazy("items"),
                order=order,
                list_url=list_url,
                permission=Action.SUPERVISION_VIEW,
                higher_is_better=key.endswith("closed"),
            )
        )
    inspection.register(
        inspection.Rule(
            key=RECTIFICATION_OVERDUE,
            label=gettext_lazy("Rectification overdue"),
            module="supervision",
            aspect=inspection.Aspect.SUPERVISION,
            run=overdue_findings,
            description=gettext_lazy("Findings of inspections not rectified by their deadline"),
            deadline_hours=24,
            order=860,
        )
    )
