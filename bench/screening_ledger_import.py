"""Benchmark: import an arrivals ledger (返乡人员台账) of a million rows, as .xlsx and as GBK .csv,
through the real import path, and compare with only parsing the same file.

    .venv/bin/python bench/screening_ledger_import.py [--rows 1000000] [--seed 1]
        [--formats xlsx,csv] [--database-url postgres://postgres@127.0.0.1:5432/fk_bench_ledger]

Steps: generate the rows from the synthetic county (``fangkong.synth``: real-looking names,
valid ID numbers, phones, grids of 拜泉县; 5 % of rows without an ID number, so they are
matched by village, name and phone; each row a stay in one of a few cities in December
2025) and write them once as .xlsx (xlsxwriter, ``constant_memory``, dates as date cells)
and once as GBK .csv (what Chinese Excel saves). Drop and create the bench database,
migrate, load the county's regions and a county HQ user. For each file:

- **parse only**: the fastest reader available reads every cell — python-calamine
  (``to_python``) for .xlsx; the ``csv`` module over a GBK-decoding stream for .csv;
- **import**: :func:`fangkong.screening.ledgers.upload` with the immediate task backend,
  so the same ``ledger_import_task`` the worker runs does the work — hash and store the
  file, read, validate every row, refuse foreign ID numbers, match existing persons, and
  insert persons, stays and row receipts in one transaction. Each format imports into a
  freshly truncated database (all rows are new persons).

Prints both times and their ratio (target ≤ 2×), then drops the database.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from random import Random
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_bench_ledger"
COUNTY = "230231"
PLACES = [  # (place, code, transport)
    ("湖北省武汉市江汉区", "420103", "G1234次列车"),
    ("上海市黄浦区", "310101", "自驾"),
    ("北京市东城区", "110101", "K1082次列车"),
    ("黑龙江省哈尔滨市南岗区", "230103", "长途客车"),
    ("辽宁省大连市中山区", "210202", "航班 CZ6123"),
]
SEX_WORDS = {"M": "男", "F": "女"}


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def ledger_rows(rows: int, seed: int, regions: list[tuple[str, str]]):
    """Arrivals ledger rows (as cell values) from the synthetic county; ``regions`` collects
    the county's generated villages and grids on the way."""
    from fangkong.synth import iter_county

    rng = Random(seed)
    household_phone = ""
    household = ""
    emitted = 0
    for kind, row in iter_county(residents=rows, seed=seed, county_code=COUNTY):
        if kind == "region":
            regions.append((row[0], row[1]))
            continue
        if kind != "person":
            continue
        _n, id_number, name, sex, birth, phone, household_no, grid, _cat, _head = row
        if household_no != household:
            household, household_phone = household_no, phone
        household_phone = household_phone or phone
        own_phone = bool(phone)
        phone = phone or household_phone or f"139{rng.randrange(10**8):08d}"
        if own_phone and rng.random() < 0.05:
            id_number = ""  # no ID number: matched by village, name and phone
        place, code, transport = PLACES[rng.randrange(len(PLACES))]
        left = dt.date(2025, 12, 1) + dt.timedelta(days=rng.randrange(28))
        arrived = left - dt.timedelta(days=rng.randrange(1, 20))
        yield [
            name,
            id_number,
            SEX_WORDS[sex],
            dt.date.fromisoformat(birth),
            phone,
            grid,
            place,
            code,
            arrived,
            left,
            transport,
        ]
        emitted += 1
    assert emitted == rows, (emitted, rows)


def write_files(rows: int, seed: int, folder: Path) -> tuple[Path, Path, list[tuple[str, str]]]:
    """The two ledger files and the county's regions, written once into ``folder`` and reused
    by later runs (the regions are kept beside them as a tab-separated file)."""
    import xlsxwriter

    from fangkong.screening.ledgers import COLUMNS

    headers = [c.header for c in COLUMNS["arrivals"]]
    xlsx_path, csv_path = folder / "arrivals.xlsx", folder / "arrivals.csv"
    regions_path = folder / "regions.tsv"
    if regions_path.exists():
        regions_text = regions_path.read_text(encoding="utf-8").splitlines()
        return xlsx_path, csv_path, [tuple(line.split("\t")) for line in regions_text]
    folder.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    sheet = book.add_worksheet("返乡人员台账")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    text = book.add_format({"num_format": "@"})
    sheet.write_row(0, 0, headers)
    regions: list[tuple[str, str]] = []
    with csv_path.open("w", encoding="gbk", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(headers)
        for r, cells in enumerate(ledger_rows(rows, seed, regions), start=1):
            for c, value in enumerate(cells):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif value:
                    sheet.write_string(r, c, value, text)
            out.writerow([v.isoformat() if isinstance(v, dt.date) else v for v in cells])
    book.close()
    regions_path.write_text(
        "".join(f"{code}\t{name}\n" for code, name in regions), encoding="utf-8"
    )
    return xlsx_path, csv_path, regions


def parse_only(path: Path) -> int:
    """Read every cell with the fastest reader available; returns the data rows read."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        data = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return len(data) - 1
    with path.open("rb") as raw:
        count = sum(1 for _row in csv.reader(io.TextIOWrapper(raw, encoding="gbk", newline="")))
    return count - 1


def reset_data() -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "TRUNCATE screening_stay, screening_ledgerimport, "
            "people_person, core_taskrecord RESTART IDENTITY CASCADE"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run each import under cProfile and print the top functions",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    work = Path(tempfile.mkdtemp(prefix="fk-ledger-bench-"))
    os.environ["FANGKONG_DATABASE_URL"] = args.database_url
    os.environ["FANGKONG_TASK_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.environ["FANGKONG_LEDGER_MAX_BYTES"] = str(4 * 1024**3)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from fangkong.core import regions as region_service
    from fangkong.core.models import User
    from fangkong.core.roles import Role
    from fangkong.screening import ledgers
    from fangkong.screening.models import LedgerImport, Stay

    settings.FANGKONG_LEDGER_DIR = work / "stored"
    started = time.perf_counter()
    cache = Path(__file__).resolve().parent / "out" / f"ledger-{args.rows}-seed{args.seed}"
    xlsx_path, csv_path, regions = write_files(args.rows, args.seed, cache)
    print(
        f"ledger files ready ({cache}) in {time.perf_counter() - started:.1f} s: "
        f"{xlsx_path.stat().st_size / 1e6:.1f} MB .xlsx, "
        f"{csv_path.stat().st_size / 1e6:.1f} MB GBK .csv"
    )
    recreate_database(args.database_url)
    try:
        call_command("migrate", verbosity=0)
        region_service.load_official_county(COUNTY)
        region_service.upsert_regions((code, name, True) for code, name in regions)
        hq = User.objects.create_user(username="bench_hq", password="x", role=Role.COUNTY_HQ)
        hq.regions.set([COUNTY])
        results = []
        for fmt in formats:
            path = xlsx_path if fmt == "xlsx" else csv_path
            reset_data()
            started = time.perf_counter()
            parsed = parse_only(path)
            parse_seconds = time.perf_counter() - started
            profiler = cProfile.Profile() if args.profile else None
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            with path.open("rb") as handle:
                ledger = ledgers.upload(
                    user=hq,
                    kind="arrivals",
                    mode="all",
                    source="village",
                    file_name=f"返乡人员台账.{fmt}",
                    chunks=iter(lambda h=handle: h.read(1 << 20), b""),
                )
            import_seconds = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            ledger = LedgerImport.objects.get(pk=ledger.pk)
            stays = Stay.objects.count()
            if ledger.status != LedgerImport.Status.DONE or stays != args.rows:
                print(
                    f"{fmt}: import did not complete: {ledger.status} {ledger.message} "
                    f"{ledger.errors[:3]}",
                    file=sys.stderr,
                )
                return 1
            ratio = import_seconds / parse_seconds
            results.append((fmt, parsed, parse_seconds, import_seconds, ratio))
            print(
                f"{fmt}: parse only {parse_seconds:.1f} s ({parsed:,} rows); import "
                f"{import_seconds:.1f} s ({args.rows / import_seconds:,.0f} rows/s; "
                f"{ledger.message}); ratio {ratio:.1f}×"
            )
        print("\nformat  rows       parse s  import s  ratio (target ≤ 2×)")
        for fmt, parsed, p, i, ratio in results:
            print(f"{fmt:<7} {parsed:<10,} {p:>7.1f}  {i:>8.1f}  {ratio:.1f}×")
    finally:
        connection.close()
        recreate_database(args.database_url, drop_only=True)
        for path in sorted(work.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
