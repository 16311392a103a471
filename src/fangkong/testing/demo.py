"""The testing part of the demo story, relative to the moment the demo starts.

A township round under way: opened three hours before ``now`` and closing nine hours
after it, a sampling point in the demo village staffed by the demo sampler (caiyang), forty
residents sampled in four pooled tubes over the last two hours, the lab's results for them
in, one pool positive, so its ten persons are recalled for a single-tube retest and the
grid has a recall task. Every record goes through the module's services and rules.
"""

from __future__ import annotations

import datetime as dt

from fangkong.core import demo
from fangkong.core.jurisdiction import prefix_q
from fangkong.people.models import Person

from . import services
from .ingest import ScanRow, new_device_sample_id
from .models import Campaign, CampaignStatus

ROUND_NAME = "富强镇全员核酸检测（演示）"
SAMPLED = 40
POOL = 10


def seed(context: demo.DemoContext) -> str | None:
    if Campaign.objects.filter(name=ROUND_NAME).exists():
        return None
    now = context.now
    planner = context.user("fuqiang")
    sampler = context.user("caiyang")
    campaign = services.create_campaign(
        user=planner,
        name=ROUND_NAME,
        region_codes=[context.township],
        starts_at=now - dt.timedelta(hours=3),
        ends_at=now + dt.timedelta(hours=9),
        pool_size=POOL,
        note="演示数据",
    )
    services.set_campaign_status(
        user=planner, campaign_id=campaign.pk, status=CampaignStatus.RUNNING
    )
    point = services.create_point(
        user=planner,
        name="富强村村委会采样点",
        location="村委会广场",
        region_code=context.village,
        opens_at=dt.time(0, 0),
        closes_at=dt.time(23, 59),
        lanes=2,
        throughput_per_lane_hour=120,
        staff_ids=[sampler.pk],
    )
    persons = list(
        Person.objects.filter(prefix_q("region_code", [context.village]))
        .exclude(id_number=None)
        .order_by("pk")[:SAMPLED]
    )
    stamp = f"{now:%m%d}"
    rows = []
    for index, person in enumerate(persons):
        minutes = 120 - index * 2  # from two hours ago to a few minutes ago
        rows.append(
            ScanRow(
                device_sample_id=new_device_sample_id(),
                tube=f"FQ{stamp}-{index // POOL + 1:03d}",
                sampled_at=now - dt.timedelta(minutes=minutes),
                id_number=person.id_number,
                capacity=POOL,
                point_id=point.pk,
            )
        )
    report = services.ingest_samples(user=sampler, campaign_id=campaign.pk, rows=rows)
    tubes = sorted({row.tube for row in rows})
    results = [
        (barcode, "positive" if number == 1 else "negative", number + 2)
        for number, barcode in enumerate(tubes)
    ]
    services.record_results(
        user=sampler, campaign_id=campaign.pk, results=results, source="演示实验室结果.xlsx"
    )
    context.made["testing.campaign_id"] = campaign.pk
    return (
        f"核酸：轮次“{ROUND_NAME}”进行中，已采样 {report.accepted} 人 {len(tubes)} 管，"
        f"混管阳性 1 管，召回 {POOL} 人单管复核"
    )


def register() -> None:
    demo.register(demo.Seeder("testing", 50, seed))
