"""The signed-in user of a request, read in one plain SQL statement with the region codes.

Every request of a signed-in user (a bearer token or the session cookie) reads its user and,
for the jurisdiction, the user's region codes. Through the ORM that is two queries whose SQL
is built anew each time, which cost more than running them (issue 19: ~3 ms of a passage's
~12 ms). Here the user row comes with its codes aggregated into one column, and
``User.region_codes`` (a cached property) is filled from it. Nothing is cached across
requests: a deactivated user or a changed jurisdiction takes effect on the next request.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.backends import ModelBackend
from django.db import connections, router
from django.utils import timezone

from .models import ApiToken, User


def _fetch(alias: str, sql: dict[str, str], params: list) -> User | None:
    """The one user row of ``sql`` (the user's columns, then the extra ``fk_*`` ones).

    On PostgreSQL the row is read with a plain cursor and the instance built with
    ``Model.from_db``: psycopg already hands over the Python values (the user table has no
    field needing a converter there), and a ``RawQuerySet`` costs ~0.4 ms a request mapping
    columns to fields anew. Elsewhere (SQLite's text timestamps need Django's converters) the
    raw queryset does it."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        found = list(User.objects.using(alias).raw(sql["other"], params))
        return found[0] if found else None
    with connection.cursor() as cursor:
        cursor.execute(sql["postgresql"], params)
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(_USER_FIELDS)
    user = User.from_db(alias, _USER_FIELDS, row[:count])
    user.__dict__.update(zip(_EXTRA_COLUMNS[: len(row) - count], row[count:], strict=True))
    return user


def active_user(user_id: int) -> User | None:
    """The active user ``user_id`` with ``region_codes`` filled, or ``None``."""
    user = _fetch(router.db_for_read(User), _USER_WITH_CODES, [user_id])
    if user is None or not user.is_active:
        return None
    _fill_codes(user)
    return user


def token_user(key_hash: str, now: datetime) -> tuple[User, int, datetime | None] | None:
    """For a live, unrevoked token: its active user (``region_codes`` filled), the token's
    id and when it was last used; one statement for the whole bearer authentication."""
    user = _fetch(router.db_for_read(User), _TOKEN_USER, [key_hash, False, now])
    if user is None or not user.is_active:
        return None
    token_id = user.__dict__.pop("fk_token_id")
    used = user.__dict__.pop("fk_token_used", None)
    if isinstance(used, str):  # SQLite hands extra columns over as text, in UTC
        used = datetime.fromisoformat(used)
    if used is not None and timezone.is_naive(used):
        used = used.replace(tzinfo=UTC)
    _fill_codes(user)
    return user, token_id, used


def _fill_codes(user: User) -> None:
    codes = user.__dict__.pop("fk_codes", None) or ""
    user.__dict__["region_codes"] = tuple(sorted(c for c in codes.split(",") if c))


class RegistryBackend(ModelBackend):
    """Django's model backend (passwords, permissions), with the session's user read by
    :func:`active_user`."""

    def get_user(self, user_id):
        try:
            return active_user(int(user_id))
        except (TypeError, ValueError):
            return None


# The user's columns by name, in the order from_db takes them (never "u.*", whose order is
# the table's, which a migration may change), then the extra columns of the two statements.
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
_USER_COLUMNS = ", ".join(f"u.{f.column}" for f in User._meta.concrete_fields)
_EXTRA_COLUMNS = ("fk_codes", "fk_token_id", "fk_token_used")


def _user_with_codes(aggregate: str) -> str:
    table = User._meta.db_table
    through = User.regions.through._meta.db_table
    return (
        f"SELECT {_USER_COLUMNS},"
        f" (SELECT {aggregate} FROM {through} r WHERE r.user_id = u.id) AS fk_codes"
        f" FROM {table} u WHERE u.id = %s"
    )


def _token_user(aggregate: str) -> str:
    table = User._meta.db_table
    through = User.regions.through._meta.db_table
    return (
        f"SELECT {_USER_COLUMNS},"
        f" (SELECT {aggregate} FROM {through} r WHERE r.user_id = u.id) AS fk_codes,"
        " t.id AS fk_token_id, t.last_used_at AS fk_token_used"
        f" FROM {ApiToken._meta.db_table} t JOIN {table} u ON u.id = t.user_id"
        " WHERE t.key_hash = %s AND t.revoked = %s AND t.expires_at > %s"
    )


_TOKEN_USER = {
    "postgresql": _token_user("string_agg(r.region_id, ',')"),
    "other": _token_user("group_concat(r.region_id, ',')"),
}

_USER_WITH_CODES = {
    "postgresql": _user_with_codes("string_agg(r.region_id, ',')"),
    "other": _user_with_codes("group_concat(r.region_id, ',')"),
}
