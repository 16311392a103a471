"""Demo story of the checkpoints: the demo township's posts, this week's solved roster, a
day of passages, a pass card at its weekly limit and last night's inspection with a finding.

Everything is placed relative to ``context.now`` so it holds at 08:00, 13:00 and 22:00.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from fangkong.core.jurisdiction import prefix_q
from fangkong.core.models import Region, RegionLevel
from fangkong.people.models import Person

from . import services
from .models import DutyStaff, Inspection, PassageKind, Post, PostKind

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
GUIDE = {
    "guide_situation": "村口主干道，来往车辆以农用车和返乡私家车为主。",
    "guide_duties": "身份必核、体温必测、信息必录、口罩必戴；每班至少 2 人，夜间不得脱岗睡岗。",
    "guide_cases": "红码禁止通行并报告村两委；黄码登记后由村医复核；体温≥37.3℃ 复测后转发热门诊。",
    "guide_contingencies": "发现来自中高风险地区人员，立即登记并报告乡镇防控办，等待转运。",
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def seed(context: Any) -> str | None:
    township = context.township
    if Post.objects.filter(region_code__startswith=township).exists():
        return None
    rng = random.Random(75)
    now = context.now
    villages = list(
        Region.objects.filter(prefix_q("code", [township]), level=RegionLevel.VILLAGE)
        .order_by("code")
        .values_list("code", "name")[:16]
    )
    if not villages:
        return None
    with transaction.atomic():
        posts = []
        for i in range(16):
            code, vname = villages[i % len(villages)]
            kind = PostKind.COUNTY_GATE if i == 0 else PostKind.VILLAGE_POST
            name = "县道入口卡点" if i == 0 else f"{vname}{'东' if i < len(villages) else '西'}卡点"
            posts.append(
                Post.objects.create(
                    name=name,
                    kind=kind,
                    region_code=code if i else township,
                    location=f"{vname}村口" if i else "县道 X021 与乡道交叉口",
                    enclosed=i in (1, 2),
                    container_hut=True,
                    has_thermometer=i != 5,
                    disinfections_per_day=4,
                    emergency_vehicle=f"黑M·{rng.randint(10000, 99999)}" if i else "",
                    created_at=now - dt.timedelta(days=20),
                    **GUIDE,
                )
            )
        kadian = context.users.get("kadian")
        staff = []
        for i, p in enumerate(posts):
            for j in range(8):
                staff.append(
                    DutyStaff(
                        name=_name(rng),
                        township_code=township,
                        post=p,
                        sex=rng.choice("MF"),
                        birth_year=now.year
                        - (rng.randint(48, 60) if j % 2 else rng.randint(22, 40)),
                        education=rng.choice([1, 2, 3, 4]),
                        role="cadre" if j < 2 else "volunteer",
                        leading_cadre=j == 0 and i % 3 == 0,
                        phone=f"139{rng.randint(10000000, 99999999)}",
                        user=kadian if (i == 1 and j == 1) else None,
                    )
                )
        if kadian is not None:
            staff[9].name = kadian.display_name.split()[-1] if kadian.display_name else "孙强"
        DutyStaff.objects.bulk_create(staff)
        monday = (now - dt.timedelta(days=now.weekday())).date()
        planner = context.users.get("fuqiang")
        roster, why = services.solve_roster(
            actor=planner, township=township, starts_on=monday, days=7, time_limit=5
        )
        if roster is not None:
            services.publish_roster(actor=planner, roster_id=roster.pk)
            # Those whose shifts have begun checked in, except one late shift.
            rows = list(roster.assignments.filter(starts_at__lte=now).order_by("starts_at"))
            for a in rows[:-1]:
                a.checked_in_at = a.starts_at + dt.timedelta(minutes=rng.randint(0, 15))
            from .models import Assignment

            Assignment.objects.bulk_update(rows[:-1], ["checked_in_at"])
    _passages(context, posts, rng)
    _inspection(context, posts)
    return (
        f"卡点演示数据：{len(posts)} 个卡点、{len(staff)} 名值守人员、本周排班"
        + ("已发布" if roster else f"未排出（{'；'.join(why)}）")
        + "、近一天的通行记录和昨夜督查"
    )


def _passages(context: Any, posts: list[Post], rng: random.Random) -> None:
    now = context.now
    kadian = context.users.get("kadian") or context.users.get("fuqiang")
    people = list(
        Person.objects.filter(prefix_q("region_code", [context.village])).order_by("id")[:200]
    )
    if not people:
        return
    areas = services.risk_areas_on(now.date())
    far = areas[0][1] if areas else ""
    for k in range(120):
        p = posts[1 + k % 4]
        at = now - dt.timedelta(minutes=rng.randint(15, 24 * 60))
        person = rng.choice(people)
        colour = "green" if k % 17 else ("yellow" if k % 34 else "red")
        item = services.PassageInput(
            kind=PassageKind.PERSON,
            direction=rng.choice(["in", "out"]),
            person_id=person.pk,
            origin=(far if (k == 7 and far) else rng.choice(["本县", "齐齐哈尔市", "哈尔滨市"])),
            temperature=Decimal(rng.choice(["36.2", "36.5", "36.6", "36.8", "36.4"])),
            code_colour=colour,
            at=at,
            disinfected=True,
            client_key=f"demo-{k}",
        )
        services.record_passages(actor=kadian, post_id=p.pk, items=[item], channel="demo")
    # A vehicle of three back from the city, and a card used up this week.
    occupants = [
        services.PassageInput(person_id=x.pk, temperature=Decimal("36.5"))
        for x in (people[10:13] or people[:3])
    ]
    services.record_passages(
        actor=kadian,
        post_id=posts[1].pk,
        items=[
            services.PassageInput(
                kind=PassageKind.VEHICLE,
                plate="黑B·3K721",
                origin="哈尔滨市",
                at=now - dt.timedelta(hours=2),
                occupants=occupants,
                client_key="demo-vehicle",
            )
        ],
        channel="demo",
    )
    if not people:
        return
    # A small demo county may have fewer people in the township than the story uses.
    holder = people[min(20, len(people) - 1)]
    try:
        services.issue_card(
            actor=context.users.get("fuqiang"),
            person_id=holder.pk,
            valid_from=now.date() - dt.timedelta(days=7),
        )
    except Exception:
        return
    for minutes in (100, 70, 40, 10):
        services.record_passages(
            actor=kadian,
            post_id=posts[1].pk,
            items=[
                services.PassageInput(
                    direction="out",
                    person_id=holder.pk,
                    temperature=Decimal("36.4"),
                    at=now - dt.timedelta(minutes=minutes),
                    client_key=f"demo-card-{minutes}",
                )
            ],
            channel="demo",
        )


def _inspection(context: Any, posts: list[Post]) -> None:
    now = context.now
    local = now.astimezone(services.rules.SHANGHAI)
    end_day = local.date() if local.hour >= 6 else local.date() - dt.timedelta(days=1)
    end = dt.datetime.combine(end_day, dt.time(6), tzinfo=services.rules.SHANGHAI)
    inspector = context.users.get("ducha")
    if inspector is None:
        return
    for i, p in enumerate(posts[:6]):
        at = end - dt.timedelta(hours=6, minutes=20) + dt.timedelta(minutes=47 * i)
        items = {k: True for k in Inspection.ITEMS}
        note = "值守规范，登记完整"
        if i == 3:
            items.update(awake=False, logging=False)
            note = "凌晨到达时两名值守人员均在值班室睡觉，登记本最后一条为 23:40"
        services.record_inspection(actor=inspector, post_id=p.pk, at=at, items=items, note=note)


def seed_demo(context: Any) -> str | None:
    return seed(context)
