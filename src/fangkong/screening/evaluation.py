"""Set-based evaluation of control decisions: who must do what, by which rule, and why.

A person is flagged when one of their stays overlaps a risk area's validity (from
``valid_from`` to ``valid_to``, or until today while not lifted) and the last day of that
overlap lies within the rule's look-back window before the evaluation day. Among all flags
of a person the strictest level wins (high > medium > low > other travel), then the most
recent exposure. A stay that flags nothing but falls within the "other" rule's window gets
that rule (e.g. health monitoring and one test for anyone who travelled).

The measure is counted from the day after the last day in the area (day 1); test days are
days of that period. The reason is stored in Chinese words, as the cadre will read it out:
"于2022-01-03至01-05在武汉市江汉区（高风险，2022-01-01起）停留". It is a record written at
evaluation time, not a message of the interface, so it is not translated later.

Why set-based: a policy change re-evaluates a whole county (a million people). The
evaluation reads the region's recent stays in one ordered pass, matches them against the
risk areas in memory (a dictionary keyed by the code prefixes 2/4/6/9/12 digits, so one
stay costs five lookups whatever the number of areas), and writes the new decisions in
bulk (``COPY`` on PostgreSQL, batched ``executemany`` on SQLite) under a new
:class:`EvaluationRun` inside one transaction. The run becomes the region's latest when it
commits, which makes its decisions current and the previous run's history at once, all or
nothing, without updating the old rows.
A person whose flag disappears gets an explicit "no measure" decision, so lifting is
recorded with its version too.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from fangkong.core import jurisdiction

from .models import ControlPolicy, EvaluationRun, Measure, RiskArea, ScreeningDecision, Stay

LEVEL_RANK = {"high": 3, "medium": 2, "low": 1, "other": 0}
LEVEL_WORDS = {"high": "高风险", "medium": "中风险", "low": "低风险", "other": "非风险地区"}
MEASURE_WORDS = {
    "centralised": "集中隔离",
    "home": "居家隔离",
    "monitoring": "健康监测",
    "test_only": "核酸检测",
    "none": "无需管控",
}
BATCH = 20_000
PREFIX_LENGTHS = (2, 4, 6, 9, 12)

COLUMNS = (
    "run_id",
    "person_id",
    "region_code",
    "policy_id",
    "level",
    "measure",
    "days",
    "home_days",
    "test_days",
    "start_date",
    "end_date",
    "reason",
    "stay_id",
    "risk_area_id",
    "decided_at",
)


class NoPolicy(Exception):
    """The region has no control policy yet: there is nothing to evaluate against."""


@dataclass
class Summary:
    region_code: str
    policy_version: int = 0
    stays_read: int = 0
    flagged: int = 0
    lifted: int = 0
    by_measure: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self) -> str:
        counts = sorted(self.by_measure.items())
        parts = "、".join(f"{MEASURE_WORDS[m]} {n:,} 人" for m, n in counts)
        return (
            f"按第 {self.policy_version} 版政策重新研判：读取行程 {self.stays_read:,} 条，"
            f"需管控 {self.flagged:,} 人（{parts or '无'}），解除 {self.lifted:,} 人；"
            f"用时 {self.seconds:.1f} 秒"
        )


def _span(start: dt.date, end: dt.date) -> str:
    tail = f"{end:%m-%d}" if start.year == end.year else f"{end:%Y-%m-%d}"
    return f"{start:%Y-%m-%d}至{tail}"


def measure_words(rule: Any) -> str:
    """ "集中隔离14天+居家隔离7天，第1、4、14天核酸" from a rule's fields."""
    text = MEASURE_WORDS[rule.measure]
    if rule.days:
        text += f"{rule.days}天"
    if rule.home_days:
        text += f"+居家隔离{rule.home_days}天"
    if rule.test_days:
        text += "，第" + "、".join(str(d) for d in rule.test_days) + "天核酸"
    return text


def current_policy(region_code: str) -> ControlPolicy | None:
    return (
        ControlPolicy.objects.filter(region_code=region_code)
        .prefetch_related("rules")
        .order_by("-version")
        .first()
    )


class _Matcher:
    """Risk areas indexed by code prefix, plus the free-text ones matched by place name."""

    def __init__(self, areas: list[RiskArea], rules: dict[str, Any], as_of: dt.date) -> None:
        self.as_of = as_of
        self.rules = rules
        self.by_code: dict[str, list[RiskArea]] = {}
        self.by_text: list[RiskArea] = []
        for area in areas:
            if area.level not in rules:
                continue
            if area.region_code:
                self.by_code.setdefault(area.region_code, []).append(area)
            else:
                self.by_text.append(area)
        self.other = rules.get("other")

    def best(self, stay: tuple) -> tuple | None:
        """(rank, last exposure day, area or None, rule) of one stay, or None."""
        _id, code, place, arrived, left = stay
        found = None
        candidates: list[RiskArea] = []
        for n in PREFIX_LENGTHS:
            if len(code) < n:
                break
            candidates.extend(self.by_code.get(code[:n], ()))
        if self.by_text:
            candidates.extend(a for a in self.by_text if a.place in place)
        for area in candidates:
            rule = self.rules[area.level]
            end = min(left, area.valid_to or self.as_of, self.as_of)
            if max(arrived, area.valid_from) > end:
                continue
            if (self.as_of - end).days > rule.look_back_days:
                continue
            key = (LEVEL_RANK[area.level], end, area, rule)
            if found is None or key[:2] > found[:2]:
                found = key
        if found is None and self.other is not None:
            end = min(left, self.as_of)
            if (self.as_of - end).days <= self.other.look_back_days:
                found = (0, end, None, self.other)
        return found


def _reason(stay: tuple, area: RiskArea | None) -> str:
    _id, _code, place, arrived, left = stay
    if area is None:
        return f"于{_span(arrived, left)}在{place}停留（非风险地区）"
    return (
        f"于{_span(arrived, left)}在{place}"
        f"（{LEVEL_WORDS[area.level]}，{area.valid_from:%Y-%m-%d}起）停留"
    )


class _Writer:
    """Bulk insert of decision rows: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.table = ScreeningDecision._meta.db_table
        self.postgres = connection.vendor == "postgresql"

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        cols = ", ".join(COLUMNS)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(COLUMNS))
                cursor.executemany(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", self.rows)
        self.rows = []


def latest_run(region_code: str) -> EvaluationRun | None:
    """The region's latest finished run: its decisions are the current ones."""
    return (
        EvaluationRun.objects.filter(region_code=region_code, finished_at__isnull=False)
        .order_by("-finished_at", "-pk")
        .first()
    )


def evaluate_region(
    *,
    region_code: str,
    as_of: dt.date | None = None,
    why: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Re-evaluate every person of ``region_code`` with recent stays or a current measure.

    Runs in one transaction under a lock on the region's policies, so two evaluations of
    one region never interleave, and a failure leaves the previous run current.
    """
    started = time.monotonic()
    as_of = as_of or timezone.localdate()
    summary = Summary(region_code=region_code)
    with transaction.atomic():
        list(
            ControlPolicy.objects.select_for_update()
            .filter(region_code=region_code)
            .values_list("pk", flat=True)
        )
        policy = current_policy(region_code)
        if policy is None:
            raise NoPolicy(region_code)
        summary.policy_version = policy.version
        rules = {r.level: r for r in policy.rules.all()}
        window = max(r.look_back_days for r in rules.values())
        earliest = as_of - dt.timedelta(days=window)
        areas = list(RiskArea.objects.filter(valid_from__lte=as_of).exclude(valid_to__lt=earliest))
        matcher = _Matcher(areas, rules, as_of)
        in_region = jurisdiction.prefix_q("region_code", [region_code])
        before = latest_run(region_code)
        previous: dict[int, str] = {}
        if before is not None:
            previous = dict(
                ScreeningDecision.objects.filter(run=before)
                .exclude(measure=Measure.NONE)
                .values_list("person_id", "region_code")
            )
        run = EvaluationRun.objects.create(
            region_code=region_code, policy=policy, as_of=as_of, why=why[:200]
        )
        stays = (
            Stay.objects.filter(in_region, left__gte=earliest, arrived__lte=as_of)
            .order_by("person_id", "id")
            .values_list("person_id", "region_code", "id", "place_code", "place", "arrived", "left")
        )
        total = stays.count()
        writer = _Writer()
        now = timezone.now()

        def decide(person_id: int, region: str, best: tuple | None, stay: tuple | None) -> None:
            if best is None:
                return
            _rank, end, area, rule = best
            start = end + dt.timedelta(days=1)
            length = rule.days + rule.home_days
            end_date = start + dt.timedelta(days=max(length, 1) - 1)
            reason = f"{_reason(stay, area)}；{measure_words(rule)}"[:300]
            writer.add(
                (
                    run.pk,
                    person_id,
                    region,
                    policy.pk,
                    area.level if area else "other",
                    rule.measure,
                    rule.days,
                    rule.home_days,
                    json.dumps(rule.test_days),
                    start,
                    end_date,
                    reason,
                    stay[0],
                    area.pk if area else None,
                    now,
                )
            )
            summary.flagged += 1
            summary.by_measure[rule.measure] = summary.by_measure.get(rule.measure, 0) + 1
            previous.pop(person_id, None)

        person = region = None
        best = best_stay = None
        for i, (pid, rcode, *stay) in enumerate(stays.iterator(chunk_size=BATCH)):
            if pid != person:
                decide(person, region, best, best_stay)
                person, region, best, best_stay = pid, rcode, None, None
            found = matcher.best(tuple(stay))
            if found is not None and (best is None or found[:2] > best[:2]):
                best, best_stay = found, tuple(stay)
            if progress is not None and i % BATCH == 0:
                progress(i, total)
        decide(person, region, best, best_stay)
        summary.stays_read = total
        lifted = f"按第{policy.version}版政策，近{window}天无风险地区停留，解除管控"
        for pid, rcode in previous.items():
            writer.add(
                (
                    run.pk,
                    pid,
                    rcode,
                    policy.pk,
                    "",
                    Measure.NONE,
                    0,
                    0,
                    "[]",
                    None,
                    None,
                    lifted,
                    None,
                    None,
                    now,
                )
            )
            summary.lifted += 1
        writer.flush()
        summary.seconds = time.monotonic() - started
        run.finished_at = timezone.now()
        run.summary = summary.as_dict()
        run.save(update_fields=["finished_at", "summary"])
        if progress is not None:
            progress(total, total)
    summary.seconds = time.monotonic() - started
    return summary
