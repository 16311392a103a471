"""What the isolation module plugs into the core kit: daily figures, self-inspection rules and
the person timeline (registered from :mod:`fangkong.quarantine.apps`).

Figures count "as of" a moment from the orders' own dates (start, close), so the worker can
fill a 14-day trend; rules are read-only and bounded by the query's prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fangkong.core import figures, inspection, timeline
from fangkong.core.jurisdiction import prefix_q
from fangkong.core.roles import Action

from .models import Alert, AlertKind, IsolationKind, IsolationOrder, OrderStatus

# A home isolation checked twice a day: no reading for this long is a check overdue.
CHECK_OVERDUE_HOURS = 24


def _active_at(at: dt.datetime) -> QuerySet[IsolationOrder]:
    """Orders under way at ``at``: started, and not closed before it."""
    return IsolationOrder.objects.filter(starts_at__lte=at).filter(
        Q(closed_at__isnull=True, status=OrderStatus.ACTIVE) | Q(closed_at__gt=at)
    )


def _kind_count(kind: str):  # type: ignore[no-untyped-def]
    def compute(query: figures.FigureQuery) -> dict[str, int]:
        return figures.count_by_region(_active_at(query.at).filter(kind=kind), query)

    return compute


def fevers_today(query: figures.FigureQuery) -> dict[str, int]:
    queryset = Alert.objects.filter(
        kind=AlertKind.FEVER, raised_at__gte=query.day_start, raised_at__lte=query.at
    )
    return figures.count_by_region(queryset, query)


def released_today(query: figures.FigureQuery) -> dict[str, int]:
    queryset = IsolationOrder.objects.filter(
        status=OrderStatus.RELEASED, closed_at__gte=query.day_start, closed_at__lte=query.at
    )
    return figures.count_by_region(queryset, query)


def overdue_checks(query: inspection.RuleQuery) -> Iterable[inspection.Finding]:
    """Home isolation and monitoring under way for a day without a reading for a day."""
    limit = query.now - dt.timedelta(hours=CHECK_OVERDUE_HOURS)
    orders = (
        IsolationOrder.objects.filter(
            status=OrderStatus.ACTIVE,
            kind__in=[IsolationKind.HOME, IsolationKind.MONITORING],
            starts_at__lte=limit,
        )
        .annotate(last_check=Max("checks__taken_at"))
        .filter(Q(last_check__isnull=True) | Q(last_check__lt=limit))
        .order_by("id")
    )
    if query.prefix:
        orders = orders.filter(prefix_q("region_code", [query.prefix]))
    # Every order is a finding (a county at its peak has tens of thousands): plain rows, one
    # URL pattern, no model instances.
    kinds = dict(IsolationKind.choices)
    url = reverse("quarantine:order", args=[0]).rsplit("0/", 1)[0]
    rows = orders.values_list(
        "pk", "region_code", "kind", "starts_at", "last_check", "person_id", "person__name"
    )
    for pk, region_code, kind, starts_at, last_check, person_id, name in rows.iterator(
        chunk_size=5000
    ):
        yield inspection.Finding(
            rule="quarantine.check_overdue",
            ref=f"quarantine.order:{pk}",
            region_code=region_code,
            what=f"{name}（{kinds.get(kind, kind)}）超过{CHECK_OVERDUE_HOURS}小时未测体温",
            since=last_check or starts_at,
            url=f"{url}{pk}/",
            person_id=person_id,
        )


def unhandled_fevers(query: inspection.RuleQuery) -> Iterable[inspection.Finding]:
    """Fever alerts nobody has handled within an hour."""
    alerts = Alert.objects.filter(
        kind=AlertKind.FEVER,
        handled_at__isnull=True,
        raised_at__lte=query.now - dt.timedelta(hours=1),
    ).select_related("order__person", "reading")
    if query.prefix:
        alerts = alerts.filter(prefix_q("region_code", [query.prefix]))
    for alert in alerts.order_by("id").iterator(chunk_size=2000):
        reading = (
            f" {alert.reading.temperature}°C" if alert.reading and alert.reading.temperature else ""
        )
        yield inspection.Finding(
            rule="quarantine.fever_unhandled",
            ref=f"quarantine.alert:{alert.pk}",
            region_code=alert.region_code,
            what=f"{alert.order.person.name} 发热{reading}，1小时内未处置",
            since=alert.raised_at,
            url=reverse("quarantine:alerts"),
            person_id=alert.order.person_id,
        )


def person_entries(actor: Any, person_id: int) -> list[timeline.TimelineEntry]:
    """Isolation orders (start, release or close), fever and symptom alerts, required tests."""
    entries = []
    orders = list(
        IsolationOrder.objects.filter(person_id=person_id)
        .select_related("room__site")
        .prefetch_related("tests")
        .order_by("-starts_at")[:20]
    )
    for order in orders:
        url = reverse("quarantine:order", args=[order.pk])
        days = (order.ends_at - order.starts_at).days
        tests = "、".join(str(t.day) for t in order.tests.all())
        detail = order.policy_version or order.manual_reason
        if tests:
            detail += f"；第{tests}天核酸"
        if order.room_id:
            detail += f"；{order.room.site.name} {order.room.number}"
        entries.append(
            timeline.TimelineEntry(
                at=order.starts_at,
                module="quarantine",
                kind=_("隔离"),
                title=f"{order.get_kind_display()} {days}天（{order.get_status_display()}）",
                detail=detail,
                url=url,
            )
        )
        if order.closed_at:
            entries.append(
                timeline.TimelineEntry(
                    at=order.closed_at,
                    module="quarantine",
                    kind=_("隔离"),
                    title=f"{order.get_kind_display()}结束：{order.get_status_display()}",
                    detail=order.close_reason or order.override_reason,
                    url=url,
                )
            )
        for test in order.tests.all():
            if test.sampled_on and test.result != "pending":
                entries.append(
                    timeline.TimelineEntry(
                        at=test.sampled_on,
                        module="quarantine",
                        kind=_("核酸"),
                        title=f"隔离第{test.day}天核酸：{test.get_result_display()}",
                        url=url,
                        tone="alert" if test.result == "positive" else "",
                    )
                )
    alerts = (
        Alert.objects.filter(order__person_id=person_id)
        .exclude(kind=AlertKind.MISSED)
        .select_related("reading")
        .order_by("-raised_at")[:30]
    )
    for alert in alerts:
        temperature = (
            f" {alert.reading.temperature}°C" if alert.reading and alert.reading.temperature else ""
        )
        entries.append(
            timeline.TimelineEntry(
                at=alert.raised_at,
                module="quarantine",
                kind=_("预警"),
                title=f"{alert.get_kind_display()}{temperature}",
                detail=alert.get_outcome_display() if alert.outcome else "未处置",
                url=reverse("quarantine:order", args=[alert.order_id]),
                tone="alert",
            )
        )
    return entries


def register() -> None:
    # Home and centralised isolation feed the emergency risk map (blue); monitoring does not.
    isolation = ("risk:isolation",)
    for order, (key, kind, label, tags) in enumerate(
        (
            ("quarantine.home", IsolationKind.HOME, _("居家隔离人数"), isolation),
            ("quarantine.centralised", IsolationKind.CENTRALISED, _("集中隔离人数"), isolation),
            ("quarantine.monitoring", IsolationKind.MONITORING, _("健康监测人数"), ()),
        )
    ):
        figures.register(
            figures.Figure(
                key=key,
                label=label,
                module="quarantine",
                compute=_kind_count(kind),
                kind=figures.STOCK,
                unit=_("人"),
                order=400 + order,
                list_url=figures.list_page("quarantine:orders"),
                permission=Action.QUARANTINE_VIEW,
                tags=tags,
            )
        )
    figures.register(
        figures.Figure(
            key="quarantine.fevers_today",
            label=_("今日隔离人员发热"),
            module="quarantine",
            compute=fevers_today,
            kind=figures.FLOW,
            unit=_("人次"),
            order=404,
            list_url=lambda code: reverse("quarantine:alerts"),
            permission=Action.QUARANTINE_VIEW,
        )
    )
    figures.register(
        figures.Figure(
            key="quarantine.released_today",
            label=_("今日解除隔离"),
            module="quarantine",
            compute=released_today,
            kind=figures.FLOW,
            unit=_("人"),
            order=405,
            list_url=lambda code: reverse("quarantine:orders") + "?status=released",
            permission=Action.QUARANTINE_VIEW,
        )
    )
    inspection.register(
        inspection.Rule(
            key="quarantine.check_overdue",
            label=_("隔离人员超时未测温"),
            module="quarantine",
            aspect=inspection.Aspect.RISK,
            run=overdue_checks,
            description=_("居家隔离或健康监测人员超过24小时没有体温记录（每天应测2次）"),
            deadline_hours=4,
            order=400,
        )
    )
    inspection.register(
        inspection.Rule(
            key="quarantine.fever_unhandled",
            label=_("发热预警未及时处置"),
            module="quarantine",
            aspect=inspection.Aspect.RISK,
            run=unhandled_fevers,
            description=_("隔离人员发热预警1小时内无人处置"),
            deadline_hours=1,
            order=401,
        )
    )
    timeline.register(
        timeline.TimelineSource(
            key="quarantine.orders",
            module="quarantine",
            label=_("隔离"),
            permission=Action.QUARANTINE_VIEW,
            entries=person_entries,
        )
    )
