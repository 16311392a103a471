"""The demo's supplies: a county store and township stores with named keepers, a week of
receipts, transfers and issues to checkpoints, villages, the isolation site and the hospital —
and masks running low in 富强镇 (under 3 days of cover: an alert and a notice) — plus a
request waiting, a shipment in transit and one intercepted, donations, funds and prices.

Everything goes through the services, relative to ``context.now``: the week ends yesterday
and today's issue is half an hour old, so the story holds at 08:00, 13:00 and 22:00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from fangkong.core.models import Region

from . import services
from .catalogue import ensure_catalogue
from .models import Channel, DonorKind, FundEntry, Item, MovementKind, RecipientKind, Warehouse


def _at(now: dt.datetime, days_ago: int, hour: int) -> dt.datetime:
    local = timezone.localtime(now) - dt.timedelta(days=days_ago)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def seed_demo(context: Any) -> str | None:
    if Warehouse.objects.exists():
        return None
    ensure_catalogue()
    now = context.now
    county, township, village = context.county, context.township, context.village
    officer, town = context.user("wuzi"), context.user("fuqiang")
    items = {i.code: i for i in Item.objects.all()}
    other = (
        Region.objects.filter(code__startswith=county, level="township")
        .exclude(code=township)
        .order_by("code")
        .first()
    )
    town_name = (
        Region.objects.filter(code=township).values_list("name", flat=True).first() or "乡镇"
    )
    village_name = (
        Region.objects.filter(code=village).values_list("name", flat=True).first() or "村"
    )

    main = services.create_warehouse(
        actor=officer,
        name="县应急物资储备库",
        level="county",
        region_code=county,
        keeper_name="郑伟",
        keeper_phone="13904510001",
        address="县经济信息委院内",
    )
    Warehouse.objects.filter(pk=main.pk).update(keeper=officer)
    store = services.create_warehouse(
        actor=officer,
        name=f"{town_name}物资库",
        level="township",
        region_code=township,
        keeper_name="李干事",
        keeper_phone="13904510002",
        address=f"{town_name}政府一楼",
    )
    Warehouse.objects.filter(pk=store.pk).update(keeper=town)
    stores = [main, store]
    if other is not None:
        stores.append(
            services.create_warehouse(
                actor=officer,
                name=f"{other.name}物资库",
                level="township",
                region_code=other.code,
                keeper_name="王保管",
                keeper_phone="13904510003",
            )
        )
    site = services.create_warehouse(
        actor=officer,
        name="第一集中隔离点物资室",
        level="site",
        region_code=county,
        keeper_name="赵医生",
    )

    def unit(name: str, kind: str, code: str, wh: Warehouse, **n: int) -> Any:
        return services.create_recipient(
            actor=officer, name=name, kind=kind, region_code=code, warehouse_id=wh.pk, **n
        )

    posts = [
        unit(f"{town_name}东卡点", RecipientKind.CHECKPOINT, township, store, staff_on_duty=6),
        unit(f"{town_name}西卡点", RecipientKind.CHECKPOINT, township, store, staff_on_duty=6),
        unit(f"{village_name}村口卡点", RecipientKind.CHECKPOINT, village, store, staff_on_duty=4),
    ]
    vill = unit(village_name, RecipientKind.VILLAGE, village, store, population=1200)
    hospital = unit("县人民医院", RecipientKind.HOSPITAL, county, main, staff_on_duty=40)
    isolation = unit(
        "第一集中隔离点", RecipientKind.SITE, county, site, people_isolated=30, staff_on_duty=8
    )
    unit("县城粮油公司", RecipientKind.ENTERPRISE, county, main, staff_on_duty=20)

    def move(
        actor: Any, wh: Warehouse, code: str, kind: str, qty: Any, at: dt.datetime, **kw: Any
    ) -> None:
        services.record_movement(
            actor=actor,
            data=services.MovementInput(
                warehouse_id=wh.pk, item_id=items[code].pk, kind=kind, quantity=qty, at=at, **kw
            ),
            notify=False,
        )

    # Day -7: the county store receives the first allocation.
    start = _at(now, 7, 9)
    for code, qty in (
        ("mask_surgical", 20000),
        ("mask_n95", 2000),
        ("suit", 600),
        ("goggles", 300),
        ("gloves", 5000),
        ("disinfectant_84", 1500),
        ("alcohol_75", 400),
        ("thermometer_gun", 120),
        ("test_kit", 4800),
        ("rice", 60),
        ("flour", 40),
        ("cooking_oil", 6),
        ("face_shield", 400),
    ):
        move(
            officer,
            main,
            code,
            MovementKind.RECEIPT,
            qty,
            start,
            reason="县经济信息委调拨",
            document="经信委〔2026〕12号",
            batch_no="B2026-01",
            expires_on=(now + dt.timedelta(days=700)).date(),
        )
    move(officer, site, "mask_surgical", MovementKind.RECEIPT, 3000, start, reason="首批配发")
    move(officer, site, "suit", MovementKind.RECEIPT, 200, start, reason="首批配发")
    # Day -6: transfers down to the townships.
    for wh in stores[1:]:
        for code, qty in (
            ("mask_surgical", 3000),
            ("disinfectant_84", 200),
            ("gloves", 600),
            ("thermometer_gun", 16),
            ("suit", 40),
        ):
            services.transfer(
                actor=officer,
                from_id=main.pk,
                to_id=wh.pk,
                item_id=items[code].pk,
                quantity=qty,
                reason="按乡镇卡点数调拨",
                at=_at(now, 6, 10),
            )
    # Days -6..-1: daily issues. 富强镇's posts burn masks faster than planned (one mask per
    # person per shift, three shifts, and the village's households).
    for days_ago in range(6, 0, -1):
        at = _at(now, days_ago, 8)
        for post in posts:
            move(
                town,
                store,
                "mask_surgical",
                MovementKind.ISSUE,
                90,
                at,
                recipient_id=post.pk,
                received_by="值班组长",
                reason="卡点三班值守用",
            )
        move(
            town,
            store,
            "mask_surgical",
            MovementKind.ISSUE,
            100,
            at + dt.timedelta(hours=2),
            recipient_id=vill.pk,
            received_by="村干部 张书记",
            reason="入户排查用",
        )
        move(
            town,
            store,
            "disinfectant_84",
            MovementKind.ISSUE,
            8,
            at,
            recipient_id=vill.pk,
            received_by="村干部 张书记",
            reason="公共场所消毒",
        )
        move(
            officer,
            main,
            "mask_surgical",
            MovementKind.ISSUE,
            600,
            at,
            recipient_id=hospital.pk,
            received_by="医院后勤 刘科长",
            reason="发热门诊",
        )
        move(
            officer,
            main,
            "suit",
            MovementKind.ISSUE,
            30,
            at,
            recipient_id=hospital.pk,
            received_by="医院后勤 刘科长",
            reason="发热门诊",
        )
        move(
            officer,
            site,
            "mask_surgical",
            MovementKind.ISSUE,
            120,
            at,
            recipient_id=isolation.pk,
            received_by="隔离点 赵医生",
            reason="隔离人员及工作人员",
        )
        move(
            officer,
            main,
            "rice",
            MovementKind.ISSUE,
            Decimal("0.5"),
            at,
            recipient_id=isolation.pk,
            reason="隔离人员生活物资",
        )
    move(
        town,
        store,
        "mask_surgical",
        MovementKind.LOSS,
        20,
        _at(now, 3, 16),
        reason="受潮报损",
        document="报损单003",
    )
    # Today, half an hour ago: the east post's morning masks.
    move(
        town,
        store,
        "mask_surgical",
        MovementKind.ISSUE,
        60,
        now - dt.timedelta(minutes=30),
        recipient_id=posts[0].pk,
        received_by="值班组长",
        reason="卡点早班",
    )

    # A post asks for more; purchases in transit, one intercepted on the road.
    services.create_request(
        actor=context.user("kadian"),
        recipient_id=posts[0].pk,
        item_id=items["mask_surgical"].pk,
        quantity=500,
        reason="口罩仅够1天",
    )
    services.create_request(
        actor=town,
        recipient_id=vill.pk,
        item_id=items["mask_surgical"].pk,
        quantity=300,
        reason="入户排查",
    )
    today = timezone.localtime(now).date()
    services.create_order(
        actor=officer,
        supplier="哈尔滨某医疗器械公司",
        channel=Channel.GREEN,
        item_id=items["mask_n95"].pk,
        quantity=5000,
        unit_price="3.20",
        warehouse_id=main.pk,
        expected_on=today + dt.timedelta(days=1),
    )
    order = services.create_order(
        actor=officer,
        supplier="河北某防护用品厂",
        channel=Channel.PUBLIC_LEAD,
        item_id=items["mask_surgical"].pk,
        quantity=30000,
        unit_price="0.80",
        warehouse_id=main.pk,
        expected_on=today,
    )
    services.set_order_status(
        actor=officer,
        order_id=order.pk,
        version=1,
        status="intercepted",
        note="途经外地被当地政府拦截，正在协调放行",
    )

    # Funds and donations.
    fund_hospital = services.allocate_fund(
        actor=officer,
        name="定点医院救治经费",
        holder="县人民医院",
        region_code=county,
        amount=6500000,
        allocated_on=today - dt.timedelta(days=7),
        document="拜财〔2026〕3号",
    )
    services.allocate_fund(
        actor=officer,
        name="乡镇防控经费",
        holder=f"{town_name}",
        region_code=township,
        amount=600000,
        allocated_on=today - dt.timedelta(days=7),
        document="拜财〔2026〕4号",
    )
    village_fund = services.allocate_fund(
        actor=officer,
        name="村（社区）防控经费",
        holder=village_name,
        region_code=village,
        amount=20000,
        allocated_on=today - dt.timedelta(days=6),
        document="拜财〔2026〕5号",
    )
    services.post_to_fund(
        actor=officer,
        fund_id=fund_hospital.pk,
        kind=FundEntry.Kind.SPEND,
        amount=1200000,
        purpose="采购负压救护车及呼吸机",
        document="付款凭证0021",
    )
    services.post_to_fund(
        actor=officer,
        fund_id=village_fund.pk,
        kind=FundEntry.Kind.SPEND,
        amount=3600,
        purpose="卡点帐篷及取暖",
        document="付款凭证0102",
    )
    services.post_to_fund(
        actor=officer,
        fund_id=village_fund.pk,
        kind=FundEntry.Kind.REWARD,
        amount=500,
        purpose="举报未登记返乡人员奖励（核实1例）",
        document="奖励单001",
    )
    services.record_donation(
        actor=officer,
        donor="拜泉县某粮油企业",
        donor_kind=DonorKind.FIRM,
        amount=50000,
        fund_id=fund_hospital.pk,
    )
    services.record_donation(
        actor=officer,
        donor="某药业公司",
        donor_kind=DonorKind.FIRM,
        item_id=items["mask_surgical"].pk,
        quantity=5000,
        value=4000,
        warehouse_id=main.pk,
    )
    services.record_donation(
        actor=officer,
        donor="县直机关干部",
        donor_kind=DonorKind.CADRE,
        publish_name=False,
        amount=2000,
        region_code=county,
    )

    # Prices at the township market: rice steady, masks at the pharmacy three times the base.
    rice = services.create_watch(
        actor=officer,
        goods="大米",
        unit="斤",
        shop=f"{town_name}农贸市场",
        region_code=township,
        baseline="2.60",
    )
    masks = services.create_watch(
        actor=officer,
        goods="医用外科口罩",
        unit="个",
        shop=f"{town_name}某大药房",
        region_code=township,
        baseline="1.00",
        threshold_pct=20,
    )
    services.report_price(
        actor=officer, watch_id=rice.pk, day=today - dt.timedelta(days=1), price="2.65"
    )
    services.report_price(actor=officer, watch_id=rice.pk, day=today, price="2.70")
    services.report_price(actor=officer, watch_id=masks.pk, day=today, price="3.00")

    services.notify_shortages(now=now)
    context.made["supplies.township_store_id"] = store.pk
    return (
        f"物资演示数据：{len(stores) + 1} 个仓库，一周出入库，{town_name}物资库医用外科口罩不足3天"
        f"（预警已推送）；物资保障组 wuzi、乡镇 fuqiang 可登录查看"
    )
