"""Demo story of tip-offs, relative to ``context.now``: a QR tip about a returnee verified
yesterday and rewarded (paid), a gathering verified this morning (reward unpaid), a duplicate,
one awaiting verification and one overdue (the self-inspection finds it)."""

from __future__ import annotations

import datetime as dt

from fangkong.core.demo import DemoContext
from fangkong.people.models import Person

from . import services
from .models import PenaltyRule, RewardRule, TipKind


def _public(
    context: DemoContext, hours_ago: float, kind: str, text: str, *, phone: str = "", device: str
) -> int:
    at = context.now - dt.timedelta(hours=hours_ago)
    tip = services.submit_public_tip(
        data=services.TipInput(
            kind=kind,
            region_code=context.village,
            text=text,
            place="",
            happened_at=at - dt.timedelta(hours=3),
            contact_name="张先生" if phone else "",
            contact_phone=phone,
        ),
        address=None,
        device_token=device,
        form_stamp=services.form_token(at - dt.timedelta(minutes=2)),
        now=at,
    )
    return tip.pk


def seed_demo(context: DemoContext) -> str | None:
    if RewardRule.objects.exists():
        return None
    inspector = context.user("ducha")
    cadre = context.user("cun")
    RewardRule.objects.create(amount=500, valid_from=context.now - dt.timedelta(days=60))
    PenaltyRule.objects.create(
        cutoff=(context.now - dt.timedelta(days=20)).date(),
        amount_before=2022,
        amount_after=5000,
        valid_from=context.now - dt.timedelta(days=60),
    )
    returnee = _public(
        context,
        30,
        TipKind.RETURNEE,
        "村东头老李家儿子前天从外地回来了，没有去村委会登记。",
        phone="13800138000",
        device="demo-device-returnee",
    )
    person = Person.objects.filter(region_code__startswith=context.village).order_by("pk").first()
    tip = services.verify_tip(
        actor=inspector,
        tip_id=returnee,
        outcome="verified",
        version=1,
        finding="上门核实属实：本人2天前返乡，未报备，已纳入排查并居家健康监测。",
        person_id=person.pk if person else None,
        village_missed=True,
        now=context.now - dt.timedelta(hours=26),
    )
    services.pay_reward(
        actor=cadre,
        reward_id=tip.reward.pk,
        payment_record="村防控经费 凭证2号",
        version=1,
        now=context.now - dt.timedelta(hours=3),
    )
    gathering = _public(
        context,
        6,
        TipKind.GATHERING,
        "村里有人办寿宴，摆了十几桌。",
        phone="13900139000",
        device="demo-device-gathering",
    )
    services.verify_tip(
        actor=inspector,
        tip_id=gathering,
        outcome="verified",
        version=1,
        finding="督查组到场核实属实，已劝散并登记在场人员。",
        now=context.now - dt.timedelta(hours=1),
    )
    duplicate = _public(
        context, 29, TipKind.RETURNEE, "老李家有人从外地回来。", device="demo-device-dup"
    )
    services.verify_tip(
        actor=inspector,
        tip_id=duplicate,
        outcome="duplicate",
        version=1,
        finding="与前一条举报为同一人。",
        duplicate_of=tip.receipt_code,
        now=context.now - dt.timedelta(hours=25),
    )
    _public(context, 2, TipKind.BUSINESS, "村口麻将馆还在营业。", device="demo-device-mahjong")
    _public(context, 28, TipKind.CHECKPOINT, "村北卡点晚上没人值守。", device="demo-device-post")
    return (
        "举报：5 条（2 条属实并奖励 1000 元、1 条重复、1 条待核实、1 条超期未核实）；"
        f"二维码海报见 /tipoffs/poster/{context.village}/"
    )
