"""Demo story of the command layer (seeder order 95, after every module it reads).

Relative to ``context.now``: the figures of the last 14 days are aggregated; yesterday every
village of the demo township reported (two of them zero reports) and the township rolled
them up; today some villages have reported and the demo village (user ``cun``) has not, so
its cadre can file it; self-inspection has run over the county, and the problems list holds
an overdue problem escalated to the township, one rectified awaiting confirmation and one
closed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core import inspection
from fangkong.core.models import AreaAssignment, AreaAssignmentKind, Region

from . import services
from .models import DailyReport, Level, Problem, ProblemStatus, ReportStatus


def _file(
    code: str, day: dt.date, at: dt.datetime, reporter: Any, *, zero: bool, text: str
) -> None:
    data = services.figures_from_data(code, at)
    DailyReport.objects.get_or_create(
        day=day,
        region_code=code,
        defaults={
            "status": ReportStatus.ZERO if zero else ReportStatus.SUBMITTED,
            "figures": data,
            "situation": "" if zero else text,
            "reporter": reporter,
            "submitted_at": at,
        },
    )


def seed_demo(context: Any) -> str | None:
    if DailyReport.objects.exists():
        return None
    # Earlier seeders wrote their records a moment after ``context.now``: count as of now.
    now = max(context.now, timezone.now())
    today = timezone.localtime(now).date()
    yesterday = today - dt.timedelta(days=1)
    township = context.township
    cadre = context.user("cun")
    own_village = cadre.region_codes[0] if cadre.region_codes else context.village
    villages = list(
        Region.objects.filter(parent_id=township).order_by("code").values_list("code", flat=True)
    )
    # Who answers for the demo village (包村): named on its findings and problems.
    AreaAssignment.objects.get_or_create(
        user=cadre,
        region_id=own_village,
        kind=AreaAssignmentKind.VILLAGE,
        defaults={"starts_on": today - dt.timedelta(days=30)},
    )
    services.refresh(now)
    at_yesterday = services.deadline_for(township, yesterday) - dt.timedelta(minutes=45)
    for i, code in enumerate(villages):
        zero = i % 4 in (1, 2) and code != own_village
        _file(
            code,
            yesterday,
            at_yesterday + dt.timedelta(minutes=3 * i),
            cadre if code == own_village else None,
            zero=zero,
            text="入户排查返乡人员，居家隔离人员体温监测正常。",
        )
    totals, _missing = services.rollup(township, yesterday)
    DailyReport.objects.get_or_create(
        day=yesterday,
        region_code=township,
        defaults={
            "status": ReportStatus.SUBMITTED,
            "figures": totals,
            "situation": "各村日报已全部报送，汇总如上。",
            "reporter": context.user("fuqiang"),
            "submitted_at": at_yesterday + dt.timedelta(hours=1),
        },
    )
    # Today: the first other villages have reported (by the hour of the demo), ours not yet.
    others = [c for c in villages if c != own_village]
    start = timezone.localtime(now).replace(hour=7, minute=30, second=0, microsecond=0)
    filed_today = 0
    for i, code in enumerate(others[: max(1, len(others) // 2)]):
        at = min(now, start + dt.timedelta(minutes=20 * i))
        _file(code, today, at, None, zero=i % 2 == 1, text="今日入户走访，无异常。")
        filed_today += 1
    run = services.run_inspection(context.county, now=now)
    # Problems raised by people: one overdue (escalated to the township), one rectified
    # awaiting confirmation, one closed.
    xian = context.user("xian")
    made = []
    for title, aspect, hours, status in (
        ("卡口夜间值守人员脱岗", inspection.Aspect.DISCIPLINE, -6, ProblemStatus.OPEN),
        ("返乡人员台账信息不全", inspection.Aspect.SYSTEM, 20, ProblemStatus.RECTIFIED),
        ("防疫物资储备台账未及时更新", inspection.Aspect.SUPPLIES, 30, ProblemStatus.CLOSED),
    ):
        problem, _ = Problem.objects.get_or_create(
            source=f"reports.demo:{title}",
            defaults={
                "region_code": own_village,
                "aspect": aspect,
                "title": title,
                "detail": "县指挥部督查时发现。",
                "deadline": now + dt.timedelta(hours=hours),
                "owner": cadre,
                "owner_name": cadre.display_name or cadre.username,
                "raised_by": xian,
                "raised_at": now - dt.timedelta(hours=30),
            },
        )
        if status != ProblemStatus.OPEN:
            problem.status = status
            problem.rectification = "已逐户核实并补齐。"
            problem.next_steps = "每日核对一次，防止再次出现。"
            problem.rectified_at = now - dt.timedelta(hours=3)
            problem.rectified_by = cadre
        if status == ProblemStatus.CLOSED:
            problem.closed_at = now - dt.timedelta(hours=1)
            problem.closed_by = context.user("fuqiang")
        problem.save()
        made.append(problem.pk)
    services.escalate_overdue(now)
    Problem.objects.filter(pk=made[0]).update(level=Level.TOWNSHIP)
    services.refresh(now, backfill=False)
    context.made["reports.problem_ids"] = made
    return (
        f"指挥调度演示数据：14天数字已汇总；昨日{len(villages)}个村日报齐全；"
        f"今日已报{filed_today}个村（cun所在村待报）；排查起底发现问题{run.findings}个"
    )
