"""Demo data for the isolation module: a village doctor's round and a county site.

`fangkong demo` calls :func:`seed` so that the isolation pages show the work the module is
for — forty people in home isolation in one village, one per household, whose checks the
village doctor takes twice a day — instead of empty boards. Every record goes through the
module's services, with the same rules as real data.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from fangkong.core.jurisdiction import prefix_q
from fangkong.people.models import Person

from . import services
from .models import IsolationKind, IsolationOrder


def seed(
    *,
    by_user: Any,
    doctor: Any,
    village_code: str,
    site_region: str,
    people: int = 40,
    seed: int = 1,
) -> int:
    """Place ``people`` residents of a village in home isolation (once; returns how many)."""
    if IsolationOrder.objects.exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    adults = (
        Person.objects.filter(prefix_q("region_code", [village_code]))
        .filter(birth_date__lte=now.date() - timedelta(days=18 * 365), household__isnull=False)
        .order_by("household_id", "id")
    )
    chosen: list[Person] = []
    households: set[int] = set()
    for person in adults.iterator():
        if person.household_id in households:
            continue
        households.add(person.household_id)
        chosen.append(person)
        if len(chosen) == people:
            break
    for person in chosen:
        started = now - timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 10))
        services.order_isolation(
            user=by_user,
            data=services.OrderInput(
                person_id=person.pk,
                kind=IsolationKind.HOME,
                starts_at=started,
                days=14,
                manual_reason="演示数据：自中风险地区返乡，居家隔离14天",
                required_test_days=(1, 7, 13),
                responsible_ids=(doctor.pk,),
                agreement_signed_on=started.date(),
            ),
            channel="demo",
        )
    site = services.create_site(
        user=by_user,
        name="拜泉县第一集中隔离点",
        region_code=site_region,
        address="拜泉县拜泉镇（演示）",
    )
    numbers = [f"{floor}{room:02d}" for floor in (1, 2, 3) for room in range(1, 11)]
    services.add_rooms(user=by_user, site_id=site.pk, numbers=numbers, capacity=2)
    return len(chosen)
