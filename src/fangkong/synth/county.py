"""The synthetic county generator: a realistic, deterministic county written as CSV files.

Why it exists: demos, tests and benchmarks need a county that looks real to a cadre (Chinese
names weighted like a real roster, addresses down to the house number, families of plausible
ages, ID numbers that pass every check) without ever touching real personal data. The real
part is the frame — province, city, county and township codes and names come from the
national statistical division codes in ``core/data`` — and everything below a township is
generated and marked ``generated``.

The rule it keeps: the output is a pure function of ``(residents, seed, county_code)``.
Nothing reads the clock (ages are counted from :data:`AS_OF`) and every random draw comes
from one ``random.Random`` seeded from those three values, so the same arguments give
byte-identical files on every machine.

Speed: a million residents take a few seconds because the per-person work is dictionary
lookups into precomputed tables (ID check-digit partial sums per area code, birth date and
sequence number, date strings per day) and C-implemented ``csv`` writing; no per-row calls
into date formatting, Faker or pypinyin.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any

from fangkong.core import regions as official
from fangkong.core.idnumbers import CHECK_CHARS, WEIGHTS

from . import vocab

GENERATOR_VERSION = "1.0"
# Ages are computed against this fixed day, not today, so that output never depends on
# when the generator runs. 2025-12-31 is after the bundled division codes (2024).
AS_OF = dt.date(2025, 12, 31)

REGION_COLUMNS = ("code", "name", "level", "parent_code", "generated")
HOUSEHOLD_COLUMNS = ("household_no", "region_code", "address", "unit_no")
UNIT_COLUMNS = ("unit_no", "region_code", "name", "leader_person_row")
PERSON_COLUMNS = (
    "row",
    "id_number",
    "name",
    "sex",
    "birth_date",
    "phone",
    "household_no",
    "region_code",
    "category",
    "is_head",
)

# Household sizes 1–6: many one- and two-person households of elderly people whose children
# work elsewhere, as in rural Heilongjiang (mean ≈ 2.7 persons).
HOUSEHOLD_SIZE_WEIGHTS = ((1, 0.14), (2, 0.34), (3, 0.24), (4, 0.15), (5, 0.08), (6, 0.05))
TOWN_SEAT_SHARE = 0.24  # share of the county living in the town seat (县城所在镇)
TOWN_SEAT_COMMUNITY_SHARE = 0.65  # of which in urban communities (社区), the rest in villages
VILLAGE_MEAN_RESIDENTS = 900  # villages range ~300–1,500 residents
COMMUNITY_MEAN_RESIDENTS = 3000  # town-seat communities are larger urban neighbourhoods
GROUP_MEAN_HOUSEHOLDS = 55  # groups / grids hold ~30–80 households
UNIT_HOUSEHOLDS = 10  # 十户联防: ten neighbouring households
MAX_CHILD_CODES = 199  # 001–199 communities, 201–399 villages (NBS convention)


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_county` wrote, also saved as ``manifest.json``."""

    out_dir: str
    county_code: str
    county_name: str
    seed: int
    residents: int
    households: int
    units: int
    regions: int
    townships: int
    villages: int
    groups: int
    generator_version: str
    as_of: str
    seconds: float


class _IdFactory:
    """Valid, unique GB 11643 numbers from precomputed check-digit partial sums."""

    def __init__(self) -> None:
        self._area_sum: dict[str, int] = {}
        self._seq_sum = [
            sum(w * int(c) for w, c in zip(WEIGHTS[14:17], f"{n:03d}", strict=True))
            for n in range(1000)
        ]
        self._used: dict[tuple[str, int, int], int] = {}

    def area_sum(self, area: str) -> int:
        total = self._area_sum.get(area)
        if total is None:
            total = sum(w * int(c) for w, c in zip(WEIGHTS[:6], area, strict=True))
            self._area_sum[area] = total
        return total

    def make(self, area: str, ordinal: int, day: _Day, male: int) -> str:
        # Sequence numbers for one (area, birth day, sex) are handed out by a stride
        # coprime with 500 from a per-key start, so they look scattered but never repeat.
        key = (area, ordinal, male)
        n = self._used.get(key, 0)
        self._used[key] = n + 1
        v = (ordinal * 37 + int(area) + n * 7) % 500
        seq = (v // 5) * 10 + (v % 5) * 2 + male
        total = self.area_sum(area) + day.check_sum + self._seq_sum[seq]
        return f"{area}{day.compact}{seq:03d}{CHECK_CHARS[total % 11]}"


class _Day:
    __slots__ = ("check_sum", "compact", "iso", "year")

    def __init__(self, ordinal: int) -> None:
        d = dt.date.fromordinal(ordinal)
        self.compact = f"{d.year:04d}{d.month:02d}{d.day:02d}"
        self.iso = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
        self.year = d.year
        self.check_sum = sum(w * int(c) for w, c in zip(WEIGHTS[6:14], self.compact, strict=True))


class _Builder:
    """One county's worth of random draws; :meth:`rows` yields every output row."""

    def __init__(self, *, residents: int, seed: int, county_code: str) -> None:
        if residents < 1:
            raise ValueError("residents must be at least 1")
        self.residents = residents
        self.county_code = county_code
        self.chain = official.official_chain(county_code)  # raises for an unknown county
        self.rng = Random(f"fangkong-synth:{GENERATOR_VERSION}:{county_code}:{residents}:{seed}")
        self.ids = _IdFactory()
        self.days: dict[int, _Day] = {}
        self.as_of = AS_OF.toordinal()
        self.phones: set[str] = set()
        self.person_row = 0
        self.counts = {"households": 0, "units": 0, "villages": 0, "groups": 0}
        self.surnames = [s for s, _ in vocab.SURNAMES]
        self.surname_cum = list(accumulate(w for _, w in vocab.SURNAMES))
        self.size_values = [s for s, _ in HOUSEHOLD_SIZE_WEIGHTS]
        self.size_cum = list(accumulate(w for _, w in HOUSEHOLD_SIZE_WEIGHTS))
        names = official.official_names()
        others = sorted(c for c in names if len(c) == 6 and c != county_code)
        self.province_others = [c for c in others if c[:2] == county_code[:2]]
        self.other_counties = others
        self.given = {key: list(chars) for key, chars in vocab.GIVEN_CHARS.items()}
        self.prefix = "".join(name for _, name, _ in self.chain[:3])

    # -- small draws -------------------------------------------------------------------

    def day(self, ordinal: int) -> _Day:
        d = self.days.get(ordinal)
        if d is None:
            d = self.days[ordinal] = _Day(ordinal)
        return d

    def birth_ordinal(self, age: int) -> int:
        age = max(0, min(age, 100))
        return self.as_of - age * 365 - age // 4 - int(self.rng.random() * 365)

    def surname(self) -> str:
        return self.surnames[bisect(self.surname_cum, self.rng.random() * self.surname_cum[-1])]

    def given_name(self, sex: str, year: int) -> str:
        generation = 0 if year < 1960 else (1 if year < 1990 else 2)
        chars = self.given[(sex, generation)]
        rng = self.rng
        single = 0.35 if generation == 0 else (0.3 if generation == 1 else 0.22)
        if rng.random() < single:
            return chars[int(rng.random() * len(chars))]
        return chars[int(rng.random() * len(chars))] + chars[int(rng.random() * len(chars))]

    def phone(self) -> str:
        rng = self.rng
        prefixes = vocab.MOBILE_PREFIXES
        while True:
            number = f"{prefixes[int(rng.random() * len(prefixes))]}{int(rng.random() * 1e8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def birth_area(self, floating: bool, outsider_odds: float) -> str:
        rng = self.rng
        if floating or rng.random() < outsider_odds:
            pool = self.province_others if rng.random() < 0.7 else self.other_counties
            if pool:
                return pool[int(rng.random() * len(pool))]
        return self.county_code

    # -- household composition ---------------------------------------------------------

    def composition(self) -> list[tuple[str, int, str]]:
        """(role, age, sex) of each member, head first; roles head/spouse/child/elder."""
        rng = self.rng
        size = self.size_values[bisect(self.size_cum, rng.random() * self.size_cum[-1])]
        randint = rng.randint
        if size == 1:
            age = randint(60, 92) if rng.random() < 0.55 else randint(22, 59)
            return [("head", age, "F" if rng.random() < 0.55 else "M")]
        if size == 2 and rng.random() > 0.78:
            parent = randint(50, 85)
            return [
                ("head", parent, "F" if rng.random() < 0.6 else "M"),
                ("child", parent - randint(22, 34), "M" if rng.random() < 0.52 else "F"),
            ]
        children = {2: 0, 3: 1, 4: 2, 5: 2, 6: 2}[size]
        elders = 0
        if size == 3 and rng.random() < 0.4:
            head = randint(50, 80)
        elif size == 2:
            head = int(rng.triangular(24, 90, 63))
        else:
            head = randint(27, 52)
            if size == 4 and rng.random() < 0.45:
                children, elders = 1, 1
            elif size == 5:
                children, elders = (2, 1) if rng.random() < 0.5 else (1, 2)
            elif size == 6:
                children, elders = 2, 2
        head_sex = "M" if rng.random() < 0.85 else "F"
        spouse_age = head + (randint(-5, 2) if head_sex == "M" else randint(-2, 5))
        spouse_sex = "F" if head_sex == "M" else "M"
        members = [("head", head, head_sex), ("spouse", spouse_age, spouse_sex)]
        gap = randint(22, 34)
        for k in range(children):
            age = head - gap - k * randint(1, 6)
            members.append(("child", max(age, 0), "M" if rng.random() < 0.52 else "F"))
        elder_age = min(head + randint(22, 32), 98)
        if elders == 2:
            members.append(("elder", elder_age + randint(0, 3), "M"))
            members.append(("elder", elder_age, "F"))
        elif elders == 1:
            members.append(("elder", elder_age, "F" if rng.random() < 0.65 else "M"))
        return members

    # -- regions -----------------------------------------------------------------------

    def split(self, total: int, mean: int, cap: int) -> list[int]:
        """Split ``total`` into parts averaging ``mean`` (±55 %), at most ``cap`` parts."""
        count = max(1, min(cap, round(total / mean)))
        weights = [self.rng.uniform(0.45, 1.55) for _ in range(count)]
        scale = total / sum(weights)
        parts = [int(w * scale) for w in weights]
        parts[-1] += total - sum(parts)
        return [p for p in parts if p > 0]

    def township_populations(self, townships: list[tuple[str, str]]) -> list[int]:
        seat = self.town_seat(townships)
        weights = [0.0 if code == seat else self.rng.uniform(0.7, 1.3) for code, _ in townships]
        rest = 1.0 - (TOWN_SEAT_SHARE if len(townships) > 1 else 1.0)
        others = sum(weights) or 1.0
        shares = [
            (TOWN_SEAT_SHARE if len(townships) > 1 else 1.0) if code == seat else w * rest / others
            for (code, _), w in zip(townships, weights, strict=True)
        ]
        pops = [int(self.residents * s) for s in shares]
        pops[townships.index(next(t for t in townships if t[0] == seat))] += self.residents - sum(
            pops
        )
        return pops

    def town_seat(self, townships: list[tuple[str, str]]) -> str:
        """The township named like the county (拜泉镇 in 拜泉县), else the first 镇."""
        county_name = self.chain[2][1]
        for code, name in townships:
            if name[:2] == county_name[:2]:
                return code
        for code, name in townships:
            if name.endswith("镇"):
                return code
        return townships[0][0]

    def village_names(self, township_name: str, count: int) -> list[str]:
        """Unique village names; the first is named after its township (富强镇 → 富强村)."""
        stem = township_name.removesuffix("镇").removesuffix("乡").removesuffix("街道")
        stems = list(vocab.VILLAGE_STEMS)
        self.rng.shuffle(stems)
        names: list[str] = []
        seen: set[str] = set()
        candidates = [stem] + [p + s for p in vocab.VILLAGE_PREFIXES for s in stems]
        for candidate in candidates:
            if len(names) == count:
                break
            if candidate and candidate not in seen:
                seen.add(candidate)
                names.append(candidate + "村")
        return names

    def community_names(self, count: int) -> list[str]:
        stems = list(vocab.COMMUNITY_STEMS)
        self.rng.shuffle(stems)
        extra = [p + s for p in vocab.VILLAGE_PREFIXES[1:] for s in stems]
        return [s + "社区" for s in (stems + extra)[:count]]

    # -- the whole county --------------------------------------------------------------

    def rows(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Yield ``(kind, row)`` for kinds region, household, unit, person."""
        parent = ""
        for code, name, level in self.chain[:3]:
            yield "region", (code, name, str(level), parent, "0")
            parent = code
        townships = [(code, name) for code, name, _level in self.chain[3:]]
        if not townships:
            raise ValueError(f"区县 {self.county_code} 没有乡镇（街道）数据")
        for code, name in townships:
            yield "region", (code, name, "township", self.county_code, "0")
        seat = self.town_seat(townships)
        for (code, name), population in zip(
            townships, self.township_populations(townships), strict=True
        ):
            if population <= 0:
                continue
            if code == seat and population >= 2 * COMMUNITY_MEAN_RESIDENTS:
                urban = int(population * TOWN_SEAT_COMMUNITY_SHARE)
                community_sizes = self.split(urban, COMMUNITY_MEAN_RESIDENTS, MAX_CHILD_CODES)
                village_sizes = self.split(population - urban, VILLAGE_MEAN_RESIDENTS, 199)
            else:
                community_sizes = []
                village_sizes = self.split(population, VILLAGE_MEAN_RESIDENTS, MAX_CHILD_CODES)
            prefix = self.prefix + name
            for k, (vname, size) in enumerate(
                zip(self.community_names(len(community_sizes)), community_sizes, strict=True)
            ):
                yield from self.village(f"{code}{k + 1:03d}", vname, code, prefix, size, True)
            for k, (vname, size) in enumerate(
                zip(self.village_names(name, len(village_sizes)), village_sizes, strict=True)
            ):
                yield from self.village(f"{code}{k + 201:03d}", vname, code, prefix, size, False)

    def village(
        self, code: str, name: str, township: str, prefix: str, size: int, urban: bool
    ) -> Iterator[tuple[str, tuple[Any, ...]]]:
        rng = self.rng
        self.counts["villages"] += 1
        yield "region", (code, name, "village", township, "1")
        households: list[list[tuple[str, int, str]]] = []
        remaining = size
        while remaining > 0:
            members = self.composition()[:remaining]
            remaining -= len(members)
            households.append(members)
        group_sizes = self.split(len(households), GROUP_MEAN_HOUSEHOLDS, 999)
        start = 0
        for g, group_size in enumerate(group_sizes, start=1):
            grid = f"{code}{g:03d}"
            label = f"第{vocab.chinese_number(g)}{'网格' if urban else '组'}"
            self.counts["groups"] += 1
            yield "region", (grid, label, "grid", code, "1")
            street = vocab.STREETS[(g + int(code[-3:])) % len(vocab.STREETS)] if urban else ""
            place = f"{prefix}{name}{label}{street}"
            house = 0
            unit_members: list[list[tuple[int, int, bool]]] = []  # per household (row, age, head)
            unit_nos: list[str] = []
            block = households[start : start + group_size]
            start += group_size
            unit_count = max(1, round(len(block) / UNIT_HOUSEHOLDS))
            for h, members in enumerate(block, start=1):
                house += 1 if rng.random() < 0.85 else rng.randint(2, 4)
                household_no = f"{grid}-{h:04d}"
                unit_index = min(unit_count, (h - 1) // UNIT_HOUSEHOLDS + 1)
                unit_no = f"{grid}-L{unit_index:02d}"
                if not unit_nos or unit_nos[-1] != unit_no:
                    unit_nos.append(unit_no)
                    unit_members.append([])
                self.counts["households"] += 1
                yield "household", (household_no, grid, f"{place}{house}号", unit_no)
                for person in self.persons(members, household_no, grid):
                    unit_members[-1].append((person[0], person[-1], person[9] == "1"))
                    yield "person", person[:-1]
            for k, (unit_no, people) in enumerate(zip(unit_nos, unit_members, strict=True), 1):
                self.counts["units"] += 1
                yield "unit", (unit_no, grid, f"{name}{label}第{k}联户", self.leader(people))

    def leader(self, people: list[tuple[int, int, bool]]) -> int:
        """A household head of working age, else the youngest adult, else anyone."""
        heads = [row for row, age, head in people if head and 25 <= age <= 68]
        if heads:
            return heads[int(self.rng.random() * len(heads))]
        adults = sorted((age, row) for row, age, _ in people if age >= 18)
        return adults[0][1] if adults else people[0][0]

    def persons(
        self, members: list[tuple[str, int, str]], household_no: str, grid: str
    ) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        floating = rng.random() < 0.02
        family = self.surname()
        head_sex = members[0][2]
        couple = len(members) > 1 and members[1][0] == "spouse"
        for role, age, sex in members:
            self.person_row += 1
            # Children take the father's family name; wives keep their own (Chinese women do
            # not take their husband's surname), so a couple has two surnames.
            if role == "child":
                surname = family if rng.random() < 0.95 else self.surname()
            elif (
                (sex == "M" and role in ("head", "spouse"))
                or (role == "head" and not couple)
                or (role == "elder" and sex == "M" and head_sex == "M")
            ):
                surname = family
            else:
                surname = self.surname()
            ordinal = self.birth_ordinal(age)
            day = self.day(ordinal)
            odds = 0.04 if role == "spouse" else 0.01
            area = self.birth_area(floating, odds)
            id_number = self.ids.make(area, ordinal, day, 1 if sex == "M" else 0)
            if age >= 16 and ((age < 75 and rng.random() < 0.97) or rng.random() < 0.55):
                phone = self.phone()
            else:
                phone = ""
            if floating:
                category = "floating"
            elif 18 <= age <= 45 and role != "head":
                r = rng.random()
                category = "elsewhere" if r < 0.08 else ("returnee" if r < 0.13 else "resident")
            else:
                category = "resident"
            yield (
                self.person_row,
                id_number,
                surname + self.given_name(sex, day.year),
                sex,
                day.iso,
                phone,
                household_no,
                grid,
                category,
                "1" if role == "head" else "0",
                age,
            )


def iter_county(
    *, residents: int, seed: int, county_code: str = "230231"
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every row of the county as ``(kind, row)``, kinds ``region``, ``household``, ``unit``,
    ``person``, in the column order of the CSV files; no files written (for benchmarks)."""
    return _Builder(residents=residents, seed=seed, county_code=county_code).rows()


def iter_persons(
    *, residents: int, seed: int, county_code: str = "230231"
) -> Iterator[tuple[Any, ...]]:
    """Only the person rows of :func:`iter_county` (same values as ``persons.csv``)."""
    for kind, row in iter_county(residents=residents, seed=seed, county_code=county_code):
        if kind == "person":
            yield row


def generate_county(
    *,
    residents: int,
    seed: int,
    out_dir: Path,
    county_code: str = "230231",
    progress: Callable[[int, int], None] | None = None,
) -> GenerationSummary:
    """Write regions.csv, households.csv, units.csv, persons.csv and manifest.json.

    ``progress(done, total)`` is called every 50,000 persons and at the end. Files are
    UTF-8 without BOM, comma-separated, ``\\n`` line ends; every value is text (IDs and
    phones must be read as text, never as numbers).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    builder = _Builder(residents=residents, seed=seed, county_code=county_code)
    counts = {"region": 0, "household": 0, "unit": 0, "person": 0}
    files = {
        "region": ("regions.csv", REGION_COLUMNS),
        "household": ("households.csv", HOUSEHOLD_COLUMNS),
        "unit": ("units.csv", UNIT_COLUMNS),
        "person": ("persons.csv", PERSON_COLUMNS),
    }
    handles = {
        kind: (out_dir / (filename + ".part")).open("w", encoding="utf-8", newline="")
        for kind, (filename, _) in files.items()
    }
    try:
        writers = {}
        for kind, handle in handles.items():
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(files[kind][1])
            writers[kind] = writer.writerow
        write_person = writers["person"]
        persons = 0
        for kind, row in builder.rows():
            if kind == "person":
                write_person(row)
                persons += 1
                if progress is not None and persons % 50_000 == 0:
                    progress(persons, residents)
            else:
                writers[kind](row)
                counts[kind] += 1
        counts["person"] = persons
    finally:
        for handle in handles.values():
            handle.close()
    # Files appear under their final names only when complete, so a reader never loads
    # half a county after an interrupted run.
    for filename, _columns in files.values():
        (out_dir / (filename + ".part")).replace(out_dir / filename)
    if progress is not None:
        progress(counts["person"], residents)
    summary = GenerationSummary(
        out_dir=str(out_dir),
        county_code=county_code,
        county_name=builder.chain[2][1],
        seed=seed,
        residents=counts["person"],
        households=counts["household"],
        units=counts["unit"],
        regions=counts["region"],
        townships=len(builder.chain) - 3,
        villages=builder.counts["villages"],
        groups=builder.counts["groups"],
        generator_version=GENERATOR_VERSION,
        as_of=AS_OF.isoformat(),
        seconds=round(time.perf_counter() - started, 3),
    )
    manifest = {k: v for k, v in asdict(summary).items() if k not in {"out_dir", "seconds"}}
    manifest["files"] = {kind: name for kind, (name, _) in files.items()}
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary
