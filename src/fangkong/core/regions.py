"""Loading and reading the administrative tree.

Official codes (province → township) come from the national statistical division codes
bundled in ``core/data`` (see its SOURCE.txt). Villages and grids below a real township are
synthetic in the demo and marked ``generated``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from . import jurisdiction
from .models import LEVEL_BY_LENGTH, Region, RegionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def official_names() -> dict[str, str]:
    """Every official code (2, 4, 6 or 9 digits) → name."""
    out: dict[str, str] = {}
    for filename in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv"):
        with (DATA_DIR / filename).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out[row["code"]] = row["name"]
    return out


def official_chain(county_code: str) -> list[tuple[str, str, str]]:
    """(code, name, level) for the province, city, county and every township of a county."""
    table = official_names()
    if county_code not in table or len(county_code) != 6:
        raise ValueError(
            _("County code %(code)s is not in the national statistical division codes")
            % {"code": county_code}
        )
    chain = [
        (county_code[:2], table[county_code[:2]], RegionLevel.PROVINCE),
        (county_code[:4], table.get(county_code[:4], "市辖区"), RegionLevel.CITY),
        (county_code, table[county_code], RegionLevel.COUNTY),
    ]
    townships = sorted(c for c in table if len(c) == 9 and c.startswith(county_code))
    chain += [(c, table[c], RegionLevel.TOWNSHIP) for c in townships]
    return chain


def level_of(code: str) -> str:
    try:
        return LEVEL_BY_LENGTH[len(code)]
    except KeyError:
        raise ValueError(
            _("Region code %(code)s has the wrong length (2, 4, 6, 9, 12 or 15 digits)")
            % {"code": code}
        ) from None


def parent_code(code: str) -> str | None:
    lengths = sorted(LEVEL_BY_LENGTH)
    index = lengths.index(len(code))
    return code[: lengths[index - 1]] if index else None


@transaction.atomic
def upsert_regions(rows: Iterable[tuple[str, str, bool]]) -> int:
    """Insert or rename regions given as (code, name, generated), parents before children."""
    existing = dict(Region.objects.values_list("code", "name"))
    new: list[Region] = []
    renamed: list[Region] = []
    for code, name, generated in sorted(rows, key=lambda r: (len(r[0]), r[0])):
        if code in existing:
            if existing[code] != name:
                renamed.append(Region(code=code, name=name, level=level_of(code)))
            continue
        parent = parent_code(code)
        if parent is not None and parent not in existing:
            raise ValueError(
                _("The parent %(parent)s of region %(code)s does not exist")
                % {"code": code, "parent": parent}
            )
        new.append(
            Region(
                code=code,
                name=name,
                level=level_of(code),
                parent_id=parent,
                generated=generated,
            )
        )
        existing[code] = name
    Region.objects.bulk_create(new, batch_size=2000)
    if renamed:
        Region.objects.bulk_update(renamed, ["name"], batch_size=2000)
    return len(new)


def load_official_county(county_code: str) -> int:
    """Load a county's official chain (province, city, county, townships)."""
    return upsert_regions((code, name, False) for code, name, _ in official_chain(county_code))


def regions_visible_to(user: Any):
    """Regions inside the user's jurisdiction, plus the ancestors that lead to them."""
    codes = jurisdiction.user_codes(user)
    inside = jurisdiction.scope(Region.objects.all(), user, field="code")
    ancestors = {c[:n] for c in codes for n in (2, 4, 6, 9, 12) if n < len(c)}
    return inside, ancestors

