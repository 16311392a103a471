"""Which zone's measures a person lives under: pure functions, no database.

A zone covers a person when one of its regions is the person's residence region or an
ancestor of it (a village covers its grids), or when it lists the person's household. Zones
nest and overlap (a sealed building inside a controlled village inside a prevention
township); the person gets the strictest zone that covers them, and between zones of the
same kind the one declared first (lowest id), so the answer never depends on the order
zones are read in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fangkong.core.regions import ancestors

from .models import STRICTNESS


@dataclass(frozen=True)
class ZoneShape:
    """What membership needs of a zone."""

    id: int
    kind: str
    region_codes: frozenset[str]
    household_ids: frozenset[int]


def _rank(zone: ZoneShape) -> tuple[int, int]:
    return (-STRICTNESS[zone.kind], zone.id)  # type: ignore[index]


class ZoneIndex:
    """Zones indexed by region code and household, for one lookup per person."""

    def __init__(self, zones: Iterable[ZoneShape]) -> None:
        self.by_region: dict[str, list[ZoneShape]] = {}
        self.by_household: dict[int, list[ZoneShape]] = {}
        for zone in zones:
            for code in zone.region_codes:
                self.by_region.setdefault(code, []).append(zone)
            for household_id in zone.household_ids:
                self.by_household.setdefault(household_id, []).append(zone)

    def covering(self, region_code: str, household_id: int | None) -> list[ZoneShape]:
        found: dict[int, ZoneShape] = {}
        for code in (*ancestors(region_code), region_code):
            for zone in self.by_region.get(code, ()):
                found[zone.id] = zone
        if household_id is not None:
            for zone in self.by_household.get(household_id, ()):
                found[zone.id] = zone
        return sorted(found.values(), key=_rank)

    def effective(self, region_code: str, household_id: int | None) -> ZoneShape | None:
        """The zone whose measures apply (strictest, then earliest), or None."""
        covering = self.covering(region_code, household_id)
        return covering[0] if covering else None


def covers(zone: ZoneShape, region_code: str, household_id: int | None) -> bool:
    """Does ``zone`` cover a person living in ``region_code`` / ``household_id``? (The plain
    definition, used by the tests as the brute-force reference.)"""
    if household_id is not None and household_id in zone.household_ids:
        return True
    return any(region_code.startswith(code) for code in zone.region_codes)
