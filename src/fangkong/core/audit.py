"""Audit trail of sensitive reads and writes (审计).

Every unmasked read of an ID number or phone, every create, update, import and export of
personal data, and every denied access is written here. Writing the trail is part of the
operation: it happens in the same transaction, so there is no read without its record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import connections, router
from django.utils import timezone

from .models import AuditEvent


def client_ip(request: Any) -> str | None:
    """The client's address. Behind a trusted load balancer, :mod:`fangkong.core.proxy` has
    already put the address it forwarded into REMOTE_ADDR (FANGKONG_TRUSTED_PROXIES)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    user: Any,
    kind: str,
    object_type: str = "",
    object_id: str | int = "",
    fields: Iterable[str] = (),
    channel: str = "",
    request: Any = None,
    detail: str = "",
) -> AuditEvent:
    """Write one audit event."""
    authenticated = getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        user=user if authenticated else None,
        username=getattr(user, "username", "") or "",
        kind=kind,
        object_type=object_type,
        object_id=str(object_id),
        fields=sorted(fields),
        channel=channel,
        client_ip=client_ip(request),
        detail=detail[:300],
    )


def record_sensitive_reads(
    *,
    user: Any,
    object_type: str,
    object_ids: Iterable[int | str],
    fields: Iterable[str],
    channel: str,
    request: Any = None,
) -> None:
    """One READ_SENSITIVE event per object shown with unmasked fields, in one INSERT."""
    fields = sorted(fields)
    if not fields:
        return
    connection = connections[router.db_for_write(AuditEvent)]
    ids = [str(object_id) for object_id in object_ids]
    if ids and connection.vendor == "postgresql" and not connection.in_atomic_block:
        # The rows and the setting in one message, one round trip: PostgreSQL runs the
        # statements of one simple query as one transaction, so SET LOCAL holds for it and
        # its commit does not wait for the disk (synchronous_commit off for this transaction
        # only). A search then answers without an fsync; a crash of the database server can
        # lose at most the last few hundred milliseconds of read audits (wal_writer_delay
        # x 3), never a write or a write's audit, which stay synchronous. Inside a larger
        # transaction the rows simply join it.
        params = _many_params(
            user,
            AuditEvent.Kind.READ_SENSITIVE,
            object_type,
            ids,
            fields,
            channel,
            client_ip(request),
        )
        with connection.cursor() as cursor:
            cursor.execute(_ASYNC_COMMIT + _INSERT_MANY, params)
        return
    record_many(
        user=user,
        kind=AuditEvent.Kind.READ_SENSITIVE,
        object_type=object_type,
        object_ids=ids,
        fields=fields,
        channel=channel,
        request=request,
    )


def record_many(
    *,
    user: Any,
    kind: str,
    object_type: str,
    object_ids: Iterable[int | str],
    fields: Iterable[str] = (),
    channel: str = "",
    request: Any = None,
) -> None:
    """One event per object, in one INSERT (a batch of writes or of sensitive reads)."""
    fields = sorted(fields)
    ip = client_ip(request)
    ids = [str(object_id) for object_id in object_ids]
    if not ids:
        return
    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor == "postgresql":
        # One row per object from an array: the same rows bulk_create writes, without
        # building a model instance and preparing ten values per row (a list of 50 persons
        # cost ~5 ms of Python that way; issue 19).
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_MANY, _many_params(user, kind, object_type, ids, fields, channel, ip)
            )
        return
    AuditEvent.objects.bulk_create(
        AuditEvent(
            user_id=_user_id(user),
            username=getattr(user, "username", "") or "",
            kind=kind,
            object_type=object_type,
            object_id=str(object_id),
            fields=fields,
            channel=channel,
            client_ip=ip,
        )
        for object_id in ids
    )


_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF; "
_INSERT_MANY = (
    f"INSERT INTO {AuditEvent._meta.db_table}"
    " (at, user_id, username, kind, object_type, object_id, fields, channel, client_ip, detail)"
    " SELECT %s, %s, %s, %s, %s, unnest(%s::varchar[]), %s::jsonb, %s, %s::inet, ''"
)


def _user_id(user: Any) -> int | None:
    """The actor's user id; none for an anonymous actor (the username column still says who)."""
    return user.pk if getattr(user, "is_authenticated", False) else None


def _many_params(
    user: Any,
    kind: str,
    object_type: str,
    ids: list[str],
    fields: list[str],
    channel: str,
    ip: str | None,
) -> list[Any]:
    return [
        timezone.now(),
        _user_id(user),
        getattr(user, "username", "") or "",
        str(kind),
        object_type,
        ids,
        json.dumps(fields),
        channel,
        ip,
    ]
