"""Classification follows from the graph: hand-built graphs with known answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.core.roles import Role
from fangkong.tracing import graph, services
from fangkong.tracing.models import CaseStatus, Classification, TaskStatus, TracingTask
from tests.conftest import COUNTY, GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


def levels() -> dict[int, str]:
    return dict(
        Classification.objects.filter(ended_at__isnull=True).values_list("person_id", "level")
    )


def test_chain_case_close_secondary(people, case_of, link):
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    link(case, p["p1"], p["p2"])
    link(case, p["p2"], p["p3"])  # three hops away: nobody's business yet
    assert levels() == {p["p1"].pk: "close", p["p2"].pk: "secondary"}


def test_cycle_and_a_person_both_close_and_secondary(people, case_of, link):
    p = people
    case = case_of(p["p0"])
    # p0 - p1 - p2 - p0 is a loop; p2 met the case directly as well: close wins.
    link(case, p["p0"], p["p1"])
    link(case, p["p1"], p["p2"])
    link(case, p["p2"], p["p0"])
    # p3 met p1 and p2 (both close): secondary, once.
    link(case, p["p1"], p["p3"])
    link(case, p["p3"], p["p2"])
    assert levels() == {p["p1"].pk: "close", p["p2"].pk: "close", p["p3"].pk: "secondary"}
    assert TracingTask.objects.filter(person=p["p3"], status=TaskStatus.OPEN).count() == 1


def test_excluded_and_suspected_cases_contribute_nothing(people, case_of, link):
    p = people
    excluded = case_of(p["p0"], status=CaseStatus.EXCLUDED)
    suspected = case_of(p["p4"], status=CaseStatus.SUSPECTED)
    link(excluded, p["p0"], p["p1"])
    link(suspected, p["p4"], p["p5"])
    assert levels() == {}
    assert graph.contacts_of_all() == []


def test_secondary_contact_met_only_through_an_event(people, case_of, link, investigator):
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    start = timezone.now() - dt.timedelta(hours=20)
    services.record_event(
        user=investigator,
        data=services.EventInput(
            kind="dinner",
            title="王家聚餐",
            place="富强村王家",
            region_code=VILLAGE_A,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            attendees=((p["p1"].pk, "confirmed"), (p["p6"].pk, "probable")),
        ),
    )
    assert levels()[p["p6"].pk] == "secondary"
    task = TracingTask.objects.get(person=p["p6"])
    assert task.level == "secondary" and task.status == TaskStatus.OPEN


def test_co_attendees_of_a_case_inside_the_window_only(people, case_of, investigator):
    p = people
    case_of(p["p0"])
    for days_ago, who in ((1, "p1"), (30, "p2")):
        start = timezone.now() - dt.timedelta(days=days_ago)
        services.record_event(
            user=investigator,
            data=services.EventInput(
                kind="wedding",
                title=f"婚礼{days_ago}",
                place="村委会",
                region_code=VILLAGE_A,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=4),
                reported=True,
                attendees=((p["p0"].pk, "confirmed"), (p[who].pk, "confirmed")),
            ),
        )
    assert levels() == {p["p1"].pk: "close"}


def test_excluding_the_case_withdraws_its_contacts(people, case_of, link, investigator):
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    link(case, p["p1"], p["p2"])
    other = case_of(p["p5"])
    link(other, p["p5"], p["p2"])  # p2 is also a direct contact of another case
    assert levels() == {p["p1"].pk: "close", p["p2"].pk: "close"}
    case.refresh_from_db()
    services.change_case_status(
        user=investigator, case_id=case.pk, version=case.version, status=CaseStatus.EXCLUDED
    )
    # p1 met p2, who stays a close contact of the other case: p1 drops to secondary and
    # keeps the open task, now for a secondary contact.
    assert levels() == {p["p1"].pk: "secondary", p["p2"].pk: "close"}
    task = TracingTask.objects.get(person=p["p1"])
    assert (task.status, task.level) == (TaskStatus.OPEN, "secondary")
    # Confirmed again (a second test came back positive): close again, one open task.
    case.refresh_from_db()
    services.change_case_status(
        user=investigator, case_id=case.pk, version=case.version, status=CaseStatus.CONFIRMED
    )
    assert levels() == {p["p1"].pk: "close", p["p2"].pk: "close"}
    assert TracingTask.objects.filter(person=p["p1"], status=TaskStatus.OPEN).count() == 1


def test_upgrade_from_secondary_to_close_replaces_the_task(people, case_of, link):
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    link(case, p["p1"], p["p2"])
    assert levels()[p["p2"].pk] == "secondary"
    link(case, p["p0"], p["p2"])
    assert levels()[p["p2"].pk] == "close"
    tasks = TracingTask.objects.filter(person=p["p2"]).order_by("id")
    assert [(t.level, t.status) for t in tasks] == [
        ("secondary", TaskStatus.CANCELLED),
        ("close", TaskStatus.OPEN),
    ]


def test_tasks_go_to_the_grid_worker_of_the_grid(people, case_of, link, make_user, investigator):
    grid_worker = make_user(Role.GRID_WORKER, GRID_A1)
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    assert TracingTask.objects.get(person=p["p1"]).assignee == grid_worker
    assert case.investigator == investigator  # the least busy (only) investigator


def test_required_isolation_is_ordered_by_a_cadre_who_may(people, case_of, link, make_user):
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    link(case, p["p1"], p["p2"])
    row = Classification.objects.get(person=p["p1"])
    assert row.measure and row.isolation_order_id is None
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    made = services.order_required_isolation(user=cadre)
    assert made == 2
    from fangkong.quarantine.models import IsolationOrder

    orders = {o.person_id: o.kind for o in IsolationOrder.objects.all()}
    assert orders == {p["p1"].pk: "centralised", p["p2"].pk: "home"}


def test_contacts_of_one_case_and_of_a_cluster(people, case_of, link):
    p = people
    a = case_of(p["p0"])
    b = case_of(p["p5"])
    link(a, p["p0"], p["p1"])
    link(b, p["p5"], p["p6"])
    link(b, p["p6"], p["p7"])
    assert {r.person_id for r in graph.contacts_of_cases([a.pk])} == {p["p1"].pk}
    both = {(r.person_id, r.level) for r in graph.contacts_of_cases([a.pk, b.pk])}
    assert both == {(p["p1"].pk, "close"), (p["p6"].pk, "close"), (p["p7"].pk, "secondary")}


def test_exclusion_ends_classifications_that_rested_on_the_case(
    people, case_of, link, investigator
):
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    link(case, p["p1"], p["p2"])
    case.refresh_from_db()
    services.change_case_status(
        user=investigator, case_id=case.pk, version=case.version, status=CaseStatus.EXCLUDED
    )
    assert levels() == {}
    assert set(TracingTask.objects.values_list("status", flat=True)) == {TaskStatus.CANCELLED}
    assert Classification.objects.filter(ended_at__isnull=False).count() == 2


def test_new_cases_go_to_the_least_busy_investigator_before_the_reserve(
    make_user, people, case_of, investigator
):
    """Three investigators; one only in the reserve pool: the two on duty share the cases."""
    on_duty = make_user(Role.INVESTIGATOR, COUNTY)
    reserve = make_user(Role.INVESTIGATOR, COUNTY)
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    services.create_team(
        user=hq, name="县流调一队", region_code=COUNTY, member_ids=(investigator.pk, on_duty.pk)
    )
    services.create_team(
        user=hq, name="预备队", region_code=COUNTY, is_reserve=True, member_ids=(reserve.pk,)
    )
    assigned = [case_of(people[f"p{i}"]).investigator for i in range(4)]
    assert sorted(u.pk for u in assigned) == sorted([investigator.pk, on_duty.pk] * 2)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_incremental_classification_equals_a_full_recomputation(
    seed, people, case_of, link, investigator
):
    """Cases, links and events added, cases excluded and confirmed again, in random order:
    after each step, the stored classification — kept up to date around each change — is
    exactly what a full recomputation of the whole graph gives."""
    import random

    rng = random.Random(seed)
    persons = [people[f"p{i}"] for i in range(10)] + [people["a2_0"], people["a2_1"]]
    cases = {}
    for _step in range(25):
        move = rng.random()
        a, b = rng.sample(persons, 2)
        if move < 0.2 and a.pk not in cases:
            cases[a.pk] = case_of(a)
        elif move < 0.35 and cases:
            # Exclude a case, or confirm an excluded one again.
            case = rng.choice(list(cases.values()))
            case.refresh_from_db()
            services.change_case_status(
                user=investigator,
                case_id=case.pk,
                version=case.version,
                status="confirmed" if case.status == "excluded" else "excluded",
            )
        elif move < 0.8:
            anchor = cases.get(a.pk) or next(iter(cases.values()), None) or case_of(a)
            cases.setdefault(anchor.person_id, anchor)
            link(anchor, a, b, days_ago=rng.randint(0, 12))
        else:
            start = timezone.now() - dt.timedelta(days=rng.randint(0, 10))
            services.record_event(
                user=investigator,
                data=services.EventInput(
                    kind="market",
                    title="集市",
                    place="富强村集市",
                    region_code=VILLAGE_A,
                    starts_at=start,
                    ends_at=start,
                    attendees=tuple((p.pk, "confirmed") for p in rng.sample(persons, 3)),
                ),
            )
        stored = levels()
        outcome = services.reclassify()
        assert (outcome.new, outcome.upgraded, outcome.downgraded, outcome.ended) == (
            [],
            [],
            [],
            [],
        ), _step
        assert levels() == stored


def test_the_worker_recomputes_the_graph_once_a_day(people, case_of, link):
    from fangkong.core import periodic

    job = {j.name: j for j in periodic.jobs()}["tracing.reclassify"]
    assert job.every_seconds == 24 * 3600
    p = people
    case = case_of(p["p0"])
    link(case, p["p0"], p["p1"])
    Classification.objects.all().delete()  # changed behind the services' back
    job.run()
    assert levels() == {p["p1"].pk: "close"}
