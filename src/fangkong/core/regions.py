"""Loading and reading the administrative tree.

Official codes (province → township) come from the national statistical division codes
bundled in ``core/data`` (see its SOURCE.txt). Villages and grids below a real township are
synthetic in the demo and marked ``generated``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from contextvars import ContextVar
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


# Significant lengths of region codes: province, city, county, township, village, group.
CODE_LENGTHS = (2, 4, 6, 9, 12, 15)
COUNTY_LENGTH = 6
TOWNSHIP_LENGTH = 9
VILLAGE_LENGTH = 12
GRID_LENGTH = 15


def is_code(code: str) -> bool:
    """A region code of a significant length (``"230231106201"``), digits only."""
    return code.isdigit() and len(code) in CODE_LENGTHS


def ancestor_codes(codes: Iterable[str]) -> set[str]:
    """Every region code above the given ones (the county and township of a village...)."""
    out: set[str] = set()
    for code in codes:
        out.update(code[:n] for n in CODE_LENGTHS if n < len(code))
    return out


def ancestors(code: str) -> list[str]:
    """The codes above ``code``, from the province down."""
    return [code[:n] for n in CODE_LENGTHS if n < len(code)]


def child_length(code: str) -> int | None:
    """The code length of the level below ``code`` (None below a group)."""
    for n in CODE_LENGTHS:
        if n > len(code):
            return n
    return None


def village_of(code: str) -> str:
    """The village (12 digits) a code lies in; shorter codes are returned unchanged."""
    return code[:VILLAGE_LENGTH]


def township_of(code: str) -> str:
    return code[:TOWNSHIP_LENGTH]


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
    return inside, ancestor_codes(codes)


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """Region code → name, for the codes shown on one page (one query)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))


def region_labels(codes: Iterable[str], *, with_township: bool = True) -> dict[str, str]:
    """Region code → a name clear county-wide, for pages that would otherwise show codes.

    A group carries its village in front (every village has a 第一组: "富强村第1组"), and a
    village or group its township after it ("富强村第1组（富强镇）") when ``with_township``.
    Unknown codes map to themselves, so a page never shows an empty label.
    """
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    lookup = set(wanted)
    for code in wanted:
        if len(code) > VILLAGE_LENGTH:
            lookup.add(code[:VILLAGE_LENGTH])
        if with_township and len(code) > TOWNSHIP_LENGTH:
            lookup.add(code[:TOWNSHIP_LENGTH])
    names = region_names(lookup)
    labels: dict[str, str] = {}
    for code in wanted:
        name = names.get(code, code)
        if len(code) > VILLAGE_LENGTH:
            village = names.get(code[:VILLAGE_LENGTH], "")
            if village and not name.startswith(village):
                name = village + name
        if with_township and len(code) > TOWNSHIP_LENGTH:
            township = names.get(code[:TOWNSHIP_LENGTH], "")
            if township:
                name = f"{name}（{township}）"
        labels[code] = name
    return labels


# Labels already read during the current request: a list page names the same few villages on
# every row, and the template filter asks one code at a time.
_remembered_labels: ContextVar[dict[tuple[str, bool], str] | None] = ContextVar(
    "remembered_region_labels", default=None
)


def region_label(code: str, *, with_township: bool = True) -> str:
    """:func:`region_labels` for one code, read once per request (see ``RememberRegionLabels``)."""
    if not code:
        return ""
    memo = _remembered_labels.get()
    key = (code, with_township)
    if memo is not None and key in memo:
        return memo[key]
    label = region_labels([code], with_township=with_township).get(code, code)
    if memo is not None:
        memo[key] = label
    return label


class RememberRegionLabels:
    """Middleware: region labels read during one request are read from the database once.

    Scoped to the request, so a renamed region shows its new name on the next page.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _remembered_labels.set({})
        try:
            return self.get_response(request)
        finally:
            _remembered_labels.reset(token)
