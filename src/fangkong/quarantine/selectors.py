"""Reads of isolation data, always through the user's jurisdiction.

Orders, alerts and supply requests are scoped on their own ``region_code`` (the isolated
person's residence). A site is *seen* by the users of the area it serves — its own region and
everything under it, and the villages and townships below whose people it takes in — but the
names on its roster only by users whose jurisdiction covers the site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.utils import timezone

from fangkong.core import audit, jurisdiction
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.masking import present, visible_fields
from fangkong.core.roles import Action, can
from fangkong.people.models import Person

from .models import (
    Alert,
    AlertKind,
    CheckWindow,
    HealthCheck,
    IsolationKind,
    IsolationOrder,
    IsolationSite,
    OrderStatus,
    Room,
    SupplyRequest,
)

MAX_PAGE = 200
ROUND_LIMIT = 500


def require(user: Any, action: Action) -> None:
    """Refuse (403) when the user's role does not allow ``action``."""
    if not can(user, action):
        raise PermissionDenied(action)


def id_numbers_for(
    user: Any, orders: list[IsolationOrder], *, channel: str, request: Any = None
) -> dict[int, str]:
    """The ID number of each order's person as ``user`` may see it (order id → text).

    Every unmasked one shown is written to the audit trail, as for the person registry.
    """
    visible = visible_fields(user)
    shown = {o.pk: present("id_number", o.person.id_number, visible) for o in orders}
    unmasked = sorted({o.person_id for o in orders if o.person.id_number})
    if "id_number" in visible and unmasked:
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=unmasked,
            fields=["id_number"],
            channel=channel,
            request=request,
        )
    return shown


def orders_visible_to(user: Any) -> QuerySet[IsolationOrder]:
    return jurisdiction.scope(IsolationOrder.objects.all(), user)


def household_members(user: Any, person_id: int) -> tuple[int, ...]:
    """Ids of the other members of the person's household the user may see and who are not
    isolated already (they keep the order they have)."""
    household_id = (
        jurisdiction.scope(Person.objects.filter(pk=person_id), user)
        .values_list("household_id", flat=True)
        .first()
    )
    if household_id is None:
        return ()
    busy = IsolationOrder.objects.filter(status=OrderStatus.ACTIVE).values("person_id")
    return tuple(
        jurisdiction.scope(Person.objects.filter(household_id=household_id), user)
        .exclude(pk=person_id)
        .exclude(pk__in=busy)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def get_order(user: Any, order_id: int, action: Action = Action.QUARANTINE_VIEW) -> IsolationOrder:
    """One order the user may act on: 403 for the role, then 404 outside the jurisdiction."""
    require(user, action)
    order = (
        orders_visible_to(user)
        .select_related("person", "person__household", "room", "room__site", "schedule")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(order_id)
    return order


def list_orders(
    user: Any,
    *,
    status: str = "",
    kind: str = "",
    region_code: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[IsolationOrder], int]:
    require(user, Action.QUARANTINE_VIEW)
    queryset = orders_visible_to(user)
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    if region_code:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [region_code]))
    total = queryset.count()
    limit = max(1, min(limit, MAX_PAGE))
    items = list(
        queryset.select_related("person", "room", "room__site")
        .prefetch_related("tests", "responsible")
        .order_by("-starts_at", "-id")[offset : offset + limit]
    )
    return items, total


def ancestor_codes(codes: tuple[str, ...]) -> set[str]:
    """Every region code above the given ones (county and township of a village...)."""
    out: set[str] = set()
    for code in codes:
        for length in (2, 4, 6, 9, 12):
            if length < len(code):
                out.add(code[:length])
    return out


def sites_visible_to(user: Any) -> QuerySet[IsolationSite]:
    """Sites in the user's area, and the county/township sites that serve it."""
    if not (can(user, Action.QUARANTINE_VIEW) or can(user, Action.QUARANTINE_SITES)):
        raise PermissionDenied(Action.QUARANTINE_VIEW)
    codes = jurisdiction.user_codes(user)
    if "" in codes:
        return IsolationSite.objects.all()
    return IsolationSite.objects.filter(
        jurisdiction.prefix_q("region_code", codes) | Q(region_code__in=ancestor_codes(codes))
    )


def get_site(user: Any, site_id: int, *, manage: bool = False) -> IsolationSite:
    """A site the user may see; with ``manage``, one inside the user's jurisdiction."""
    if manage:
        require(user, Action.QUARANTINE_SITES)
        queryset = jurisdiction.scope(IsolationSite.objects.all(), user)
    else:
        queryset = sites_visible_to(user)
    site = queryset.filter(pk=site_id).first()
    if site is None:
        raise NotFound(site_id)
    return site


def site_occupancy(user: Any) -> list[dict[str, Any]]:
    """Per visible site: rooms, beds, occupants, free rooms and free beds — no names."""
    rows = (
        sites_visible_to(user)
        .filter(active=True)
        .annotate(
            room_count=Count("rooms"),
            beds=Sum("rooms__capacity"),
            occupants_total=Sum("rooms__occupants"),
            free_rooms=Count("rooms", filter=Q(rooms__occupants=0)),
        )
        .order_by("region_code", "name")
    )
    return [
        {
            "id": s.pk,
            "name": s.name,
            "region_code": s.region_code,
            "address": s.address,
            "phone": s.phone,
            "rooms": s.room_count,
            "beds": s.beds or 0,
            "occupants": s.occupants_total or 0,
            "free_rooms": s.free_rooms,
            "free_beds": (s.beds or 0) - (s.occupants_total or 0),
        }
        for s in rows
    ]


def site_rooms(site: IsolationSite) -> list[Room]:
    return list(site.rooms.order_by("number"))


def _local_day_bounds(day: Any) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def site_roster(user: Any, site: IsolationSite, day: Any) -> dict[str, list[IsolationOrder]]:
    """Who arrives at and who leaves a site on a local ``day`` (the site's daily roster).

    Names are personal data: only users whose jurisdiction covers the site get them.
    """
    require(user, Action.QUARANTINE_VIEW)
    if not jurisdiction.covers(user, site.region_code):
        raise NotFound(site.pk)
    start, end = _local_day_bounds(day)
    base = IsolationOrder.objects.filter(room__site=site).select_related("person", "room")
    return {
        "in_room": list(base.filter(status=OrderStatus.ACTIVE).order_by("room__number")),
        "arriving": list(base.filter(starts_at__gte=start, starts_at__lt=end)),
        "leaving": list(
            base.filter(
                Q(status=OrderStatus.ACTIVE, ends_at__gte=start, ends_at__lt=end)
                | Q(closed_at__gte=start, closed_at__lt=end)
            )
        ),
    }


def current_slot(windows: list[CheckWindow], at: datetime) -> tuple[datetime, datetime] | None:
    """The (opens, closes) instants of the window containing ``at``, in local time."""
    local = timezone.localtime(at)
    for window in windows:
        if window.opens_at <= local.time() < window.closes_at:
            opens = timezone.make_aware(datetime.combine(local.date(), window.opens_at))
            closes = timezone.make_aware(datetime.combine(local.date(), window.closes_at))
            return opens, closes
    return None


@dataclass
class RoundEntry:
    order: IsolationOrder
    slot: datetime | None
    done: bool
    last: HealthCheck | None
    open_alerts: list[Alert] = field(default_factory=list)
    day: int = 0  # day of the isolation (1 = the first day)
    total_days: int = 0
    next_opens: time | None = None  # between windows: when the next one opens today

    @property
    def urgency(self) -> int:
        """0: an open fever alert, 1: symptoms or absent, 2: missed checks only, 3: none."""
        kinds = {a.kind for a in self.open_alerts}
        if AlertKind.FEVER in kinds:
            return 0
        if kinds & {AlertKind.SYMPTOM, AlertKind.ABSENT}:
            return 1
        return 2 if kinds else 3


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key reading numbers as numbers: 2号 before 10号, 3-2 before 3-10."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text or "")
        if part
    )


def isolation_day(order: IsolationOrder, now: datetime) -> tuple[int, int]:
    """(day of the isolation today, its length in days), counted on local calendar days."""
    first = timezone.localdate(order.starts_at)
    last = timezone.localdate(order.ends_at)
    total = max((last - first).days, 1)
    return min(max((timezone.localdate(now) - first).days + 1, 1), total), total


def todays_round(user: Any, now: datetime | None = None) -> list[RoundEntry]:
    """The doctor's round: active home isolation and monitoring in the user's area.

    Open fever alerts first, then symptoms and absences; within each, by grid, then the
    household address read numerically (2号 before 10号), then household, so that one
    household's members are adjacent and the list follows the way through the village.
    Each entry says whether the current check window is already done, and the day of the
    isolation.
    """
    require(user, Action.QUARANTINE_CHECK)
    now = now or timezone.now()
    orders = list(
        orders_visible_to(user)
        .filter(
            status=OrderStatus.ACTIVE,
            kind__in=[IsolationKind.HOME, IsolationKind.MONITORING],
            starts_at__lte=now,
        )
        .select_related("person", "person__household")
        .order_by(
            "person__household__region_code",
            "person__household__address",
            "person__household_id",
            "person__name",
            "id",
        )[:ROUND_LIMIT]
    )
    windows: dict[int, list[CheckWindow]] = {}
    for window in CheckWindow.objects.filter(
        schedule_id__in={o.schedule_id for o in orders}
    ).order_by("opens_at"):
        windows.setdefault(window.schedule_id, []).append(window)
    day_start, _end = _local_day_bounds(timezone.localdate(now))
    checks: dict[int, list[HealthCheck]] = {}
    for check in HealthCheck.objects.filter(
        order_id__in=[o.pk for o in orders], taken_at__gte=day_start
    ).order_by("taken_at", "id"):
        checks.setdefault(check.order_id, []).append(check)
    alerts: dict[int, list[Alert]] = {}
    for alert in Alert.objects.filter(
        order_id__in=[o.pk for o in orders], handled_at__isnull=True
    ).order_by("raised_at"):
        alerts.setdefault(alert.order_id, []).append(alert)
    entries = []
    for order in orders:
        slot = current_slot(windows.get(order.schedule_id, []), now)
        todays = checks.get(order.pk, [])
        done = slot is not None and any(c.slot == slot[0] for c in todays)
        day, total = isolation_day(order, now)
        local_now = timezone.localtime(now).time()
        upcoming = [
            w.opens_at for w in windows.get(order.schedule_id, []) if w.opens_at > local_now
        ]
        entries.append(
            RoundEntry(
                order=order,
                slot=slot[0] if slot else None,
                done=done,
                last=todays[-1] if todays else None,
                open_alerts=alerts.get(order.pk, []),
                day=day,
                total_days=total,
                next_opens=None if slot else min(upcoming, default=None),
            )
        )
    entries.sort(
        key=lambda e: (
            e.urgency,
            e.order.person.household.region_code if e.order.person.household else "",
            natural_key(e.order.address),
            e.order.person.household_id or 0,
            e.order.person.name,
            e.order.pk,
        )
    )
    return entries


def alerts_visible_to(user: Any) -> QuerySet[Alert]:
    return jurisdiction.scope(Alert.objects.all(), user)


def list_alerts(
    user: Any,
    *,
    open_only: bool = True,
    min_level: int = 0,
    mine: bool = False,
    limit: int = 100,
) -> list[Alert]:
    """Alerts of the user's area: fevers first, then symptoms and absences, then missed
    checks; within each, most escalated first; ``mine``: only the orders the user
    is responsible for (the doctor's or grid worker's own list)."""
    require(user, Action.QUARANTINE_VIEW)
    queryset = alerts_visible_to(user).filter(level__gte=min_level)
    if mine:
        queryset = queryset.filter(order__responsible=user)
    if open_only:
        queryset = queryset.filter(handled_at__isnull=True)
    urgency = Case(
        When(kind=AlertKind.FEVER, then=Value(0)),
        When(kind__in=[AlertKind.SYMPTOM, AlertKind.ABSENT], then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(
        queryset.select_related("order", "order__person", "reading").order_by(
            urgency, "-level", "raised_at", "id"
        )[: max(1, min(limit, MAX_PAGE))]
    )


def get_alert(user: Any, alert_id: int, action: Action = Action.QUARANTINE_VIEW) -> Alert:
    require(user, action)
    alert = alerts_visible_to(user).select_related("order").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(alert_id)
    return alert


def child_length(code: str) -> int:
    """The code length one level below ``code`` (county 6 → township 9 → village 12 → grid 15)."""
    for length in (6, 9, 12, 15):
        if length > len(code):
            return length
    return len(code)


def board(user: Any, *, region_code: str = "", now: datetime | None = None) -> dict[str, Any]:
    """Counts for a village or township board, in total and per region one level down.

    People in each kind of isolation, checks due in the current window and not yet done,
    overdue (open missed-check alerts), fevers today, releases due by the end of today,
    escalated alerts, and home isolations without a signed agreement.
    """
    require(user, Action.QUARANTINE_VIEW)
    now = now or timezone.now()
    codes = jurisdiction.user_codes(user)
    base_code = region_code or (codes[0] if len(codes) == 1 else "")
    orders = orders_visible_to(user).filter(status=OrderStatus.ACTIVE)
    alerts = alerts_visible_to(user)
    if region_code:
        orders = orders.filter(jurisdiction.prefix_q("region_code", [region_code]))
        alerts = alerts.filter(jurisdiction.prefix_q("region_code", [region_code]))
    day_start, day_end = _local_day_bounds(timezone.localdate(now))
    length = child_length(base_code)

    due_q = Q()
    slot_by_schedule: dict[int, datetime] = {}
    windows: dict[int, list[CheckWindow]] = {}
    for check_window in CheckWindow.objects.all():
        windows.setdefault(check_window.schedule_id, []).append(check_window)
    for schedule_id, schedule_windows in windows.items():
        window = current_slot(schedule_windows, now)
        if window:
            slot_by_schedule[schedule_id] = window[0]
    for schedule_id, opens in slot_by_schedule.items():
        due_q |= Q(
            Q(schedule_id=schedule_id, starts_at__lte=opens),
            ~Exists(HealthCheck.objects.filter(order=OuterRef("pk"), slot=opens)),
        )

    order_counts = {
        "home": Count("id", filter=Q(kind=IsolationKind.HOME)),
        "centralised": Count("id", filter=Q(kind=IsolationKind.CENTRALISED)),
        "monitoring": Count("id", filter=Q(kind=IsolationKind.MONITORING)),
        "releases_due": Count("id", filter=Q(ends_at__lt=day_end)),
        "agreements_missing": Count(
            "id",
            filter=Q(kind=IsolationKind.HOME, agreement_signed_on__isnull=True, agreement_scan=""),
        ),
    }
    alert_counts = {
        "overdue": Count("id", filter=Q(kind=AlertKind.MISSED, handled_at__isnull=True)),
        "fevers_today": Count(
            "id", filter=Q(kind=AlertKind.FEVER, raised_at__gte=day_start, raised_at__lt=day_end)
        ),
        "escalated": Count("id", filter=Q(level__gte=1, handled_at__isnull=True)),
        "open_alerts": Count("id", filter=Q(handled_at__isnull=True)),
    }
    rows: dict[str, dict[str, int]] = {}
    total = {key: 0 for key in [*order_counts, "due", *alert_counts]}

    def add(code: str, values: dict[str, int]) -> None:
        row = rows.setdefault(code, {key: 0 for key in total})
        for key, value in values.items():
            row[key] += value or 0
            total[key] += value or 0

    grouped = orders.annotate(area=Substr("region_code", 1, length)).values("area")
    for row in grouped.annotate(**order_counts):
        add(row["area"], {k: row[k] for k in order_counts})
    if slot_by_schedule:
        for row in grouped.filter(due_q).annotate(due=Count("id")):
            add(row["area"], {"due": row["due"]})
    alert_rows = (
        alerts.annotate(area=Substr("region_code", 1, length))
        .values("area")
        .annotate(**alert_counts)
    )
    for row in alert_rows:
        add(row["area"], {k: row[k] for k in alert_counts})
    return {"region_code": base_code, "total": total, "by_region": dict(sorted(rows.items()))}


def supply_requests_visible_to(user: Any) -> QuerySet[SupplyRequest]:
    return jurisdiction.scope(SupplyRequest.objects.all(), user)


def list_supply_requests(user: Any, *, open_only: bool = True) -> list[SupplyRequest]:
    require(user, Action.QUARANTINE_SUPPORT)
    queryset = supply_requests_visible_to(user).select_related("order", "order__person")
    if open_only:
        queryset = queryset.filter(delivered_at__isnull=True)
    return list(queryset.order_by("requested_at", "id")[:MAX_PAGE])


def order_readings(order: IsolationOrder, limit: int = 60) -> list[HealthCheck]:
    return list(order.checks.order_by("-taken_at", "-id")[:limit])
