"""Contracts of the extension points modules plug into: daily figures, self-inspection
rules, the person timeline, navigation modules and role homes, demo seeders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.core import demo, figures, inspection, modules, timeline
from fangkong.core.roles import Action, Role
from fangkong.people.models import Person
from tests.conftest import COUNTY, GRID_A1, GRID_A2, GRID_B1, GRID_C1, VILLAGE_A

pytestmark = pytest.mark.django_db

GRIDS = [GRID_A1, GRID_A2, GRID_B1, GRID_C1]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    placed=st.lists(st.sampled_from(GRIDS), max_size=25),
    prefix=st.sampled_from(["", COUNTY, COUNTY + "106", VILLAGE_A]),
    length=st.sampled_from([9, 12, 15]),
)
def test_count_by_region_equals_a_brute_force_count(make_person, placed, prefix, length):
    Person.objects.all().delete()
    for i, grid in enumerate(placed):
        make_person(grid, f"王{i}")
    if length < len(prefix):
        return
    query = figures.FigureQuery(prefix=prefix, group_length=length, at=timezone.now())
    counted = figures.count_by_region(Person.objects.all(), query)
    expected: dict[str, int] = {}
    for grid in placed:
        if grid.startswith(prefix):
            expected[grid[:length]] = expected.get(grid[:length], 0) + 1
    assert counted == expected


def test_figures_register_compute_and_order():
    seen = []

    def compute(query):
        seen.append(query)
        return {"230231106": 3, "230231100": None}

    figures.register(
        figures.Figure(key="test.things", label="东西", module="test", compute=compute, order=1)
    )
    try:
        at = timezone.make_aware(dt.datetime(2026, 12, 2, 0, 30))
        query = figures.FigureQuery(prefix=COUNTY, group_length=9, at=at)
        assert figures.compute("test.things", query) == {"230231106": 3, "230231100": 0}
        assert query.day == dt.date(2026, 12, 2)  # Asia/Shanghai, not UTC (01 Dec 16:30)
        assert figures.figures()[0].key == "test.things"
        with pytest.raises(ValueError):
            figures.register(
                figures.Figure(key="x", label="x", module="t", compute=compute, kind="other")
            )
    finally:
        figures._FIGURES.pop("test.things")


def test_rules_keep_to_the_prefix_and_their_own_findings():
    now = timezone.now()

    def run(query):
        for code in (VILLAGE_A + "001", COUNTY + "100201"):
            yield inspection.Finding(
                rule="test.rule", ref=f"t:{code}", region_code=code, what="x", since=now
            )

    inspection.register(
        inspection.Rule(
            key="test.rule", label="测试", module="test", aspect=inspection.Aspect.RISK, run=run
        )
    )
    try:
        found = inspection.run("test.rule", inspection.RuleQuery(prefix=VILLAGE_A, now=now))
        assert [f.region_code for f in found] == [VILLAGE_A + "001"]
        assert len(inspection.run("test.rule", inspection.RuleQuery(prefix="", now=now))) == 2
        with pytest.raises(ValueError):
            inspection.register(
                inspection.Rule(key="bad", label="x", module="t", aspect="nine", run=run)
            )
    finally:
        inspection._RULES.pop("test.rule")


def test_the_notice_rule_is_registered_with_an_aspect():
    keys = {r.key for r in inspection.rules()}
    assert "core.notice_unconfirmed" in keys
    assert all(r.aspect in inspection.Aspect.values for r in inspection.rules())


def test_timeline_merges_sources_newest_first_and_survives_a_broken_source(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    day = dt.date(2026, 11, 30)

    def stays(actor, person_id):
        return [timeline.TimelineEntry(at=day, module="a", kind="停留", title="武汉")]

    def orders(actor, person_id):
        at = timezone.make_aware(dt.datetime(2026, 12, 1, 9))
        return [timeline.TimelineEntry(at=at, module="b", kind="隔离", title="居家隔离")]

    def broken(actor, person_id):
        raise RuntimeError("bug")

    for key, source, permission in (
        ("t.stays", stays, Action.SCREENING_VIEW),
        ("t.orders", orders, Action.QUARANTINE_MANAGE),
        ("t.broken", broken, ""),
    ):
        timeline.register(timeline.TimelineSource(key, "t", key, permission, source))
    try:
        titles = [e.title for e in timeline.entries_for(cadre, 1) if e.module in "ab"]
        assert titles == ["居家隔离", "武汉"]
        # The doctor may not manage isolation orders: that source is not asked for them.
        assert [e.title for e in timeline.entries_for(doctor, 1) if e.module in "ab"] == ["武汉"]
    finally:
        for key in ("t.stays", "t.orders", "t.broken"):
            timeline._SOURCES.pop(key)


def test_modules_and_homes_follow_the_role(make_user):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    supply = make_user(Role.SUPPLY_OFFICER, VILLAGE_A)
    slugs = {m.slug for m in modules.visible_to(doctor)}
    assert "quarantine" in slugs and "tracing" not in slugs
    assert "people" not in {m.slug for m in modules.visible_to(supply)}
    assert modules.home_url_for(doctor) == "/quarantine/round/"
    assert modules.home_url_for(supply) == "/supplies/"  # the supplies module (merged) serves it


def test_home_page_opens_on_the_role_work(make_user, client_for):
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    response = client_for(doctor).get("/")
    assert response.status_code == 302 and response["Location"] == "/quarantine/round/"
    assert client_for(doctor).get("/overview/").status_code == 200


def test_demo_seeders_run_in_order():
    keys = [s.key for s in demo.seeders()]
    assert keys.index("quarantine") < keys.index("tracing")


def test_a_figures_list_page_carries_its_filters_and_the_boards_region():
    from fangkong.core.figures import list_page

    assert list_page("screening:visits")("230231106") == "/screening/visits/"
    closed = list_page("places:place_list", region="region", status="closed")
    assert closed("230231106") == "/places/list/?status=closed&region=230231106"
    assert list_page("checkpoints:home", region="region")("") == "/checkpoints/"
