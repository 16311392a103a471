"""Reads that may be served by a PostgreSQL streaming replica, and read-your-writes.

A deployment may add a read-only replica (``FANGKONG_REPLICA_DATABASE_URL``, database alias
``"replica"``). Nothing goes there by default: a module opts in, around a read that may be a
second or two behind the primary — a board, an export, a Word report::

    from fangkong.core import replica

    with replica.reading():
        figures = list(selectors.board(user))          # querysets evaluated here
        with replica.connection().cursor() as cursor:  # raw SQL: ask for the connection
            cursor.execute(...)

The rule kept here: **a user never reads older data than they wrote.** Such a read stays on
the primary when

- no replica is configured, or it could not be reached a moment ago (then again after
  ``FANGKONG_REPLICA_RETRY_SECONDS``);
- the request is itself a write (any method but GET/HEAD/OPTIONS/TRACE), or a transaction
  is open on the primary (the read must see that transaction's own rows);
- the user made a write that succeeded in the last ``FANGKONG_REPLICA_PIN_SECONDS`` seconds
  (default 10): :class:`ReadYourWritesMiddleware` answers every successful write with a
  cookie that pins that browser's or client's reads to the primary until it expires;
- the code runs inside :func:`primary` (e.g. a task that must see the write that queued it).

Users, sessions, tokens, task progress and the task queue are always read from the primary,
even inside :func:`reading` (a revoked token must stop working at once).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

REPLICA = "replica"
# The cookie that pins a client's reads to the primary after it wrote; its value is the Unix
# time the pin ends (checked here, so a client that ignores Max-Age is still let go).
PIN_COOKIE = "fangkong_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Models whose rows decide who may do what, or report a job's progress: never read stale.
PRIMARY_ONLY = frozenset(
    {
        "core.user",
        "core.apitoken",
        "core.loginfailure",
        "core.taskrecord",
        "sessions.session",
        "django_tasks_db.dbtaskresult",
    }
)

_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("fk_replica_reading", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("fk_replica_pinned", default=False)
# Monotonic time until which the replica is not tried again in this process.
_down_until = 0.0


def configured() -> bool:
    """Whether this deployment has a replica at all."""
    return REPLICA in settings.DATABASES


def _primary_in_transaction() -> bool:
    return connections[DEFAULT_DB_ALIAS].in_atomic_block


def _replica_reachable() -> bool:
    """Connect (or check the kept connection); on failure use the primary for a while."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except OperationalError as exc:
        _down_until = time.monotonic() + settings.FANGKONG_REPLICA_RETRY_SECONDS
        logger.warning("replica unreachable, reading from the primary: %s", exc)
        return False
    return True


def alias() -> str:
    """The database alias a read should use right now (``"replica"`` or ``"default"``)."""
    if (
        _reading.get()
        and not _pinned.get()
        and configured()
        and not _primary_in_transaction()
        and _replica_reachable()
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


def connection() -> BaseDatabaseWrapper:
    """The connection for raw SQL of a read inside :func:`reading` (else the primary's)."""
    return connections[alias()]


@contextmanager
def reading() -> Iterator[None]:
    """Reads inside this block may be served by the replica (see the module's rule)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


@contextmanager
def primary() -> Iterator[None]:
    """Reads inside this block go to the primary, even inside :func:`reading`."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


class ReplicaRouter:
    """Django database router: reads inside :func:`reading` to the replica, the rest to the
    primary; the schema is migrated on the primary only (the replica copies it)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        if model._meta.label_lower in PRIMARY_ONLY:
            return DEFAULT_DB_ALIAS
        return alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReadYourWritesMiddleware:
    """Pins a client's reads to the primary while it writes and for a while after.

    A write is any request with a method other than GET/HEAD/OPTIONS/TRACE; it pins its own
    request, and when it succeeds (status below 400) the response carries a cookie that pins
    the client's next requests for ``FANGKONG_REPLICA_PIN_SECONDS``. Without a replica the
    middleware removes itself.
    """

    def __init__(self, get_response: Any) -> None:
        if not configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        writes = request.method not in SAFE_METHODS
        token = _pinned.set(writes or _pin_active(request.COOKIES.get(PIN_COOKIE, "")))
        try:
            response = self.get_response(request)
        finally:
            _pinned.reset(token)
        seconds = settings.FANGKONG_REPLICA_PIN_SECONDS
        if writes and response.status_code < 400 and seconds:
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _pin_active(value: str) -> bool:
    try:
        return int(value) > time.time()
    except ValueError:
        return False
