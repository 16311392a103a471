"""Benchmark of the duty roster solver (OR-Tools CP-SAT), no database.

The issue's figure: a county of 16 townships × 10 posts × 3 shifts × 30 days with 1,500
staff: a feasible roster in < 10 s, and the objective's gap to its bound after 60 s.

The pool is random but fixed by ``--seed``: per township ~94 staff, each with a home post,
ages 20–65, education 1–4, 8 leading cadres, 5 % on leave for 1–3 days. Hard rules: 2 a post
a shift, a leading cadre a township a shift, 16 h rest between shifts, leave. Objectives:
older/younger and more/less educated pairs, spread of night shifts.

Prints the seconds to the first feasible roster of the whole county (every township has its
first solution: CP-SAT starts from a greedy hint, the county's townships are solved in turn),
the rule check of the result, and — after ``--seconds`` of solving — the objective, the bound
and the gap.

    .venv/bin/python bench/checkpoints_roster.py --seconds 10
    .venv/bin/python bench/checkpoints_roster.py --seconds 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

from fangkong.checkpoints import roster


def county(seed: int, townships: int, posts: int, staff: int) -> roster.Problem:
    rng = random.Random(seed)
    post_rows, staff_rows = [], []
    sid = 0
    per = staff // townships
    for t in range(townships):
        for p in range(posts):
            post_rows.append(roster.PostIn(t * 100 + p, f"第{t}镇{p}号卡点", f"t{t}"))
        for i in range(per + (1 if t < staff % townships else 0)):
            sid += 1
            off: frozenset[int] = frozenset()
            if rng.random() < 0.05:
                first = rng.randint(0, 27)
                off = frozenset(range(first, first + rng.randint(1, 3)))
            staff_rows.append(
                roster.StaffIn(
                    sid,
                    f"人{sid}",
                    f"t{t}",
                    t * 100 + i % posts,
                    rng.randint(20, 65),
                    rng.randint(1, 4),
                    leader=i < 8,
                    off_days=off,
                )
            )
    return roster.Problem(dt.date(2026, 12, 7), 30, post_rows, staff_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--townships", type=int, default=16)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--staff", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    from ortools.sat.python import cp_model  # noqa: F401 — loaded once per server process

    problem = county(args.seed, args.townships, args.posts, args.staff)
    print(
        f"{args.townships} townships × {args.posts} posts × 3 shifts × {problem.days} days, "
        f"{len(problem.staff):,} staff; load {os.getloadavg()[0]:.2f}"
    )
    started, cpu = time.monotonic(), time.process_time()
    first = roster.solve(problem, time_limit=args.seconds, stop_at_first=True)
    first_wall, first_cpu = time.monotonic() - started, time.process_time() - cpu
    print(
        f"first feasible roster of the county: {first_wall:.1f} s wall "
        f"(limit < 10: ratio {first_wall / 10:.2f}), {first_cpu:.1f} s of CPU "
        f"(ratio {first_cpu / 10:.2f}; the wall time depends on the machine's load); "
        "CP-SAT's own first solutions sum to "
        f"{first.first_solution_seconds or 0:.1f} s; {len(first.slots):,} shifts; "
        f"rules broken: {len(roster.violations(problem, first.slots))}"
        + (f"; greedy kept for {len(first.note)} townships" if first.note else "")
    )
    started = time.monotonic()
    best = roster.solve(problem, time_limit=args.seconds)
    wall = time.monotonic() - started
    print(
        f"after {wall:.1f} s of solving ({args.seconds:.0f} s budget): objective "
        f"{best.objective:.0f}, bound {best.bound:.0f}, gap {best.gap:.1%}; rules broken: "
        f"{len(roster.violations(problem, best.slots))}"
    )


if __name__ == "__main__":
    main()
