"""Reads of tip-offs that protect the tipster."""

from __future__ import annotations

from typing import Any

from fangkong.core import audit, masking
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action, can


def tipster_phone(actor: Any, tip: Any, *, channel: str, request: Any = None) -> str:
    """The tipster's phone: whole for the verifying team (and each such read audited), masked
    for every other role, whatever it may see of residents' phones (a tipster is protected)."""
    if not tip.contact_phone:
        return ""
    if not can(actor, Action.TIPOFF_VERIFY):
        return masking.present("phone", tip.contact_phone, frozenset())
    audit.record(
        user=actor,
        kind=AuditEvent.Kind.READ_SENSITIVE,
        object_type="tipster",
        object_id=tip.pk,
        fields=["phone"],
        channel=channel,
        request=request,
    )
    return str(tip.contact_phone)
