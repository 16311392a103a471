"""Benchmark: load a generated county into PostgreSQL through the project's import path,
and compare with a raw COPY of the same person rows into a bare table.

    .venv/bin/python bench/load_residents.py [--residents 1000000] [--seed 1]
        [--database-url postgres://postgres@127.0.0.1:5432/fangkong_bench]

Steps: generate the county (or reuse bench/out/county-N-seedS), drop and create the bench
database, migrate, run ``load_county_dir`` (validation, pinyin keys, COPY, index and foreign
key rebuild, ANALYZE, commit — all of it timed), then export the person rows exactly as
stored (``COPY ... TO STDOUT``, text format) and time ``COPY ... FROM STDIN`` of those bytes
into ``bench_person_bare`` (``CREATE TABLE ... (LIKE people_person)``: same column types,
no indexes, keys or checks). Prints both times, both rates and the ratio
(import rows/s ÷ raw COPY rows/s; target ≥ 0.5). The database is kept for
bench/search_latency.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fangkong_bench"


def county_dir(residents: int, seed: int) -> Path:
    return BENCH_DIR / "out" / f"county-{residents}-seed{seed}"


def ensure_county(residents: int, seed: int) -> Path:
    """Generate the county once; later runs reuse the folder if its manifest matches."""
    from fangkong.synth import GENERATOR_VERSION, generate_county

    out = county_dir(residents, seed)
    manifest = out / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("generator_version") == GENERATOR_VERSION and data["residents"] == residents:
            print(f"reusing {out}")
            return out
    started = time.perf_counter()
    summary = generate_county(residents=residents, seed=seed, out_dir=out)
    print(f"generated {summary.residents:,} residents in {time.perf_counter() - started:.1f} s")
    return out


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()

    os.environ["FANGKONG_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from fangkong.people.bulk_import import PERSON_COPY_COLUMNS, load_county_dir

    folder = ensure_county(args.residents, args.seed)
    recreate_database(args.database_url)
    call_command("migrate", verbosity=0)
    connection.close()

    started = time.perf_counter()
    summary = load_county_dir(folder, source_label=f"{folder.name}/persons.csv")
    import_seconds = time.perf_counter() - started
    persons = summary.persons_created
    print(f"import: {summary.describe()}")
    print(f"import phases (s): {json.dumps(summary.phases)}")

    columns = ", ".join(PERSON_COPY_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        chunks: list[bytes] = []
        with raw.copy(f"COPY (SELECT {columns} FROM people_person ORDER BY id) TO STDOUT") as cp:
            for block in cp:
                chunks.append(bytes(block))
        payload = b"".join(chunks)
        cursor.execute("DROP TABLE IF EXISTS bench_person_bare")
        cursor.execute("CREATE TABLE bench_person_bare (LIKE people_person)")

    started = time.perf_counter()
    sql = f"COPY bench_person_bare ({columns}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as cp:
        step = 1 << 20
        for offset in range(0, len(payload), step):
            cp.write(payload[offset : offset + step])
    raw_seconds = time.perf_counter() - started
    # The physical limit for a table that, like the registry, must carry its indexes: the
    # same raw COPY followed by building people_person's own index definitions on it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_person_bare")
        raw_rows = cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'people_person' ORDER BY indexname"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for n, definition in enumerate(definitions):
            head, _, rest = definition.partition(" ON ")
            table_and_rest = rest.replace("public.people_person", "public.bench_person_bare", 1)
            cursor.execute(
                f"CREATE {'UNIQUE ' if 'UNIQUE' in head else ''}INDEX bench_ix_{n} "
                f"ON {table_and_rest}"
            )
    index_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_person_bare")

    import_rate = persons / import_seconds
    raw_rate = raw_rows / raw_seconds
    print(f"persons: {persons:,} imported, {raw_rows:,} raw-copied ({len(payload) / 1e6:.0f} MB)")
    print(f"import through load_county_dir: {import_seconds:.2f} s = {import_rate:,.0f} rows/s")
    print(f"raw COPY into bare table:       {raw_seconds:.2f} s = {raw_rate:,.0f} rows/s")
    print(f"ratio (import rows/s ÷ raw COPY rows/s): {import_rate / raw_rate:.2f}  (target ≥ 0.5)")
    indexed_seconds = raw_seconds + index_seconds
    print(
        f"raw COPY + the same {len(definitions)} indexes:   {indexed_seconds:.2f} s "
        f"= {raw_rows / indexed_seconds:,.0f} rows/s (index builds {index_seconds:.2f} s)"
    )
    print(
        "ratio to the indexed limit (import rows/s ÷ raw COPY+index rows/s): "
        f"{import_rate / (raw_rows / indexed_seconds):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
