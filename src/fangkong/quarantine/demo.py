"""Demo data for the isolation module: a village doctor's round and a county site.

`fangkong demo` calls :func:`seed` so that the isolation pages show the work the module is
for — forty people in home isolation in one village, one per household, whose checks the
village doctor takes twice a day — instead of empty boards. Every record goes through the
module's services, with the same rules as real data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from fangkong.core.jurisdiction import prefix_q
from fangkong.people.models import Person

from . import services
from .models import (
    Alert,
    AlertKind,
    CheckMethod,
    CheckWindow,
    HealthCheck,
    IsolationKind,
    IsolationOrder,
    RequiredTest,
    TestResult,
)


def _windows(schedule_id: int) -> list[CheckWindow]:
    return list(CheckWindow.objects.filter(schedule_id=schedule_id).order_by("opens_at"))


def _slots(windows: list[CheckWindow], start: datetime, now: datetime):  # type: ignore[no-untyped-def]
    """(opens, closes) of every check window from the order's start up to ``now``."""
    day = timezone.localdate(start)
    while day <= timezone.localdate(now):
        for window in windows:
            opens = timezone.make_aware(datetime.combine(day, window.opens_at))
            closes = timezone.make_aware(datetime.combine(day, window.closes_at))
            if opens >= start and opens <= now:
                yield opens, closes
        day += timedelta(days=1)


def _fill_history(
    order: IsolationOrder,
    *,
    now: datetime,
    doctor: Any,
    rng: random.Random,
    skip_last_closed: bool,
    fever: bool,
) -> None:
    """Readings for every window of the order up to ``now``: each closed window has its
    reading (but the last one of the two people who were not found at their check), a window
    open now has one for a third of the people; the fever is the last reading taken."""
    windows = _windows(order.schedule_id)
    slots = list(_slots(windows, order.starts_at, now))
    closed = [s for s in slots if s[1] <= now]
    checks = []
    last_taken = None
    for opens, closes in slots:
        is_open = closes > now
        if is_open and rng.random() > 0.34:
            continue
        if skip_last_closed and closed and (opens, closes) == closed[-1]:
            continue
        latest = min(closes, now) - timedelta(minutes=5)
        span = max(int((latest - opens).total_seconds() // 60), 1)
        taken = opens + timedelta(minutes=rng.randint(0, min(span, 180)))
        if taken >= now:
            continue
        temperature = Decimal(f"36.{rng.randint(1, 8)}")
        checks.append(
            HealthCheck(
                order=order,
                taken_at=taken,
                slot=opens,
                temperature=temperature,
                method=CheckMethod.DOOR,
                recorded_by=doctor,
                recorded_at=taken,
            )
        )
        last_taken = checks[-1]
    HealthCheck.objects.bulk_create(checks)
    if fever and last_taken is not None:
        HealthCheck.objects.filter(pk=last_taken.pk).update(
            temperature=Decimal("38.3"), symptoms=["fever", "cough"]
        )
        Alert.objects.create(
            order=order,
            region_code=order.region_code,
            kind=AlertKind.FEVER,
            reading_id=last_taken.pk,
            raised_at=last_taken.taken_at,
        )


def _tests_done(order: IsolationOrder, now: datetime) -> None:
    """Required tests whose day has passed: sampled that day, negative."""
    first = timezone.localdate(order.starts_at)
    for test in order.tests.all():
        day = first + timedelta(days=test.day - 1)
        if day < timezone.localdate(now):
            RequiredTest.objects.filter(pk=test.pk).update(
                result=TestResult.NEGATIVE, sampled_on=day, recorded_at=now
            )


def seed(
    *,
    by_user: Any,
    doctor: Any,
    village_code: str,
    site_region: str,
    people: int = 40,
    seed: int = 1,
    now: datetime | None = None,
) -> int:
    """Place ``people`` residents of a village in home isolation (once; returns how many),
    with their history relative to ``now``: started 1 to 12 days ago at 08:00–11:00 (so the
    isolation day counts vary), every past check taken, two missed in the last window, one
    fever in the last reading; one more person whose 14 days are over and who was released
    this morning after three negative tests."""
    if IsolationOrder.objects.exists():
        return 0
    rng = random.Random(seed)
    now = now or timezone.now()
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
        if len(chosen) == people + 1:
            break
    released_person = chosen.pop() if len(chosen) > people else None
    today = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    orders = []
    for i, person in enumerate(chosen):
        started = (today - timedelta(days=rng.randint(1, 12))).replace(
            hour=rng.randint(8, 10), minute=rng.choice((0, 15, 30, 45))
        )
        order = services.order_isolation(
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
        # Ordered when it started: the checks since then were the doctor's to take.
        IsolationOrder.objects.filter(pk=order.pk).update(created_at=started)
        order.created_at = started
        _fill_history(
            order,
            now=now,
            doctor=doctor,
            rng=rng,
            skip_last_closed=i in (3, 11),
            fever=i == 7,
        )
        _tests_done(order, now)
        orders.append(order)
    if released_person is not None:
        # Its 14 days ended two hours ago, whatever the hour the demo starts (a start at a
        # fixed 05:00 left it still running when the demo started just after midnight).
        started = today - timedelta(days=14, hours=2)
        order = services.order_isolation(
            user=by_user,
            data=services.OrderInput(
                person_id=released_person.pk,
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
        IsolationOrder.objects.filter(pk=order.pk).update(created_at=started)
        _fill_history(order, now=now, doctor=doctor, rng=rng, skip_last_closed=False, fever=False)
        _tests_done(order, now)
        order.refresh_from_db()
        services.release_order(
            user=by_user,
            order_id=order.pk,
            version=order.version,
            now=min(now, order.ends_at + timedelta(minutes=30)),
        )
    # The two unchecked people of the last window are missed checks now, not at the next tick.
    services.find_missed_checks(now=now)
    site = services.create_site(
        user=by_user,
        name="拜泉县第一集中隔离点",
        region_code=site_region,
        address="拜泉县拜泉镇（演示）",
    )
    numbers = [f"{floor}{room:02d}" for floor in (1, 2, 3) for room in range(1, 11)]
    services.add_rooms(user=by_user, site_id=site.pk, numbers=numbers, capacity=2)
    return len(orders)


def seed_demo(context: Any) -> str | None:
    """The demo's isolation: the village doctor's round and a county site."""
    doctor = context.user("cunyi")
    seeded = seed(
        by_user=context.user("xian"),
        doctor=doctor,
        village_code=doctor.region_codes[0],
        site_region=context.county,
        now=context.now,
    )
    if not seeded:
        return None
    return (
        f"隔离演示数据：{seeded} 人居家隔离（1 人发热、2 人漏测），1 人已解除，"
        "村医 cunyi 负责；1 个集中隔离点"
    )
