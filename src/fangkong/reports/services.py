"""The command layer's rules, in plain functions: pre-aggregating the figures, reading a
board, daily and zero reports with their roll-up, self-inspection runs, and the problems
list (raise, rectify, confirm, escalate).

Modules are read only through ``core.figures`` and ``core.inspection``; pages and the API
call these functions and never touch the models for writing.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from fangkong.core import figures, inspection, jurisdiction, notices, problems, replica
from fangkong.core import signals as core_signals
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.models import AreaAssignment, Region, RegionLevel, User
from fangkong.core.permissions import require
from fangkong.core.roles import Action, Role

from .models import (
    DailyReport,
    Decision,
    Evidence,
    FigureValue,
    Finding,
    InspectionRun,
    Level,
    Meeting,
    Problem,
    ProblemStatus,
    Refresh,
    ReportSetting,
    ReportStatus,
)

LEVELS = (6, 9, 12, 15)
TREND_DAYS = 14
MAX_UPLOAD = 10 * 1024 * 1024


# -- figures: pre-aggregation ------------------------------------------------------------


def _end_of(day: dt.date) -> dt.datetime:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)


def compute_day(day: dt.date, at: dt.datetime, keys: Iterable[str] | None = None) -> int:
    """Compute every figure at every level as of ``at`` and store it as ``day``'s values."""
    rows = []
    chosen = figures.figures(keys)
    for figure in chosen:
        for length in LEVELS:
            counts = figures.compute(figure.key, figures.FigureQuery("", length, at))
            rows.extend(
                FigureValue(key=figure.key, day=day, region_code=code, value=n, at=at)
                for code, n in counts.items()
                if n
            )
    with transaction.atomic():
        FigureValue.objects.filter(day=day, key__in=[f.key for f in chosen]).delete()
        FigureValue.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def refresh(now: dt.datetime | None = None, *, backfill: bool = True) -> Refresh:
    """Bring today's figures up to ``now`` and fill the missing days of the 14-day trend
    (counted as of the end of each past day). Run by the worker and on demand."""
    now = now or timezone.now()
    started = time.monotonic()
    today = timezone.localtime(now).date()
    compute_day(today, now)
    if backfill:
        have = set(
            FigureValue.objects.filter(
                day__lt=today, day__gte=today - dt.timedelta(days=TREND_DAYS)
            )
            .values_list("day", flat=True)
            .distinct()
        )
        for back in range(1, TREND_DAYS + 1):
            day = today - dt.timedelta(days=back)
            if day not in have:
                compute_day(day, _end_of(day))
    seconds = time.monotonic() - started
    stamp, _ = Refresh.objects.update_or_create(prefix="", defaults={"at": now, "seconds": seconds})
    return stamp


def touch(*keys: str) -> None:
    """Recount some of today's figures after a write (the board's own figures: reports
    filed, problems open), once the write is committed."""

    def run() -> None:
        now = timezone.now()
        compute_day(timezone.localtime(now).date(), now, keys)
        Refresh.objects.update_or_create(prefix="touch", defaults={"at": now})

    transaction.on_commit(run)


def refresh_job() -> None:
    refresh()


def last_refresh() -> dt.datetime | None:
    row = Refresh.objects.filter(prefix="").first()  # the worker's full refresh
    return row.at if row else None


# -- boards --------------------------------------------------------------------------------


@dataclass
class Card:
    key: str
    label: str
    unit: str
    value: int
    delta: int | None
    url: str
    trend: list[int]
    higher_is_better: bool = False
    percent: int | None = None

    @property
    def tone(self) -> str:
        if not self.delta:
            return ""
        worse = self.delta < 0 if self.higher_is_better else self.delta > 0
        return "alert" if worse else "good"


@dataclass
class Board:
    region_code: str
    region_name: str
    as_of: dt.datetime | None
    cards: list[Card]
    days: list[dt.date]
    children: list[tuple[str, str, dict[str, int]]]  # (code, name, {key: value})
    breadcrumbs: list[tuple[str, str]] = field(default_factory=list)
    coverage: int | None = None


def home_region(actor: Any) -> str:
    """The region a user's board opens on: their (shortest) jurisdiction code."""
    codes = jurisdiction.user_codes(actor)
    if not codes:
        raise NotFound("no jurisdiction")
    return sorted(codes, key=lambda c: (len(c), c))[0]


def own_unit(actor: Any) -> str:
    """The unit whose daily report the user files: their own area that reports (a village
    or community, a township, the county), the widest one if they hold several."""
    codes = [c for c in jurisdiction.user_codes(actor) if len(c) in (6, 9, 12)]
    if not codes:
        raise NotFound("no reporting unit")
    return sorted(codes, key=lambda c: (len(c), c))[0]


def resolve_region(actor: Any, region: str = "") -> str:
    """The region to show: ``region`` (a code or a name inside the jurisdiction) or home."""
    if not region:
        return home_region(actor)
    if region.isdigit():
        if not Region.objects.filter(code=region).exists() or not jurisdiction.covers(
            actor, region
        ):
            raise NotFound(region)
        return region
    found = jurisdiction.scope(Region.objects.filter(name=region), actor, field="code").first()
    if found is None:
        raise NotFound(region)
    return found.code


def _stored_board(code: str, days: list[dt.date]) -> tuple[Any, Any, Any]:
    """The stored figures a board shows: the region's 14 days, its children today, names."""
    today = days[-1]
    with replica.reading():
        values: dict[tuple[str, dt.date], int] = {
            (k, d): v
            for k, d, v in FigureValue.objects.filter(
                region_code=code, day__gte=days[0], day__lte=today
            ).values_list("key", "day", "value")
        }
        child_len = next((n for n in LEVELS if n > len(code)), None)
        children: list[tuple[str, str, dict[str, int]]] = []
        if child_len:
            kids = list(
                Region.objects.filter(parent_id=code).order_by("code").values_list("code", "name")
            )
            by_child: dict[str, dict[str, int]] = defaultdict(dict)
            for k, c, v in FigureValue.objects.filter(
                day=today, region_code__in=[c for c, _ in kids]
            ).values_list("key", "region_code", "value"):
                by_child[c][k] = v
            children = [(c, n, by_child.get(c, {})) for c, n in kids]
        names = dict(
            Region.objects.filter(
                code__in=[code[:n] for n in LEVELS if n <= len(code)]
            ).values_list("code", "name")
        )
    return values, children, names


def board(actor: Any, region: str = "", now: dt.datetime | None = None) -> Board:
    """The situation board of a region: each figure today, the change since yesterday, a
    14-day trend and the values of the regions one level down. Reads stored figures only."""
    require(actor, Action.REPORTS_BOARD)
    code = resolve_region(actor, region)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    days = [today - dt.timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    with replica.reading():
        stamps = dict(Refresh.objects.values_list("prefix", "at"))
    as_of = stamps.get("")
    # What the board reads changes only when figures are recomputed (the worker's refresh,
    # or a write recounting the command layer's own figures): cache it until then.
    key = f"reports.board:{code}:{today}:" + ":".join(
        f"{p}={a.timestamp()}" for p, a in sorted(stamps.items())
    )
    stored = cache.get(key)
    if stored is None:
        stored = _stored_board(code, days)
        cache.set(key, stored, 3600)
    values, children, names = stored
    from fangkong.core.roles import can

    cards = []
    for figure in figures.figures():
        trend = [values.get((figure.key, d), 0) for d in days]
        url = ""
        if figure.list_url and (not figure.permission or can(actor, figure.permission)):
            try:
                url = figure.list_url(code)
            except Exception:  # a module's link must never break the board
                url = ""
        cards.append(
            Card(
                key=figure.key,
                label=str(figure.label),
                unit=str(figure.unit),
                value=trend[-1],
                delta=trend[-1] - trend[-2],
                url=url,
                trend=trend,
                higher_is_better=figure.higher_is_better,
            )
        )
    by_key = {c.key: c for c in cards}
    coverage = None
    if "testing.round_targets" in by_key and "testing.round_sampled" in by_key:
        target = by_key["testing.round_targets"].value
        if target:
            coverage = min(100, by_key["testing.round_sampled"].value * 100 // target)
    crumbs = [(c, names.get(c, c)) for c in sorted(names, key=len)]
    crumbs = [(c, n) for c, n in crumbs if jurisdiction.covers(actor, c)]
    return Board(
        region_code=code,
        region_name=names.get(code, code),
        as_of=as_of,
        cards=cards,
        days=days,
        children=children,
        breadcrumbs=crumbs,
        coverage=coverage,
    )


# -- daily and zero reports ----------------------------------------------------------------


def deadline_for(region_code: str, day: dt.date) -> dt.datetime:
    setting = ReportSetting.objects.filter(county_code=region_code[:6]).first()
    at = setting.deadline if setting else dt.time(16, 0)
    return timezone.make_aware(dt.datetime.combine(day, at))


def set_deadline(actor: Any, county_code: str, deadline: dt.time) -> ReportSetting:
    require(actor, Action.REPORTS_SETTINGS)
    if not jurisdiction.covers(actor, county_code):
        raise NotFound(county_code)
    row, _ = ReportSetting.objects.update_or_create(
        county_code=county_code[:6], defaults={"deadline": deadline, "updated_at": timezone.now()}
    )
    return row


def reporting_units(region_code: str) -> list[tuple[str, str]]:
    """Who reports to ``region_code``: a township's villages and communities, a county's
    townships. (code, name)."""
    level = {6: RegionLevel.TOWNSHIP, 9: RegionLevel.VILLAGE}.get(len(region_code))
    if level is None:
        return []
    return list(
        Region.objects.filter(parent_id=region_code, level=level)
        .order_by("code")
        .values_list("code", "name")
    )


def report_figures() -> list[figures.Figure]:
    """The figures a daily report carries: every module's, not the command layer's own."""
    return [f for f in figures.figures() if f.module != "reports"]


def figures_from_data(region_code: str, at: dt.datetime) -> dict[str, int]:
    """Every report figure for one region, counted live from the modules' data."""
    out = {}
    for figure in report_figures():
        counts = figures.compute(figure.key, figures.FigureQuery(region_code, len(region_code), at))
        out[figure.key] = counts.get(region_code, 0)
    return out


def rollup(region_code: str, day: dt.date) -> tuple[dict[str, int], list[str]]:
    """A township's (county's) figures as the sum of the reports below it, never re-typed;
    and the units that have not reported."""
    units = reporting_units(region_code)
    reports = {
        r.region_code: r
        for r in DailyReport.objects.filter(day=day, region_code__in=[c for c, _ in units])
    }
    totals: dict[str, int] = defaultdict(int)
    for report in reports.values():
        keys = set(report.figures) | set(report.corrections)
        for key in keys:
            totals[key] += report.value(key)
    missing = [c for c, _ in units if c not in reports]
    return dict(totals), missing


def draft_figures(actor: Any, region_code: str, day: dt.date) -> dict[str, int]:
    """What the report form shows before the reporter confirms: from data for a village,
    the roll-up of reports below for a township or county."""
    require(actor, Action.REPORTS_BOARD)
    if not jurisdiction.covers(actor, region_code):
        raise NotFound(region_code)
    if len(region_code) >= 12:
        at = min(timezone.now(), _end_of(day))
        return figures_from_data(region_code, at)
    return rollup(region_code, day)[0]


@dataclass
class UnitStatus:
    code: str
    name: str
    report: DailyReport | None
    late: bool


def status_of_units(actor: Any, region_code: str, day: dt.date) -> list[UnitStatus]:
    """Who has and who has not reported to ``region_code`` on ``day``."""
    require(actor, Action.REPORTS_BOARD)
    if not jurisdiction.covers(actor, region_code):
        raise NotFound(region_code)
    units = reporting_units(region_code)
    reports = {
        r.region_code: r
        for r in DailyReport.objects.filter(
            day=day, region_code__in=[c for c, _ in units]
        ).select_related("reporter")
    }
    past = timezone.now() > deadline_for(region_code, day)
    return [UnitStatus(c, n, reports.get(c), past and c not in reports) for c, n in units]


def submit_report(
    actor: Any,
    *,
    region_code: str,
    day: dt.date,
    zero: bool = False,
    corrections: dict[str, tuple[int, str]] | None = None,
    situation: str = "",
    problems_text: str = "",
    requests: str = "",
    version: int | None = None,
    submitted_at: dt.datetime | None = None,
) -> DailyReport:
    """File (or correct) a daily report. The figures come from the data (village) or the
    roll-up (township, county); a corrected figure needs a reason; a zero report is only
    possible when nothing happened today (every "today" figure is 0).

    ``submitted_at`` is when a phone filed the report offline (the field app's queue): the
    deadline is judged at that moment, taken no later than now and no earlier than the
    day's start; without it, the report is filed now."""
    require(actor, Action.REPORTS_DAILY)
    if len(region_code) not in (6, 9, 12) or not jurisdiction.covers(actor, region_code):
        raise NotFound(region_code)
    if not Region.objects.filter(code=region_code).exists():
        raise NotFound(region_code)
    if region_code not in jurisdiction.user_codes(actor):
        # Each area files its own report; the one above reads it, never re-types it.
        raise PermissionDenied("own area only")
    if day > timezone.localdate():
        raise ValidationFailed([FieldError("day", "不能填报未来日期的日报")])
    data = draft_figures(actor, region_code, day)
    known = {f.key: f for f in report_figures()}
    errors: list[FieldError] = []
    fixed: dict[str, dict[str, Any]] = {}
    for key, (value, reason) in (corrections or {}).items():
        if key not in known:
            errors.append(FieldError(f"corrections.{key}", "没有这个统计项"))
            continue
        if value == data.get(key, 0):
            continue
        if value < 0:
            errors.append(FieldError(f"corrections.{key}", "数字不能为负数"))
        elif not reason.strip():
            errors.append(FieldError(f"corrections.{key}", f"更正“{known[key].label}”须写明原因"))
        else:
            fixed[key] = {"value": int(value), "reason": reason.strip()[:300]}
    if zero:
        busy = [
            str(known[k].label)
            for k in known
            if known[k].kind == figures.FLOW
            and (fixed[k]["value"] if k in fixed else data.get(k, 0)) > 0
        ]
        if busy:
            errors.append(FieldError("zero", "今日有情况，不能报零报告：" + "、".join(busy)))
    for name, text in (
        ("situation", situation),
        ("problems", problems_text),
        ("requests", requests),
    ):
        if len(text) > 2000:
            errors.append(FieldError(name, "内容不能超过2000字"))
        if "\x00" in text:
            errors.append(FieldError(name, "内容含有无效字符"))
    if errors:
        raise ValidationFailed(errors)
    at = timezone.now()
    if submitted_at is not None:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        at = max(min(submitted_at, at), start)
    values = {
        "status": ReportStatus.ZERO if zero else ReportStatus.SUBMITTED,
        "figures": data,
        "corrections": fixed,
        "situation": situation.strip(),
        "problems": problems_text.strip(),
        "requests": requests.strip(),
        "reporter": actor,
        "submitted_at": at,
        "late": at > deadline_for(region_code, day),
    }
    with transaction.atomic():
        existing = (
            DailyReport.objects.select_for_update().filter(day=day, region_code=region_code).first()
        )
        touch("reports.daily_filed")
        if existing is None:
            return DailyReport.objects.create(day=day, region_code=region_code, **values)
        if version is None or version != existing.version:
            raise VersionConflict(existing.version)
        for name, value in values.items():
            setattr(existing, name, value)
        existing.version += 1
        existing.save()
        return existing


def get_report(actor: Any, region_code: str, day: dt.date) -> DailyReport | None:
    require(actor, Action.REPORTS_BOARD)
    if not jurisdiction.covers(actor, region_code):
        raise NotFound(region_code)
    return (
        DailyReport.objects.filter(day=day, region_code=region_code)
        .select_related("reporter")
        .first()
    )


def remind_missing(now: dt.datetime | None = None) -> int:
    """At the deadline, remind the village cadres (township offices) who have not reported
    (one notice per unit and day; idempotent)."""
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    sent = 0
    for parent in Region.objects.filter(
        level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
    ).values_list("code", flat=True):
        if now < deadline_for(parent, day):
            continue
        units = reporting_units(parent)
        done = set(
            DailyReport.objects.filter(day=day, region_code__in=[c for c, _ in units]).values_list(
                "region_code", flat=True
            )
        )
        role = Role.TOWNSHIP if len(parent) == 6 else Role.VILLAGE_CADRE
        for code, name in units:
            if code in done:
                continue
            notices.publish(
                draft=notices.NoticeDraft(
                    title=f"{name}：{day:%m月%d日}日报尚未报送",
                    body=f"已过报送时限（{deadline_for(parent, day):%H:%M}），"
                    "请尽快报送今日日报或零报告。",
                    region_codes=(code,),
                    roles=(role,),
                    link=reverse("reports:daily_form", args=[code]),
                ),
                sender=None,
                source=f"reports.daily_missing:{day}:{code}",
            )
            sent += 1
    return sent


DAILY_MISSING = "reports.daily_missing"


def daily_missing_rule(query: inspection.RuleQuery) -> Iterable[inspection.Finding]:
    """A village (a township) without a daily report after the county's deadline."""
    day = timezone.localtime(query.now).date()
    parents = Region.objects.filter(level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP])
    if query.prefix:
        parents = parents.filter(
            Q(code__startswith=query.prefix) | Q(code__in=[query.prefix[:n] for n in (6, 9)])
        )
    for parent in parents.values_list("code", flat=True):
        deadline = deadline_for(parent, day)
        if query.now < deadline:
            continue
        units = reporting_units(parent)
        done = set(
            DailyReport.objects.filter(day=day, region_code__in=[c for c, _ in units]).values_list(
                "region_code", flat=True
            )
        )
        for code, name in units:
            if code in done or (query.prefix and not code.startswith(query.prefix)):
                continue
            yield inspection.Finding(
                rule=DAILY_MISSING,
                ref=f"reports.daily:{day}:{code}",
                region_code=code,
                what=f"{name}未在{deadline:%H:%M}前报送{day:%m月%d日}日报",
                since=deadline,
                url=reverse("reports:daily_form", args=[code]),
            )


# -- self-inspection -----------------------------------------------------------------------


def _responsible_names(codes: Iterable[str]) -> dict[str, str]:
    """Who answers for each region today (包片/包村/包组): the most specific active
    assignment on the path up to the county; one query for all the regions."""
    codes = set(codes)
    if not codes:
        return {}
    today = timezone.localdate()
    paths = {c: [c[:n] for n in (6, 9, 12, 15) if n <= len(c)] for c in codes}
    wanted = {a for path in paths.values() for a in path}
    by_region: dict[str, str] = {}
    rows = (
        AreaAssignment.objects.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            starts_on__lte=today,
            region_id__in=wanted,
        )
        .select_related("user")
        .order_by("starts_on")
    )
    for a in rows:
        by_region.setdefault(a.region_id, a.user.display_name or a.user.username)
    out = {}
    for code, path in paths.items():
        for ancestor in reversed(path):
            if ancestor in by_region:
                out[code] = by_region[ancestor]
                break
    return out


def run_inspection(
    prefix: str = "",
    *,
    now: dt.datetime | None = None,
    by: Any = None,
    rule_keys: Iterable[str] | None = None,
) -> InspectionRun:
    """Run the registered rules under ``prefix``: store what they find (one row per thing,
    stable across runs), resolve what they no longer find, and put new findings on the
    problems list with the responsible cadre (包片/包村) named."""
    now = now or timezone.now()
    run = InspectionRun.objects.create(prefix=prefix, started_at=now, by=by)
    rules = [r for r in inspection.rules() if rule_keys is None or r.key in set(rule_keys)]
    total = 0
    seconds: dict[str, float] = {}
    for rule in rules:
        started = time.monotonic()
        found = inspection.run(rule.key, inspection.RuleQuery(prefix, now))
        total += len(found)
        _store_findings(rule, prefix, found, now)
        seconds[rule.key] = round(time.monotonic() - started, 3)
    run.finished_at = timezone.now()
    run.findings = total
    run.seconds = seconds
    run.save(update_fields=["finished_at", "findings", "seconds"])
    return run


def _store_findings(
    rule: inspection.Rule, prefix: str, found: list[inspection.Finding], now: dt.datetime
) -> None:
    names = _responsible_names(f.region_code for f in found if not f.responsible)
    by_ref = {f.ref: f for f in found}
    scope = Finding.objects.filter(rule=rule.key)
    if prefix:
        scope = scope.filter(region_code__startswith=prefix)
    with transaction.atomic():
        existing = dict(scope.filter(resolved_at__isnull=True).values_list("ref", "pk"))
        gone = [pk for ref, pk in existing.items() if ref not in by_ref]
        if gone:
            Finding.objects.filter(pk__in=gone).update(resolved_at=now)
            sources = [
                f"inspection:{rule.key}:{ref}" for ref, pk in existing.items() if ref not in by_ref
            ]
            Problem.objects.filter(source__in=sources, status=ProblemStatus.OPEN).update(
                status=ProblemStatus.RECTIFIED,
                rectified_at=now,
                rectification="自查复核：该问题已不再出现（系统自动标记，待上级确认）",
            )
        Finding.objects.filter(rule=rule.key, ref__in=list(existing)).filter(
            ref__in=list(by_ref)
        ).update(last_seen=now)
        new = [f for ref, f in by_ref.items() if ref not in existing]
        reopened = set(
            Finding.objects.filter(rule=rule.key, ref__in=[f.ref for f in new]).values_list(
                "ref", flat=True
            )
        )
        if reopened:
            Finding.objects.filter(rule=rule.key, ref__in=reopened).update(
                resolved_at=None, last_seen=now
            )
        fresh = [f for f in new if f.ref not in reopened]
        _insert_ignore(
            Finding,
            [
                "rule",
                "ref",
                "region_code",
                "aspect",
                "what",
                "since",
                "url",
                "responsible",
                "person_id",
                "first_seen",
                "last_seen",
            ],
            [
                (
                    rule.key,
                    f.ref,
                    f.region_code,
                    rule.aspect,
                    f.what[:300],
                    f.since,
                    f.url[:300],
                    (f.responsible or names.get(f.region_code, ""))[:120],
                    f.person_id,
                    now,
                    now,
                )
                for f in fresh
            ],
        )
        deadline = now + dt.timedelta(hours=rule.deadline_hours)
        detail = f"自查规则：{rule.label}"
        _insert_ignore(
            Problem,
            [
                "source",
                "region_code",
                "aspect",
                "title",
                "detail",
                "url",
                "deadline",
                "owner_name",
                "raised_at",
                "status",
                "level",
                "rectification",
                "next_steps",
                "version",
            ],
            [
                (
                    f"inspection:{rule.key}:{f.ref}",
                    f.region_code,
                    rule.aspect,
                    f.what[:300],
                    detail,
                    f.url[:300],
                    deadline,
                    (f.responsible or names.get(f.region_code, ""))[:120],
                    now,
                    ProblemStatus.OPEN,
                    _level_of(f.region_code),
                    "",
                    "",
                    1,
                )
                for f in new
            ],
        )
        if reopened:
            Problem.objects.filter(
                source__in=[f"inspection:{rule.key}:{ref}" for ref in reopened],
                status=ProblemStatus.RECTIFIED,
            ).update(status=ProblemStatus.OPEN, rectified_at=None)


def _insert_ignore(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows at once, skipping those that already exist (by a unique key):
    multi-row INSERT statements of 500 rows, without the ORM's per-value work (thousands of
    findings per run)."""
    if not rows:
        return
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    verb, tail = (
        ("INSERT", " ON CONFLICT DO NOTHING")
        if connection.vendor == "postgresql"
        else ("INSERT OR IGNORE", "")
    )
    if connection.vendor != "postgresql":
        field = {f.column: f for f in model._meta.concrete_fields}
        rows = [
            tuple(
                field[c].get_db_prep_save(v, connection) if isinstance(v, dt.datetime) else v
                for c, v in zip(columns, row, strict=True)
            )
            for row in rows
        ]
    size = 500 if connection.vendor == "postgresql" else max(1, 900 // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            sql = f"{verb} INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}{tail}"
            cursor.execute(sql, [v for row in chunk for v in row])


def inspection_job() -> None:
    run_inspection()


def findings(actor: Any, *, region: str = "", open_only: bool = True):
    require(actor, Action.REPORTS_BOARD)
    rows = jurisdiction.scope(Finding.objects.all(), actor)
    if region:
        rows = rows.filter(region_code__startswith=region)
    if open_only:
        rows = rows.filter(resolved_at__isnull=True)
    return rows.order_by("aspect", "rule", "-since")


# -- problems ------------------------------------------------------------------------------


def _level_of(region_code: str) -> int:
    if len(region_code) >= 12:
        return Level.VILLAGE
    if len(region_code) >= 9:
        return Level.TOWNSHIP
    return Level.COUNTY


class Sink:
    """The problems list as core.problems' sink for other modules."""

    def raise_problem(self, draft: problems.ProblemDraft) -> problems.ProblemRef:
        if draft.aspect not in inspection.Aspect.values:
            raise ValueError(f"unknown aspect {draft.aspect!r}")
        defaults = {
            "region_code": draft.region_code,
            "aspect": draft.aspect,
            "title": draft.title[:300],
            "detail": draft.detail[:4000],
            "url": draft.url[:300],
            "deadline": draft.deadline or timezone.now() + dt.timedelta(hours=48),
            "owner": draft.owner if isinstance(draft.owner, User) else None,
            "owner_name": str(draft.owner or "")[:120]
            or _responsible_names([draft.region_code]).get(draft.region_code, ""),
            "raised_by": draft.raised_by if isinstance(draft.raised_by, User) else None,
            "level": _level_of(draft.region_code),
        }
        problem, _ = Problem.objects.get_or_create(source=draft.source, defaults=defaults)
        return _ref(problem)

    def status_of(self, sources: list[str]) -> dict[str, problems.ProblemRef]:
        return {p.source: _ref(p) for p in Problem.objects.filter(source__in=sources)}


def _ref(problem: Problem) -> problems.ProblemRef:
    return problems.ProblemRef(
        id=problem.pk,
        source=problem.source,
        status=problem.status,
        url=reverse("reports:problem", args=[problem.pk]),
    )


def problems_visible(actor: Any):
    require(actor, Action.REPORTS_BOARD)
    return jurisdiction.scope(Problem.objects.all(), actor)


def get_problem(actor: Any, problem_id: int) -> Problem:
    problem = problems_visible(actor).filter(pk=problem_id).first()
    if problem is None:
        raise NotFound(problem_id)
    return problem


def _check_files(files: Iterable[Any]) -> list[Any]:
    files = list(files)
    bad = [f.name for f in files if f.size > MAX_UPLOAD]
    if bad:
        raise ValidationFailed([FieldError("evidence", f"文件过大（每个不超过10 MB）：{bad[0]}")])
    return files


def create_problem(
    actor: Any,
    *,
    region_code: str,
    aspect: str,
    title: str,
    detail: str = "",
    deadline: dt.datetime | None = None,
    files: Iterable[Any] = (),
) -> Problem:
    """A problem raised by a person (the form), with evidence."""
    require(actor, Action.REPORTS_PROBLEMS)
    errors = []
    if not title.strip():
        errors.append(FieldError("title", "请写明问题"))
    if len(title) > 300 or "\x00" in title + detail:
        errors.append(FieldError("title", "问题描述过长或含有无效字符"))
    if aspect not in inspection.Aspect.values:
        errors.append(FieldError("aspect", "请选择问题所属方面"))
    if deadline is not None and deadline < timezone.now():
        errors.append(FieldError("deadline", "整改时限不能早于现在"))
    if errors:
        raise ValidationFailed(errors)
    if not Region.objects.filter(code=region_code).exists() or not jurisdiction.covers(
        actor, region_code
    ):
        raise ValidationFailed([FieldError("region_code", "该区域不在您的管辖范围内")])
    files = _check_files(files)
    with transaction.atomic():
        problem = Problem.objects.create(
            source=f"reports.manual:{uuid.uuid4().hex}",
            region_code=region_code,
            aspect=aspect,
            title=title.strip(),
            detail=detail.strip(),
            deadline=deadline or timezone.now() + dt.timedelta(hours=48),
            owner_name=_responsible_names([region_code]).get(region_code, ""),
            raised_by=actor,
            level=_level_of(region_code),
        )
        _attach(problem, files, actor)
        touch("reports.problems_open")
    return problem


def _attach(problem: Problem, files: list[Any], actor: Any) -> None:
    for f in files:
        Evidence.objects.create(problem=problem, file=f, name=f.name[:200], uploaded_by=actor)


def rectify(
    actor: Any,
    problem_id: int,
    *,
    text: str,
    next_steps: str = "",
    version: int,
    files: Iterable[Any] = (),
) -> Problem:
    """The responsible area reports what it did (with evidence); the problem then awaits
    confirmation from above."""
    require(actor, Action.REPORTS_PROBLEMS)
    files = _check_files(files)
    with transaction.atomic():
        problem = get_problem(actor, problem_id)
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if problem.version != version:
            raise VersionConflict(problem.version)
        if problem.status != ProblemStatus.OPEN:
            raise ValidationFailed([FieldError("status", "该问题不在待整改状态")])
        if not text.strip():
            raise ValidationFailed([FieldError("text", "请写明整改情况")])
        problem.status = ProblemStatus.RECTIFIED
        problem.rectification = text.strip()[:4000]
        problem.next_steps = next_steps.strip()[:2000]
        problem.rectified_at = timezone.now()
        problem.rectified_by = actor
        problem.version += 1
        problem.save()
        _attach(problem, files, actor)
    return problem


def can_confirm(actor: Any, problem: Problem) -> bool:
    """Closure is confirmed from above: a user whose jurisdiction is strictly above the
    problem's region (a township for its villages, the county for all)."""
    from fangkong.core.roles import can

    if not can(actor, Action.REPORTS_CONFIRM):
        return False
    return any(
        problem.region_code.startswith(c) and len(c) < len(problem.region_code)
        for c in jurisdiction.user_codes(actor)
    )


def confirm(actor: Any, problem_id: int, *, accept: bool, note: str = "", version: int) -> Problem:
    require(actor, Action.REPORTS_CONFIRM)
    with transaction.atomic():
        problem = get_problem(actor, problem_id)
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if not can_confirm(actor, problem):
            raise PermissionDenied("confirm from above")
        if problem.version != version:
            raise VersionConflict(problem.version)
        if problem.status != ProblemStatus.RECTIFIED:
            raise ValidationFailed([FieldError("status", "该问题尚未报告整改")])
        problem.version += 1
        if accept:
            problem.status = ProblemStatus.CLOSED
            problem.closed_at = timezone.now()
            problem.closed_by = actor
        else:
            if not note.strip():
                raise ValidationFailed([FieldError("note", "退回须写明原因")])
            problem.status = ProblemStatus.OPEN
            problem.rectification += f"\n【退回】{note.strip()[:500]}"
        problem.save()
        touch("reports.problems_open")
    if accept:
        core_signals.problem_closed.send(
            sender=Problem, source=problem.source, closed_at=problem.closed_at, closed_by=actor
        )
    return problem


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Open problems past their deadline go up one level (village → township → county),
    with a new deadline of 24 hours."""
    now = now or timezone.now()
    count = 0
    for level in (Level.TOWNSHIP, Level.VILLAGE):
        count += Problem.objects.filter(
            status=ProblemStatus.OPEN, deadline__lt=now, level=level
        ).update(level=level + 1, escalated_at=now, deadline=now + dt.timedelta(hours=24))
    return count


def open_problems_figure(query: figures.FigureQuery) -> dict[str, int]:
    rows = Problem.objects.filter(raised_at__lte=query.at).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=query.at)
    )
    return figures.count_by_region(rows, query)


def reports_filed_figure(query: figures.FigureQuery) -> dict[str, int]:
    rows = DailyReport.objects.filter(day=query.day, submitted_at__lte=query.at)
    return figures.count_by_region(rows, query)


def aspect_counts(rows) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for aspect in rows.values_list("aspect", flat=True):
        counts[aspect] += 1
    return [(a, str(label), counts.get(a, 0)) for a, label in inspection.Aspect.choices]


# -- dispatch log --------------------------------------------------------------------------


@dataclass
class DecisionInput:
    text: str
    region_code: str
    deadline: dt.datetime
    office: str = ""


def record_meeting(
    actor: Any,
    *,
    region_code: str,
    held_on: dt.date,
    chair: str,
    attendees: str = "",
    summary: str = "",
    decisions: list[DecisionInput] | None = None,
) -> Meeting:
    """A dispatch meeting with its decisions, each a task to a township or an office below."""
    require(actor, Action.REPORTS_DISPATCH)
    errors: list[FieldError] = []
    if not chair.strip():
        errors.append(FieldError("chair", "请填写主持人"))
    if not jurisdiction.covers(actor, region_code):
        errors.append(FieldError("region_code", "该区域不在您的管辖范围内"))
    for n, d in enumerate(decisions or []):
        if not d.text.strip():
            errors.append(FieldError(f"decisions.{n}.text", "请写明调度事项"))
        if (
            not jurisdiction.covers(actor, d.region_code)
            or not Region.objects.filter(code=d.region_code).exists()
        ):
            errors.append(FieldError(f"decisions.{n}.region_code", "承办地区不在您的管辖范围内"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            region_code=region_code,
            held_on=held_on,
            chair=chair.strip()[:64],
            attendees=attendees.strip()[:500],
            summary=summary.strip()[:4000],
            created_by=actor,
        )
        Decision.objects.bulk_create(
            Decision(
                meeting=meeting,
                text=d.text.strip()[:500],
                region_code=d.region_code,
                office=d.office.strip()[:100],
                deadline=d.deadline,
            )
            for d in decisions or []
        )
    return meeting


def decisions_visible(actor: Any):
    """Tasks the user's area must carry out, and those it gave to areas below."""
    require(actor, Action.REPORTS_BOARD)
    return jurisdiction.scope(Decision.objects.select_related("meeting"), actor)


def complete_decision(actor: Any, decision_id: int, *, report: str, version: int) -> Decision:
    require(actor, Action.REPORTS_DAILY)
    with transaction.atomic():
        decision = decisions_visible(actor).filter(pk=decision_id).first()
        if decision is None:
            raise NotFound(decision_id)
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.version != version:
            raise VersionConflict(decision.version)
        if not report.strip():
            raise ValidationFailed([FieldError("report", "请填写完成情况")])
        decision.report = report.strip()[:2000]
        decision.done_at = timezone.now()
        decision.done_by = actor
        decision.version += 1
        decision.save()
    return decision


def timeline_entries(actor: Any, person_id: int) -> list[Any]:
    """Self-inspection findings about a person, for the person's timeline."""
    from fangkong.core.timeline import TimelineEntry

    rows = jurisdiction.scope(Finding.objects.filter(person_id=person_id), actor)
    return [
        TimelineEntry(
            at=f.first_seen,
            module="reports",
            kind="排查起底",
            title=f.what,
            detail="已消除" if f.resolved_at else "待整改",
            url=f.url,
            tone="" if f.resolved_at else "alert",
        )
        for f in rows.order_by("-first_seen")[:50]
    ]
