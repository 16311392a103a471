"""Duty rosters solved with OR-Tools CP-SAT, and the rules every roster must keep.

Plain data in, plain data out (no database): :func:`solve` takes a :class:`Problem` (posts,
staff with their home post, days) and returns a :class:`Solution`; :func:`violations` checks
any roster — the solver's or one edited by hand — against the hard rules:

1. every post has ``need`` (2) people on each of the three 8-hour shifts of every day;
2. every township has a leading cadre (科级干部) on duty in every shift;
3. nobody works a shift within ``REST_SLOTS`` shifts of their previous one (16 h rest);
4. nobody works while on leave or unavailable, nor away from their home post's township.

Pairing an older with a younger and a more with a less educated member, and a fair spread
of night shifts, are objectives. Before solving, :func:`explain` looks for the plain
shortfalls ("富强卡点 needs 6 people on 12 Feb, 4 are available") so an infeasible request is
answered in words, not with a solver status.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

SHIFTS = 3
SHIFT_LABELS = ("夜班 0:00–8:00", "白班 8:00–16:00", "晚班 16:00–24:00")
NIGHT = 0
REST_SLOTS = 2  # two shifts off (16 hours) after every shift
OLDER_FROM = 45  # age
EDUCATED_FROM = 3  # high school or above


@dataclass(frozen=True)
class PostIn:
    id: int
    name: str
    township: str
    need: int = 2


@dataclass(frozen=True)
class StaffIn:
    id: int
    name: str
    township: str
    post_id: int
    age: int
    education: int
    leader: bool = False
    off_days: frozenset[int] = frozenset()  # day indices on leave / unavailable


@dataclass
class Problem:
    first_day: dt.date
    days: int
    posts: list[PostIn]
    staff: list[StaffIn]


@dataclass(frozen=True)
class Slot:
    staff_id: int
    post_id: int
    day: int
    shift: int


@dataclass
class Solution:
    feasible: bool
    slots: list[Slot] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    first_solution_seconds: float | None = None
    objective: float | None = None
    bound: float | None = None
    status: str = ""
    note: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return abs(self.bound - self.objective) / max(1.0, abs(self.bound))


def _day_label(problem: Problem, day: int) -> str:
    d = problem.first_day + dt.timedelta(days=day)
    return f"{d.month}月{d.day}日"


def explain(problem: Problem) -> list[str]:
    """The plain shortfalls that make a roster impossible, in Chinese ([] when none found)."""
    found: list[str] = []
    by_post: dict[int, list[StaffIn]] = defaultdict(list)
    leaders: dict[str, list[StaffIn]] = defaultdict(list)
    for s in problem.staff:
        by_post[s.post_id].append(s)
        if s.leader:
            leaders[s.township].append(s)
    per_day = SHIFTS  # with 16 h rest, one shift a day each
    for post in problem.posts:
        needed = post.need * per_day
        for day in range(problem.days):
            free = sum(1 for s in by_post[post.id] if day not in s.off_days)
            if free < needed:
                found.append(
                    f"{post.name} {_day_label(problem, day)}需要 {needed} 人"
                    f"（每班 {post.need} 人×3 班），可排 {free} 人"
                )
                break
    for township in sorted({p.township for p in problem.posts}):
        for day in range(problem.days):
            free = sum(1 for s in leaders[township] if day not in s.off_days)
            if free < SHIFTS:
                found.append(
                    f"乡镇 {township} {_day_label(problem, day)}"
                    f"每班需 1 名带班领导（共 {SHIFTS} 人），"
                    f"可排 {free} 人"
                )
                break
    return found


def greedy(problem: Problem) -> set[tuple[int, int]] | None:
    """A quick feasible roster when one is easy to find (the solver's starting hint): slot by
    slot, a leader first for each township, then the members with the fewest shifts who have
    rested. None when the greedy pass gets stuck (the solver then searches on its own)."""
    slots = problem.days * SHIFTS
    posts = {p.id: p for p in problem.posts}
    members: dict[int, list[StaffIn]] = defaultdict(list)
    for s in problem.staff:
        if s.post_id in posts:
            members[s.post_id].append(s)
    by_township: dict[str, list[PostIn]] = defaultdict(list)
    for p in problem.posts:
        by_township[p.township].append(p)
    last: dict[int, int] = {}
    count: dict[int, int] = defaultdict(int)
    nights: dict[int, int] = defaultdict(int)
    chosen: set[tuple[int, int]] = set()
    for t in range(slots):
        day, shift = divmod(t, SHIFTS)

        def free(s: StaffIn, t: int = t, day: int = day) -> bool:
            return day not in s.off_days and last.get(s.id, -99) < t - REST_SLOTS

        def rank(s: StaffIn, shift: int = shift) -> tuple[int, int, int]:
            # Leaders are kept for the slots that need them; nights spread evenly.
            return (
                count[s.id] + (2 if s.leader else 0),
                nights[s.id] if shift == NIGHT else 0,
                s.id,
            )

        def take(s: StaffIn, t: int = t, shift: int = shift) -> None:
            chosen.add((s.id, t))
            last[s.id] = t
            count[s.id] += 1
            if shift == NIGHT:
                nights[s.id] += 1

        for township_posts in by_township.values():
            picked: dict[int, list[StaffIn]] = defaultdict(list)
            leaders = [
                (count[s.id], s, p.id)
                for p in township_posts
                for s in members[p.id]
                if s.leader and free(s)
            ]
            if not leaders:
                return None
            _, leader, post_id = min(leaders, key=lambda row: (row[0], row[1].id))
            take(leader)
            picked[post_id].append(leader)
            for post in township_posts:
                pool = sorted((s for s in members[post.id] if free(s)), key=rank)
                # Prefer a partner that pairs with those already on (older/younger).
                while len(picked[post.id]) < post.need:
                    if not pool:
                        return None
                    on = picked[post.id]
                    best = pool[0]
                    if on:
                        older = on[0].age >= OLDER_FROM
                        for s in pool[:4]:
                            if (s.age >= OLDER_FROM) != older:
                                best = s
                                break
                    pool.remove(best)
                    take(best)
                    picked[post.id].append(best)
    return chosen


class _FirstSolution:
    """Records when the first feasible solution arrived (for the benchmark's figure)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first: float | None = None


def solve(
    problem: Problem, *, time_limit: float = 10.0, workers: int = 2, stop_at_first: bool = False
) -> Solution:
    """Solve the roster; hard rules are constraints, pairing and fairness the objective.

    Townships share no staff, so each is solved on its own (in turn, the time limit split
    between them); the figures add up: the first feasible roster of the county is there when
    every township has its first solution."""
    started = time.monotonic()
    shortfalls = explain(problem)
    if shortfalls:
        return Solution(False, problems=shortfalls, status="explained")
    townships = sorted({p.township for p in problem.posts})
    merged = Solution(True, objective=0.0, bound=0.0, first_solution_seconds=0.0)
    for i, township in enumerate(townships):
        part = Problem(
            problem.first_day,
            problem.days,
            [p for p in problem.posts if p.township == township],
            [s for s in problem.staff if s.township == township],
        )
        left = max(0.2, time_limit - (time.monotonic() - started))
        one = _solve_one(
            part,
            time_limit=left / (len(townships) - i),
            workers=workers,
            stop_at_first=stop_at_first,
        )
        if not one.feasible and one.status == "UNKNOWN":
            # Out of time before the solver reported: the greedy roster keeps every hard
            # rule (checked below), so the township gets it, unimproved.
            hint = greedy(part)
            if hint is not None:
                staff_post = {s.id: s.post_id for s in part.staff}
                slots = [Slot(sid, staff_post[sid], t // SHIFTS, t % SHIFTS) for sid, t in hint]
                if not violations(part, slots):
                    one = Solution(True, slots=slots, seconds=one.seconds, status="GREEDY")
                    merged.note.append(f"{township}: greedy")
        if not one.feasible:
            return Solution(
                False,
                problems=one.problems,
                seconds=time.monotonic() - started,
                status=one.status,
            )
        merged.slots.extend(one.slots)
        merged.objective = (merged.objective or 0) + (one.objective or 0)
        merged.bound = (merged.bound or 0) + (one.bound or 0)
        merged.first_solution_seconds = (merged.first_solution_seconds or 0) + (
            one.first_solution_seconds or one.seconds
        )
        merged.status = one.status if merged.status in ("", "OPTIMAL") else merged.status
    merged.seconds = time.monotonic() - started
    return merged


def _solve_one(
    problem: Problem, *, time_limit: float, workers: int, stop_at_first: bool
) -> Solution:
    from ortools.sat.python import cp_model

    started = time.monotonic()
    model = cp_model.CpModel()
    hint = greedy(problem)
    # Hints go into the model's proto in one go (add_hint per variable costs more than the
    # solve itself for a township).
    hint_vars: list[int] = []
    hint_values: list[int] = []
    slots = problem.days * SHIFTS
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    posts = {p.id: p for p in problem.posts}
    staff_by_post: dict[int, list[StaffIn]] = defaultdict(list)
    for s in problem.staff:
        if s.post_id not in posts:
            continue
        staff_by_post[s.post_id].append(s)
        mine = []
        for t in range(slots):
            if t // SHIFTS in s.off_days:
                mine.append(None)
                continue
            var = model.new_bool_var("")
            x[s.id, t] = var
            mine.append(var)
            if hint is not None:
                hint_vars.append(var.index)
                hint_values.append(1 if (s.id, t) in hint else 0)
        for t in range(slots - 1):
            window = [v for v in mine[t : t + REST_SLOTS + 1] if v is not None]
            if len(window) > 1:
                model.add_at_most_one(window)
    objective = []
    total = cp_model.LinearExpr.sum
    for post in problem.posts:
        members = staff_by_post[post.id]
        groups = (
            (
                [s for s in members if s.age >= OLDER_FROM],
                [s for s in members if s.age < OLDER_FROM],
            ),
            (
                [s for s in members if s.education >= EDUCATED_FROM],
                [s for s in members if s.education < EDUCATED_FROM],
            ),
        )
        for t in range(slots):
            on = [x[s.id, t] for s in members if (s.id, t) in x]
            model.add(total(on) == post.need)
            for a, b in groups:
                va = [x[s.id, t] for s in a if (s.id, t) in x]
                vb = [x[s.id, t] for s in b if (s.id, t) in x]
                if va and vb:
                    paired = model.new_bool_var("")
                    model.add(total(va) >= 1).only_enforce_if(paired)
                    model.add(total(vb) >= 1).only_enforce_if(paired)
                    if hint is not None:
                        hint_vars.append(paired.index)
                        hint_values.append(
                            int(
                                any((s.id, t) in hint for s in a)
                                and any((s.id, t) in hint for s in b)
                            )
                        )
                    objective.append(paired)
    leaders_by_township: dict[str, list[StaffIn]] = defaultdict(list)
    for s in problem.staff:
        if s.leader and s.post_id in posts:
            leaders_by_township[s.township].append(s)
    fairness = []
    for township in sorted({p.township for p in problem.posts}):
        for t in range(slots):
            model.add(
                total([x[s.id, t] for s in leaders_by_township[township] if (s.id, t) in x]) >= 1
            )
        members = [s for s in problem.staff if s.township == township and s.post_id in posts]
        nights_max = model.new_int_var(0, problem.days, "")
        nights_min = model.new_int_var(0, problem.days, "")
        counts = []
        for s in members:
            nights = total([x[s.id, t] for t in range(NIGHT, slots, SHIFTS) if (s.id, t) in x])
            model.add(nights <= nights_max)
            if not s.off_days:
                model.add(nights >= nights_min)
            if hint is not None:
                counts.append(
                    (
                        sum(1 for t in range(NIGHT, slots, SHIFTS) if (s.id, t) in hint),
                        not s.off_days,
                    )
                )
        if hint is not None and counts:
            hint_vars += [nights_max.index, nights_min.index]
            hint_values += [
                max(c for c, _ in counts),
                min((c for c, full in counts if full), default=0),
            ]
        fairness.append(nights_max - nights_min)
    # Pairing counts 2 per paired shift; each night of spread between the most and the least
    # loaded member of a township costs 3.
    model.maximize(2 * total(objective) - 3 * total(fairness))

    if hint_vars:
        model.proto.solution_hint.vars.extend(hint_vars)
        model.proto.solution_hint.values.extend(hint_values)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = workers
    # The greedy hint is a complete feasible roster; without presolve the solver takes it as
    # its first solution at once and improves from there (presolve would spend a second
    # per township first).
    solver.parameters.cp_model_presolve = hint is None
    first = _FirstSolution(started)

    class Callback(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if first.first is None:
                first.first = time.monotonic() - started
            if stop_at_first:
                self.stop_search()

    status = solver.solve(model, Callback())
    seconds = time.monotonic() - started
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        why = (
            "在限定时间内未找到可行排班，请增加人员或放宽请假"
            if status == cp_model.UNKNOWN
            else "人员不足以同时满足每班 2 人、带班领导和班间休息，请增加人员"
        )
        return Solution(False, problems=[why], seconds=seconds, status=name)
    result = [
        Slot(s.id, s.post_id, t // SHIFTS, t % SHIFTS)
        for s in problem.staff
        for t in range(slots)
        if (s.id, t) in x and solver.value(x[s.id, t])
    ]
    return Solution(
        True,
        slots=result,
        seconds=seconds,
        first_solution_seconds=first.first,
        objective=solver.objective_value,
        bound=solver.best_objective_bound,
        status=name,
    )


def violations(problem: Problem, slots: Iterable[Slot]) -> list[str]:
    """Every hard rule the roster breaks, in Chinese ([] for a valid roster)."""
    found: list[str] = []
    posts = {p.id: p for p in problem.posts}
    staff = {s.id: s for s in problem.staff}
    on_post: dict[tuple[int, int], int] = defaultdict(int)
    leaders: dict[tuple[str, int], int] = defaultdict(int)
    worked: dict[int, list[int]] = defaultdict(list)
    for slot in slots:
        t = slot.day * SHIFTS + slot.shift
        member = staff.get(slot.staff_id)
        post = posts.get(slot.post_id)
        if member is None or post is None:
            found.append(f"第 {slot.day + 1} 天：未知的人员或卡点")
            continue
        if member.township != post.township:
            found.append(f"{member.name} 不属于 {post.name} 所在乡镇")
        if slot.day in member.off_days:
            found.append(f"{member.name} {_day_label(problem, slot.day)}请假或不可排班")
        on_post[post.id, t] += 1
        if member.leader:
            leaders[post.township, t] += 1
        worked[member.id].append(t)
    for post in problem.posts:
        for t in range(problem.days * SHIFTS):
            if on_post[post.id, t] < post.need:
                found.append(
                    f"{post.name} {_day_label(problem, t // SHIFTS)}{SHIFT_LABELS[t % SHIFTS]}"
                    f"只有 {on_post[post.id, t]} 人（至少 {post.need} 人）"
                )
    for township in sorted({p.township for p in problem.posts}):
        for t in range(problem.days * SHIFTS):
            if not leaders[township, t]:
                found.append(
                    f"{_day_label(problem, t // SHIFTS)}{SHIFT_LABELS[t % SHIFTS]}无带班领导"
                )
    for staff_id, times in worked.items():
        times.sort()
        for a, b in itertools.pairwise(times):
            if b - a <= REST_SLOTS:
                found.append(f"{staff[staff_id].name} 两班之间休息不足 16 小时")
                break
    return found


def assign_home_posts(posts: list[PostIn], staff: list[StaffIn]) -> list[StaffIn]:
    """Give staff without a home post one, dealing them out so that every post of a township
    gets a mix of ages, education and leaders (sorted, then round-robin)."""
    by_township: dict[str, list[PostIn]] = defaultdict(list)
    for p in posts:
        by_township[p.township].append(p)
    known = {p.id for p in posts}
    out: list[StaffIn] = [s for s in staff if s.post_id in known]
    loads: dict[int, int] = defaultdict(int)
    for s in out:
        loads[s.post_id] += 1
    loose = [s for s in staff if s.post_id not in known]
    loose.sort(key=lambda s: (not s.leader, s.age, s.education, s.id))
    for s in loose:
        choices = by_township.get(s.township)
        if not choices:
            continue
        post = min(choices, key=lambda p: (loads[p.id], p.id))
        loads[post.id] += 1
        out.append(
            StaffIn(s.id, s.name, s.township, post.id, s.age, s.education, s.leader, s.off_days)
        )
    return out
