"""The five-colour risk map (红橙黄蓝绿) of townships or villages, from live data.

Inputs are the zones in force (this module) and the daily figures other modules register
with a ``risk:`` tag (``risk:case`` cases in the last 14 days, ``risk:contact`` contacts
under management, ``risk:isolation`` people in isolation), read through the figures
registry, never through another module's models. Missing figures count as zero, so the map
works with any set of modules installed.

The colour of an area is the highest level any rule gives it:
- red: a sealed zone in it, or at least ``RED_CASES`` cases;
- orange: a controlled zone in it, or any case;
- yellow: a prevention zone in it, or contacts under management;
- blue: people in isolation (watch);
- green: none of these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core import figures
from fangkong.core.models import Region

from .models import Zone, ZoneArea, ZoneKind

RED_CASES = 3
LEVELS = ("green", "blue", "yellow", "orange", "red")
LEVEL_LABELS = {
    "red": _("High risk"),
    "orange": _("Medium-high risk"),
    "yellow": _("Medium risk"),
    "blue": _("Low risk, watched"),
    "green": _("Normal"),
}
ZONE_LEVEL = {ZoneKind.SEALED: "red", ZoneKind.CONTROLLED: "orange", ZoneKind.PREVENTION: "yellow"}


@dataclass
class Tile:
    code: str
    name: str
    level: str = "green"
    cases: int = 0
    contacts: int = 0
    isolated: int = 0
    zones: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    def raise_to(self, level: str) -> None:
        if LEVELS.index(level) > LEVELS.index(self.level):
            self.level = level


def _tagged(tag: str, query: figures.FigureQuery) -> dict[str, int]:
    out: dict[str, int] = {}
    for figure in figures.figures():
        if tag in figure.tags:
            for code, n in figure.compute(query).items():
                out[code] = out.get(code, 0) + n
    return out


def tiles(prefix: str, group_length: int, *, at: dt.datetime | None = None) -> list[Tile]:
    """One tile per area of ``group_length`` digits under ``prefix``, coloured."""
    at = at or timezone.now()
    level = {9: "township", 12: "village", 15: "grid"}.get(group_length, "township")
    regions = Region.objects.filter(level=level, code__startswith=prefix).order_by("code")
    result = {r.code: Tile(r.code, r.name) for r in regions.only("code", "name")[:1000]}
    query = figures.FigureQuery(prefix, group_length, at)
    for attr, tag in (
        ("cases", "risk:case"),
        ("contacts", "risk:contact"),
        ("isolated", "risk:isolation"),
    ):
        for code, n in _tagged(tag, query).items():
            if code in result:
                setattr(result[code], attr, n)
    zones = {
        z.pk: (z.kind, z.name)
        for z in Zone.objects.filter(status=Zone.Status.ACTIVE, declared_at__lte=at)
    }
    areas = ZoneArea.objects.filter(zone_id__in=zones).values_list("zone_id", "region_code")
    for zone_id, code in areas:
        kind, name = zones[zone_id]
        for tile in result.values():
            if code.startswith(tile.code) or tile.code.startswith(code):
                tile.raise_to(ZONE_LEVEL[kind])
                if name not in tile.zones:
                    tile.zones.append(name)
    for tile in result.values():
        if tile.cases >= RED_CASES:
            tile.raise_to("red")
        elif tile.cases:
            tile.raise_to("orange")
        if tile.contacts:
            tile.raise_to("yellow")
        if tile.isolated:
            tile.raise_to("blue")
    return list(result.values())
