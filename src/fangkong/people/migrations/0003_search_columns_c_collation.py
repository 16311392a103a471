"""PostgreSQL: byte-order ("C") collation on the person columns that are searched by prefix.

Why: every search path (name, pinyin, initials, phone, ID number, region code) is a
half-open range ``col >= prefix AND col < next(prefix)`` computed in code-point order
(people.selectors.next_string, core.jurisdiction.next_prefix). The "C" collation compares
bytes, which for UTF-8 *is* code-point order on every server whatever its locale, and lets
PostgreSQL sort with memcmp and abbreviated keys: building these six indexes after a
million-row import takes about half the time it takes under a libc locale such as
C.UTF-8 (bench/load_residents.py), and range scans compare faster.

SQLite already compares with BINARY (code-point order), so the migration does nothing there.

Caution for later migrations: an AlterField that changes one of these columns' type
(e.g. max_length) makes Django emit ``ALTER COLUMN ... TYPE varchar(n)`` without COLLATE,
which resets the collation to the database default. Re-apply ``COLLATE "C"`` in the same
migration when that happens.
"""

from django.db import migrations

COLUMNS = {
    "id_number": "varchar(18)",
    "name": "varchar(64)",
    "name_pinyin": "varchar(128)",
    "name_initials": "varchar(32)",
    "phone": "varchar(20)",
    "region_code": "varchar(15)",
}


def _alter(schema_editor, collation: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    clauses = ", ".join(
        f'ALTER COLUMN "{column}" TYPE {kind} COLLATE "{collation}"'
        for column, kind in COLUMNS.items()
    )
    schema_editor.execute(f"ALTER TABLE people_person {clauses}")


def forwards(apps, schema_editor):
    _alter(schema_editor, "C")


def backwards(apps, schema_editor):
    _alter(schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_english_msgids"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
