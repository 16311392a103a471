"""The preset catalogue: the county's 18 categories of urgent supplies (全县疫情防控紧急物资
需求18项) and their usual items, with units, pack sizes and planned use.

:func:`ensure_catalogue` is idempotent (by code): the data migration runs it, the demo and
tests may run it again.
"""

from __future__ import annotations

from decimal import Decimal

# (category code, category name, [(item code, name, unit, pack, per staff/day, per capita/day)])
CATEGORIES: list[tuple[str, str, list[tuple[str, str, str, int, str, str]]]] = [
    (
        "masks",
        "口罩",
        [
            ("mask_n95", "N95口罩", "个", 20, "0", "0"),
            ("mask_surgical", "医用外科口罩", "个", 50, "3", "0"),
            ("mask_plain", "一次性医用口罩", "个", 50, "0", "0"),
        ],
    ),
    ("suits", "医用防护服", [("suit", "医用防护服", "套", 10, "0", "0")]),
    ("goggles", "护目镜", [("goggles", "护目镜", "个", 10, "0", "0")]),
    ("shields", "防护面屏", [("face_shield", "防护面屏", "个", 20, "0", "0")]),
    ("gloves", "医用手套", [("gloves", "医用乳胶手套", "副", 100, "1", "0")]),
    ("gowns", "隔离衣", [("gown", "一次性隔离衣", "件", 20, "0", "0")]),
    ("shoe_covers", "鞋套", [("shoe_cover", "医用鞋套", "双", 100, "0", "0")]),
    ("disinfectant_84", "84消毒液", [("disinfectant_84", "84消毒液", "公斤", 5, "0.2", "0")]),
    ("alcohol", "医用酒精", [("alcohol_75", "75%医用酒精", "公斤", 1, "0.05", "0")]),
    ("chlorine", "含氯消毒片", [("chlorine_tablet", "含氯消毒片", "瓶", 1, "0", "0")]),
    ("thermometers", "测温设备", [("thermometer_gun", "红外额温枪", "把", 1, "0", "0")]),
    ("sprayers", "消毒喷雾器", [("sprayer", "手动喷雾器", "台", 1, "0", "0")]),
    ("test_kits", "核酸检测试剂", [("test_kit", "核酸检测试剂盒", "人份", 48, "0", "0")]),
    ("swabs", "采样拭子及采样管", [("swab_tube", "采样拭子及采样管", "套", 100, "0", "0")]),
    ("waste", "医疗废物收集", [("waste_bag", "医疗废物袋", "个", 50, "0", "0")]),
    ("tents", "卡点帐篷", [("tent", "卡点帐篷", "顶", 1, "0", "0")]),
    ("heating", "照明取暖", [("heater", "取暖器", "台", 1, "0", "0")]),
    (
        "staple_food",
        "生活物资（主粮）",
        [
            ("rice", "大米", "吨", 1, "0", "0.00025"),
            ("flour", "面粉", "吨", 1, "0", "0.0002"),
            ("cooking_oil", "食用油", "吨", 1, "0", "0.00003"),
        ],
    ),
]

STAPLE_CATEGORY = "staple_food"


def ensure_catalogue(category_model=None, item_model=None) -> int:  # type: ignore[no-untyped-def]
    """Create the preset categories and items that are missing; returns how many items."""
    if category_model is None or item_model is None:
        from .models import Category, Item

        category_model, item_model = Category, Item
    made = 0
    for order, (code, name, items) in enumerate(CATEGORIES, start=1):
        category, _ = category_model.objects.get_or_create(
            code=code, defaults={"name": name, "order": order}
        )
        for n, (item_code, item_name, unit, pack, per_staff, per_capita) in enumerate(items, 1):
            _, created = item_model.objects.get_or_create(
                code=item_code,
                defaults={
                    "category": category,
                    "name": item_name,
                    "unit": unit,
                    "pack_size": pack,
                    "per_staff_daily": Decimal(per_staff),
                    "per_capita_daily": Decimal(per_capita),
                    "is_staple": code == STAPLE_CATEGORY,
                    "order": n,
                },
            )
            made += created
    return made
