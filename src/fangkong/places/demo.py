"""Demo story for places: the village's venues closed by order with one still open, an
inspection with a failed item, a stopped banquet, an enterprise resumed, a school's morning
check with one fever, a cold-chain batch released and one held for a missing report, and a
pharmacy's fever-drug buyer to follow up. Everything goes through the services, relative to
``context.now`` (the story holds at 08:00, 13:00 and 22:00).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from fangkong.core.jurisdiction import prefix_q
from fangkong.people.models import Person

from . import services
from .models import Place, PlaceKind, PlaceStatus


def seed_demo(context: Any) -> str | None:
    if Place.objects.exists():
        return None
    now = context.now
    cun, township = context.user("cun"), context.user("fuqiang")
    village, grid = context.village, context.grid

    def place(kind: str, name: str, manager: str, phone: str, staff: int = 0) -> Place:
        made = services.register_place(
            actor=cun,
            data=services.PlaceInput(
                kind=kind,
                name=name,
                region_code=grid,
                address=f"{name}（演示）",
                manager_name=manager,
                manager_phone=phone,
                staff_count=staff,
            ),
        )
        # Registered three weeks ago, so "no inspection for 7 days" can be true of it.
        Place.objects.filter(pk=made.pk).update(
            created_at=now - dt.timedelta(days=21), status_since=now - dt.timedelta(days=21)
        )
        made.refresh_from_db()
        made.cadre = cun
        made.save(update_fields=["cadre"])
        return made

    # Closure campaign: five closed by order ten days ago, one internet café still open.
    closed_names = [
        (PlaceKind.ENTERTAINMENT, "金嗓子KTV", "钱老板", "13904520001"),
        (PlaceKind.ENTERTAINMENT, "欢乐迪歌厅", "孙经理", "13904520002"),
        (PlaceKind.INTERNET_CAFE, "极速网吧", "李网管", "13904520003"),
        (PlaceKind.SCENIC, "富强湿地公园", "周站长", "13904520004"),
        (PlaceKind.RELIGIOUS, "村东清真寺", "马阿訇", "13904520005"),
    ]
    for n, (kind, name, manager, phone) in enumerate(closed_names, start=1):
        p = place(kind, name, manager, phone)
        services.change_status(
            actor=township,
            place_id=p.pk,
            status=PlaceStatus.CLOSED,
            version=p.version,
            order_no=f"富防指〔2026〕{n}号",
            reason="疫情防控期间暂停营业",
            effective_at=now - dt.timedelta(days=10),
        )
    place(PlaceKind.INTERNET_CAFE, "星空网咖", "吴老板", "13904520006")

    market = place(PlaceKind.SUPERMARKET, "富强生活超市", "郑店长", "13904520007")
    restaurant = place(PlaceKind.RESTAURANT, "老李家饭店", "李师傅", "13904520008")
    items = services.checklist(market.kind)
    services.record_inspection(
        actor=cun,
        place_id=market.pk,
        outcomes=[services.ItemOutcome(item.pk, "消毒" not in item.label) for item in items],
        note="消毒台账缺两天记录",
        inspected_at=now - dt.timedelta(days=1, hours=2),
    )
    services.record_inspection(
        actor=context.user("ducha"),
        place_id=restaurant.pk,
        outcomes=[services.ItemOutcome(i.pk, True) for i in services.checklist(restaurant.kind)],
        covert=True,
        note="以顾客身份进店订餐，店家拒绝承接宴席",
        inspected_at=now - dt.timedelta(days=2),
    )
    for place_ in (market, restaurant):
        for hours in (30, 20, 6):
            services.log_disinfection(
                actor=context.user("wangge"),
                place_id=place_.pk,
                done_by="消杀员 王芳",
                done_at=now - dt.timedelta(hours=hours),
                area="收银台、门把手、电梯",
            )

    # A banquet found by the joint-defence leader and stopped; a wedding still to persuade.
    today = timezone.localtime(now).date()
    banquet = services.record_gathering(
        actor=context.user("wangge"),
        data=services.GatheringInput(
            kind="banquet",
            region_code=grid,
            place_text="村民赵家院内",
            organiser_name="赵长林",
            organiser_phone="13904520010",
            date=today + dt.timedelta(days=1),
            tables=35,
            guests=350,
            reported_by="joint_defence",
            note="升学宴，已订厨师",
        ),
    )
    services.decide_gathering(
        actor=cun,
        gathering_id=banquet.pk,
        outcome="stopped",
        version=banquet.version,
        note="上门劝导，主家同意取消，退订厨师",
    )
    services.record_gathering(
        actor=context.user("wangge"),
        data=services.GatheringInput(
            kind="wedding",
            region_code=grid,
            place_text="村委会对面孙家",
            organiser_name="孙丽",
            date=today + dt.timedelta(days=3),
            tables=12,
            guests=120,
            reported_by="organiser",
        ),
    )

    # An enterprise that passed its resumption checklist and was approved; one waiting.
    from django.core.files.base import ContentFile

    factory = place(PlaceKind.ENTERPRISE, "拜泉县富强米业有限公司", "冯厂长", "13904520011", 86)
    services.record_inspection(
        actor=cun,
        place_id=factory.pk,
        outcomes=[services.ItemOutcome(i.pk, True) for i in services.checklist(factory.kind)],
        inspected_at=now - dt.timedelta(days=3),
    )
    application = services.apply_resumption(
        actor=cun,
        place_id=factory.pk,
        staff_count=86,
        risk_area_staff=2,
        canteen_rules=True,
        dormitory_rules=True,
        emergency_plan=ContentFile(
            "富强米业疫情防控应急预案（演示）".encode(), name="应急预案.txt"
        ),
    )
    services.decide_resumption(
        actor=township, resumption_id=application.pk, approve=True, plan_reviewed=True
    )
    waiting = place(PlaceKind.ENTERPRISE, "富强农机合作社", "韩社长", "13904520012", 24)
    services.apply_resumption(actor=cun, place_id=waiting.pk, staff_count=24)

    # A school with one class linked to the registry and a morning check, one fever.
    school = place(PlaceKind.SCHOOL, "富强镇中心小学", "许校长", "13904520013", 40)
    school_class = services.add_class(
        actor=cun, school_id=school.pk, name="三年级一班", teacher_name="何老师"
    )
    children = list(
        Person.objects.filter(prefix_q("region_code", [village]))
        .filter(birth_date__gte=today - dt.timedelta(days=365 * 12))
        .order_by("id")[:12]
    ) or list(Person.objects.filter(prefix_q("region_code", [village])).order_by("id")[:12])
    members = [
        services.add_member(actor=cun, class_id=school_class.pk, person_id=child.pk)
        for child in children
    ]
    check_day = today if timezone.localtime(now).hour >= 8 else today - dt.timedelta(days=1)
    rows = []
    for n, member in enumerate(members):
        if n == 0:
            rows.append(services.CheckInput(member.pk, True, Decimal("37.8"), "咳嗽"))
        elif n == 1:
            rows.append(
                services.CheckInput(member.pk, False, None, "", "发热在家，家长已带去卫生院")
            )
        else:
            rows.append(services.CheckInput(member.pk, True, Decimal("36.4")))
    if rows:
        services.record_checks(school_class=school_class, rows=rows, day=check_day, slot="morning")
    token = services.new_class_link(actor=cun, class_id=school_class.pk)
    context.made["places.class_link"] = token

    # Cold chain: one batch released with its documents, one held for a missing test report.
    storage = place(PlaceKind.COLD_STORAGE, "富强冷链仓储中心", "高经理", "13904520014", 12)
    kadian = context.user("kadian")
    full = services.report_batch(
        actor=kadian,
        storage_id=storage.pk,
        data=services.BatchInput(
            goods="进口冷冻牛肉",
            origin="巴西",
            weight_kg=Decimal("12000"),
            vehicle_plate="黑B12345",
            quarantine_certificate="JY2026-0311",
            test_report="HS2026-1203",
            disinfection_certificate="XD2026-0877",
            trace_code="HLJLL-88231",
        ),
    )
    full = services.register_batch(actor=kadian, batch_id=full.pk, version=full.version)
    services.release_batch(actor=kadian, batch_id=full.pk, version=full.version)
    held = services.report_batch(
        actor=kadian,
        storage_id=storage.pk,
        data=services.BatchInput(
            goods="冷冻白虾",
            origin="厄瓜多尔",
            weight_kg=Decimal("3000"),
            vehicle_plate="黑B67890",
            quarantine_certificate="JY2026-0412",
            disinfection_certificate="XD2026-0901",
            trace_code="HLJLL-90112",
        ),
    )
    services.register_batch(actor=kadian, batch_id=held.pk, version=held.version)

    # A pharmacy and a fever-drug buyer from the registry, to be followed up.
    drugstore = place(PlaceKind.PHARMACY, "仁心大药房", "田药师", "13904520015", 3)
    buyers = list(
        Person.objects.filter(prefix_q("region_code", [village]))
        .exclude(id_number="")
        .order_by("-id")[:2]
    )
    for n, buyer in enumerate(buyers, start=1):
        services.record_sale(
            actor=context.user("cunyi"),
            pharmacy_id=drugstore.pk,
            data=services.SaleInput(
                receipt_no=f"RX{today:%Y%m%d}{n:03d}",
                drug_class="antipyretic" if n == 1 else "cough",
                drug_name="布洛芬缓释胶囊" if n == 1 else "复方甘草片",
                buyer_name=buyer.name,
                buyer_id_number=buyer.id_number,
                buyer_phone=buyer.phone,
                sold_at=now - dt.timedelta(hours=26 if n == 1 else 3),
            ),
        )
    return (
        f"场所演示数据：{Place.objects.count()} 个场所（5 家关停、1 家网咖未关停），"
        "劝停宴席 1 起 35 桌，企业复工 1 家，学校晨检 1 班，冷链批次 2 批，药店购药登记 "
        f"{len(buyers)} 人"
    )
