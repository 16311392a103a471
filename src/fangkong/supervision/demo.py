"""Demo story of supervision, relative to ``context.now``: a team led by the inspector; an
unannounced night visit of the village checkpoint two days ago with a failed item (staff
asleep) rectified and closed, an unannounced visit of the village yesterday with a failed
item still open past its deadline, today's visit due, a discipline case and a commendation."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.core.demo import DemoContext

from . import services
from .models import ItemResult, Offence, PlaceKind, Team


def seed_demo(context: DemoContext) -> str | None:
    if Team.objects.exists():
        return None
    inspector = context.user("ducha")
    cadre = context.user("cun")
    team = Team.objects.create(name="县第三督导组", leader=inspector, region_code=context.county)
    team.members.add(inspector)
    now = context.now
    day = timezone.localtime(now).date()

    night = services.plan_inspection(
        actor=inspector,
        region_code=context.village,
        place_kind=PlaceKind.CHECKPOINT,
        place_name="村口卡点",
        planned_for=day - dt.timedelta(days=2),
        team_id=team.pk,
        now=now - dt.timedelta(days=3),
    )
    at = now - dt.timedelta(days=2, hours=1)
    failed = None
    for item in night.items.all():
        if item.position == 2:
            failed = services.record_item(
                actor=inspector,
                item_id=item.pk,
                result=ItemResult.FAIL,
                note="凌晨1时值守人员睡岗",
                now=at,
                deadline=at + dt.timedelta(days=1),
            )
        else:
            services.record_item(actor=inspector, item_id=item.pk, result=ItemResult.PASS, now=at)
    services.finish_inspection(
        actor=inspector, inspection_id=night.pk, version=1, note="夜间暗访", now=at
    )
    assert failed is not None
    rect = failed.rectification
    rect = services.report_rectification(
        actor=cadre,
        rectification_id=rect.pk,
        version=rect.version,
        report="已调整排班为每班 3 人，老少搭配，村干部每晚 0 点后查岗。",
        now=at + dt.timedelta(hours=10),
    )
    services.verify_rectification(
        actor=inspector,
        rectification_id=rect.pk,
        accepted=True,
        version=rect.version,
        now=at + dt.timedelta(hours=20),
    )
    offence = Offence.objects.filter(name="值守期间睡岗").first() or Offence.objects.first()
    if offence is not None:
        case = services.open_case(
            actor=inspector,
            region_code=context.village,
            person_name="王某",
            post="卡点值守人员",
            offence_id=offence.pk,
            evidence="督导组凌晨暗访发现睡岗，有照片。",
            inspection_id=night.pk,
            now=at + dt.timedelta(hours=1),
        )
        services.decide_case(
            actor=inspector,
            case_id=case.pk,
            decision="criticism",
            note="通报批评",
            version=case.version,
            now=at + dt.timedelta(hours=5),
        )

    visit = services.plan_inspection(
        actor=inspector,
        region_code=context.village,
        place_kind=PlaceKind.VILLAGE,
        place_name="村委会",
        planned_for=day - dt.timedelta(days=1),
        team_id=team.pk,
        now=now - dt.timedelta(days=2),
    )
    at = now - dt.timedelta(hours=30)
    for item in visit.items.all():
        if item.position == 3:
            services.record_item(
                actor=inspector,
                item_id=item.pk,
                result=ItemResult.FAIL,
                note="返乡人员台账缺 3 户",
                now=at,
                deadline=now - dt.timedelta(hours=2),
            )
        else:
            services.record_item(actor=inspector, item_id=item.pk, result=ItemResult.PASS, now=at)
    services.finish_inspection(actor=inspector, inspection_id=visit.pk, version=1, now=at)
    services.plan_inspection(
        actor=inspector,
        region_code=context.village,
        place_kind=PlaceKind.MARKET,
        place_name="村超市",
        planned_for=day,
        team_id=team.pk,
        now=now - dt.timedelta(hours=12),
    )
    yesterday_evening = timezone.localtime(now).replace(hour=21, minute=10) - dt.timedelta(days=1)
    services.record_video_check(
        actor=inspector,
        region_code=context.village,
        person_name="李书记",
        post="村支部书记",
        called_at=yesterday_evening,
        answers=[(q, n != 3) for n, q in enumerate(services.STANDARD_QUESTIONS)],
        note="对最新风险地区不清楚，已要求当晚学习",
    )
    services.commend(
        actor=inspector,
        region_code=context.village,
        name="村卫生室",
        reason="坚持每日两次随访隔离人员，记录完整",
        now=now - dt.timedelta(hours=20),
    )
    return (
        "督导：3 次督查（卡点夜查问题已整改销号、村台账问题超期未整改、今日超市待查），"
        "1 次视频抽查，1 起纪律处理，1 项表彰"
    )
