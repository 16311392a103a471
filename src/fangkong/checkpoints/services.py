"""Services of the checkpoints module: every read is scoped, every write checked.

Rules live in :mod:`.rules` (passages) and :mod:`.roster` (duty); here they meet the
database. Risk areas are the screening module's data, read through the app registry (risk
areas are national, unscoped data); a flagged arrival is handed to screening as an entry of
its checkpoint list through screening's own list service.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from fangkong.core import audit, jurisdiction, notices, problems
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.inspection import Aspect
from fangkong.core.models import AuditEvent
from fangkong.core.permissions import require
from fangkong.core.roles import Action, Role
from fangkong.core.shortcache import ShortCache
from fangkong.people.models import Person

from . import roster, rules
from .models import (
    Assignment,
    CodeRule,
    DutyStaff,
    Inspection,
    Outcome,
    Passage,
    PassageKind,
    PassCard,
    Post,
    Roster,
)

MAX_BATCH = 500
# Rules, risk areas and posts, kept a few seconds per process (core.shortcache).
_cache = ShortCache(seconds=5.0)


def _cached(key: str, compute: Any) -> Any:
    return _cache.get(key, compute)


def clear_caches() -> None:
    _cache.clear()


# --- posts --------------------------------------------------------------------------------


def posts(actor: Any) -> QuerySet[Post]:
    require(actor, Action.CHECKPOINT_VIEW)
    return jurisdiction.scope(Post.objects.all(), actor, field="region_code")


def post(actor: Any, post_id: int) -> Post:
    found = next(iter(posts(actor).filter(pk=post_id).order_by()[:1]), None)
    if found is None:
        raise NotFound(post_id)
    return found


def post_for_logging(actor: Any, post_id: int) -> Post:
    """The post a passage is logged at: :func:`post`, with the row kept for a few seconds
    per process (a post's phones log a passage every few seconds, and reading the post was
    a third of a passage's cost). The jurisdiction is checked on every call; a change of
    the post through :func:`save_post` drops the kept row at once in this process."""
    require(actor, Action.CHECKPOINT_VIEW)
    found = _cached(f"post:{post_id}", lambda: Post.objects.filter(pk=post_id).first())
    if found is None or not jurisdiction.covers(actor, found.region_code):
        raise NotFound(post_id)
    return found


POST_FIELDS = (
    "name",
    "kind",
    "region_code",
    "location",
    "enclosed",
    "container_hut",
    "has_barrier",
    "has_staff",
    "has_register",
    "has_thermometer",
    "has_disinfection",
    "disinfections_per_day",
    "guide_situation",
    "guide_duties",
    "guide_cases",
    "guide_contingencies",
    "emergency_vehicle",
    "active",
)


def save_post(
    *, actor: Any, data: dict[str, Any], post_id: int | None = None, version: int | None = None
) -> Post:
    """Create or change a post; a stale ``version`` is a conflict, never an overwrite."""
    require(actor, Action.CHECKPOINT_MANAGE)
    errors = []
    code = data.get("region_code", "")
    if (post_id is None or "region_code" in data) and (
        not code or not jurisdiction.covers(actor, code)
    ):
        errors.append(FieldError("region_code", "请选择您辖区内的村或乡镇"))
    if post_id is None and not (data.get("name") or "").strip():
        errors.append(FieldError("name", "请填写卡点名称"))
    if data.get("container_hut") and int(data.get("disinfections_per_day") or 0) < 4:
        errors.append(FieldError("disinfections_per_day", "集装箱值守点每天消毒不少于 4 次"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if post_id is None:
            obj = Post(**{k: v for k, v in data.items() if k in POST_FIELDS})
            obj.save()
            kind = AuditEvent.Kind.CREATE
        else:
            obj = post(actor, post_id)
            obj = Post.objects.select_for_update().get(pk=obj.pk)
            if version is not None and version != obj.version:
                raise VersionConflict(obj.version)
            for k, v in data.items():
                if k in POST_FIELDS:
                    setattr(obj, k, v)
            obj.version += 1
            obj.save()
            kind = AuditEvent.Kind.UPDATE
        audit.record(
            user=actor, kind=kind, object_type="checkpoint", object_id=obj.pk, channel="web"
        )
    _cache.drop(f"post:{obj.pk}")
    return obj


# --- rules as data --------------------------------------------------------------------------


def code_rules() -> dict[str, str]:
    return _cached("code_rules", lambda: dict(CodeRule.objects.values_list("colour", "verdict")))


def risk_areas_on(day: dt.date) -> list[tuple[str, str]]:
    """(region code, place) of the risk areas in force on ``day`` (screening's data)."""

    def load() -> list[tuple[str, str]]:
        try:
            model = apps.get_model("screening", "RiskArea")
        except LookupError:
            return []
        rows = model.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day
        ).values_list("region_code", "place")
        return [(code or "", place or "") for code, place in rows]

    return _cached(f"risk:{day.isoformat()}", load)


# --- pass cards -----------------------------------------------------------------------------


def cards(actor: Any) -> QuerySet[PassCard]:
    require(actor, Action.CHECKPOINT_VIEW)
    return jurisdiction.scope(PassCard.objects.select_related("person"), actor, field="region_code")


def card_outings_left(card: PassCard, at: dt.datetime) -> int:
    start, end = rules.week_bounds(at)
    used = card.passages.filter(
        direction="out", outcome=Outcome.PASSED, at__gte=start, at__lt=end
    ).values_list("at", flat=True)
    return rules.outings_left(card.outings_per_week, list(used), at)


def active_card(person_id: int, at: dt.datetime) -> PassCard | None:
    day = timezone.localtime(at).date()
    return (
        PassCard.objects.filter(person_id=person_id, revoked=False, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("-valid_from")
        .first()
    )


def issue_card(
    *, actor: Any, person_id: int, outings_per_week: int = 3, valid_from: dt.date | None = None
) -> PassCard:
    """One card per household: a second holder in the same household is refused."""
    require(actor, Action.CHECKPOINT_MANAGE)
    person = (
        jurisdiction.scope(Person.objects.all(), actor, field="region_code")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise ValidationFailed([FieldError("person", "请选择您辖区内的人员")])
    if not 1 <= outings_per_week <= 21:
        raise ValidationFailed([FieldError("outings_per_week", "每周外出次数应在 1 到 21 之间")])
    today = timezone.localdate()
    same_home = Q(person_id=person.pk)
    if person.household_id:
        same_home |= Q(person__household_id=person.household_id)
    if (
        PassCard.objects.filter(same_home, revoked=False)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .exists()
    ):
        raise ValidationFailed([FieldError("person", "该户已有出入证（每户限一名指定人员）")])
    with transaction.atomic():
        card = PassCard.objects.create(
            number=f"CR{person.region_code[-6:]}{PassCard.objects.count() + 1:05d}",
            person=person,
            region_code=person.region_code,
            outings_per_week=outings_per_week,
            valid_from=valid_from or today,
            created_by=actor,
        )
        audit.record(
            user=actor,
            kind=AuditEvent.Kind.CREATE,
            object_type="pass_card",
            object_id=card.pk,
            channel="web",
        )
    return card


# --- passages -------------------------------------------------------------------------------


@dataclass
class PassageInput:
    kind: str = PassageKind.PERSON
    direction: str = "in"
    person_id: int | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    plate: str = ""
    origin: str = ""
    temperature: Decimal | None = None
    code_colour: str = "green"
    itinerary_ok: bool = True
    mask: bool = True
    disinfected: bool = False
    outcome: str = ""  # "" → the rule's default
    at: dt.datetime | None = None
    client_key: str = ""
    occupants: list[PassageInput] = field(default_factory=list)


@dataclass
class Preview:
    ruling: rules.Ruling
    outcome: str
    person: Person | None = None
    card: PassCard | None = None
    outings_left: int | None = None
    unknown_resident: bool = False


def _person_in_scope(actor: Any, person_id: int | None) -> Person | None:
    if not person_id:
        return None
    return (
        jurisdiction.scope(Person.objects.all(), actor, field="region_code")
        .filter(pk=person_id)
        .first()
    )


UNREGISTERED = "未登记人员"


def resolve_id_numbers(actor: Any, items: list[PassageInput]) -> None:
    """Link every passer known only by a scanned or typed ID number to the registry person
    with that number inside the actor's jurisdiction (one query for a whole batch), on the
    page and on the API alike (a phone's offline queue sends occupants as ID numbers). One
    not found keeps the number and is named "未登记人员" until registered."""
    everyone = [i for item in items for i in [item, *item.occupants]]
    numbers = {
        i.id_number.strip().upper()
        for i in everyone
        if not i.person_id and len(i.id_number.strip()) == 18
    }
    found: dict[str, int] = {}
    if numbers:
        found = dict(
            jurisdiction.scope(Person.objects.all(), actor, field="region_code")
            .filter(id_number__in=numbers)
            .values_list("id_number", "pk")
        )
    for i in everyone:
        number = i.id_number.strip().upper()
        if not i.person_id and number in found:
            i.person_id, i.id_number = found[number], ""
        elif not i.person_id and number and not i.name.strip():
            i.id_number, i.name = number, UNREGISTERED


def preview(
    actor: Any, the_post: Post, item: PassageInput, people: dict[int, Person] | None = None
) -> Preview:
    """The verdict for one person before it is recorded (shown on the phone). ``people``:
    the batch's persons already looked up inside the actor's jurisdiction."""
    at = item.at or timezone.now()
    if people is None:
        resolve_id_numbers(actor, [item])
    if people is not None:
        person = people.get(item.person_id) if item.person_id else None
    else:
        person = _person_in_scope(actor, item.person_id)
    if item.person_id and person is None:
        raise ValidationFailed([FieldError("person_id", "请选择您辖区内的人员")])
    card = active_card(person.pk, at) if person and item.direction == "out" else None
    left = card_outings_left(card, at) if card else None
    area = rules.matches_risk_area(item.origin, risk_areas_on(timezone.localtime(at).date()))
    ruling = rules.rule(
        rules.Check(
            code_colour=item.code_colour,
            temperature=item.temperature,
            itinerary_ok=item.itinerary_ok,
            mask=item.mask,
            risk_area=area,
            card_outings_left=left if the_post.enclosed or card else None,
        ),
        code_rules(),
    )
    outcome = item.outcome or rules.default_outcome(ruling)
    if ruling.refused and outcome == Outcome.PASSED:
        outcome = Outcome.TURNED_BACK
    unknown = person is None and bool(item.name) and item.direction == "in"
    return Preview(ruling, outcome, person, card, left, unknown)


def _validate(item: PassageInput, path: str) -> list[FieldError]:
    errors = []
    if item.kind not in PassageKind.values:
        errors.append(FieldError(path + "kind", "类型应为人员或车辆"))
    if item.direction not in ("in", "out"):
        errors.append(FieldError(path + "direction", "方向应为进入或离开"))
    if item.kind == PassageKind.VEHICLE and not item.plate.strip():
        errors.append(FieldError(path + "plate", "请填写车牌号"))
    if item.kind == PassageKind.PERSON and not (
        item.person_id or item.name.strip() or item.id_number.strip()
    ):
        errors.append(FieldError(path + "name", "请扫描身份证、输入姓名或从名册中选择"))
    if item.temperature is not None and not Decimal("30") <= item.temperature <= Decimal("45"):
        errors.append(FieldError(path + "temperature", "体温应在 30 到 45℃ 之间"))
    if item.outcome and item.outcome not in Outcome.values:
        errors.append(FieldError(path + "outcome", "未知的处置结果"))
    for text, name, limit in (
        (item.name, "name", 64),
        (item.plate, "plate", 16),
        (item.origin, "origin", 100),
        (item.client_key, "client_key", 64),
        (item.phone, "phone", 20),
    ):
        if len(text) > limit or "\x00" in text:
            errors.append(FieldError(path + name, f"不超过 {limit} 个字符"))
    if item.id_number and (len(item.id_number) > 18 or not item.id_number[:17].isdigit()):
        errors.append(FieldError(path + "id_number", "身份证号格式不正确"))
    return errors


# What the answer to a batch says of a passage already stored (a resent client key).
_ANSWER_FIELDS = ("id", "client_key", "verdict", "outcome", "reasons", "risk_area")


@dataclass
class Recorded:
    passage: Passage
    created: bool
    preview: Preview | None = None


def record_passages(
    *, actor: Any, post_id: int, items: list[PassageInput], channel: str = "api"
) -> list[Recorded]:
    """Record a batch of passages at one post. A passage whose ``client_key`` is already
    stored is not stored again (the phone resends its queue after a lost answer)."""
    require(actor, Action.CHECKPOINT_LOG)
    the_post = post_for_logging(actor, post_id)
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationFailed([FieldError("items", f"每批 1 到 {MAX_BATCH} 条")])
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        errors += _validate(item, f"items.{i}.")
        for j, occ in enumerate(item.occupants):
            errors += _validate(occ, f"items.{i}.occupants.{j}.")
    keys = [
        k for item in items for k in [item.client_key, *(o.client_key for o in item.occupants)] if k
    ]
    if len(set(keys)) != len(keys):
        errors.append(FieldError("items", "同一批中 client_key 重复"))
    if errors:
        raise ValidationFailed(errors[:200])
    resolve_id_numbers(actor, items)
    keys = [
        k for item in items for k in [item.client_key, *(o.client_key for o in item.occupants)] if k
    ]
    # The lookups of a batch read only the columns a passage needs (the rest load on access):
    # a phone online sends one passage a request, so these queries are most of its cost.
    existing = (
        {p.client_key: p for p in Passage.objects.filter(client_key__in=keys).only(*_ANSWER_FIELDS)}
        if keys
        else {}
    )
    wanted = {i.person_id for item in items for i in [item, *item.occupants] if i.person_id}
    people = (
        {
            p.pk: p
            for p in jurisdiction.scope(Person.objects.all(), actor, field="region_code")
            .filter(pk__in=wanted)
            .only("id", "name", "id_number", "region_code")
        }
        if wanted
        else {}
    )
    out: list[Recorded] = []
    flagged: list[tuple[Passage, Person | None]] = []
    now = timezone.now()
    risky = "来自风险地区"
    with transaction.atomic():
        # Rows are built first and written in two bulk inserts (vehicles and single persons,
        # then the occupants pointing at their vehicle); a row using a pass card is written
        # at once, so the next outing of the same card in this batch counts it.
        parents: list[tuple[Passage, PassageInput]] = []
        for item in items:
            if item.client_key and item.client_key in existing:
                out.append(Recorded(existing[item.client_key], False))
                continue
            parent, seen = _one(actor, the_post, item, None, now, people)
            out.append(Recorded(parent, True, seen))
            parents.append((parent, item))
            if any(r.startswith(risky) for r in seen.ruling.reasons):
                flagged.append((parent, seen.person))
        Passage.objects.bulk_create([p for p, _ in parents if p.pk is None])
        occupants: list[Passage] = []
        for parent, item in parents:
            for occ in item.occupants:
                if occ.client_key and occ.client_key in existing:
                    continue
                occ.at = occ.at or item.at
                occ.direction = item.direction
                occ.origin = occ.origin or item.origin
                row, seen = _one(actor, the_post, occ, parent, now, people)
                if row.pk is None:
                    occupants.append(row)
                if any(r.startswith(risky) for r in seen.ruling.reasons):
                    flagged.append((row, seen.person))
        Passage.objects.bulk_create(occupants)
        if flagged:
            _hand_to_screening(actor, the_post, flagged)
    return out


def _one(
    actor: Any,
    the_post: Post,
    item: PassageInput,
    vehicle: Passage | None,
    now: dt.datetime,
    people: dict[int, Person],
) -> tuple[Passage, Preview]:
    seen = preview(actor, the_post, item, people)
    person = seen.person
    row = Passage(
        post=the_post,
        region_code=the_post.region_code,
        at=item.at or now,
        kind=item.kind,
        direction=item.direction,
        person=person,
        name=(person.name if person else item.name.strip())[:64],
        id_number=(person.id_number or "") if person else item.id_number,
        phone=item.phone,
        vehicle=vehicle,
        plate=item.plate.strip().upper(),
        occupants=len(item.occupants),
        origin=item.origin.strip(),
        temperature=item.temperature,
        code_colour=item.code_colour,
        itinerary_ok=item.itinerary_ok,
        mask=item.mask,
        disinfected=item.disinfected,
        verdict=seen.ruling.verdict,
        reasons="；".join(seen.ruling.reasons)[:300],
        risk_area=next(
            (r.split("：", 1)[1] for r in seen.ruling.reasons if r.startswith("来自风险地区")), ""
        )[:100],
        outcome=seen.outcome,
        pass_card=seen.card,
        client_key=item.client_key or None,
        recorded_by=actor,
        recorded_at=now,
    )
    if seen.card is not None:
        row.save()
    return row, seen


def _hand_to_screening(actor: Any, the_post: Post, flagged: list[tuple[Passage, Any]]) -> None:
    """Arrivals from a risk area become entries of screening's checkpoint list at once."""
    from fangkong.people.models import Source
    from fangkong.screening import reconciliation

    records = [
        reconciliation.RecordInput(
            name=row.name or row.plate,
            region_code=(person.region_code if person else the_post.region_code),
            reported_on=timezone.localtime(row.at).date(),
            id_number=row.id_number,
            phone=row.phone,
            address=f"{the_post.name}登记，来自{row.origin}",
        )
        for row, person in flagged
        if row.kind == PassageKind.PERSON
    ]
    records = [r for r in records if jurisdiction.covers(actor, r.region_code)]
    if records:
        reconciliation.add_records(
            user=actor, source=Source.CHECKPOINT, records=records, channel="checkpoint"
        )


def passages(actor: Any) -> QuerySet[Passage]:
    require(actor, Action.CHECKPOINT_VIEW)
    return jurisdiction.scope(
        Passage.objects.select_related("post", "person"), actor, field="region_code"
    )


def throughput(actor: Any, the_post: Post, day: dt.date) -> dict[str, Any]:
    """Counters of one post on one day: persons and vehicles, refused, per hour."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    rows = passages(actor).filter(post=the_post, at__gte=start, at__lt=start + dt.timedelta(days=1))
    hours = [0] * 24
    total = {"persons": 0, "vehicles": 0, "refused": 0, "flagged": 0}
    for at, kind, verdict, area in rows.values_list("at", "kind", "verdict", "risk_area"):
        hours[timezone.localtime(at).hour] += 1
        total["vehicles" if kind == PassageKind.VEHICLE else "persons"] += 1
        total["refused"] += verdict == "refuse"
        total["flagged"] += bool(area)
    return {**total, "hours": hours, "peak": max(hours)}


# --- rosters --------------------------------------------------------------------------------


def staff_pool(actor: Any) -> QuerySet[DutyStaff]:
    require(actor, Action.CHECKPOINT_VIEW)
    return jurisdiction.scope(
        DutyStaff.objects.select_related("post"), actor, field="township_code"
    )


def rosters(actor: Any) -> QuerySet[Roster]:
    require(actor, Action.CHECKPOINT_VIEW)
    return jurisdiction.scope(Roster.objects.all(), actor, field="township_code")


def roster_of(actor: Any, roster_id: int) -> Roster:
    found = rosters(actor).filter(pk=roster_id).first()
    if found is None:
        raise NotFound(roster_id)
    return found


def problem_for(township: str, starts_on: dt.date, days: int) -> roster.Problem:
    post_rows = list(
        Post.objects.filter(region_code__startswith=township, active=True).order_by("id")
    )
    posts_in = [roster.PostIn(p.id, p.name, township) for p in post_rows]
    staff = []
    last = starts_on + dt.timedelta(days=days - 1)
    for s in DutyStaff.objects.filter(township_code=township).order_by("id"):
        off: set[int] = set()
        if not s.available:
            off = set(range(days))
        elif s.leave_from and s.leave_from <= last and (s.leave_to or last) >= starts_on:
            for d in range(days):
                day = starts_on + dt.timedelta(days=d)
                if s.leave_from <= day <= (s.leave_to or last):
                    off.add(d)
        staff.append(
            roster.StaffIn(
                s.id,
                s.name,
                township,
                s.post_id or 0,
                starts_on.year - s.birth_year,
                s.education,
                s.leading_cadre,
                frozenset(off),
            )
        )
    return roster.Problem(starts_on, days, posts_in, roster.assign_home_posts(posts_in, staff))


def _shift_times(day: dt.date, shift: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(8 * shift)))
    return start, start + dt.timedelta(hours=8)


def solve_roster(
    *, actor: Any, township: str, starts_on: dt.date, days: int = 7, time_limit: float = 10.0
) -> tuple[Roster | None, list[str]]:
    """Solve and store a draft roster; returns (roster, []) or (None, the reasons why not)."""
    require(actor, Action.CHECKPOINT_MANAGE)
    if len(township) != 9 or not jurisdiction.covers(actor, township):
        raise ValidationFailed([FieldError("township", "请选择您辖区内的乡镇")])
    if not 1 <= days <= 31:
        raise ValidationFailed([FieldError("days", "排班天数应在 1 到 31 之间")])
    problem = problem_for(township, starts_on, days)
    if not problem.posts:
        raise ValidationFailed([FieldError("township", "该乡镇没有启用的卡点")])
    solution = roster.solve(problem, time_limit=time_limit)
    if not solution.feasible:
        return None, solution.problems
    with transaction.atomic():
        # Staff dealt a home post keep it.
        for s in problem.staff:
            DutyStaff.objects.filter(pk=s.id, post__isnull=True).update(post_id=s.post_id)
        obj = Roster.objects.create(
            township_code=township,
            starts_on=starts_on,
            days=days,
            solve_seconds=round(solution.seconds, 2),
            objective=solution.objective,
            bound=solution.bound,
            note=f"求解 {solution.seconds:.1f} 秒，状态 {solution.status}"
            + (f"，目标值与上界相差 {solution.gap:.1%}" if solution.gap is not None else ""),
            created_by=actor,
        )
        _store_slots(obj, solution.slots)
        audit.record(
            user=actor,
            kind=AuditEvent.Kind.CREATE,
            object_type="roster",
            object_id=obj.pk,
            channel="web",
        )
    return obj, []


def _store_slots(obj: Roster, slots: list[roster.Slot]) -> None:
    codes = dict(
        Post.objects.filter(pk__in={s.post_id for s in slots}).values_list("id", "region_code")
    )
    rows = []
    for s in slots:
        day = obj.starts_on + dt.timedelta(days=s.day)
        start, end = _shift_times(day, s.shift)
        rows.append(
            Assignment(
                roster=obj,
                post_id=s.post_id,
                staff_id=s.staff_id,
                region_code=codes[s.post_id],
                day=day,
                shift=s.shift,
                starts_at=start,
                ends_at=end,
            )
        )
    Assignment.objects.bulk_create(rows, batch_size=2000)


def roster_violations(obj: Roster) -> list[str]:
    problem = problem_for(obj.township_code, obj.starts_on, obj.days)
    slots = [
        roster.Slot(a.staff_id, a.post_id, (a.day - obj.starts_on).days, a.shift)
        for a in obj.assignments.all()
    ]
    return roster.violations(problem, slots)


def edit_roster(
    *,
    actor: Any,
    roster_id: int,
    version: int,
    day: dt.date,
    shift: int,
    post_id: int,
    remove_staff_id: int | None = None,
    add_staff_id: int | None = None,
) -> tuple[Roster, list[str]]:
    """Change one shift by hand; the hard rules are checked again and returned (a draft may
    break them while being edited; publishing refuses a roster that does)."""
    require(actor, Action.CHECKPOINT_MANAGE)
    obj = roster_of(actor, roster_id)
    the_post = post(actor, post_id)
    if not 0 <= shift < roster.SHIFTS or not obj.starts_on <= day < obj.starts_on + dt.timedelta(
        days=obj.days
    ):
        raise ValidationFailed([FieldError("day", "日期或班次不在本排班表内")])
    with transaction.atomic():
        locked = Roster.objects.select_for_update().get(pk=obj.pk)
        if locked.version != version:
            raise VersionConflict(locked.version)
        if remove_staff_id:
            Assignment.objects.filter(
                roster=locked, day=day, shift=shift, post=the_post, staff_id=remove_staff_id
            ).delete()
        if add_staff_id:
            member = (
                staff_pool(actor).filter(pk=add_staff_id, township_code=obj.township_code).first()
            )
            if member is None:
                raise ValidationFailed([FieldError("add_staff_id", "请选择本乡镇的值守人员")])
            start, end = _shift_times(day, shift)
            Assignment.objects.get_or_create(
                roster=locked,
                staff=member,
                day=day,
                shift=shift,
                defaults={
                    "post": the_post,
                    "region_code": the_post.region_code,
                    "starts_at": start,
                    "ends_at": end,
                },
            )
        locked.version += 1
        locked.save(update_fields=["version"])
        audit.record(
            user=actor,
            kind=AuditEvent.Kind.UPDATE,
            object_type="roster",
            object_id=obj.pk,
            channel="web",
        )
    return locked, roster_violations(locked)


def publish_roster(*, actor: Any, roster_id: int) -> Roster:
    """Publish a roster that keeps every hard rule; its staff get a notice on their phones."""
    require(actor, Action.CHECKPOINT_MANAGE)
    obj = roster_of(actor, roster_id)
    broken = roster_violations(obj)
    if broken:
        raise ValidationFailed([FieldError("roster", b) for b in broken[:20]])
    obj.status = Roster.Status.PUBLISHED
    obj.published_at = timezone.now()
    obj.version += 1
    obj.save(update_fields=["status", "published_at", "version"])
    notices.publish(
        draft=notices.NoticeDraft(
            title=f"值班表已发布：{obj.starts_on:%m月%d日}起 {obj.days} 天",
            body="请在“卡点”中查看本人班次，上岗时点击“到岗签到”。",
            region_codes=(obj.township_code,),
            roles=(Role.CHECKPOINT_STAFF,),
            link=reverse("checkpoints:roster", args=[obj.pk]),
        ),
        sender=actor,
        source=f"checkpoints.roster:{obj.pk}",
    )
    return obj


def my_assignments(actor: Any, *, around: dt.datetime | None = None) -> QuerySet[Assignment]:
    """The acting user's shifts (by their duty-staff record) from yesterday on."""
    at = around or timezone.now()
    return Assignment.objects.filter(
        staff__user=actor,
        roster__status=Roster.Status.PUBLISHED,
        ends_at__gte=at - dt.timedelta(hours=8),
    ).select_related("post")


def check_in(*, actor: Any, assignment_id: int, at: dt.datetime | None = None) -> Assignment:
    require(actor, Action.CHECKPOINT_LOG)
    at = at or timezone.now()
    row = Assignment.objects.filter(pk=assignment_id, staff__user=actor).first()
    if row is None:
        raise NotFound(assignment_id)
    if not row.starts_at - dt.timedelta(minutes=30) <= at <= row.ends_at:
        raise ValidationFailed(
            [FieldError("assignment", "只能在班次开始前 30 分钟至班次结束前签到")]
        )
    if row.checked_in_at is None:
        row.checked_in_at = at
        row.save(update_fields=["checked_in_at"])
    return row


# --- night inspections ----------------------------------------------------------------------


def inspections(actor: Any) -> QuerySet[Inspection]:
    require(actor, Action.CHECKPOINT_VIEW)
    return jurisdiction.scope(
        Inspection.objects.select_related("post", "inspector"), actor, field="region_code"
    )


def record_inspection(
    *,
    actor: Any,
    post_id: int,
    at: dt.datetime,
    items: dict[str, bool],
    note: str = "",
    photo: Any = None,
) -> Inspection:
    """A visit item by item; each failed item becomes a problem on the problems list (or
    stays on this module's list until the problems list exists)."""
    require(actor, Action.CHECKPOINT_INSPECT)
    the_post = post(actor, post_id)
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationFailed([FieldError("at", "督查时间不能晚于现在")])
    if len(note) > 500 or "\x00" in note:
        raise ValidationFailed([FieldError("note", "不超过 500 个字符")])
    with transaction.atomic():
        obj = Inspection.objects.create(
            post=the_post,
            region_code=the_post.region_code,
            inspector=actor,
            at=at,
            note=note,
            **{k: bool(items.get(k, True)) for k in Inspection.ITEMS},
        )
        if photo is not None:
            obj.photo.save(f"{obj.pk}.jpg", photo, save=True)
        raised = []
        if obj.failed and problems.available():
            ref = problems.raise_problem(
                problems.ProblemDraft(
                    source=f"checkpoints.inspection:{obj.pk}",
                    region_code=the_post.region_code,
                    aspect=Aspect.DISCIPLINE,
                    title=f"{the_post.name}督查发现：{'、'.join(obj.failed)}",
                    detail=note,
                    raised_by=actor,
                    url=reverse("checkpoints:inspection", args=[obj.pk]),
                )
            )
            raised.append(str(ref.id))
        if raised:
            obj.problem_ids = ",".join(raised)
            obj.save(update_fields=["problem_ids"])
        audit.record(
            user=actor,
            kind=AuditEvent.Kind.CREATE,
            object_type="checkpoint_inspection",
            object_id=obj.pk,
            channel="web",
        )
    return obj


def inspection_of(actor: Any, inspection_id: int) -> Inspection:
    found = inspections(actor).filter(pk=inspection_id).first()
    if found is None:
        raise NotFound(inspection_id)
    return found


# --- rules pushed to posts -------------------------------------------------------------------


def push_rules(*, actor: Any, region_code: str, title: str, body: str) -> Any:
    """Send new rules to every post's staff in the area; they must confirm within 2 hours
    (a late confirmation is the core's self-inspection finding)."""
    require(actor, Action.CHECKPOINT_MANAGE)
    if not jurisdiction.covers(actor, region_code):
        raise ValidationFailed([FieldError("region_code", "请选择您辖区内的地区")])
    return notices.publish(
        draft=notices.NoticeDraft(
            title=title,
            body=body,
            region_codes=(region_code,),
            roles=(Role.CHECKPOINT_STAFF,),
            requires_confirmation=True,
            confirm_within_minutes=120,
            link=reverse("checkpoints:post"),
        ),
        sender=actor,
    )


def night_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The last night (22:00 to 06:00) that has begun at ``now``."""
    local = timezone.localtime(now)
    start_day = local.date() if local.hour >= 22 else local.date() - dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(start_day, dt.time(22)))
    return start, start + dt.timedelta(hours=8)


def staff_on(the_post: Post, at: dt.datetime) -> list[Assignment]:
    return list(
        Assignment.objects.filter(
            post=the_post, roster__status=Roster.Status.PUBLISHED, starts_at__lte=at, ends_at__gt=at
        ).select_related("staff")
    )


def counts_by_post(rows: QuerySet[Any]) -> dict[int, int]:
    found: dict[int, int] = defaultdict(int)
    for post_id in rows.values_list("post_id", flat=True):
        found[post_id] += 1
    return found
