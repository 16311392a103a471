"""The screening part of the demo story, relative to the moment the demo starts.

Risk areas announced a week ago and a published county policy; returnees of the demo
village with stays in those areas that ended one to four days before ``now`` (from the
police push and the village's own report, which disagree on one person); the decisions
evaluated at once; the grid worker's visits due within the next hours, one already made
this morning (or an hour ago), which ordered the isolation through ``core.isolation``.
Every record goes through the module's services and rules.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.core import demo, isolation
from fangkong.core.jurisdiction import prefix_q
from fangkong.people.models import Person, Source

from . import handoff, services, visits
from .evaluation import NoPolicy, evaluate_region
from .models import RiskArea, Stay, VisitTask
from .services import RiskAreaInput, RuleInput

NOTICE = "演示：黑防指〔2026〕12号"
RULES = [
    RuleInput("high", 14, "centralised", days=7, home_days=7, test_days=(1, 4, 7)),
    RuleInput("medium", 14, "home", days=7, test_days=(1, 4, 7)),
    RuleInput("low", 7, "monitoring", days=7, test_days=(1, 3)),
    RuleInput("other", 7, "test_only", days=3, test_days=(1,)),
]
# (place code, place, level) of the stays the returnees come back from.
PLACES = [
    ("420103", "湖北省武汉市江汉区", "high"),
    ("310101", "上海市黄浦区", "medium"),
    ("440305", "广东省深圳市南山区", "low"),
    ("110105", "北京市朝阳区", ""),
]
RETURNEES = 12


def seed(context: demo.DemoContext) -> str | None:
    if RiskArea.objects.filter(notice=NOTICE).exists():
        return None
    now = context.now
    today = timezone.localtime(now).date()
    hq = context.user("xian")
    services.create_risk_areas(
        user=hq,
        reevaluate=False,
        channel="demo",
        areas=[
            RiskAreaInput(code, place, level, today - dt.timedelta(days=8), notice=NOTICE)
            for code, place, level in PLACES
            if level
        ],
    )
    services.publish_policy(
        user=hq,
        region_code=context.county,
        title="拜泉县返乡人员管控措施",
        notice=NOTICE,
        rules=RULES,
        channel="demo",
        reevaluate=False,
    )
    persons = list(
        Person.objects.filter(prefix_q("region_code", [context.village]), phone__gt="")
        .exclude(id_number=None)
        .order_by("household_id", "pk")[: RETURNEES * 3 : 3]
    )
    stays = []
    for index, person in enumerate(persons):
        code, place, level = PLACES[index % len(PLACES)]
        # Back one to three days ago: every measure is still running at any hour of today
        # (the shortest, a test within three days, for the most recent).
        left = today - dt.timedelta(days=1 + (index % 3 if level else 0))
        # The police push names every returnee; the village reported all but the last.
        source = Source.POLICE if index == len(persons) - 1 else Source.VILLAGE
        stays.append(
            Stay(
                person=person,
                region_code=person.region_code,
                place_code=code,
                place=place,
                arrived=left - dt.timedelta(days=5),
                left=left,
                transport="G1234次列车" if index % 2 else "自驾",
                source=source,
                source_file="演示台账",
                created_by=context.user("cun"),
                created_at=now - dt.timedelta(hours=2 + index),
            )
        )
    Stay.objects.bulk_create(stays)
    try:
        summary = evaluate_region(region_code=context.county, why="演示")
    except NoPolicy:
        return None
    created = visits.create_for_region(region_code=context.county, now=now)
    context.made["screening.returnee_ids"] = [p.pk for p in persons]
    return (
        f"排查：风险地区 {len(PLACES) - 1} 个，返乡人员 {len(persons)} 人，"
        f"研判需管控 {summary.flagged} 人，走访任务 {created} 条"
    )


def seed_visit(context: demo.DemoContext) -> str | None:
    """After the isolation module seeded its own story (order 40): one returnee visited
    and isolated from the visit."""
    if "screening.returnee_ids" not in context.made:
        return None
    ordered = _visit_and_isolate(context, context.now)
    return f"排查：走访 1 人，由走访下达隔离 {ordered} 人" if ordered else None


def _visit_and_isolate(context: demo.DemoContext, now: dt.datetime) -> int:
    """The first visit of the high-risk returnee is made (an hour ago, or at 08:00 when the
    demo starts earlier), and the isolation ordered from it through ``core.isolation``."""
    cadre = context.user("cun")
    ordered = 0
    for task in VisitTask.objects.filter(
        prefix_q("region_code", [context.village]), status=VisitTask.Status.OPEN
    ).order_by("pk")[:2]:
        decision = handoff.current_decision(cadre, task.person_id)
        if decision is None or decision.measure not in handoff.ISOLATING:
            continue
        visits.complete(
            user=cadre,
            task_id=task.pk,
            present=True,
            healthy=True,
            temperature=None,
            phone="",
            note="本人在家，已告知管控要求",
            channel="demo",
        )
        VisitTask.objects.filter(pk=task.pk).update(done_at=now - dt.timedelta(minutes=50))
        if isolation.available():
            try:
                handoff.order_from_visit(user=cadre, task=task, channel="demo")
            except Exception:  # the isolation module refuses: the story goes on without it
                continue
            ordered += 1
        break
    return ordered


def register() -> None:
    demo.register(demo.Seeder("screening", 20, seed))
    # After quarantine (40), whose own seeder only runs on an empty order table.
    demo.register(demo.Seeder("screening.visit", 45, seed_visit))
