"""Self-inspection rules and daily figures of places, with hypothesis for the gathering rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from fangkong.core import figures, inspection
from fangkong.places import services
from fangkong.places.models import GatheringKind, Place
from tests.conftest import FUQIANG, GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


@given(kind=st.sampled_from(GatheringKind.values), tables=st.integers(min_value=0, max_value=1000))
def test_may_hold_is_the_stated_rule(kind, tables):
    refused = services.may_hold(kind, tables)
    assert bool(refused) == (kind == GatheringKind.BANQUET or tables > services.MAX_TABLES_HELD)


@given(kind=st.sampled_from([k for k, _ in services.PlaceKind.choices]))
def test_rounds_required_is_at_least_one(kind):
    assert services.rounds_required(kind) in (1, 2)


def _age(place, days):
    Place.objects.filter(pk=place.pk).update(created_at=timezone.now() - dt.timedelta(days=days))


def test_inspection_overdue(cadre_a, place_a):
    now = timezone.now()
    _age(place_a, 20)
    found = inspection.run("places.inspection_overdue", inspection.RuleQuery(VILLAGE_A, now))
    assert [f.ref for f in found] == [f"places.place:{place_a.pk}"]
    services.record_inspection(
        actor=cadre_a,
        place_id=place_a.pk,
        outcomes=[services.ItemOutcome(i.pk, True) for i in services.checklist(place_a.kind)],
    )
    assert not inspection.run("places.inspection_overdue", inspection.RuleQuery(VILLAGE_A, now))
    # Outside the prefix nothing is reported.
    assert not inspection.run("places.inspection_overdue", inspection.RuleQuery("230231100", now))


def test_gathering_pending_on_its_day_and_held_over_the_limit(cadre_a, township):
    g = services.record_gathering(
        actor=cadre_a,
        data=services.GatheringInput(
            kind="wedding",
            region_code=GRID_A1,
            place_text="院内",
            organiser_name="孙丽",
            date=timezone.localdate(),
            tables=3,
        ),
    )
    found = inspection.run(
        "places.gathering_over_limit", inspection.RuleQuery(FUQIANG, timezone.now())
    )
    assert [f.ref for f in found] == [f"places.gathering:{g.pk}"] and "孙丽" in found[0].what
    services.decide_gathering(actor=township, gathering_id=g.pk, outcome="held", version=1)
    assert not inspection.run(
        "places.gathering_over_limit", inspection.RuleQuery(FUQIANG, timezone.now())
    )


def test_disinfection_missed(cadre_a, place_a):
    _age(place_a, 5)
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    noon = yesterday.replace(hour=12, minute=0)
    services.log_disinfection(actor=cadre_a, place_id=place_a.pk, done_by="王芳", done_at=noon)
    rule = "places.disinfection_missed"
    found = inspection.run(rule, inspection.RuleQuery(VILLAGE_A, timezone.now()))
    assert len(found) == 1 and "1次" in found[0].what
    services.log_disinfection(
        actor=cadre_a, place_id=place_a.pk, done_by="王芳", done_at=noon.replace(hour=18)
    )
    assert not inspection.run(rule, inspection.RuleQuery(VILLAGE_A, timezone.now()))


def test_closed_figure_counts_as_of_the_moment(cadre_a, make_place):
    ktv = make_place(cadre_a, kind="entertainment", name="KTV")
    Place.objects.filter(pk=ktv.pk).update(created_at=timezone.now() - dt.timedelta(days=5))
    closed_at = timezone.now() - dt.timedelta(days=2)
    services.change_status(
        actor=cadre_a,
        place_id=ktv.pk,
        status="closed",
        version=1,
        order_no="1",
        effective_at=closed_at,
    )
    before = figures.FigureQuery(FUQIANG, 12, closed_at - dt.timedelta(hours=1))
    after = figures.FigureQuery(FUQIANG, 12, timezone.now())
    assert figures.compute("places.closed", before) == {}
    assert figures.compute("places.still_open", before) == {VILLAGE_A: 1}
    assert figures.compute("places.closed", after) == {VILLAGE_A: 1}
    assert figures.compute("places.still_open", after) == {}


def test_stopped_tables_figure(cadre_a):
    g = services.record_gathering(
        actor=cadre_a,
        data=services.GatheringInput(
            kind="banquet",
            region_code=GRID_A1,
            place_text="院内",
            organiser_name="赵",
            date=timezone.localdate(),
            tables=35,
        ),
    )
    services.decide_gathering(actor=cadre_a, gathering_id=g.pk, outcome="stopped", version=1)
    query = figures.FigureQuery(FUQIANG, 12, timezone.now())
    assert figures.compute("places.tables_stopped", query) == {VILLAGE_A: 35}
    assert figures.compute("places.gatherings_stopped", query) == {VILLAGE_A: 1}


@settings(max_examples=30, deadline=None)
@given(
    temperature=st.decimals(min_value=30, max_value=45, places=1),
    present=st.booleans(),
    cause=st.text(max_size=5),
)
def test_check_validation_never_accepts_what_it_should_not(temperature, present, cause):
    row = services.CheckInput(1, present, temperature if present else None, "", cause)
    errors = services._validate_check(row)
    if present:
        assert bool(errors) == (not (34 <= temperature <= 42.5))
    else:
        assert bool(errors) == (not cause.strip())


@given(raw=st.sampled_from(["NaN", "sNaN", "Infinity", "-Infinity"]) | st.decimals(allow_nan=True))
def test_odd_temperatures_are_field_errors_not_crashes(raw):
    from decimal import Decimal

    value = Decimal(raw) if isinstance(raw, str) else raw
    errors = services._validate_check(services.CheckInput(1, True, value))
    assert bool(errors) == (not (value.is_finite() and 34 <= value <= Decimal("42.5")))
