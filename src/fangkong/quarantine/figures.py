"""Daily figures and self-inspection rules of isolation, registered with core for the
command boards, daily reports and self-inspection (issue 13). The head counts by kind,
fevers today and the check/fever rules live in :mod:`.extensions` (one key per concept)."""

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

from .models import (
    Alert,
    AlertKind,
    IsolationOrder,
    RequiredTest,
)


def _active_at(at: dt.datetime) -> Q:
    return Q(starts_at__lte=at) & (Q(closed_at__isnull=True) | Q(closed_at__gt=at))


def _alerts(kind: str):
    def compute(query: figures.FigureQuery) -> dict[str, int]:
        rows = Alert.objects.filter(
            kind=kind, raised_at__gte=query.day_start, raised_at__lte=query.at
        )
        return figures.count_by_region(rows, query)

    return compute


def releases_due(query: figures.FigureQuery) -> dict[str, int]:
    """Orders open at the moment whose planned end falls on the query's day."""
    end = query.day_start + dt.timedelta(days=1)
    rows = IsolationOrder.objects.filter(
        _active_at(query.at), ends_at__gte=query.day_start, ends_at__lt=end
    )
    return figures.count_by_region(rows, query)


# Rules -----------------------------------------------------------------------------------

RELEASE_WITHOUT_TESTS = "quarantine.release_without_tests"


def _scoped(queryset, query: inspection.RuleQuery):
    return queryset.filter(prefix_q("region_code", [query.prefix])) if query.prefix else queryset


def release_without_tests(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """An order past its planned end that cannot be released: a required test has no result."""
    pending = RequiredTest.objects.filter(order=OuterRef("pk"), result="pending")
    rows = (
        _scoped(IsolationOrder.objects.filter(status="active", ends_at__lte=query.now), query)
        .filter(Exists(pending))
        .select_related("person")
    )
    for order in rows.iterator(chunk_size=2000):
        yield inspection.Finding(
            rule=RELEASE_WITHOUT_TESTS,
            ref=f"quarantine.order:{order.pk}",
            region_code=order.region_code,
            what=_("%(name)s已到解除时间，但规定的核酸检测尚无结果") % {"name": order.person.name},
            since=order.ends_at,
            url=reverse("quarantine:order", args=[order.pk]),
            person_id=order.person_id,
        )


def register() -> None:
    lazy = gettext_lazy
    people = lazy("人")
    figures.register(
        figures.Figure(
            key="quarantine.checks_missed",
            label=lazy("今日漏测"),
            module="quarantine",
            compute=_alerts(AlertKind.MISSED),
            kind=figures.FLOW,
            unit=lazy("次"),
            order=23,
            list_url=figures.list_page("quarantine:alerts"),
            permission=Action.QUARANTINE_VIEW,
        )
    )
    figures.register(
        figures.Figure(
            key="quarantine.releases_due",
            label=lazy("今日应解除"),
            module="quarantine",
            compute=releases_due,
            unit=people,
            order=25,
            list_url=figures.list_page("quarantine:board", region="region"),
            permission=Action.QUARANTINE_VIEW,
        )
    )
    risk = inspection.Aspect.RISK
    for key, label, run, hours, order in (
        (RELEASE_WITHOUT_TESTS, lazy("到期解除缺少规定核酸检测"), release_without_tests, 12, 12),
    ):
        inspection.register(
            inspection.Rule(
                key=key,
                label=label,
                module="quarantine",
                aspect=risk,
                run=run,
                deadline_hours=hours,
                order=order,
            )
        )
