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


def active_user(user_id: int) -> User | None:
    """The active user ``user_id`` with ``region_codes`` filled, or ``None``."""
    alias = router.db_for_read(User)
    vendor = "postgresql" if connections[alias].vendor == "postgresql" else "other"
    found = list(User.objects.using(alias).raw(_USER_WITH_CODES[vendor], [user_id]))
    if not found or not found[0].is_active:
        return None
    user = found[0]
    _fill_codes(user)
    return user


def token_user(key_hash: str, now: datetime) -> tuple[User, int, datetime | None] | None:
    """For a live, unrevoked token: its active user (``region_codes`` filled), the token's
    id and when it was last used; one statement for the whole bearer authentication."""
    alias = router.db_for_read(User)
    vendor = "postgresql" if connections[alias].vendor == "postgresql" else "other"
    found = list(User.objects.using(alias).raw(_TOKEN_USER[vendor], [key_hash, False, now]))
    if not found or not found[0].is_active:
        return None
    user = found[0]
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


def _user_with_codes(aggregate: str) -> str:
    table = User._meta.db_table
    through = User.regions.through._meta.db_table
    return (
        f"SELECT u.*, (SELECT {aggregate} FROM {through} r WHERE r.user_id = u.id) AS fk_codes "
        f"FROM {table} u WHERE u.id = %s"
    )


def _token_user(aggregate: str) -> str:
    table = User._meta.db_table
    through = User.regions.through._meta.db_table
    return (
        f"SELECT u.*, (SELECT {aggregate} FROM {through} r WHERE r.user_id = u.id) AS fk_codes,"
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
