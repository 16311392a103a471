"""Zone membership and measures equal a brute-force evaluation, for nested and overlapping
zones, households picked one by one, and a household moved between zones."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core.roles import Role
from fangkong.emergency import services
from fangkong.emergency.membership import ZoneIndex, ZoneShape, covers
from fangkong.emergency.models import STRICTNESS, ZoneMeasure
from fangkong.people.models import Household
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_A2, GRID_B1, VILLAGE_A, VILLAGE_B

CODES = [COUNTY, FUQIANG, VILLAGE_A, VILLAGE_B, GRID_A1, GRID_A2, GRID_B1]
RESIDENCES = [VILLAGE_A, GRID_A1, GRID_A2, GRID_B1, VILLAGE_B]
KINDS = ["sealed", "controlled", "prevention"]


def brute_force(zones: list[ZoneShape], region_code: str, household_id: int | None):
    covering = [z for z in zones if covers(z, region_code, household_id)]
    if not covering:
        return None
    return min(covering, key=lambda z: (-STRICTNESS[z.kind], z.id))


zone_st = st.builds(
    lambda i, kind, codes, households: ZoneShape(i, kind, frozenset(codes), frozenset(households)),
    st.integers(1, 10_000),
    st.sampled_from(KINDS),
    st.sets(st.sampled_from(CODES), max_size=3),
    st.sets(st.integers(1, 6), max_size=3),
)


@given(
    zones=st.lists(zone_st, max_size=6, unique_by=lambda z: z.id),
    residence=st.sampled_from(RESIDENCES),
    household=st.one_of(st.none(), st.integers(1, 6)),
)
def test_the_index_gives_the_strictest_covering_zone_like_brute_force(zones, residence, household):
    index = ZoneIndex(zones)
    expected = brute_force(zones, residence, household)
    got = index.effective(residence, household)
    assert (got.id if got else None) == (expected.id if expected else None)


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


def _draft(kind, codes=(), households=(), name="区"):
    return services.ZoneDraft(
        name=name,
        kind=kind,
        region_codes=list(codes),
        household_ids=list(households),
        legal_basis="指挥部令第1号",
        approved_by="王主任",
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(
        st.tuples(
            st.sampled_from(KINDS), st.sets(st.sampled_from(CODES[1:]), max_size=2), st.booleans()
        ),
        min_size=1,
        max_size=4,
    ),
    lift_first=st.booleans(),
)
@pytest.mark.django_db
def test_stored_measures_equal_brute_force_after_declaring_and_lifting(
    hq, make_person, plan, lift_first
):
    ZoneMeasure.objects.all().delete()
    from fangkong.emergency.models import Zone

    Zone.objects.all().delete()
    home = Household.objects.create(region_id=GRID_A2, address="富强村2组5号")
    people = [
        make_person(GRID_A1, "张一"),
        make_person(GRID_A2, "张二", household=home),
        make_person(GRID_B1, "张三"),
        make_person(VILLAGE_A, "张四"),
    ]
    zones = []
    for kind, codes, with_household in plan:
        households = [home.pk] if with_household else []
        if not codes and not households:
            households = [home.pk]
        zones.append(
            services.declare_zone(actor=hq, draft=_draft(kind, codes, households), run_now=True)
        )
    if lift_first:
        services.lift_zone(
            actor=hq,
            zone_id=zones[0].pk,
            version=zones[0].version,
            legal_basis="解除令",
            approved_by="王主任",
        )
    shapes = services.active_shapes()
    for person in people:
        expected = brute_force(shapes, person.region_code, person.household_id)
        stored = ZoneMeasure.objects.filter(person=person).first()
        assert (stored.zone_id if stored else None) == (expected.id if expected else None)
    Household.objects.filter(pk=home.pk).delete()


@pytest.mark.django_db
def test_a_household_moved_between_zones_takes_the_new_zone_measures(hq, make_person):
    home = Household.objects.create(region_id=GRID_A1, address="富强村1组8号")
    person = make_person(GRID_A1, "李强", household=home)
    sealed = services.declare_zone(
        actor=hq, draft=_draft("sealed", households=[home.pk], name="8号楼"), run_now=True
    )
    controlled = services.declare_zone(
        actor=hq, draft=_draft("controlled", codes=[VILLAGE_A], name="富强村"), run_now=True
    )
    assert ZoneMeasure.objects.get(person=person).zone_id == sealed.pk
    # The household is taken out of the sealed zone (a new version) and falls back.
    services.change_zone(
        actor=hq,
        zone_id=sealed.pk,
        version=sealed.version,
        draft=_draft("sealed", codes=[GRID_A2], name="8号楼"),
        run_now=True,
    )
    assert ZoneMeasure.objects.get(person=person).zone_id == controlled.pk
    assert sealed.changes.count() == 2
