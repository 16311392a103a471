"""The emergency part of the demo story, relative to the moment the demo starts.

The county has declared a sealed zone around the demo village's first grid (where the
tracing story's case lives), a controlled zone over the rest of the village and a
prevention zone over the township; it switched the township to wartime an hour ago, and
most of the township's users have reported for duty. Plans, a drill, teams, capacity,
volunteers, the township's 一办七组 and the duty rota fill the other pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangkong.core.models import NoticeReceipt, Region, User

from . import services
from .models import (
    Capacity,
    CommandGroup,
    DutyPost,
    DutyShift,
    Mode,
    ModeSwitch,
    Plan,
    Volunteer,
    Zone,
)

BASIS = "县应对疫情工作领导小组指挥部令〔2022〕第12号"
GROUPS = (
    ("office", "指挥部办公室", "统筹协调、信息汇总、督办落实"),
    ("working", "综合协调组", "会议组织、文件起草、值班值守"),
    ("working", "疫情防控组", "排查管控、隔离管理、核酸检测"),
    ("working", "流调溯源组", "流调排查、密接判定、协查"),
    ("working", "医疗救治组", "发热门诊、转运救治、村医巡诊"),
    ("working", "物资保障组", "防疫物资、生活物资、运输调度"),
    ("working", "宣传舆情组", "政策宣传、舆情监测、心理疏导"),
    ("working", "督导检查组", "督导检查、问题整改、追责问责"),
)


def seed_demo(context: Any) -> str | None:
    if Zone.objects.exists() or ModeSwitch.objects.exists():
        return None
    county = context.user("xian")
    now = context.now
    village = context.village
    grids = list(
        Region.objects.filter(parent_id=village).order_by("code").values_list("code", flat=True)
    )
    sealed_grid = grids[0] if grids else village
    sealed = services.declare_zone(
        actor=county,
        draft=services.ZoneDraft(
            name=f"{Region.objects.get(code=sealed_grid).name}封控区",
            kind="sealed",
            region_codes=[sealed_grid],
            legal_basis=BASIS,
            approved_by="县指挥部 王主任",
            publicity="每日两次广播防控知识；心理热线 0452-12320，24 小时有人接听。",
        ),
        run_now=True,
    )
    controlled = services.declare_zone(
        actor=county,
        draft=services.ZoneDraft(
            name=f"{Region.objects.get(code=village).name}管控区",
            kind="controlled",
            region_codes=grids[1:] or [village],
            legal_basis=BASIS,
            approved_by="县指挥部 王主任",
        ),
        run_now=True,
    )
    prevention = services.declare_zone(
        actor=county,
        draft=services.ZoneDraft(
            name=f"{Region.objects.get(code=context.township).name}防范区",
            kind="prevention",
            region_codes=[context.township],
            legal_basis=BASIS,
            approved_by="县指挥部 王主任",
        ),
        run_now=True,
    )
    hour_ago = now - dt.timedelta(hours=1)
    Zone.objects.filter(pk__in=[sealed.pk, controlled.pk, prevention.pk]).update(
        declared_at=hour_ago - dt.timedelta(minutes=30)
    )
    township_users = list(
        User.objects.filter(regions__code__startswith=context.township).distinct()
    )
    for user in township_users:
        DutyPost.objects.get_or_create(
            region_code=context.township,
            user=user,
            defaults={
                "post": "镇防控指挥部（镇政府二楼）",
                "recalled_from_leave": user.username == "cunyi",
            },
        )
    DutyPost.objects.get_or_create(
        region_code=context.township,
        kind=DutyPost.Kind.VEHICLE,
        label="负压救护车 黑B·12345",
        defaults={"post": "转运专班"},
    )
    DutyPost.objects.get_or_create(
        region_code=context.township,
        kind=DutyPost.Kind.ROOM,
        label="镇卫生院隔离病房 6 间",
        defaults={"post": "集中隔离备用"},
    )
    result = services.switch_mode(
        actor=county,
        region_code=context.township,
        mode=Mode.WARTIME,
        reason="富强村发现 1 例确诊病例，启动战时机制",
    )
    ModeSwitch.objects.filter(pk=result.switch.pk).update(at=hour_ago)
    # Everyone but the grid worker has reported for duty within the hour.
    receipts = NoticeReceipt.objects.filter(notice=result.switch.notice).exclude(
        user__username="wangge"
    )
    for i, receipt in enumerate(receipts):
        at = hour_ago + dt.timedelta(minutes=5 + 3 * i)
        NoticeReceipt.objects.filter(pk=receipt.pk).update(read_at=at, confirmed_at=at)
    _organisation(context)
    return (
        f"应急演示数据：{Region.objects.get(code=context.township).name}已转入战时；"
        "3 个封控/管控/防范区，"
        f"{services.ZoneMeasure.objects.count()} 人落实区域管控措施"
    )


def _organisation(context: Any) -> None:
    today = context.now.date()
    township = context.township
    for order, (kind, name, duties) in enumerate(GROUPS):
        CommandGroup.objects.create(
            region_code=township,
            kind=kind,
            name=name,
            leader="李干事" if order == 0 else f"组长{order}",
            member_units="镇党政办、派出所、卫生院、各村",
            duties=duties,
            task_list="1. 每日 17:00 前报送数据\n2. 重点人员全部见面核查",
            responsibility_list="组长负总责，分管领导包村到人",
            problem_list="夜间卡点值守人员不足" if name == "疫情防控组" else "",
            order=order,
        )
    for offset in range(-1, 6):
        DutyShift.objects.create(
            region_code=township,
            day=today + dt.timedelta(days=offset),
            leader="李干事" if offset % 2 == 0 else "王副镇长",
            backup="赵委员",
            phone="0452-8712345",
        )
    school = Plan.objects.create(
        region_code=township,
        unit_name="富强镇中心小学",
        unit_kind="school",
        title="校园疫情应急处置预案",
        plan_version="2.1",
        reviewed_on=today - dt.timedelta(days=40),
        review_every_days=180,
    )
    Plan.objects.create(
        region_code=township,
        unit_name="富强镇卫生院",
        unit_kind="hospital",
        title="发热病人转运预案",
        plan_version="1.0",
        reviewed_on=today - dt.timedelta(days=400),
        review_every_days=180,
    )
    Plan.objects.create(
        region_code=context.village,
        unit_name="富强村村委会",
        unit_kind="village",
        title="村级封控处置预案",
        plan_version="1.0",
        reviewed_on=None,
    )
    start = context.now - dt.timedelta(days=3, hours=2)
    services.record_drill(
        actor=context.user("fuqiang"),
        plan_id=school.pk,
        title="校园发现阳性病例处置演练",
        squads="学校防控专班、镇卫生院、派出所",
        unannounced=True,
        held_at=start,
        steps=[
            services.StepDraft("发现报告", 10, start, start + dt.timedelta(minutes=8)),
            services.StepDraft(
                "封闭校园、就地管控",
                30,
                start + dt.timedelta(minutes=8),
                start + dt.timedelta(minutes=45),
            ),
            services.StepDraft(
                "全员核酸采样",
                120,
                start + dt.timedelta(minutes=45),
                start + dt.timedelta(minutes=150),
            ),
        ],
        lessons="封闭校园超时 7 分钟：门卫未接到通知，需把门卫加入通知群并每月演练。",
    )
    for kind, name, quota, in_post in (
        ("investigation", "县流调后备队", 40, 32),
        ("nat_force", "县人民医院机动采样队", 30, 30),
        ("militia", "富强镇民兵应急排", 36, 30),
        ("volunteer_team", "富强镇青年志愿服务队", 50, 41),
        ("ambulance", "镇卫生院救护车", 2, 1),
        ("np_ambulance", "县急救中心负压救护车", 4, 4),
        ("dispatch_seat", "120 调度席位", 6, 6),
        ("isolation_bed", "县集中隔离点床位", 300, 260),
    ):
        Capacity.objects.create(
            region_code=context.county
            if kind
            in ("investigation", "nat_force", "np_ambulance", "dispatch_seat", "isolation_bed")
            else township,
            kind=kind,
            name=name,
            quota=quota,
            in_post=in_post,
        )
    Capacity.objects.create(
        region_code=township,
        kind="fever_clinic",
        name="富强镇卫生院发热门诊",
        quota=1,
        in_post=1,
    )
    Capacity.objects.create(
        region_code=township,
        kind="triage_point",
        name="富强村卫生室预检分诊点",
        quota=1,
        in_post=1,
        drugs_ready=False,
    )
    for i, (name, skills) in enumerate(
        (("韩雪", "护士，会采样"), ("马骏", "有货车驾照，可送物资"), ("田甜", "大学生，会做表格"))
    ):
        Volunteer.objects.create(
            name=name,
            phone=f"1391234{5670 + i}",
            region_code=context.village,
            skills=skills,
            availability="每天 8:00–18:00",
            status="assigned" if i == 0 else "new",
            post="富强村核酸采样点" if i == 0 else "",
            signed_up_at=context.now - dt.timedelta(hours=5 - i),
        )
    Volunteer.objects.create(
        kind="sent_down",
        name="县财政局 孙科长",
        phone="13904521234",
        region_code=context.village,
        team="县直机关下沉第 3 组",
        status="assigned",
        post="富强村封控区卡口",
        daily_summary="今日配合入户 46 户，发现 1 户未做核酸，已补采。",
    )
