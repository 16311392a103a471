"""Demo seeders: how each module adds its part of the demo's story.

``fangkong demo`` loads a synthetic county and the demo users, then runs every registered
seeder in order with a :class:`DemoContext`: the moment the demo starts and the demo users
by username. A seeder writes its module's records *relative to that moment* (an isolation
that began three days ago, checks due this evening, a testing round under way), so the
story holds whatever hour the demo is started, and it returns a line for the console (or
None when it had already seeded). Seeders run in ``order``: screening before isolation,
isolation and testing before tracing, the command layer last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DemoContext:
    now: dt.datetime
    users: dict[str, Any]
    county: str
    township: str
    village: str
    grid: str
    # What earlier seeders made that later ones build on ("tracing.case_id": 12, ...).
    made: dict[str, Any] = field(default_factory=dict)

    def user(self, username: str) -> Any:
        return self.users[username]


@dataclass(frozen=True)
class Seeder:
    key: str
    order: int
    run: Callable[[DemoContext], str | None]


_SEEDERS: dict[str, Seeder] = {}


def register(seeder: Seeder) -> None:
    _SEEDERS[seeder.key] = seeder


def seeders() -> list[Seeder]:
    return sorted(_SEEDERS.values(), key=lambda s: (s.order, s.key))
