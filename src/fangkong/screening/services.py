"""Rules and writes of screening: risk areas, stays, control policy versions.

Who may do what is checked here (the role matrix), and which persons a user may touch
(jurisdiction) through :func:`fangkong.core.jurisdiction.scope`. Risk areas are national
data, not personal data: every user with the view action reads them all, and only the
county headquarters edits them. A change of risk areas or a new policy version queues a
re-evaluation of the affected region in the background (:mod:`.tasks`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, jurisdiction
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action, can
from fangkong.people.models import Person, Source

from .models import ControlPolicy, Measure, PolicyRule, RiskArea, RiskLevel, RuleLevel, Stay

MAX_LOOK_BACK = 60
MAX_DAYS = 90


def require(user: Any, action: Action) -> None:
    """Raise :class:`PermissionDenied` unless the user's role allows ``action``."""
    if not can(user, action):
        raise PermissionDenied(action)


def _check_code(code: str, field: str, errors: list[FieldError]) -> None:
    if code and (not code.isdigit() or len(code) not in (2, 4, 6, 9, 12)):
        errors.append(FieldError(field, _("A region code has 2, 4, 6, 9 or 12 digits")))


def _check_range(start: dt.date, end: dt.date | None, field: str, errors: list) -> None:
    if end is not None and end < start:
        errors.append(FieldError(field, _("The end date is before the start date")))


@dataclass(frozen=True)
class RiskAreaInput:
    region_code: str
    place: str
    level: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    notice: str = ""

    def validate(self, errors: list[FieldError], prefix: str = "") -> None:
        _check_code(self.region_code, prefix + "region_code", errors)
        if not self.place.strip():
            errors.append(FieldError(prefix + "place", _("The place is required")))
        if self.level not in RiskLevel.values:
            errors.append(FieldError(prefix + "level", _("Unknown risk level")))
        _check_range(self.valid_from, self.valid_to, prefix + "valid_to", errors)


def create_risk_areas(
    *, user: Any, areas: list[RiskAreaInput], channel: str = "api", reevaluate: bool = True
) -> list[RiskArea]:
    """Add risk areas (all or none) and queue re-evaluation of the user's regions.

    Only the county headquarters edits risk areas: they come from notices of higher
    authorities, and one list serves the whole county.
    """
    require(user, Action.SCREENING_RULES)
    errors: list[FieldError] = []
    for index, area in enumerate(areas):
        area.validate(errors, f"{index}." if len(areas) > 1 else "")
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        created = RiskArea.objects.bulk_create(
            RiskArea(
                region_code=a.region_code,
                place=a.place.strip(),
                level=a.level,
                valid_from=a.valid_from,
                valid_to=a.valid_to,
                notice=a.notice.strip(),
                created_by=user,
                created_at=now,
                updated_at=now,
            )
            for a in areas
        )
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="risk_area",
            channel=channel,
            detail=f"{len(created)} 个风险地区",
        )
    if reevaluate:
        queue_for_user_regions(user=user, why=_("Risk areas added"))
    return created


def update_risk_area(
    *, user: Any, area_id: int, version: int, changes: dict[str, Any], channel: str = "api"
) -> RiskArea:
    """Change a risk area (typically: set ``valid_to`` when it is lifted) and re-evaluate."""
    require(user, Action.SCREENING_RULES)
    with transaction.atomic():
        area = RiskArea.objects.select_for_update().filter(pk=area_id).first()
        if area is None:
            raise NotFound(area_id)
        if area.version != version:
            raise VersionConflict(area.version)
        merged = RiskAreaInput(
            region_code=changes.get("region_code", area.region_code),
            place=changes.get("place", area.place),
            level=changes.get("level", area.level),
            valid_from=changes.get("valid_from", area.valid_from),
            valid_to=changes.get("valid_to", area.valid_to),
            notice=changes.get("notice", area.notice),
        )
        errors: list[FieldError] = []
        merged.validate(errors)
        if errors:
            raise ValidationFailed(errors)
        for name in ("region_code", "place", "level", "valid_from", "valid_to", "notice"):
            setattr(area, name, getattr(merged, name))
        area.version += 1
        area.updated_at = timezone.now()
        area.save()
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="risk_area",
            object_id=area.pk,
            channel=channel,
            fields=sorted(changes),
        )
    queue_for_user_regions(user=user, why=_("Risk area changed"))
    return area


def _person_in_scope(user: Any, person_id: int) -> Person:
    person = jurisdiction.scope(Person.objects.all(), user).filter(pk=person_id).first()
    if person is None:
        raise NotFound(person_id)
    return person


def record_stay(
    *,
    user: Any,
    person_id: int,
    place: str,
    place_code: str,
    arrived: dt.date,
    left: dt.date,
    transport: str = "",
    source: str = Source.MANUAL,
    channel: str = "api",
) -> Stay:
    """Record where a person stayed. The person must lie in the user's jurisdiction."""
    require(user, Action.SCREENING_EDIT)
    person = _person_in_scope(user, person_id)
    errors: list[FieldError] = []
    _check_code(place_code, "place_code", errors)
    if not place.strip():
        errors.append(FieldError("place", _("The place is required")))
    _check_range(arrived, left, "left", errors)
    if left > timezone.localdate():
        errors.append(FieldError("left", _("The date is in the future")))
    if source not in Source.values:
        errors.append(FieldError("source", _("Unknown source")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        stay = Stay.objects.create(
            person=person,
            region_code=person.region_code,
            place=place.strip(),
            place_code=place_code,
            arrived=arrived,
            left=left,
            transport=transport.strip(),
            source=source,
            created_by=user,
        )
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="stay",
            object_id=stay.pk,
            channel=channel,
            detail=f"person {person.pk}",
        )
    return stay


@dataclass(frozen=True)
class RuleInput:
    level: str
    look_back_days: int
    measure: str
    days: int = 0
    home_days: int = 0
    test_days: tuple[int, ...] = ()


def publish_policy(
    *,
    user: Any,
    region_code: str,
    title: str,
    notice: str,
    rules: list[RuleInput],
    channel: str = "api",
    reevaluate: bool = True,
) -> tuple[ControlPolicy, Any]:
    """Publish the next version of a region's control policy and queue re-evaluation.

    Versions are immutable: decisions made under an older version keep pointing to it.
    The region must lie inside the user's jurisdiction (a county publishes for its county).
    Returns the policy and the task record of the re-evaluation (None when not queued).
    """
    require(user, Action.SCREENING_RULES)
    errors: list[FieldError] = []
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    if len(region_code) != 6:
        # One policy per county: the county headquarters sets the measures for all of it,
        # so a person never falls under two policies at once.
        errors.append(FieldError("region_code", _("A control policy is set for a county")))
    if not title.strip():
        errors.append(FieldError("title", _("The title is required")))
    if not rules:
        errors.append(FieldError("rules", _("A policy needs at least one rule")))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        p = f"rules.{i}."
        if rule.level not in RuleLevel.values:
            errors.append(FieldError(p + "level", _("Unknown risk level")))
        elif rule.level in seen:
            errors.append(FieldError(p + "level", _("Each level may have one rule only")))
        seen.add(rule.level)
        if rule.measure not in Measure.values:
            errors.append(FieldError(p + "measure", _("Unknown measure")))
        if not 1 <= rule.look_back_days <= MAX_LOOK_BACK:
            errors.append(
                FieldError(p + "look_back_days", _("The look-back window is 1 to 60 days"))
            )
        total = rule.days + rule.home_days
        if not (0 <= rule.days <= MAX_DAYS and 0 <= rule.home_days <= MAX_DAYS):
            errors.append(FieldError(p + "days", _("A period is 0 to 90 days")))
        if (
            rule.measure in (Measure.CENTRALISED, Measure.HOME, Measure.MONITORING)
            and rule.days == 0
        ):
            errors.append(FieldError(p + "days", _("This measure needs a number of days")))
        if any(d < 1 or d > max(total, 1) for d in rule.test_days):
            errors.append(
                FieldError(
                    p + "test_days", _("Test days fall within the period (day 1 to its end)")
                )
            )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        last = (
            (
                ControlPolicy.objects.select_for_update()
                .filter(region_code=region_code)
                .aggregate(v=Max("version"))["v"]
            )
            or 0
        )
        policy = ControlPolicy.objects.create(
            region_code=region_code,
            version=last + 1,
            title=title.strip(),
            notice=notice.strip(),
            created_by=user,
        )
        PolicyRule.objects.bulk_create(
            PolicyRule(
                policy=policy,
                level=r.level,
                look_back_days=r.look_back_days,
                measure=r.measure,
                days=r.days,
                home_days=r.home_days,
                test_days=sorted(set(r.test_days)),
            )
            for r in rules
        )
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="control_policy",
            object_id=policy.pk,
            channel=channel,
            detail=f"{region_code} v{policy.version}",
        )
    record = None
    if reevaluate:
        from . import tasks

        record = tasks.enqueue_reevaluation(
            user=user,
            region_code=region_code,
            why=_("New policy version %(v)s") % {"v": policy.version},
        )
    return policy, record


def queue_for_user_regions(*, user: Any, why: str) -> list:
    """Queue re-evaluation for every region with a policy inside the user's jurisdiction."""
    from . import tasks

    codes = jurisdiction.scope(ControlPolicy.objects.all(), user)
    records = []
    for code in sorted(set(codes.values_list("region_code", flat=True))):
        records.append(tasks.enqueue_reevaluation(user=user, region_code=code, why=why))
    return records


RISK_AREA_HEADERS = ("地区代码", "地点", "风险等级", "起始日期", "截止日期", "来源通知")
_LEVEL_WORDS = {
    "高风险": "high",
    "高": "high",
    "中风险": "medium",
    "中": "medium",
    "低风险": "low",
    "低": "low",
    **{v: v for v in RiskLevel.values},
}
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def parse_date(text: str) -> dt.date | None:
    """A date as cadres type it: 2022-01-03, 2022/1/3, 2022.1.3, 2022年1月3日."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(text)
    return dt.date(*(int(g) for g in match.groups()))


def import_risk_areas(
    *, user: Any, path: Any, file_name: str, channel: str = "api"
) -> list[RiskArea]:
    """Import risk areas from an .xlsx or .csv with :data:`RISK_AREA_HEADERS`; all or none.

    A notice lists a few dozen areas, so this runs in the request; the errors name the row
    and the column like a ledger import.
    """
    from pathlib import Path

    from .sheets import SheetError, read

    require(user, Action.SCREENING_RULES)
    try:
        table = read(Path(path), file_name)
    except SheetError as exc:
        raise ValidationFailed([FieldError("file", exc.message)]) from None
    missing = [h for h in RISK_AREA_HEADERS[:4] if h not in table.headers]
    if missing:
        raise ValidationFailed([FieldError("file", "缺少列：" + "、".join(missing))])
    index = {h: table.headers.index(h) for h in RISK_AREA_HEADERS if h in table.headers}
    areas: list[RiskAreaInput] = []
    errors: list[FieldError] = []
    for number, cells in table.rows:

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[index[name]] if name in index else ""

        row: list[FieldError] = []
        dates: dict[str, dt.date | None] = {}
        for name in ("起始日期", "截止日期"):
            try:
                dates[name] = parse_date(cell(name)) if cell(name) else None
            except ValueError:
                row.append(
                    FieldError(f"第{number}行 {name}", f"“{cell(name)}”不是日期，请写成 2022-01-03")
                )
        if not cell("起始日期"):
            row.append(FieldError(f"第{number}行 起始日期", "起始日期必填"))
        level = _LEVEL_WORDS.get(cell("风险等级"))
        if level is None:
            row.append(FieldError(f"第{number}行 风险等级", "请填写 高风险、中风险 或 低风险"))
        if not row:
            area = RiskAreaInput(
                region_code=cell("地区代码"),
                place=cell("地点"),
                level=level,
                valid_from=dates["起始日期"],
                valid_to=dates["截止日期"],
                notice=cell("来源通知")[:200],
            )
            area.validate(row, f"第{number}行 ")
            areas.append(area)
        errors.extend(row)
    if not errors and not areas:
        errors.append(FieldError("file", "文件中没有数据行"))
    if errors:
        raise ValidationFailed(errors[:500])
    return create_risk_areas(user=user, areas=areas, channel=channel)


def request_reevaluation(*, user: Any, region_code: str) -> list:
    """Re-evaluate a region now (e.g. after stays were imported); county headquarters only."""
    require(user, Action.SCREENING_RULES)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    from . import tasks

    if not ControlPolicy.objects.filter(region_code=region_code).exists():
        raise ValidationFailed([FieldError("region_code", _("This region has no control policy"))])
    return [
        tasks.enqueue_reevaluation(
            user=user, region_code=region_code, why=_("Requested by the county")
        )
    ]
