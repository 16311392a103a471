"""The person timeline: what every module knows about one person, for one person page.

A module registers, in its ``AppConfig.ready``, a source that lists its records of a person
(stays and decisions, visits, isolation orders and checks, samples and results, cases and
contact links, list entries by channel) as :class:`TimelineEntry` s with a link to each.
The person page (already scoped to the actor's jurisdiction) asks every source the actor's
role may read and shows the entries newest first.

Sources receive the actor so they can mask what they show (``fangkong.core.personal``), and
must not raise for a person they know nothing of: they return nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .roles import can

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime | dt.date
    module: str
    kind: Any  # a short label: "隔离令", "核酸采样"
    title: str
    detail: str = ""
    url: str = ""
    # "alert" entries (a fever, a positive result) are highlighted on the page.
    tone: str = ""

    @property
    def sort_key(self) -> dt.datetime:
        if isinstance(self.at, dt.datetime):
            return self.at if timezone.is_aware(self.at) else timezone.make_aware(self.at)
        # A day-only entry sorts at the start of that day, local time.
        return timezone.make_aware(dt.datetime.combine(self.at, dt.time.min))


@dataclass(frozen=True)
class TimelineSource:
    key: str
    module: str
    label: Any
    permission: str
    entries: Callable[[Any, int], Iterable[TimelineEntry]]


_SOURCES: dict[str, TimelineSource] = {}


def register(source: TimelineSource) -> None:
    _SOURCES[source.key] = source


def sources() -> list[TimelineSource]:
    return list(_SOURCES.values())


def entries_for(actor: Any, person_id: int, *, limit: int = 200) -> list[TimelineEntry]:
    """Entries of every source the actor may read, newest first.

    The caller has already checked that the person lies inside the actor's jurisdiction.
    A failing source is logged and skipped: one module's bug must not blank the page.
    """
    found: list[TimelineEntry] = []
    for source in _SOURCES.values():
        if source.permission and not can(actor, source.permission):
            continue
        try:
            found.extend(source.entries(actor, person_id))
        except Exception:
            logger.exception("timeline source %s failed for person %s", source.key, person_id)
    found.sort(key=lambda e: e.sort_key, reverse=True)
    return found[:limit]
