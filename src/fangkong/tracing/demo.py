"""Demo data for tracing: one confirmed case, a family dinner, close and secondary contacts.

`fangkong demo` calls :func:`seed` so that the chain view, the contact lists and the tracing
tasks show the failure the reports name — the people a close contact dined with — instead of
empty pages. Everything goes through the tracing services, as an investigator would enter it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.jurisdiction import prefix_q
from fangkong.people.models import Person

from . import services
from .models import (
    Case,
    CaseStatus,
    Certainty,
    Classification,
    EventKind,
    ExposureType,
    FoundVia,
    TaskStatus,
    TracingTask,
)


def _households(village_code: str, count: int) -> list[list[Person]]:
    """``count`` households of the village with at least two members, members listed."""
    members: dict[int, list[Person]] = {}
    rows = (
        Person.objects.filter(prefix_q("region_code", [village_code]), household__isnull=False)
        .order_by("-household_id", "id")
        .iterator()
    )
    for person in rows:
        members.setdefault(person.household_id, []).append(person)
        families = [m for m in members.values() if len(m) >= 2]
        if len(families) > count:
            break
    return [m for m in members.values() if len(m) >= 2][:count]


def seed(
    *,
    investigator: Any,
    village_code: str,
    now: dt.datetime | None = None,
    cadre: Any = None,
) -> int:
    """Record the scenario once, relative to ``now``; returns the number of contacts
    classified. With ``cadre`` (a user who may order isolation), the contacts are handed to
    isolation as the policy requires: from their last exposure, with their tests."""
    if Case.objects.exists():
        return 0
    families = _households(village_code, 6)
    if len(families) < 6:
        return 0
    today = timezone.localdate(now or timezone.now())
    index_family, *guest_families = families
    index = index_family[0]
    case = services.record_case(
        user=investigator,
        data=services.CaseInput(
            status=CaseStatus.CONFIRMED,
            person_id=index.pk,
            onset_date=today - dt.timedelta(days=4),
            report_date=today - dt.timedelta(days=3),
            confirmation_date=today - dt.timedelta(days=2),
            found_via=FoundVia.FEVER_CLINIC,
            hospital="拜泉县人民医院（演示）",
            investigation_summary="演示数据：自外地返乡后第3天发热，到乡卫生院发热门诊就诊。",
        ),
        channel="demo",
    )
    for member in index_family[1:]:
        services.record_contact(
            user=investigator,
            case_id=case.pk,
            exposure_type=ExposureType.HOUSEHOLD,
            contact_person_id=member.pk,
            last_exposure_date=today - dt.timedelta(days=2),
            channel="demo",
        )
    dinner_day = today - dt.timedelta(days=5)
    starts = timezone.make_aware(dt.datetime.combine(dinner_day, dt.time(18, 0)))
    guests = [family[0] for family in guest_families]
    services.record_event(
        user=investigator,
        data=services.EventInput(
            kind=EventKind.DINNER,
            title="返乡聚餐",
            place="村东饭店（演示）",
            region_code=village_code,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=3),
            organiser_id=index.pk,
            reported=True,
            attendees=tuple(
                [(index.pk, Certainty.CONFIRMED)]
                + [(g.pk, Certainty.CONFIRMED) for g in guests[:-1]]
                + [(guests[-1].pk, Certainty.PROBABLE)]
            ),
        ),
        channel="demo",
    )
    # The guests' own families: contacts of contacts (次密接), the ones the reports say were missed.
    for family in guest_families[:3]:
        for member in family[1:]:
            services.record_contact(
                user=investigator,
                case_id=case.pk,
                exposure_type=ExposureType.HOUSEHOLD,
                from_person_id=family[0].pk,
                contact_person_id=member.pk,
                last_exposure_date=today - dt.timedelta(days=1),
                channel="demo",
            )
    if cadre is not None:
        services.order_required_isolation(user=cadre, channel="demo")
    # The household was reached the evening it was found; the dinner guests' families wait.
    for task in TracingTask.objects.filter(
        person_id__in=[m.pk for m in index_family[1:]], status=TaskStatus.OPEN
    ):
        services.mark_reached(user=investigator, task_id=task.pk, note="电话告知，已居家")
    return Classification.objects.filter(ended_at__isnull=True).count()


def seed_demo(context: Any) -> str | None:
    """The demo's case cluster: a confirmed case, a family dinner, close and secondary
    contacts, in the demo village."""
    contacts = seed(
        investigator=context.user("liudiao"),
        village_code=context.village,
        now=context.now,
        cadre=context.user("fuqiang"),
    )
    if not contacts:
        return None
    return (
        f"流调演示数据：1 例确诊、1 次聚餐，{contacts} 名密接与次密接，"
        "已按规则下达隔离（自末次接触起，含核酸检测）"
    )
