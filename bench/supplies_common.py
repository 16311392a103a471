"""Shared set-up of the supplies benchmarks: a fresh PostgreSQL database with the county,
the catalogue, ``stores`` stores, receiving units and a county supply officer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quarantine_common import drop_database, recreate_database, setup_django

COUNTY = "230231"

__all__ = ["COUNTY", "drop_database", "prepare", "recreate_database", "setup_django"]


def prepare(url: str, *, stores: int, units_per_store: int = 4) -> dict:
    """Migrate a fresh database and create the county's stores; returns the actor, the
    store ids, unit ids per store and the item ids."""
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    from fangkong.core import regions
    from fangkong.core.models import Region, User
    from fangkong.supplies.catalogue import ensure_catalogue
    from fangkong.supplies.models import Item, Recipient, Warehouse

    call_command("migrate", verbosity=0)
    regions.load_official_county(COUNTY)
    ensure_catalogue()
    townships = list(
        Region.objects.filter(code__startswith=COUNTY, level="township").values_list(
            "code", flat=True
        )
    )
    actor = User.objects.create_user(username="bench_wuzi", password="x", role="supply_officer")
    actor.regions.set([COUNTY])
    made = Warehouse.objects.bulk_create(
        [
            Warehouse(
                name=f"仓库{n}",
                level="township" if n else "county",
                region_code=townships[n % len(townships)] if n else COUNTY,
                keeper_name=f"保管员{n}",
            )
            for n in range(stores)
        ]
    )
    units = Recipient.objects.bulk_create(
        [
            Recipient(
                name=f"卡点{w.pk}-{k}",
                kind="checkpoint",
                region_code=w.region_code,
                warehouse=w,
                staff_on_duty=6,
            )
            for w in made
            for k in range(units_per_store)
        ]
    )
    by_store: dict[int, list[int]] = {}
    for u in units:
        by_store.setdefault(u.warehouse_id, []).append(u.pk)
    return {
        "actor": actor,
        "stores": [w.pk for w in made],
        "units": by_store,
        "items": list(Item.objects.order_by("id").values_list("id", flat=True)),
    }
