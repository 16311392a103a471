"""Coverage stays right while the registry changes during a round: persons registered,
moved (alone or with their household), re-categorised and deleted after the round opened,
through the services, the ORM or a bulk insert. Each check compares the coverage with a
person-by-person count of the database as it is now."""

from __future__ import annotations

import pytest

from fangkong.core.models import Region
from fangkong.people import services as people_services
from fangkong.people.models import Household, Person
from fangkong.testing import selectors, services
from fangkong.testing.models import CoverageCount, Exemption, RegistryCount, Sample
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, GRID_B1, GRID_C1, VILLAGE_A

from .conftest import scan

LEVELS = ((COUNTY, 9), (FUQIANG, 12), (VILLAGE_A, 15))
OUTSIDE = COUNTY + "101201001"  # a grid of another township: not in the round


def person_by_person(campaign, under: str, length: int) -> dict[str, list[int]]:
    """[target, exempt-not-tested, tested, resulted] per region under ``under``."""
    sampled = {
        s.person_id: s.tube.result is not None
        for s in Sample.objects.filter(campaign=campaign, attempt=0).select_related("tube")
    }
    exempt = set(Exemption.objects.filter(campaign=campaign).values_list("person_id", flat=True))
    counts: dict[str, list[int]] = {}
    for p in Person.objects.all():
        if not selectors.is_target(campaign, p) or not p.region_code.startswith(under):
            continue
        row = counts.setdefault(p.region_code[:length], [0, 0, 0, 0])
        row[0] += 1
        row[1] += p.pk in exempt and p.pk not in sampled
        row[2] += p.pk in sampled
        row[3] += sampled.get(p.pk, False)
    return counts


def assert_exact(user, campaign) -> None:
    for under, length in LEVELS:
        got = {
            r.key: [r.target, r.exempt, r.tested, r.resulted]
            for r in selectors.coverage(user, campaign, under).rows
        }
        assert got == person_by_person(campaign, under, length), under
    by_grid = selectors.coverage(user, campaign, COUNTY, by_grid=True)
    regions = dict(Region.objects.values_list("code", "name"))
    assert all(r.name == regions.get(r.key, r.key) for r in by_grid.rows)
    assert all(r.name != r.key for r in selectors.coverage(user, campaign, COUNTY).rows)
    assert {r.key: r.tested for r in by_grid.rows} == {
        k: v[2] for k, v in person_by_person(campaign, COUNTY, 15).items()
    }


@pytest.fixture
def sampled_round(round_, hq, sampler, people, make_person):
    """Ten persons of grid A1 sampled into one pool with a result, one exempted, one of
    grid A2 untested."""
    persons = people(10)
    report = services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(p, "POOL-A") for p in persons[:9]]
    )
    assert report.accepted == 9
    services.record_results(
        user=sampler, campaign_id=round_.pk, source="lab", results=[("POOL-A", "negative", 1)]
    )
    services.exempt_person(user=hq, campaign_id=round_.pk, person_id=persons[9].pk, reason="away")
    make_person(GRID_A2, "李娜")
    assert_exact(hq, round_)
    return persons


def test_persons_registered_during_the_round_are_to_be_tested(
    round_, hq, sampled_round, make_person
):
    make_person(GRID_B1, "新登记")
    Person.objects.bulk_create(
        Person(name=f"批量{i}", region_code=GRID_A2, source="import") for i in range(3)
    )
    total = selectors.coverage(hq, round_, COUNTY).total
    assert (total.target, total.should_test, total.tested) == (15, 14, 9)
    assert_exact(hq, round_)


def test_a_sampled_person_who_moves_takes_the_tallies_along(round_, hq, sampled_round, make_user):
    from fangkong.core.roles import Role

    mover, exempted = sampled_round[0], sampled_round[9]
    clerk = make_user(Role.COUNTY_HQ, COUNTY)
    people_services.update_person(
        user=clerk,
        person_id=mover.pk,
        expected_version=1,
        data={"region_code": GRID_B1},
        reason="搬家",
    )
    Person.objects.filter(pk=exempted.pk).update(region_code=GRID_A2)
    assert_exact(hq, round_)
    grid_b1 = selectors.coverage(hq, round_, GRID_B1[:12]).rows
    assert [(r.key, r.target, r.tested, r.resulted) for r in grid_b1] == [(GRID_B1, 1, 1, 1)]
    # The denormalised keys follow the person: the new grid's worker sees the sample.
    assert Sample.objects.get(person=mover).region_code == GRID_B1
    assert Exemption.objects.get(person=exempted).region_code == GRID_A2
    tally = CoverageCount.objects.get(campaign=round_, region_code=GRID_A1)
    assert (tally.tested, tally.resulted) == (8, 8)


def test_moving_out_of_the_round_s_area_and_back(round_, hq, sampled_round):
    mover = sampled_round[1]
    Person.objects.filter(pk=mover.pk).update(region_code=OUTSIDE)
    assert selectors.coverage(hq, round_, COUNTY).total.tested == 8
    assert_exact(hq, round_)
    Person.objects.filter(pk=mover.pk).update(region_code=GRID_A1)
    assert selectors.coverage(hq, round_, COUNTY).total.tested == 9
    assert_exact(hq, round_)


def test_a_household_moves_with_its_members(round_, hq, sampled_round, make_user):
    from fangkong.core.roles import Role

    household = Household.objects.get(region_id=GRID_A1)
    clerk = make_user(Role.COUNTY_HQ, COUNTY)
    people_services.update_household(
        user=clerk,
        household_id=household.pk,
        expected_version=household.version,
        data={"region_code": GRID_A2},
    )
    assert selectors.coverage(hq, round_, FUQIANG).total.target == 11
    rows = {r.key: r for r in selectors.coverage(hq, round_, VILLAGE_A).rows}
    assert list(rows) == [GRID_A2] and rows[GRID_A2].tested == 9
    assert_exact(hq, round_)


def test_deleted_persons_leave_the_counts(round_, hq, sampled_round):
    sampled_round[2].delete()  # sampled: the sample goes with the person
    sampled_round[9].delete()  # exempted
    total = selectors.coverage(hq, round_, COUNTY).total
    assert (total.target, total.exempt, total.tested, total.resulted) == (9, 0, 8, 8)
    assert_exact(hq, round_)


def test_a_change_of_category_in_a_round_of_some_categories(hq, sampler, people):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    returnees = services.create_campaign(
        user=hq,
        name="返乡人员核酸",
        region_codes=[FUQIANG],
        categories=["returnee"],
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
    )
    persons = people(4, category="returnee")
    services.ingest_samples(
        user=sampler, campaign_id=returnees.pk, rows=[scan(p, "R-1") for p in persons[:2]]
    )
    Person.objects.filter(pk=persons[3].pk).update(category="resident")
    Person.objects.filter(pk=persons[0].pk).update(region_code=GRID_A2)
    assert selectors.coverage(hq, returnees, COUNTY).total.target == 3
    assert_exact(hq, returnees)


def test_the_registry_counts_equal_the_registry(round_, sampled_round, make_person):
    from django.db.models import Count

    make_person(GRID_C1, "王五", category="floating")
    Person.objects.filter(pk=sampled_round[3].pk).update(category="returnee")
    sampled_round[4].delete()
    expected = {
        (r["region_code"], r["category"]): r["n"]
        for r in Person.objects.values("region_code", "category").annotate(n=Count("id"))
    }
    kept = {
        (r.region_code, r.category): r.persons for r in RegistryCount.objects.exclude(persons=0)
    }
    assert kept == expected
