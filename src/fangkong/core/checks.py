"""System checks for deployment facts the code relies on.

Name and pinyin prefix searches are ranges in code-point order (``name >= q AND name < q'``).
That holds under the C / C.UTF-8 / POSIX collations of PostgreSQL; a language collation such
as zh_CN.UTF-8 orders Han characters differently and would make prefix searches miss people.
"""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import connections
from django.db.utils import OperationalError

CODE_POINT_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic"}


@register("database", deploy=False)
def check_postgres_collation(app_configs, databases=None, **kwargs):
    messages = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT datcollate FROM pg_database WHERE datname = current_database()"
                )
                collation = cursor.fetchone()[0]
        except OperationalError:
            continue
        if collation not in CODE_POINT_COLLATIONS:
            messages.append(
                Warning(
                    f"PostgreSQL database collation is {collation!r}; Fangkong's name and "
                    "pinyin prefix searches need a code-point collation (C or C.UTF-8).",
                    hint="Create the database with LC_COLLATE 'C.UTF-8' TEMPLATE template0.",
                    id="fangkong.W001",
                )
            )
    return messages
