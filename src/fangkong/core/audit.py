"""Audit trail of sensitive reads and writes (审计).

Every unmasked read of an ID number or phone, every create, update, import and export of
personal data, and every denied access is written here. Writing the trail is part of the
operation: it happens in the same transaction, so there is no read without its record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
    record_many(
        user=user,
        kind=AuditEvent.Kind.READ_SENSITIVE,
        object_type=object_type,
        object_ids=object_ids,
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
    AuditEvent.objects.bulk_create(
        AuditEvent(
            user=user,
            username=user.username,
            kind=kind,
            object_type=object_type,
            object_id=str(object_id),
            fields=fields,
            channel=channel,
            client_ip=ip,
        )
        for object_id in object_ids
    )
