"""The rules of places and units, as plain functions (writes) and scoped reads.

- Every read and write is bounded by the actor's jurisdiction (a place elsewhere is 404).
- A place's status changes only here, with its closure order, and the history is kept.
- A failed checklist item is exactly one problem (stable source ``places.result:ID``).
- A gathering may be *held under conditions* only when it is not a banquet, keeps to
  :data:`MAX_TABLES_HELD` tables, and someone who may approve decides it.
- An enterprise resumes only with a passed inspection and a reviewed emergency plan.
- A cold-chain batch never leaves without "两证明一报告一信息".
- A pharmacy sale is keyed by the counter's receipt: re-sending it changes nothing, and
  its buyer is followed up once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from fangkong.core import idnumbers, inspection, jurisdiction, phones, problems, signals
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.permissions import require, require_any
from fangkong.core.roles import Action
from fangkong.people.models import Person

from .models import (
    BatchStatus,
    ChecklistItem,
    ColdBatch,
    DailyCheck,
    Disinfection,
    DrugClass,
    DrugSale,
    Gathering,
    GatheringKind,
    Inspection,
    InspectionResult,
    Member,
    Outcome,
    Place,
    PlaceKind,
    PlaceStatus,
    ReportedBy,
    Resumption,
    ResumptionStatus,
    SchoolClass,
    Slot,
    StatusChange,
)

# A gathering held under conditions (simplified funeral or wedding) keeps to this many tables;
# banquets are never held (宴会不办). The seeds name no number; 5 tables is the local rule
# the demo county uses, kept here in one place.
MAX_TABLES_HELD = 5
# A place of an inspected kind with no inspection for this many days is overdue.
INSPECTION_DAYS = 7
# A rectification deadline for a failed checklist item.
RECTIFY_HOURS = 24
# A fever is a temperature at or above this (°C).
FEVER = Decimal("37.3")

# Disinfection rounds a day by kind (business premises ≥ 2; the rest once).
BUSINESS_KINDS = {
    PlaceKind.MARKET,
    PlaceKind.SUPERMARKET,
    PlaceKind.RESTAURANT,
    PlaceKind.PHARMACY,
    PlaceKind.HOTEL,
    PlaceKind.ENTERPRISE,
    PlaceKind.SCHOOL,
    PlaceKind.KINDERGARTEN,
    PlaceKind.CARE_HOME,
    PlaceKind.COLD_STORAGE,
}


def rounds_required(kind: str) -> int:
    """Disinfection rounds a day a place of ``kind`` owes while open."""
    return 2 if kind in BUSINESS_KINDS else 1


# The kinds the closure campaign orders shut (景区、网吧、歌舞娱乐、宗教场所).
CLOSURE_KINDS = (
    PlaceKind.ENTERTAINMENT,
    PlaceKind.INTERNET_CAFE,
    PlaceKind.SCENIC,
    PlaceKind.RELIGIOUS,
)

# Default checklists (the business-premises rules, the resumption checklist, "五有" of a gate).
_BUSINESS = [
    "从业人员持有效健康证明",
    "从业人员和顾客佩戴口罩",
    "每日消毒不少于2次并有消毒台账",
    "进店人员测温并有体温登记",
    "张贴场所码并扫码登记",
]
DEFAULT_CHECKLISTS: dict[str, list[str]] = {
    PlaceKind.MARKET: [*_BUSINESS, "无活禽交易和现场宰杀", "规范进货台账"],
    PlaceKind.SUPERMARKET: [*_BUSINESS, "排队间隔1米以上"],
    PlaceKind.RESTAURANT: [*_BUSINESS, "未承接聚餐宴席"],
    PlaceKind.PHARMACY: [*_BUSINESS, "四类药品实名登记"],
    PlaceKind.HOTEL: [*_BUSINESS],
    PlaceKind.ENTERPRISE: [
        "成立疫情防控工作组并明确责任人",
        "职工健康状况和行程排查到人",
        "每日不少于2次体温测量记录",
        "每日消毒2至3次并有台账",
        "食堂错峰就餐、间隔1米",
        "宿舍通风和管理措施",
        "应急预案和隔离观察场所",
        "防疫物资储备充足",
    ],
    PlaceKind.SCHOOL: [
        "晨午检制度落实",
        "因病缺勤登记和病因追踪",
        "一人一档、一日一报",
        "隔离室设置到位",
        "每日消毒并有记录",
    ],
    PlaceKind.KINDERGARTEN: ["晨午检制度落实", "因病缺勤登记和病因追踪", "每日消毒并有记录"],
    PlaceKind.CARE_HOME: ["封闭管理、禁止外来人员探视", "每日测温", "每日消毒并有记录"],
    PlaceKind.SHELTER: ["封闭管理、禁止外来人员探视", "每日测温", "每日消毒并有记录"],
    PlaceKind.COLD_STORAGE: [
        "冷库管理员责任落实",
        "进仓报备、信息登记、出仓证明",
        "两证明一报告一信息齐全",
        "从业人员定期核酸检测",
        "环境定期采样检测",
    ],
    PlaceKind.ENTERTAINMENT: ["已停业并张贴公告", "大门锁闭无人员聚集"],
    PlaceKind.INTERNET_CAFE: ["已停业并张贴公告", "大门锁闭无人员聚集"],
    PlaceKind.SCENIC: ["已关闭并张贴公告", "入口有人值守"],
    PlaceKind.RELIGIOUS: ["已关闭并暂停宗教活动", "大门锁闭无人员聚集"],
}


# --- reading, scoped -------------------------------------------------------------------


def places_of(actor: Any) -> QuerySet[Place]:
    """The places inside the actor's jurisdiction."""
    require(actor, Action.PLACES_VIEW)
    return jurisdiction.scope(Place.objects.all(), actor)


def get_place(actor: Any, place_id: int, *, kind: Iterable[str] | None = None) -> Place:
    """One place of the jurisdiction (of one of ``kind`` when given); NotFound otherwise."""
    queryset = places_of(actor)
    if kind is not None:
        queryset = queryset.filter(kind__in=list(kind))
    place = queryset.select_related("cadre").filter(pk=place_id).first()
    if place is None:
        raise NotFound(place_id)
    return place


def _inside(actor: Any, region_code: str, field: str = "region_code") -> None:
    if not region_code or not jurisdiction.covers(actor, region_code):
        raise ValidationFailed([FieldError(field, "请选择您辖区内的村或组")])


def _phone(value: str, field: str) -> str:
    if not value:
        return ""
    try:
        return phones.normalize(value)
    except phones.PhoneError as exc:
        raise ValidationFailed([FieldError(field, exc.message)]) from None


def _text(value: str, field: str, label: str, *, max_length: int = 100) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed([FieldError(field, f"请填写{label}")])
    if len(value) > max_length:
        raise ValidationFailed([FieldError(field, f"{label}不能超过{max_length}个字")])
    return value


# --- registry and closures --------------------------------------------------------------


@dataclass(frozen=True)
class PlaceInput:
    kind: str
    name: str
    region_code: str
    address: str = ""
    manager_name: str = ""
    manager_phone: str = ""
    cadre_id: int | None = None
    staff_count: int = 0


def register_place(*, actor: Any, data: PlaceInput) -> Place:
    """Register a place in a village (or group) of the actor's jurisdiction."""
    require(actor, Action.PLACES_MANAGE)
    if data.kind not in PlaceKind.values:
        raise ValidationFailed([FieldError("kind", "请选择场所类别")])
    name = _text(data.name, "name", "名称")
    _inside(actor, data.region_code)
    cadre = None
    if data.cadre_id:
        from fangkong.core.models import User

        cadre = jurisdiction.scope(
            User.objects.filter(pk=data.cadre_id), actor, field="regions__code"
        ).first()
        if cadre is None:
            raise ValidationFailed([FieldError("cadre_id", "包保干部须是辖区内的用户")])
    return Place.objects.create(
        kind=data.kind,
        name=name,
        region_code=data.region_code,
        address=(data.address or "").strip()[:200],
        manager_name=(data.manager_name or "").strip()[:64],
        manager_phone=_phone(data.manager_phone, "manager_phone"),
        cadre=cadre,
        staff_count=max(0, int(data.staff_count or 0)),
        status_since=timezone.now(),
    )


_ALLOWED_MOVES = {
    PlaceStatus.OPEN: {PlaceStatus.CLOSED},
    PlaceStatus.CLOSED: {PlaceStatus.REOPENED},
    PlaceStatus.REOPENED: {PlaceStatus.CLOSED},
}


def change_status(
    *,
    actor: Any,
    place_id: int,
    status: str,
    version: int,
    order_no: str = "",
    reason: str = "",
    effective_at: dt.datetime | None = None,
) -> Place:
    """Close a place by order, or reopen it; the change is kept in its history.

    A closure needs its order number (文号); an unchanged status or an older ``version`` is
    refused (someone else changed the place first)."""
    require(actor, Action.PLACES_MANAGE)
    with transaction.atomic():
        place = get_place(actor, place_id)
        place = Place.objects.select_for_update().get(pk=place.pk)
        if place.version != version:
            raise VersionConflict(place.version)
        if status not in _ALLOWED_MOVES.get(PlaceStatus(place.status), set()):
            raise ValidationFailed([FieldError("status", "该场所已是这一状态")])
        order_no = (order_no or "").strip()
        if status == PlaceStatus.CLOSED and not order_no:
            raise ValidationFailed([FieldError("order_no", "关停须填写关停通知文号")])
        at = effective_at or timezone.now()
        StatusChange.objects.create(
            place=place,
            status=status,
            order_no=order_no[:60],
            reason=(reason or "").strip()[:200],
            effective_at=at,
            by=actor,
        )
        place.status, place.status_since, place.order_no = status, at, order_no[:60]
        place.version += 1
        place.save(update_fields=["status", "status_since", "order_no", "version"])
    return place


def labels_of(choices: Any) -> dict[str, str]:
    """Value → label in the active language, computed once per call (``get_FOO_display`` per
    row costs a lazy translation each: 200 rows of it were most of a page's time)."""
    return {value: str(label) for value, label in choices}


def campaign(actor: Any, kinds: Sequence[str] = CLOSURE_KINDS) -> dict[str, Any]:
    """The closure campaign: per kind how many are closed and open, and the still-open list
    (a query, ordered by village)."""
    queryset = places_of(actor).filter(kind__in=list(kinds))
    from django.db.models import Count, Q

    rows = (
        queryset.order_by()
        .values("kind")
        .annotate(total=Count("pk"), closed=Count("pk", filter=Q(status=PlaceStatus.CLOSED)))
    )
    labels = labels_of(PlaceKind.choices)
    by_kind = [
        {
            "kind": row["kind"],
            "label": labels.get(row["kind"], row["kind"]),
            "total": row["total"],
            "closed": row["closed"],
            "open": row["total"] - row["closed"],
        }
        for row in sorted(rows, key=lambda r: list(kinds).index(r["kind"]))
    ]
    # The still-open list as a query: pages and the API take one page of it at a time.
    still_open = (
        queryset.exclude(status=PlaceStatus.CLOSED)
        .select_related("cadre")
        .order_by("region_code", "kind", "name", "pk")
    )
    total = sum(r["total"] for r in by_kind)
    closed = sum(r["closed"] for r in by_kind)
    return {
        "by_kind": by_kind,
        "still_open": still_open,
        "open_count": total - closed,
        "total": total,
        "closed": closed,
    }


# --- checklists and inspections --------------------------------------------------------


def checklist(kind: str) -> list[ChecklistItem]:
    """The active checklist of a kind; the defaults are written the first time it is asked."""
    items = list(ChecklistItem.objects.filter(kind=kind, active=True))
    if items or kind not in DEFAULT_CHECKLISTS:
        return items
    with transaction.atomic():
        if not ChecklistItem.objects.filter(kind=kind).exists():
            ChecklistItem.objects.bulk_create(
                ChecklistItem(kind=kind, label=label, position=n)
                for n, label in enumerate(DEFAULT_CHECKLISTS[kind], start=1)
            )
    return list(ChecklistItem.objects.filter(kind=kind, active=True))


@dataclass(frozen=True)
class ItemOutcome:
    item_id: int
    passed: bool
    photo: Any = None  # an uploaded file, or None


def record_inspection(
    *,
    actor: Any,
    place_id: int,
    outcomes: Sequence[ItemOutcome],
    covert: bool = False,
    note: str = "",
    inspected_at: dt.datetime | None = None,
) -> Inspection:
    """Record an inspection: every item of the place's checklist passed or failed.

    Each failed item is one problem on the problems list (source ``places.result:ID``),
    due in :data:`RECTIFY_HOURS`; without the list the failure stays on this module's own
    list of items to rectify."""
    require(actor, Action.PLACES_INSPECT)
    place = get_place(actor, place_id)
    items = {item.pk: item for item in checklist(place.kind)}
    given = {o.item_id: o for o in outcomes}
    errors = [FieldError(f"item_{i}", "不是该类场所的检查项目") for i in given if i not in items]
    errors += [FieldError(f"item_{i}", "请选择合格或不合格") for i in items if i not in given]
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    at = inspected_at or now
    if at > now + dt.timedelta(minutes=5):
        raise ValidationFailed([FieldError("inspected_at", "检查时间不能晚于现在")])
    with transaction.atomic():
        record = Inspection.objects.create(
            place=place,
            region_code=place.region_code,
            inspected_at=at,
            inspector=actor,
            covert=bool(covert),
            note=(note or "").strip()[:300],
            failed=sum(1 for o in given.values() if not o.passed),
        )
        results = []
        for item_id, item in items.items():
            outcome = given[item_id]
            result = InspectionResult(
                inspection=record,
                item=item,
                passed=outcome.passed,
                deadline=None if outcome.passed else at + dt.timedelta(hours=RECTIFY_HOURS),
            )
            if outcome.photo is not None:
                result.photo = outcome.photo
            result.save()
            results.append(result)
        for result in results:
            if not result.passed:
                raise_result_problem(result, place=place, actor=actor)
    return record


def raise_result_problem(result: InspectionResult, *, place: Place, actor: Any) -> None:
    """Put a failed item on the problems list once (idempotent by its source)."""
    if not problems.available():
        return
    ref = problems.raise_problem(
        problems.ProblemDraft(
            source=result.source,
            region_code=place.region_code,
            aspect=inspection.Aspect.RISK,
            title=f"{place.name}：{result.item.label}不合格",
            detail=f"{place.get_kind_display()}检查发现“{result.item.label}”不合格，限期整改。",
            deadline=result.deadline,
            owner=place.cadre,
            raised_by=actor,
            url=reverse("places:place_detail", args=[place.pk]),
            evidence=(result.photo.name,) if result.photo else (),
        )
    )
    if result.problem_id != ref.id:
        InspectionResult.objects.filter(pk=result.pk).update(problem_id=ref.id)


def problem_closed(
    sender: Any = None, *, source: str = "", closed_at: Any = None, **_: Any
) -> None:
    """The problems list closed one of ours: mark the failed item rectified."""
    if not source.startswith("places.result:"):
        return
    try:
        pk = int(source.split(":", 1)[1])
    except ValueError:
        return
    InspectionResult.objects.filter(pk=pk, rectified_at__isnull=True).update(
        rectified_at=closed_at or timezone.now()
    )


def rectify(*, actor: Any, result_id: int) -> InspectionResult:
    """Mark a failed item rectified (the local list, when no problems list is installed)."""
    require(actor, Action.PLACES_INSPECT)
    result = (
        InspectionResult.objects.select_related("inspection")
        .filter(pk=result_id, passed=False)
        .first()
    )
    if result is None or not jurisdiction.covers(actor, result.inspection.region_code):
        raise NotFound(result_id)
    if result.rectified_at is None:
        result.rectified_at = timezone.now()
        result.save(update_fields=["rectified_at"])
    return result


# --- gatherings --------------------------------------------------------------------------


@dataclass(frozen=True)
class GatheringInput:
    kind: str
    region_code: str
    place_text: str
    organiser_name: str
    date: dt.date
    tables: int = 0
    guests: int = 0
    reported_by: str = ReportedBy.PATROL
    organiser_phone: str = ""
    note: str = ""


def record_gathering(*, actor: Any, data: GatheringInput) -> Gathering:
    """Record a banquet, wedding or funeral reported or found; the outcome comes later."""
    require(actor, Action.PLACES_GATHERINGS)
    errors = []
    if data.kind not in GatheringKind.values:
        errors.append(FieldError("kind", "请选择活动类型"))
    if data.reported_by not in ReportedBy.values:
        errors.append(FieldError("reported_by", "请选择来源"))
    if data.tables < 0 or data.tables > 1000:
        errors.append(FieldError("tables", "桌数应在0到1000之间"))
    if data.guests < 0 or data.guests > 20000:
        errors.append(FieldError("guests", "人数应在0到20000之间"))
    if errors:
        raise ValidationFailed(errors)
    _inside(actor, data.region_code)
    return Gathering.objects.create(
        kind=data.kind,
        region_code=data.region_code,
        place_text=_text(data.place_text, "place_text", "地点", max_length=120),
        organiser_name=_text(data.organiser_name, "organiser_name", "主办人", max_length=64),
        organiser_phone=_phone(data.organiser_phone, "organiser_phone"),
        date=data.date,
        tables=data.tables,
        guests=data.guests,
        reported_by=data.reported_by,
        note=(data.note or "").strip()[:300],
    )


def may_hold(kind: str, tables: int) -> str:
    """Why a gathering may not be held under conditions ('' when it may)."""
    if kind == GatheringKind.BANQUET:
        return "宴席聚餐一律不办，只能劝停或延期"
    if tables > MAX_TABLES_HELD:
        return f"有条件举办不得超过{MAX_TABLES_HELD}桌，请劝导从简或延期"
    return ""


def decide_gathering(
    *, actor: Any, gathering_id: int, outcome: str, version: int, note: str = ""
) -> Gathering:
    """Record the outcome of persuasion. *Held under conditions* needs the approving role
    and passes :func:`may_hold`; the persuading cadre is the actor."""
    require(actor, Action.PLACES_GATHERINGS)
    if outcome not in Outcome.values or outcome == Outcome.PENDING:
        raise ValidationFailed([FieldError("outcome", "请选择劝导结果")])
    with transaction.atomic():
        gathering = (
            jurisdiction.scope(Gathering.objects.select_for_update(), actor)
            .filter(pk=gathering_id)
            .first()
        )
        if gathering is None:
            raise NotFound(gathering_id)
        if gathering.version != version:
            raise VersionConflict(gathering.version)
        if outcome == Outcome.HELD:
            require(actor, Action.PLACES_APPROVE)
            why = may_hold(gathering.kind, gathering.tables)
            if why:
                raise ValidationFailed([FieldError("outcome", why)])
            gathering.approved_by = actor
        gathering.outcome = outcome
        gathering.persuaded_by = actor
        gathering.decided_at = timezone.now()
        if note:
            gathering.note = note.strip()[:300]
        gathering.version += 1
        gathering.save()
    return gathering


def gathering_counts(actor: Any, day: dt.date) -> dict[str, int]:
    """The daily count to the county: gatherings and tables stopped, postponed, simplified."""
    from django.db.models import Count, Sum

    queryset = jurisdiction.scope(Gathering.objects.all(), actor)
    done = queryset.filter(outcome__in=[Outcome.STOPPED, Outcome.POSTPONED])
    total = done.aggregate(n=Count("pk"), tables=Sum("tables"))
    today = done.filter(decided_at__date=day).aggregate(n=Count("pk"), tables=Sum("tables"))
    return {
        "stopped": total["n"] or 0,
        "tables": total["tables"] or 0,
        "stopped_today": today["n"] or 0,
        "tables_today": today["tables"] or 0,
        "simplified": queryset.filter(outcome=Outcome.SIMPLIFIED).count(),
        "pending": queryset.filter(outcome=Outcome.PENDING).count(),
    }


# --- enterprises ---------------------------------------------------------------------------


def apply_resumption(
    *,
    actor: Any,
    place_id: int,
    staff_count: int,
    risk_area_staff: int = 0,
    canteen_rules: bool = False,
    dormitory_rules: bool = False,
    emergency_plan: Any = None,
    note: str = "",
) -> Resumption:
    """An enterprise applies to resume work; one open application at a time."""
    require(actor, Action.PLACES_MANAGE)
    place = get_place(actor, place_id, kind=[PlaceKind.ENTERPRISE])
    errors = []
    if staff_count < 1 or staff_count > 100000:
        errors.append(FieldError("staff_count", "职工人数应在1到100000之间"))
    if risk_area_staff < 0 or risk_area_staff > staff_count:
        errors.append(FieldError("risk_area_staff", "来自风险地区的职工不能多于职工人数"))
    if place.resumptions.filter(status=ResumptionStatus.APPLIED).exists():
        errors.append(FieldError("place", "该企业已有待审批的复工申请"))
    if errors:
        raise ValidationFailed(errors)
    resumption = Resumption(
        place=place,
        region_code=place.region_code,
        staff_count=staff_count,
        risk_area_staff=risk_area_staff,
        canteen_rules=canteen_rules,
        dormitory_rules=dormitory_rules,
        note=(note or "").strip()[:300],
    )
    if emergency_plan is not None:
        resumption.emergency_plan = emergency_plan
    resumption.save()
    Place.objects.filter(pk=place.pk).update(staff_count=staff_count)
    return resumption


def decide_resumption(
    *, actor: Any, resumption_id: int, approve: bool, plan_reviewed: bool, note: str = ""
) -> Resumption:
    """Approve or refuse a resumption. Approval needs the enterprise's latest inspection
    passed in full, a reviewed emergency plan, and the canteen and dormitory rules."""
    require(actor, Action.PLACES_APPROVE)
    with transaction.atomic():
        resumption = (
            jurisdiction.scope(Resumption.objects.select_for_update(), actor)
            .filter(pk=resumption_id)
            .first()
        )
        if resumption is None:
            raise NotFound(resumption_id)
        if resumption.status != ResumptionStatus.APPLIED:
            raise ValidationFailed([FieldError("status", "该申请已审批")])
        resumption.plan_reviewed = plan_reviewed
        if approve:
            latest = Inspection.objects.filter(place_id=resumption.place_id).first()
            errors = []
            if latest is None or latest.failed:
                errors.append(FieldError("inspection", "须先按复工检查表检查且全部合格"))
            if not resumption.emergency_plan or not plan_reviewed:
                errors.append(FieldError("plan_reviewed", "须上传应急预案并审核"))
            if not (resumption.canteen_rules and resumption.dormitory_rules):
                errors.append(FieldError("canteen_rules", "须落实食堂和宿舍管理措施"))
            if errors:
                raise ValidationFailed(errors)
            resumption.inspection = latest
        resumption.status = ResumptionStatus.APPROVED if approve else ResumptionStatus.REFUSED
        resumption.decided_at = timezone.now()
        resumption.decided_by = actor
        if note:
            resumption.note = note.strip()[:300]
        resumption.save()
        if approve:
            place = Place.objects.get(pk=resumption.place_id)
            if place.status == PlaceStatus.CLOSED:
                change_status(
                    actor=actor,
                    place_id=place.pk,
                    status=PlaceStatus.REOPENED,
                    version=place.version,
                    reason="复工复产申请已批准",
                )
    return resumption


def resumption_rate(actor: Any, group_length: int = 9) -> list[dict[str, Any]]:
    """Enterprises approved to resume over all enterprises, per township (or village)."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from fangkong.core import regions

    enterprises = places_of(actor).filter(kind=PlaceKind.ENTERPRISE)
    totals = dict(
        enterprises.order_by()
        .annotate(g=Substr("region_code", 1, group_length))
        .values_list("g")
        .annotate(n=Count("pk"))
    )
    resumed = dict(
        enterprises.filter(resumptions__status=ResumptionStatus.APPROVED)
        .order_by()
        .annotate(g=Substr("region_code", 1, group_length))
        .values_list("g")
        .annotate(n=Count("pk", distinct=True))
    )
    labels = regions.region_labels(list(totals))
    return [
        {
            "code": code,
            "name": labels.get(code, code),
            "total": n,
            "resumed": resumed.get(code, 0),
            "percent": round(100 * resumed.get(code, 0) / n) if n else 0,
        }
        for code, n in sorted(totals.items())
    ]


# --- schools ----------------------------------------------------------------------------


def add_class(*, actor: Any, school_id: int, name: str, teacher_name: str = "") -> SchoolClass:
    require(actor, Action.PLACES_SCHOOLS)
    school = get_place(actor, school_id, kind=[PlaceKind.SCHOOL, PlaceKind.KINDERGARTEN])
    name = _text(name, "name", "班级", max_length=40)
    try:
        with transaction.atomic():
            return SchoolClass.objects.create(
                school=school,
                region_code=school.region_code,
                name=name,
                teacher_name=(teacher_name or "").strip()[:64],
            )
    except IntegrityError:
        raise ValidationFailed([FieldError("name", "该班级已存在")]) from None


def get_class(actor: Any, class_id: int) -> SchoolClass:
    require(actor, Action.PLACES_VIEW)
    found = (
        jurisdiction.scope(SchoolClass.objects.select_related("school"), actor)
        .filter(pk=class_id)
        .first()
    )
    if found is None:
        raise NotFound(class_id)
    return found


def add_member(*, actor: Any, class_id: int, person_id: int, role: str = "student") -> Member:
    """Link a registry person to a class (一人一档); the person must be in the jurisdiction."""
    require(actor, Action.PLACES_SCHOOLS)
    school_class = get_class(actor, class_id)
    person = jurisdiction.scope(Person.objects.filter(pk=person_id), actor).first()
    if person is None:
        raise ValidationFailed([FieldError("person", "请在辖区人员中选择")])
    if role not in Member.Role.values:
        raise ValidationFailed([FieldError("role", "请选择身份")])
    member, _created = Member.objects.get_or_create(
        school_class=school_class,
        person=person,
        defaults={"role": role, "region_code": school_class.region_code},
    )
    return member


def report_risk_area_member(*, actor: Any, member_id: int, note: str) -> Member:
    """A student or staff member back from a risk area: the school reports it once, and the
    person is offered to the screening lists (channel: school) for the county to follow."""
    require(actor, Action.PLACES_SCHOOLS)
    member = (
        jurisdiction.scope(Member.objects.select_related("person", "school_class__school"), actor)
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        raise NotFound(member_id)
    note = _text(note, "note", "旅居情况", max_length=200)
    with transaction.atomic():
        first = member.reported_at is None
        member.risk_area_note = note
        member.reported_at = member.reported_at or timezone.now()
        member.save(update_fields=["risk_area_note", "reported_at"])
        if first:
            person = member.person
            signals.screening_entry_offered.send(
                sender=Member,
                ref=f"places.member:{member.pk}",
                channel="school",
                person_id=person.pk,
                name=person.name,
                id_number=person.id_number,
                phone=person.phone,
                region_code=person.region_code,
                reason=f"{member.school_class.school.name}{member.school_class.name}上报：{note}",
                at=member.reported_at,
            )
    return member


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_class_link(*, actor: Any, class_id: int) -> str:
    """A new check link for the class teacher's phone; the earlier link stops working."""
    require(actor, Action.PLACES_SCHOOLS)
    school_class = get_class(actor, class_id)
    token = secrets.token_urlsafe(24)
    school_class.link_hash = _hash(token)
    school_class.save(update_fields=["link_hash"])
    return token


def class_by_token(token: str) -> SchoolClass:
    """The class a teacher's link opens; NotFound for anything else."""
    if not token or len(token) > 64:
        raise NotFound("link")
    found = SchoolClass.objects.select_related("school").filter(link_hash=_hash(token)).first()
    if found is None:
        raise NotFound("link")
    return found


def current_slot(now: dt.datetime | None = None) -> str:
    """Morning check before noon, noon check after (local time)."""
    local = timezone.localtime(now or timezone.now())
    return Slot.MORNING if local.hour < 12 else Slot.NOON


@dataclass(frozen=True)
class CheckInput:
    member_id: int
    present: bool = True
    temperature: Decimal | None = None
    symptoms: str = ""
    absence_cause: str = ""


def _validate_check(row: CheckInput, index: int | None = None) -> list[FieldError]:
    prefix = "" if index is None else f"checks[{index}]."
    errors = []
    if row.present:
        if row.temperature is None:
            errors.append(FieldError(prefix + "temperature", "到校学生须填写体温"))
        elif not row.temperature.is_finite() or not (
            Decimal("34.0") <= row.temperature <= Decimal("42.5")
        ):
            errors.append(FieldError(prefix + "temperature", "体温应在34.0到42.5之间"))
    elif not (row.absence_cause or "").strip():
        errors.append(FieldError(prefix + "absence_cause", "缺勤须登记原因"))
    return errors


def record_checks(
    *,
    school_class: SchoolClass,
    rows: Sequence[CheckInput],
    day: dt.date | None = None,
    slot: str | None = None,
) -> int:
    """Record (or correct) the morning or noon checks of members of one class; returns the
    number written. The caller has opened the class (a teacher's link or a scoped read)."""
    slot = slot or current_slot()
    if slot not in Slot.values:
        raise ValidationFailed([FieldError("slot", "请选择晨检或午检")])
    day = day or timezone.localdate()
    errors = [e for i, row in enumerate(rows) for e in _validate_check(row, i)]
    members = set(
        school_class.members.filter(pk__in=[r.member_id for r in rows]).values_list("pk", flat=True)
    )
    errors += [
        FieldError(f"checks[{i}].member_id", "不是本班学生")
        for i, row in enumerate(rows)
        if row.member_id not in members
    ]
    if errors:
        raise ValidationFailed(errors)
    rows = list({row.member_id: row for row in rows}.values())  # a member twice: the last wins
    now = timezone.now()
    # One INSERT … ON CONFLICT for the class: a teacher's phone sends its 40–100 rows at once,
    # and a second tap corrects the first instead of doubling it.
    DailyCheck.objects.bulk_create(
        [
            DailyCheck(
                member_id=row.member_id,
                day=day,
                slot=slot,
                region_code=school_class.region_code,
                present=row.present,
                temperature=row.temperature if row.present else None,
                symptoms=(row.symptoms or "").strip()[:100],
                absence_cause="" if row.present else row.absence_cause.strip()[:100],
                recorded_at=now,
            )
            for row in rows
        ],
        update_conflicts=True,
        unique_fields=["member", "day", "slot"],
        update_fields=["present", "temperature", "symptoms", "absence_cause", "recorded_at"],
    )
    return len(rows)


def class_sheet(school_class: SchoolClass, day: dt.date, slot: str) -> list[dict[str, Any]]:
    """The members of a class with today's check of the slot (names only: a teacher's
    phone never shows an ID number or phone)."""
    members = list(
        school_class.members.select_related("person").order_by("role", "person__name", "pk")
    )
    checks = {
        c.member_id: c for c in DailyCheck.objects.filter(member__in=members, day=day, slot=slot)
    }
    return [
        {
            "id": m.pk,
            "name": m.person.name,
            "role": m.get_role_display(),
            "check": checks.get(m.pk),
            "risk": m.risk_area_note,
        }
        for m in members
    ]


# --- cold chain ----------------------------------------------------------------------------

DOCUMENTS = (
    ("quarantine_certificate", "检疫证明"),
    ("test_report", "核酸检测报告"),
    ("disinfection_certificate", "消毒证明"),
    ("trace_code", "追溯信息码"),
)


@dataclass(frozen=True)
class BatchInput:
    goods: str
    origin: str = ""
    weight_kg: Decimal = Decimal("0")
    vehicle_plate: str = ""
    quarantine_certificate: str = ""
    test_report: str = ""
    disinfection_certificate: str = ""
    trace_code: str = ""


def report_batch(*, actor: Any, storage_id: int, data: BatchInput) -> ColdBatch:
    """The entry report of an inbound batch (进仓报备), with whatever documents it has."""
    require(actor, Action.PLACES_COLD_CHAIN)
    storage = get_place(actor, storage_id, kind=[PlaceKind.COLD_STORAGE])
    if data.weight_kg < 0 or data.weight_kg > Decimal("999999"):
        raise ValidationFailed([FieldError("weight_kg", "重量应在0到999999千克之间")])
    fields = {name: (getattr(data, name) or "").strip()[:60] for name, _label in DOCUMENTS}
    return ColdBatch.objects.create(
        storage=storage,
        region_code=storage.region_code,
        goods=_text(data.goods, "goods", "品名"),
        origin=(data.origin or "").strip()[:100],
        weight_kg=data.weight_kg,
        vehicle_plate=(data.vehicle_plate or "").strip().upper()[:12],
        **fields,
    )


def _batch(actor: Any, batch_id: int) -> ColdBatch:
    found = (
        jurisdiction.scope(ColdBatch.objects.select_for_update(), actor).filter(pk=batch_id).first()
    )
    if found is None:
        raise NotFound(batch_id)
    return found


def missing_documents(batch: ColdBatch) -> list[str]:
    return [label for name, label in DOCUMENTS if not getattr(batch, name)]


def register_batch(
    *, actor: Any, batch_id: int, version: int, documents: dict[str, str] | None = None
) -> ColdBatch:
    """Register the batch (信息登记), adding the documents brought since the entry report."""
    require(actor, Action.PLACES_COLD_CHAIN)
    with transaction.atomic():
        batch = _batch(actor, batch_id)
        if batch.version != version:
            raise VersionConflict(batch.version)
        if batch.status != BatchStatus.REPORTED:
            raise ValidationFailed([FieldError("status", "该批次已登记")])
        for name, _label in DOCUMENTS:
            value = ((documents or {}).get(name) or "").strip()[:60]
            if value:
                setattr(batch, name, value)
        batch.status = BatchStatus.REGISTERED
        batch.registered_at = timezone.now()
        batch.version += 1
        batch.save()
    return batch


def release_batch(*, actor: Any, batch_id: int, version: int) -> ColdBatch:
    """Issue the exit certificate (出仓证明). Refused while a document is missing."""
    require(actor, Action.PLACES_COLD_CHAIN)
    with transaction.atomic():
        batch = _batch(actor, batch_id)
        if batch.version != version:
            raise VersionConflict(batch.version)
        if batch.status != BatchStatus.REGISTERED:
            raise ValidationFailed([FieldError("status", "须先完成信息登记才能出仓")])
        missing = missing_documents(batch)
        if missing:
            raise ValidationFailed(
                [FieldError("documents", "缺少" + "、".join(missing) + "，不能出仓")]
            )
        batch.status = BatchStatus.RELEASED
        batch.released_at = timezone.now()
        batch.exit_certificate_no = f"CK{batch.released_at:%Y%m%d}{batch.pk:06d}"
        batch.version += 1
        batch.save()
    return batch


# --- pharmacies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleInput:
    receipt_no: str
    drug_class: str
    drug_name: str
    buyer_name: str
    sold_at: dt.datetime
    buyer_id_number: str = ""
    buyer_phone: str = ""


def record_sale(*, actor: Any, pharmacy_id: int, data: SaleInput) -> tuple[DrugSale, bool]:
    """Record a real-name sale; returns (sale, created). The same receipt sent again is the
    same sale (nothing changes); the buyer is linked to the registry by ID number when the
    person lives in the jurisdiction, and is followed up once."""
    require(actor, Action.PLACES_PHARMACY)
    pharmacy = get_place(actor, pharmacy_id, kind=[PlaceKind.PHARMACY])
    errors = []
    receipt = (data.receipt_no or "").strip()
    if not receipt or len(receipt) > 40:
        errors.append(FieldError("receipt_no", "请填写小票号（不超过40个字符）"))
    if data.drug_class not in DrugClass.values:
        errors.append(FieldError("drug_class", "请选择药品类别"))
    id_number = ""
    if data.buyer_id_number:
        try:
            id_number = idnumbers.parse(data.buyer_id_number).number
        except idnumbers.IdNumberError as exc:
            errors.append(FieldError("buyer_id_number", str(exc.message)))
    phone = ""
    try:
        phone = _phone(data.buyer_phone, "buyer_phone")
    except ValidationFailed as exc:
        errors += exc.errors
    if not id_number and not phone:
        errors.append(FieldError("buyer_phone", "实名登记须填写身份证号或电话"))
    if data.sold_at > timezone.now() + dt.timedelta(minutes=5):
        errors.append(FieldError("sold_at", "销售时间不能晚于现在"))
    if errors:
        raise ValidationFailed(errors)
    existing = DrugSale.objects.filter(pharmacy=pharmacy, receipt_no=receipt).first()
    if existing is not None:
        return existing, False
    person = None
    if id_number:
        person = jurisdiction.scope(Person.objects.filter(id_number=id_number), actor).first()
    try:
        with transaction.atomic():
            sale = DrugSale.objects.create(
                pharmacy=pharmacy,
                region_code=person.region_code if person else pharmacy.region_code,
                receipt_no=receipt,
                sold_at=data.sold_at,
                drug_class=data.drug_class,
                drug_name=_text(data.drug_name, "drug_name", "药品名称", max_length=60),
                buyer_name=_text(data.buyer_name, "buyer_name", "购药人", max_length=64),
                buyer_id_number=id_number,
                buyer_phone=phone,
                person=person,
                recorded_by=actor,
            )
            if sale.drug_class in (DrugClass.ANTIPYRETIC, DrugClass.COUGH):
                # One screening list entry per sale (channel: pharmacy), sent only when the
                # sale is new: a re-sent receipt never reaches this line.
                signals.screening_entry_offered.send(
                    sender=DrugSale,
                    ref=f"places.sale:{sale.pk}",
                    channel="pharmacy",
                    person_id=sale.person_id,
                    name=sale.buyer_name,
                    id_number=sale.buyer_id_number,
                    phone=sale.buyer_phone,
                    region_code=sale.region_code,
                    reason=f"在{pharmacy.name}购买{sale.drug_name}（{sale.get_drug_class_display()}）",
                    at=sale.sold_at,
                )
    except IntegrityError:
        # The same receipt raced in from a second device: it is the same sale.
        return DrugSale.objects.get(pharmacy=pharmacy, receipt_no=receipt), False
    return sale, True


def follow_up_sale(*, actor: Any, sale_id: int) -> DrugSale:
    """The buyer was visited (or called) and the fever followed up."""
    require_any(actor, [Action.PLACES_INSPECT, Action.PLACES_PHARMACY])
    sale = jurisdiction.scope(DrugSale.objects.all(), actor).filter(pk=sale_id).first()
    if sale is None:
        raise NotFound(sale_id)
    sale.follow_up = "done"
    sale.save(update_fields=["follow_up"])
    return sale


def weekly_report(actor: Any, pharmacy: Place, week_start: dt.date) -> dict[str, int]:
    """Sales per drug class in the week from ``week_start`` (周报)."""
    from django.db.models import Count

    start = timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    rows = (
        DrugSale.objects.filter(
            pharmacy=pharmacy, sold_at__gte=start, sold_at__lt=start + dt.timedelta(days=7)
        )
        .order_by()
        .values_list("drug_class")
        .annotate(n=Count("pk"))
    )
    found = dict(rows)
    return {label: found.get(value, 0) for value, label in DrugClass.choices}


# --- disinfection ----------------------------------------------------------------------------


def log_disinfection(
    *, actor: Any, place_id: int, done_by: str, done_at: dt.datetime | None = None, area: str = ""
) -> Disinfection:
    """One disinfection round with its time and person (消杀台账)."""
    require(actor, Action.PLACES_INSPECT)
    place = get_place(actor, place_id)
    at = done_at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationFailed([FieldError("done_at", "消杀时间不能晚于现在")])
    return Disinfection.objects.create(
        place=place,
        region_code=place.region_code,
        done_at=at,
        done_by=_text(done_by, "done_by", "消杀人员", max_length=64),
        area=(area or "").strip()[:100],
        recorded_by=actor,
    )


def rounds_on(place: Place, day: dt.date) -> int:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return place.disinfections.filter(
        done_at__gte=start, done_at__lt=start + dt.timedelta(days=1)
    ).count()
