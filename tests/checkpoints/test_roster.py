"""Duty rosters: every hard rule holds on the solver's output over random pools; shortfalls
are explained in words; hand edits are re-checked; the stored roster and its publication."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.checkpoints import roster, services
from fangkong.checkpoints.models import Assignment, DutyStaff, Post
from fangkong.core.errors import ValidationFailed
from tests.conftest import FUQIANG, VILLAGE_A, VILLAGE_B

MONDAY = dt.date(2026, 12, 7)


@st.composite
def pools(draw):
    """1–2 townships of 1–3 posts, 6–9 staff a post with random ages, education, leave."""
    posts, staff = [], []
    sid = 0
    for t in range(draw(st.integers(1, 2))):
        township = f"t{t}"
        n_posts = draw(st.integers(1, 3))
        for p in range(n_posts):
            post_id = t * 10 + p
            posts.append(roster.PostIn(post_id, f"卡点{post_id}", township))
            for i in range(draw(st.integers(7, 9))):
                sid += 1
                off = (
                    frozenset(draw(st.sets(st.integers(0, 3), max_size=1)))
                    if i >= 6
                    else frozenset()
                )
                staff.append(
                    roster.StaffIn(
                        sid,
                        f"人{sid}",
                        township,
                        post_id,
                        draw(st.integers(20, 65)),
                        draw(st.integers(1, 4)),
                        leader=(i < 3 and p == 0) or (i == 0),
                        off_days=off,
                    )
                )
    return roster.Problem(MONDAY, draw(st.integers(1, 4)), posts, staff)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_every_hard_rule_holds_on_the_solvers_roster(problem):
    solution = roster.solve(problem, time_limit=3, stop_at_first=True)
    if not solution.feasible:
        # Only a pool the explanation (or the solver) shows to be short may be refused.
        assert solution.problems
        return
    assert roster.violations(problem, solution.slots) == []
    staff = {s.id: s for s in problem.staff}
    for slot in solution.slots:
        assert slot.day not in staff[slot.staff_id].off_days
        assert staff[slot.staff_id].post_id == slot.post_id


def test_shortfall_is_explained_in_words():
    posts = [roster.PostIn(3, "3号卡点", "t")]
    staff = [roster.StaffIn(i, f"人{i}", "t", 3, 30 + i * 5, 2, leader=i < 3) for i in range(4)]
    solution = roster.solve(roster.Problem(dt.date(2027, 2, 12), 2, posts, staff))
    assert not solution.feasible
    assert solution.problems[0] == "3号卡点 2月12日需要 6 人（每班 2 人×3 班），可排 4 人"


def test_missing_leaders_are_explained():
    posts = [roster.PostIn(1, "1号卡点", "t")]
    staff = [roster.StaffIn(i, f"人{i}", "t", 1, 40, 2, leader=i == 0) for i in range(8)]
    solution = roster.solve(roster.Problem(MONDAY, 1, posts, staff))
    assert not solution.feasible
    assert "带班领导" in solution.problems[0] and "可排 1 人" in solution.problems[0]


def test_violations_name_each_broken_rule():
    posts = [roster.PostIn(1, "1号卡点", "t")]
    staff = [roster.StaffIn(1, "甲", "t", 1, 30, 2, leader=True, off_days=frozenset({0}))]
    slots = [roster.Slot(1, 1, 0, 0), roster.Slot(1, 1, 0, 1)]
    found = roster.violations(roster.Problem(MONDAY, 1, posts, staff), slots)
    text = "\n".join(found)
    assert "请假" in text and "休息不足" in text and "只有 1 人" in text and "无带班领导" in text


def test_pairs_older_and_younger_where_possible():
    posts = [roster.PostIn(1, "1号卡点", "t")]
    staff = [
        roster.StaffIn(i, f"人{i}", "t", 1, 25 if i % 2 else 55, 1 + i % 4, leader=i < 3)
        for i in range(8)
    ]
    problem = roster.Problem(MONDAY, 2, posts, staff)
    solution = roster.solve(problem, time_limit=2)
    assert solution.feasible
    ages = {s.id: s.age for s in staff}
    by_shift: dict[tuple[int, int], list[int]] = {}
    for slot in solution.slots:
        by_shift.setdefault((slot.day, slot.shift), []).append(ages[slot.staff_id])
    mixed = sum(1 for a in by_shift.values() if min(a) < 45 <= max(a))
    assert mixed == len(by_shift)


def _pool(n_per_post=8):
    posts = [
        Post.objects.create(name="富强村卡点", kind="village_post", region_code=VILLAGE_A),
        Post.objects.create(name="永胜村卡点", kind="village_post", region_code=VILLAGE_B),
    ]
    for p in posts:
        for i in range(n_per_post):
            DutyStaff.objects.create(
                name=f"{p.name[:2]}{i}",
                township_code=FUQIANG,
                post=p if i % 2 else None,  # half get a home post dealt by the service
                sex="M",
                birth_year=1960 + i * 5,
                education=1 + i % 4,
                role="volunteer",
                leading_cadre=i < 2,
            )
    return posts


@pytest.mark.django_db
def test_solve_store_edit_and_publish(township, staff):
    posts = _pool()
    made, why = services.solve_roster(
        actor=township, township=FUQIANG, starts_on=MONDAY, days=3, time_limit=2
    )
    assert why == [] and made is not None
    assert services.roster_violations(made) == []
    assert made.assignments.count() == 2 * 3 * 3 * 2
    # A hand edit that leaves a shift with one person is stored, and the rule check says so.
    a = made.assignments.first()
    edited, broken = services.edit_roster(
        actor=township,
        roster_id=made.pk,
        version=made.version,
        day=a.day,
        shift=a.shift,
        post_id=a.post_id,
        remove_staff_id=a.staff_id,
    )
    assert any("只有 1 人" in b for b in broken)
    with pytest.raises(ValidationFailed):
        services.publish_roster(actor=township, roster_id=made.pk)
    # Put them back; a stale version is refused.
    from fangkong.core.errors import VersionConflict

    with pytest.raises(VersionConflict):
        services.edit_roster(
            actor=township,
            roster_id=made.pk,
            version=made.version,
            day=a.day,
            shift=a.shift,
            post_id=a.post_id,
            add_staff_id=a.staff_id,
        )
    _, broken = services.edit_roster(
        actor=township,
        roster_id=made.pk,
        version=edited.version,
        day=a.day,
        shift=a.shift,
        post_id=a.post_id,
        add_staff_id=a.staff_id,
    )
    assert broken == []
    published = services.publish_roster(actor=township, roster_id=made.pk)
    assert published.status == "published"
    assert posts[0].pk in set(Assignment.objects.values_list("post_id", flat=True))


@pytest.mark.django_db
def test_infeasible_request_stores_nothing_and_says_why(township):
    _pool(n_per_post=4)
    made, why = services.solve_roster(
        actor=township, township=FUQIANG, starts_on=MONDAY, days=2, time_limit=2
    )
    assert made is None
    assert any("需要 6 人" in w for w in why)
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_roster_outside_the_jurisdiction_is_refused(other_township):
    _pool()
    with pytest.raises(ValidationFailed):
        services.solve_roster(
            actor=other_township, township=FUQIANG, starts_on=MONDAY, days=2, time_limit=2
        )
