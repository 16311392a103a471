"""Ordering isolation from another module (tracing, screening visits, checkpoints, zones).

The isolation module (``quarantine``) owns isolation orders, sites, rooms and checks, and
registers itself here as the *orderer* from its ``AppConfig.ready``. A module that decides a
person must be isolated — a close contact, a returnee visited at home, an arrival turned
away at a post — calls :func:`order`, never the isolation module's services: the request
carries the measure (kind, start, days, the test days it requires) and a stable ``source``
key, so a second request for the same source returns the order already made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class IsolationRequest:
    """What the requesting module knows of the isolation it needs.

    ``starts_at`` is when the isolation period starts (for a contact: the last exposure,
    not the moment of the request); ``required_test_days`` are the days of the period
    (day 1 = the first day) on which a nucleic-acid test is required before release;
    ``reason`` says why, for the order's record ("密接：家庭聚餐 2026-11-30");
    ``policy_version`` names the control-policy version the measure came from, if any.
    """

    person_id: int
    kind: str  # "home" | "centralised" | "monitoring"
    starts_at: dt.datetime
    days: int
    source: str
    reason: str = ""
    required_test_days: tuple[int, ...] = ()
    policy_version: str = ""
    site_id: int | None = None
    room_id: int | None = None
    cost_bearer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IsolationPlaced:
    order_id: int
    url: str
    created: bool  # False: the order already made for this source
    room: str = ""


class Orderer(Protocol):
    def order(
        self, request: IsolationRequest, *, by_user: Any, channel: str
    ) -> IsolationPlaced: ...

    def orders_for(self, sources: list[str]) -> dict[str, IsolationPlaced]: ...


_orderer: Orderer | None = None


def register_orderer(orderer: Orderer) -> None:
    global _orderer
    _orderer = orderer


def available() -> bool:
    return _orderer is not None


def order(request: IsolationRequest, *, by_user: Any, channel: str = "web") -> IsolationPlaced:
    """Order the isolation (checking the user's permission and jurisdiction like the
    isolation pages do); raises the core errors (ValidationFailed, NotFound,
    PermissionDenied) for the caller to show."""
    if _orderer is None:
        raise RuntimeError("no isolation module is installed")
    return _orderer.order(request, by_user=by_user, channel=channel)


def orders_for(sources: list[str]) -> dict[str, IsolationPlaced]:
    """The orders already made for these sources, by source."""
    if _orderer is None or not sources:
        return {}
    return _orderer.orders_for(sources)


@dataclass(frozen=True)
class SourceLink:
    """Where an order came from, as the order page names it: a label, and the page it
    links to when the viewer may open that page (``url`` empty otherwise)."""

    label: str
    url: str = ""


# "tracing.classification" → describe(user, "123"): the module that made the source key
# names it, so the isolation module shows "密接（经 张三，病例 …）" without importing tracing.
_source_describers: dict[str, Any] = {}


def register_source(kind: str, describe: Any) -> None:
    """Name the orders whose source key starts with ``kind:`` (``describe(user, rest)`` →
    :class:`SourceLink` or None when the source no longer exists)."""
    _source_describers[kind] = describe


def describe_source(user: Any, source: str) -> SourceLink | None:
    """The link back to where an order came from, for the order page; None for orders made
    by hand or from a module that does not describe its sources."""
    kind, _, rest = source.partition(":")
    describe = _source_describers.get(kind)
    if describe is None or not rest:
        return None
    return describe(user, rest)
