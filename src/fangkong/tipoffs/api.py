"""The tipoffs JSON API, mounted under /api/v1/tipoffs: the verifying team's list, hotline
entry, verification, the reward ledger and payments. The public form is a page, not an API
operation: it needs its device cookie and form stamp, which a page gives."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from fangkong.core.actors import actor_of
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.core.schemas import ERRORS, ErrorOut, NoNul, ObjectId, QueryId, RegionCode, Version

from . import services
from .models import TipKind, TipOff, TipStatus
from .selectors import tipster_phone

router = Router(tags=["tipoffs"])
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}

Text = Annotated[str, NoNul, StringConstraints(max_length=2000)]
Short = Annotated[str, NoNul, StringConstraints(max_length=120)]


class TipoffsTipOut(Schema):
    id: int
    receipt_code: str
    channel: str
    kind: str
    region_code: str
    place: str
    happened_at: dt.datetime | None
    text: str
    contact_name: str
    contact_phone: str = Field(description="masked unless the caller may verify tip-offs")
    created_at: dt.datetime
    deadline: dt.datetime
    status: str
    duplicate_of: str | None
    person_id: int | None
    finding: str
    village_missed: bool
    verified_at: dt.datetime | None
    reward_amount: int | None
    url: str
    version: int


class TipoffsTipIn(Schema):
    kind: TipKind
    region_code: RegionCode
    text: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=2000)]
    place: Short = ""
    happened_at: dt.datetime | None = None
    contact_name: Annotated[str, NoNul, StringConstraints(max_length=32)] = ""
    contact_phone: Annotated[str, NoNul, StringConstraints(max_length=20, pattern=r"^\d*$")] = ""


class TipoffsVerifyIn(Schema):
    outcome: Annotated[str, StringConstraints(pattern="^(verified|unfounded|duplicate)$")]
    finding: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=2000)]
    version: Version
    duplicate_of: Annotated[str, NoNul, StringConstraints(max_length=12)] = ""
    person_id: ObjectId | None = None
    village_missed: bool = False


class TipoffsTipQuery(Schema):
    status: TipStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class TipoffsRewardOut(Schema):
    id: int
    tip_id: int
    receipt_code: str
    region_code: str
    amount: int
    paid_at: dt.datetime | None
    payment_record: str
    version: int


class TipoffsPayIn(Schema):
    payment_record: Annotated[str, NoNul, StringConstraints(min_length=1, max_length=120)]
    version: Version


class TipoffsLedgerRow(Schema):
    region_code: str
    count: int
    amount: int
    paid: int
    unpaid: int


def _present(request, tip: TipOff) -> dict:
    actor = actor_of(request)
    reward = getattr(tip, "reward", None) if tip.status == TipStatus.VERIFIED else None
    return {
        "id": tip.pk,
        "receipt_code": tip.receipt_code,
        "channel": tip.channel,
        "kind": tip.kind,
        "region_code": tip.region_code,
        "place": tip.place,
        "happened_at": tip.happened_at,
        "text": tip.text,
        "contact_name": tip.contact_name,
        "contact_phone": tipster_phone(actor, tip, channel="api", request=request),
        "created_at": tip.created_at,
        "deadline": tip.deadline,
        "status": tip.status,
        "duplicate_of": tip.duplicate_of.receipt_code if tip.duplicate_of_id else None,
        "person_id": tip.person_id,
        "finding": tip.finding,
        "village_missed": tip.village_missed,
        "verified_at": tip.verified_at,
        "reward_amount": reward.amount if reward else None,
        "url": reverse("tipoffs:tip", args=[tip.pk]),
        "version": tip.version,
    }


@router.get("/tips", response={200: list[TipoffsTipOut], **ERRORS}, summary="举报列表（本辖区）")
@requires(Action.TIPOFF_VIEW)
def list_tips(request, q: Query[TipoffsTipQuery]):
    qs = services.tips_in_scope(actor_of(request)).select_related("duplicate_of", "reward")
    if q.status:
        qs = qs.filter(status=q.status)
    return [_present(request, t) for t in qs.order_by("-created_at")[q.offset : q.offset + q.limit]]


@router.post("/tips", response={201: TipoffsTipOut, **ERRORS}, summary="登记电话举报")
@requires(Action.TIPOFF_INTAKE)
def create_tip(request, payload: TipoffsTipIn):
    tip = services.record_hotline_tip(
        actor=actor_of(request), data=services.TipInput(**payload.model_dump())
    )
    return Status(201, _present(request, tip))


@router.get("/tips/{tip_id}", response={200: TipoffsTipOut, **ERRORS}, summary="举报详情")
@requires(Action.TIPOFF_VIEW)
def get_tip(request, tip_id: QueryId):
    return _present(request, services.get_tip(actor_of(request), tip_id))


@router.post(
    "/tips/{tip_id}/verify", response={200: TipoffsTipOut, **WRITE_ERRORS}, summary="记录核实结果"
)
@requires(Action.TIPOFF_VERIFY)
def verify_tip(request, tip_id: QueryId, payload: TipoffsVerifyIn):
    tip = services.verify_tip(actor=actor_of(request), tip_id=tip_id, **payload.model_dump())
    return _present(request, tip)


@router.get("/rewards", response={200: list[TipoffsRewardOut], **ERRORS}, summary="奖励明细")
@requires(Action.TIPOFF_VIEW)
def list_rewards(request):
    return [
        {
            "id": r.pk,
            "tip_id": r.tip_id,
            "receipt_code": r.tip.receipt_code,
            "region_code": r.region_code,
            "amount": r.amount,
            "paid_at": r.paid_at,
            "payment_record": r.payment_record,
            "version": r.version,
        }
        for r in services.rewards_in_scope(actor_of(request)).order_by("-created_at")[:500]
    ]


@router.get("/ledger", response={200: list[TipoffsLedgerRow], **ERRORS}, summary="奖励台账（按村）")
@requires(Action.TIPOFF_VIEW)
def ledger(request):
    return services.ledger(actor_of(request))


@router.post(
    "/rewards/{reward_id}/pay",
    response={200: TipoffsRewardOut, **WRITE_ERRORS},
    summary="登记奖励支付",
)
@requires(Action.TIPOFF_REWARD)
def pay_reward(request, reward_id: QueryId, payload: TipoffsPayIn):
    r = services.pay_reward(actor=actor_of(request), reward_id=reward_id, **payload.model_dump())
    return {
        "id": r.pk,
        "tip_id": r.tip_id,
        "receipt_code": r.tip.receipt_code,
        "region_code": r.region_code,
        "amount": r.amount,
        "paid_at": r.paid_at,
        "payment_record": r.payment_record,
        "version": r.version,
    }
