"""API of notices: the caller's inbox, reading and confirming, sending, and the receipts.

Mounted at ``/api/v1/notices``. Everyone reads and confirms what is addressed to them;
sending and following receipts need ``notice.send`` / ``notice.track`` and stay inside the
caller's jurisdiction (a notice of another county is a 404).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from . import notices
from .actors import actor_of
from .permissions import requires, signed_in
from .roles import Action, Role
from .schemas import ERRORS, NoNul, QueryId, RegionCode

router = Router(tags=["notices"])

RoleName = Literal[tuple(Role.values)]  # type: ignore[valid-type]


class CoreNoticeIn(Schema):
    title: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=notices.MAX_TITLE)]
    body: Annotated[str, NoNul, StringConstraints(max_length=notices.MAX_BODY)] = ""
    region_codes: list[RegionCode] = Field(min_length=1, max_length=50)
    roles: list[RoleName] = Field(default_factory=list, max_length=11)
    level: Literal["info", "important", "urgent"] = "info"
    requires_confirmation: bool = False
    confirm_within_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)


class CoreNoticeOut(Schema):
    id: int
    title: str
    body: str
    level: str
    sender_name: str
    sent_at: dt.datetime
    region_codes: list[str]
    roles: list[str]
    requires_confirmation: bool
    confirm_by: dt.datetime | None
    recipients_count: int


class CoreInboxItemOut(Schema):
    notice: CoreNoticeOut
    read_at: dt.datetime | None
    confirmed_at: dt.datetime | None


class CoreReceiptOut(Schema):
    username: str
    role: str
    region_code: str
    read_at: dt.datetime | None
    confirmed_at: dt.datetime | None


class CoreReceiptsOut(Schema):
    notice: CoreNoticeOut
    items: list[CoreReceiptOut]


def _notice(notice) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": notice.pk,
        "title": notice.title,
        "body": notice.body,
        "level": notice.level,
        "sender_name": notice.sender_name,
        "sent_at": notice.sent_at,
        "region_codes": notice.region_codes,
        "roles": notice.roles,
        "requires_confirmation": notice.requires_confirmation,
        "confirm_by": notice.confirm_by,
        "recipients_count": notice.recipients_count,
    }


def _item(receipt) -> dict:  # type: ignore[no-untyped-def]
    return {
        "notice": _notice(receipt.notice),
        "read_at": receipt.read_at,
        "confirmed_at": receipt.confirmed_at,
    }


@router.get("", response={200: list[CoreInboxItemOut], **ERRORS}, summary="我的通知")
@signed_in
def inbox(request, unread: bool = False):  # type: ignore[no-untyped-def]
    return [_item(r) for r in notices.inbox(actor_of(request), unread_only=unread)]


@router.post("", response={201: CoreNoticeOut, **ERRORS}, summary="发送通知")
@requires(Action.NOTICE_SEND)
def send(request, payload: CoreNoticeIn):  # type: ignore[no-untyped-def]
    draft = notices.NoticeDraft(
        title=payload.title,
        body=payload.body,
        region_codes=tuple(payload.region_codes),
        roles=tuple(payload.roles),
        level=payload.level,
        requires_confirmation=payload.requires_confirmation,
        confirm_within_minutes=payload.confirm_within_minutes,
    )
    notice = notices.publish(draft=draft, sender=actor_of(request))
    return Status(201, _notice(notice))


@router.post("/{notice_id}/read", response={200: CoreInboxItemOut, **ERRORS}, summary="标记已读")
@signed_in
def read(request, notice_id: QueryId):  # type: ignore[no-untyped-def]
    return _item(notices.mark_read(actor=actor_of(request), notice_id=notice_id))


@router.post(
    "/{notice_id}/confirm", response={200: CoreInboxItemOut, **ERRORS}, summary="确认已知晓"
)
@signed_in
def confirm(request, notice_id: QueryId):  # type: ignore[no-untyped-def]
    return _item(notices.confirm(actor=actor_of(request), notice_id=notice_id))


@router.get("/{notice_id}/receipts", response={200: CoreReceiptsOut, **ERRORS}, summary="回执")
@requires(Action.NOTICE_TRACK)
def receipts(request, notice_id: QueryId):  # type: ignore[no-untyped-def]
    notice, rows = notices.receipts_of(actor_of(request), notice_id)
    return {
        "notice": _notice(notice),
        "items": [
            {
                "username": r.user.username,
                "role": r.role,
                "region_code": r.region_code,
                "read_at": r.read_at,
                "confirmed_at": r.confirmed_at,
            }
            for r in rows
        ],
    }
