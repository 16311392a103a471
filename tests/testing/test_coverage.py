"""Coverage equals a brute-force count, on generated rounds (property test), at every level
from county to household, for the county and for a village cadre; untested lists exact."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core import idnumbers
from fangkong.core.roles import Role
from fangkong.people.models import Household
from fangkong.testing import selectors, services
from fangkong.testing.ingest import ScanRow
from tests.conftest import (
    BAIQUAN,
    COUNTY,
    FUQIANG,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    GRID_C1,
    VILLAGE_A,
)

RESIDENCES = [GRID_A1, GRID_A2, GRID_B1, GRID_C1, VILLAGE_A]
CATEGORIES = ["resident", "returnee", "floating"]
_births = itertools.count()

person_plan = st.tuples(
    st.sampled_from(RESIDENCES),
    st.sampled_from([None, 0, 1]),  # household in the grid, or none
    st.sampled_from(CATEGORIES),
    st.sampled_from(["untested", "sampled", "exempt", "exempt_sampled"]),
    st.integers(0, 2),  # tube
)
round_plan = st.fixed_dictionaries(
    {
        "people": st.lists(person_plan, min_size=0, max_size=20),
        "categories": st.sampled_from([[], ["returnee"], ["resident", "floating"]]),
        "regions": st.sampled_from([[FUQIANG, BAIQUAN], [VILLAGE_A], [GRID_A1, GRID_C1]]),
        "results": st.tuples(*[st.sampled_from([None, "negative", "positive", "invalid"])] * 3),
    }
)


def brute_force(persons, campaign, under: str, key) -> dict[str, list[int]]:
    """Counts [target, exempt-not-tested, tested, resulted] per key, person by person."""
    counts: dict[str, list[int]] = {}
    for p in persons:
        in_round = any(p["region"].startswith(c) for c in campaign.region_codes)
        in_group = not campaign.categories or p["category"] in campaign.categories
        if not (in_round and in_group and p["region"].startswith(under)):
            continue
        row = counts.setdefault(key(p), [0, 0, 0, 0])
        row[0] += 1
        row[1] += p["exempt"] and not p["tested"]
        row[2] += p["tested"]
        row[3] += p["tested"] and p["resulted"]
    return counts


def as_counts(coverage) -> dict[str, list[int]]:
    return {r.key: [r.target, r.exempt, r.tested, r.resulted] for r in coverage.rows}


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=round_plan)
def test_coverage_equals_a_brute_force_count(county, make_user, plan):
    with transaction.atomic():
        check_one_round(make_user, plan)
        transaction.set_rollback(True)


def check_one_round(make_user, plan) -> None:
    from fangkong.core import names
    from fangkong.people.models import Person, Source

    hq = make_user(Role.COUNTY_HQ, COUNTY)
    sampler = make_user(Role.TESTING_STAFF, COUNTY)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    now = timezone.now()
    campaign = services.create_campaign(
        user=hq,
        name="轮次",
        region_codes=plan["regions"],
        categories=plan["categories"],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        pool_size=20,
    )
    households = {
        (grid, n): Household.objects.create(region_id=grid, address=f"{grid}-{n}号")
        for grid in RESIDENCES
        for n in (0, 1)
    }
    persons, rows = [], []
    for region, house, category, status, tube in plan["people"]:
        number = idnumbers.make(
            "230231", dt.date(1950, 1, 1) + dt.timedelta(days=next(_births)), 7, "M"
        )
        household = households[(region, house)] if house is not None else None
        record = Person.objects.create(
            id_number=number,
            name="王芳",
            name_pinyin=names.keys("王芳")[0],
            name_initials="wf",
            region_code=region,
            category=category,
            household=household,
            source=Source.VILLAGE,
        )
        exempt = status.startswith("exempt") and selectors.is_target(campaign, record)
        if exempt:
            services.exempt_person(
                user=hq, campaign_id=campaign.pk, person_id=record.pk, reason="away"
            )
        tested = status in ("sampled", "exempt_sampled")
        if tested:
            rows.append(
                ScanRow(
                    device_sample_id=f"d{record.pk}",
                    tube=f"T{tube}",
                    sampled_at=now,
                    id_number=number,
                    capacity=20,
                )
            )
        persons.append(
            {
                "region": region,
                "category": category,
                "exempt": exempt,
                "tested": tested,
                "tube": tube,
                "household": str(household.pk) if household else "",
                "id": record.pk,
            }
        )
    report = services.ingest_samples(user=sampler, campaign_id=campaign.pk, rows=rows)
    assert report.accepted == len(rows)
    results = [(f"T{i}", r, i + 1) for i, r in enumerate(plan["results"]) if r]
    if results:
        services.record_results(
            user=sampler, campaign_id=campaign.pk, results=results, source="lab"
        )
    resulted_tubes = {i for i, r in enumerate(plan["results"]) if r}
    for p in persons:
        p["resulted"] = p["tube"] in resulted_tubes

    for under, length in ((COUNTY, 9), (FUQIANG, 12), (VILLAGE_A, 15)):
        expected = brute_force(persons, campaign, under, lambda p, n=length: p["region"][:n])
        assert as_counts(selectors.coverage(hq, campaign, under)) == expected, under
    households_expected = brute_force(persons, campaign, GRID_A1, lambda p: p["household"])
    household_coverage = selectors.coverage(hq, campaign, GRID_A1)
    assert household_coverage.level == "household"
    assert as_counts(household_coverage) == households_expected

    # A village cadre sees the round from the village, and nothing of other villages.
    mine = selectors.coverage(cadre, campaign)
    in_village = brute_force(persons, campaign, VILLAGE_A, lambda p: "all")
    totals = in_village.get("all", [0, 0, 0, 0])
    assert mine.region_code == VILLAGE_A
    assert [mine.total.target, mine.total.exempt, mine.total.tested, mine.total.resulted] == totals

    untested = {p.pk for p in selectors.untested(hq, campaign)}
    expected_untested = {
        p["id"]
        for p in persons
        if any(p["region"].startswith(c) for c in campaign.region_codes)
        and (not campaign.categories or p["category"] in campaign.categories)
        and not p["tested"]
        and not p["exempt"]
    }
    assert untested == expected_untested
    total = selectors.coverage(hq, campaign, COUNTY).total
    assert total.untested == len(expected_untested)
    assert Counter(r.key for r in selectors.coverage(hq, campaign, COUNTY).rows) == Counter(
        {k: 1 for k in brute_force(persons, campaign, COUNTY, lambda p: p["region"][:9])}
    )


def test_exemptions_need_a_reason_and_a_target(round_, hq, people, make_user):
    from fangkong.core.errors import NotFound, ValidationFailed

    (person,) = people(1)
    with pytest.raises(ValidationFailed):
        services.exempt_person(user=hq, campaign_id=round_.pk, person_id=person.pk, reason="other")
    exemption = services.exempt_person(
        user=hq, campaign_id=round_.pk, person_id=person.pk, reason="bedridden", note="卧床"
    )
    assert exemption.region_code == GRID_A1
    assert list(selectors.exemptions(hq, round_)) == [exemption]
    outsider = make_user(Role.VILLAGE_CADRE, GRID_C1)
    assert list(selectors.exemptions(outsider, round_)) == []
    with pytest.raises(NotFound):
        services.exempt_person(
            user=outsider, campaign_id=round_.pk, person_id=person.pk, reason="away"
        )


def test_due_tests_from_a_schedule(round_, hq, sampler, people):
    (person,) = people(1)
    today = timezone.localdate()
    schedule = services.schedule_tests(
        person=person,
        due_dates=[today, today + dt.timedelta(days=3)],
        origin="居家隔离第1、4天核酸",
        origin_ref="quarantine.order:1",
    )
    assert [(d.person_id, done) for d, done in selectors.due_tests(hq, today)] == [
        (person.pk, False)
    ]
    services.record_scan(
        user=sampler, campaign_id=round_.pk, person=person.id_number, tube="DUE1", capacity=10
    )
    assert [done for _, done in selectors.due_tests(hq, today)] == [True]
    # Scheduling again from the same origin replaces the schedule.
    again = services.schedule_tests(
        person=person, due_dates=[today], origin="改期", origin_ref="quarantine.order:1"
    )
    assert again.pk != schedule.pk
    assert len(selectors.due_tests(hq, today + dt.timedelta(days=3))) == 0
