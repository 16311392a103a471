"""Isolation ordered from other modules, and rooms for centralised isolation.

The quarantine module registers :class:`Orderer` with :mod:`fangkong.core.isolation`, so
tracing, screening visits and checkpoints order isolation without importing this module:
a request carries the measure (kind, start, days, required test days) and a stable source
key; a second request for the same source returns the order already made.

Rooms: :func:`suggest_rooms` proposes a free room for each centralised order without one
(a household's members share a room, a room already holding the household comes first,
rooms in numeric order: 2 before 10); :func:`assign_rooms` books many at once, order by
order, each booking the same conditional update as a single assignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from fangkong.core import isolation
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.roles import Action

from . import services
from .models import CostBearer, IsolationKind, IsolationOrder, OrderStatus, Room
from .selectors import natural_key, orders_visible_to, require, sites_visible_to


def room_label(room: Room) -> str:
    return f"{room.site.name} {room.number}"


def _placed(order: IsolationOrder, created: bool) -> isolation.IsolationPlaced:
    return isolation.IsolationPlaced(
        order_id=order.pk,
        url=reverse("quarantine:order", args=[order.pk]),
        created=created,
        room=room_label(order.room) if order.room_id else "",
    )


class Orderer:
    """The isolation module's answer to :func:`fangkong.core.isolation.order`."""

    def order(
        self, request: isolation.IsolationRequest, *, by_user: Any, channel: str = "web"
    ) -> isolation.IsolationPlaced:
        require(by_user, Action.QUARANTINE_MANAGE)
        if not request.source:
            raise ValidationFailed([FieldError("source", _("The request names no source"))])
        existing = self._existing(request.source)
        if existing is not None:
            return _placed(existing, False)
        cost_bearer = request.cost_bearer
        if request.kind == IsolationKind.CENTRALISED and not cost_bearer:
            cost_bearer = CostBearer.GOVERNMENT
        try:
            with transaction.atomic():
                order = services.order_isolation(
                    user=by_user,
                    data=services.OrderInput(
                        person_id=request.person_id,
                        kind=request.kind,
                        starts_at=request.starts_at,
                        days=request.days,
                        policy_version=request.policy_version,
                        manual_reason=request.reason or request.source,
                        required_test_days=tuple(request.required_test_days),
                        cost_bearer=cost_bearer,
                        source=request.source,
                    ),
                    channel=channel,
                )
        except ValidationFailed:
            existing = self._existing(request.source)  # made by a concurrent request
            if existing is not None:
                return _placed(existing, False)
            raise
        if request.room_id is not None:
            order = services.assign_room(
                user=by_user, order_id=order.pk, version=order.version, room_id=request.room_id
            )
        return _placed(order, True)

    def orders_for(self, sources: list[str]) -> dict[str, isolation.IsolationPlaced]:
        found = IsolationOrder.objects.filter(source__in=sources).select_related("room__site")
        return {o.source: _placed(o, False) for o in found}

    @staticmethod
    def _existing(source: str) -> IsolationOrder | None:
        return IsolationOrder.objects.filter(source=source).select_related("room__site").first()


# Rooms -------------------------------------------------------------------------------------


@dataclass
class RoomChoice:
    room_id: int
    label: str
    free: int


@dataclass
class RoomPlan:
    """A centralised order without a room, with the room suggested for it."""

    order: IsolationOrder
    suggested: RoomChoice | None
    party: str


@dataclass
class BulkRooms:
    assigned: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def free_rooms(user: Any) -> list[Room]:
    """Rooms with a free bed in the sites serving the user's area, site by site, in numeric
    order of their numbers."""
    rooms = list(
        Room.objects.filter(site__in=sites_visible_to(user), occupants__lt=F("capacity"))
        .select_related("site")
        .order_by("site__name", "number")[:2000]
    )
    rooms.sort(key=lambda r: (r.site.name, natural_key(r.number)))
    return rooms


def unroomed_orders(user: Any, limit: int = 200) -> list[IsolationOrder]:
    return list(
        orders_visible_to(user)
        .filter(status=OrderStatus.ACTIVE, kind=IsolationKind.CENTRALISED, room__isnull=True)
        .select_related("person", "person__household")
        .order_by("starts_at", "id")[:limit]
    )


def suggest_rooms(user: Any, orders: list[IsolationOrder] | None = None) -> list[RoomPlan]:
    """A room for each centralised order without one, filling rooms the way a booking would:
    a room holding the household first, else the first empty room; members of one household
    share a room while it has beds. Only a suggestion: nothing is booked."""
    require(user, Action.QUARANTINE_VIEW)
    orders = unroomed_orders(user) if orders is None else orders
    rooms = free_rooms(user)
    free = {r.pk: r.capacity - r.occupants for r in rooms}
    party_of = {r.pk: r.party for r in rooms}
    plans = []
    for order in orders:
        party = services._party(order.person)
        chosen = next((r for r in rooms if party_of[r.pk] == party and free[r.pk] > 0), None)
        if chosen is None:
            chosen = next((r for r in rooms if party_of[r.pk] is None and free[r.pk] > 0), None)
        choice = None
        if chosen is not None:
            free[chosen.pk] -= 1
            party_of[chosen.pk] = party
            choice = RoomChoice(chosen.pk, room_label(chosen), chosen.capacity - chosen.occupants)
        plans.append(RoomPlan(order=order, suggested=choice, party=party))
    return plans


def suggest_room(user: Any, order: IsolationOrder) -> RoomChoice | None:
    """The room suggested for one order (None: no free room, or not centralised)."""
    if order.kind != IsolationKind.CENTRALISED or order.room_id:
        return None
    plans = suggest_rooms(user, [order])
    return plans[0].suggested if plans else None


def assign_rooms(*, user: Any, pairs: list[tuple[int, int]]) -> BulkRooms:
    """Book ``(order id, room id)`` pairs one by one; each failure is reported by order and
    the others still go through (nothing booked is lost)."""
    require(user, Action.QUARANTINE_SITES)
    outcome = BulkRooms()
    for order_id, room_id in pairs:
        order = orders_visible_to(user).filter(pk=order_id).only("id", "version").first()
        if order is None:
            outcome.errors.append((order_id, _("Not an order in your area")))
            continue
        try:
            with transaction.atomic():
                services.assign_room(
                    user=user, order_id=order_id, version=order.version, room_id=room_id
                )
        except ValidationFailed as exc:
            outcome.errors.append((order_id, "; ".join(e.message for e in exc.errors)))
        except (NotFound, VersionConflict):
            outcome.errors.append((order_id, _("The room or the order changed; try again")))
        else:
            outcome.assigned.append(order_id)
    return outcome
