"""The synthetic county generator: determinism, valid IDs, sound households, real codes."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command

from fangkong.core import idnumbers, phones, regions
from fangkong.synth import AS_OF, generate_county, iter_persons

COUNTY = "230231"
FUQIANG = "230231106"
FILES = ("regions.csv", "households.csv", "units.csv", "persons.csv", "manifest.json")


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("county") / "a"
    generate_county(residents=3000, seed=7, out_dir=out)
    return out


@pytest.fixture(scope="module")
def persons(county) -> list[dict[str, str]]:
    return read(county, "persons.csv")


def test_same_seed_gives_identical_files(county, tmp_path):
    again = tmp_path / "b"
    generate_county(residents=3000, seed=7, out_dir=again)
    for name in FILES:
        assert filecmp.cmp(county / name, again / name, shallow=False), name


def test_different_seed_gives_different_people(county, tmp_path):
    other = tmp_path / "c"
    generate_county(residents=3000, seed=8, out_dir=other)
    assert (county / "persons.csv").read_bytes() != (other / "persons.csv").read_bytes()
    # The official frame is the same whatever the seed.
    official = [r for r in read(other, "regions.csv") if r["generated"] == "0"]
    assert official == [r for r in read(county, "regions.csv") if r["generated"] == "0"]


def test_manifest_counts_match_files(county, persons):
    manifest = json.loads((county / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["residents"] == len(persons) == 3000
    assert manifest["households"] == len(read(county, "households.csv"))
    assert manifest["units"] == len(read(county, "units.csv"))
    assert manifest["regions"] == len(read(county, "regions.csv"))
    assert manifest["seed"] == 7 and manifest["county_code"] == COUNTY
    assert manifest["generator_version"]


def test_every_id_number_valid_unique_and_consistent(persons):
    real_counties = {c for c in regions.official_names() if len(c) == 6}
    seen = set()
    for row in persons:
        info = idnumbers.parse(row["id_number"], allow_legacy=False, today=AS_OF)
        assert info.number == row["id_number"]
        assert info.birth_date.isoformat() == row["birth_date"]
        assert info.sex == row["sex"]
        assert info.region_code in real_counties
        assert row["id_number"] not in seen
        seen.add(row["id_number"])
    born_here = sum(r["id_number"].startswith(COUNTY) for r in persons)
    assert 0.85 < born_here / len(persons) < 1.0  # a few per cent born elsewhere


def test_households_have_members_and_exactly_one_head(county, persons):
    households = {h["household_no"] for h in read(county, "households.csv")}
    members: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in persons:
        members[row["household_no"]].append(row)
    assert set(members) == households
    for rows in members.values():
        assert 1 <= len(rows) <= 6
        assert sum(r["is_head"] == "1" for r in rows) == 1


def test_region_codes_exist_and_lie_under_the_county(county, persons):
    tree = {r["code"]: r for r in read(county, "regions.csv")}
    for code, region in tree.items():
        if region["parent_code"]:
            assert region["parent_code"] in tree
            assert regions.parent_code(code) == region["parent_code"]
    for row in read(county, "households.csv") + persons:
        assert row["region_code"] in tree
        assert row["region_code"].startswith(COUNTY)
        assert tree[row["region_code"]]["level"] == "grid"


def test_real_townships_with_generated_villages(county):
    tree = read(county, "regions.csv")
    townships = {r["code"]: r["name"] for r in tree if r["level"] == "township"}
    assert len(townships) == 16 and townships[FUQIANG] == "富强镇"
    villages = [r for r in tree if r["level"] == "village" and r["parent_code"] == FUQIANG]
    assert villages and villages[0]["name"] == "富强村"
    assert all(len(v["code"]) == 12 and v["generated"] == "1" for v in villages)
    names = [v["name"] for v in tree if v["level"] == "village"]
    by_township = Counter((v["parent_code"], v["name"]) for v in tree if v["level"] == "village")
    assert max(by_township.values()) == 1, "village names are unique within a township"
    assert any(n.endswith("社区") for n in names) or len(names) < 20


def test_addresses_and_units(county, persons):
    households = read(county, "households.csv")
    assert households[0]["address"].startswith("黑龙江省齐齐哈尔市拜泉县")
    assert all(h["address"].endswith("号") for h in households)
    units = {u["unit_no"]: u for u in read(county, "units.csv")}
    by_row = {int(p["row"]): p for p in persons}
    household_unit = {h["household_no"]: h["unit_no"] for h in households}
    for unit in units.values():
        leader = by_row[int(unit["leader_person_row"])]
        assert household_unit[leader["household_no"]] == unit["unit_no"]
    sizes = Counter(household_unit.values())
    assert max(sizes.values()) <= 15


def test_ages_phones_and_categories_are_plausible(persons):
    ages = [(AS_OF - dt.date.fromisoformat(p["birth_date"])).days // 365 for p in persons]
    assert min(ages) >= 0 and max(ages) <= 101
    elderly = sum(a >= 60 for a in ages) / len(ages)
    assert 0.15 < elderly < 0.45  # rural Heilongjiang is old
    for person, age in zip(persons, ages, strict=True):
        if age < 16:
            assert person["phone"] == ""
        elif person["phone"]:
            assert phones.is_valid(person["phone"]) and len(person["phone"]) == 11
    categories = Counter(p["category"] for p in persons)
    assert categories["resident"] / len(persons) > 0.85
    assert set(categories) <= {"resident", "returnee", "floating", "elsewhere"}


def test_iter_persons_yields_the_file_rows(county, persons):
    rows = list(iter_persons(residents=3000, seed=7))
    assert [str(r[1]) for r in rows] == [p["id_number"] for p in persons]


def test_unknown_county_is_refused(tmp_path):
    with pytest.raises(ValueError):
        generate_county(residents=10, seed=1, out_dir=tmp_path, county_code="999999")


def test_generate_command(tmp_path, capsys):
    call_command("generate", "--residents", "300", "--seed", "2", "--out", str(tmp_path))
    out = capsys.readouterr().out
    assert "拜泉县" in out and "300" in out
    assert len(read(tmp_path, "persons.csv")) == 300


@pytest.mark.slow
def test_hundred_thousand_residents_are_generated(tmp_path):
    # No duration is asserted (issue 11: this missed on a busy machine and stopped the
    # PostgreSQL run); the time is bench/synth_generate.py's figure.
    summary = generate_county(residents=100_000, seed=1, out_dir=tmp_path)
    assert summary.residents == 100_000
    assert summary.seconds > 0
