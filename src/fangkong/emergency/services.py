"""Rules and writes of the emergency layer: switching mode, declaring and changing zones,
giving a zone's people their measures, plans and drills, capacity gaps, volunteers.

Every function checks the actor's permission and jurisdiction first and raises
``ValidationFailed`` (field by field), ``NotFound`` (outside the jurisdiction) or
``VersionConflict`` (someone changed the record first) before it writes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, jurisdiction, notices
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.models import NoticeReceipt, Region
from fangkong.core.permissions import require
from fangkong.core.phones import PhoneError
from fangkong.core.phones import normalize as normalize_phone
from fangkong.core.regions import CODE_LENGTHS, ancestors
from fangkong.core.roles import Action
from fangkong.people.models import Household, Person

from .membership import ZoneIndex, ZoneShape
from .models import (
    Capacity,
    Drill,
    DrillStep,
    DutyPost,
    Mode,
    ModeSwitch,
    Movement,
    Plan,
    Volunteer,
    Zone,
    ZoneArea,
    ZoneChange,
    ZoneKind,
    ZoneMeasure,
)

BATCH = 5000
# A wartime notice must be confirmed within the hour: "switch to wartime in an hour".
REPORT_WITHIN_MINUTES = 60
# Standards the capacity gaps are measured against (per resident).
PEOPLE_PER_AMBULANCE = 50_000
# The zone rules the seeds name, as data: movement and test cadence per kind.
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    ZoneKind.SEALED: {"movement": Movement.NONE, "test_every_days": 1, "delivery": "上门配送"},
    ZoneKind.CONTROLLED: {
        "movement": Movement.ONE_PER_HOUSEHOLD,
        "test_every_days": 2,
        "delivery": "错峰取物",
    },
    ZoneKind.PREVENTION: {"movement": Movement.FREE, "test_every_days": 7, "delivery": ""},
}


def _name(actor: Any) -> str:
    return (getattr(actor, "display_name", "") or getattr(actor, "username", "") or "")[:100]


def _check_region(actor: Any, code: str, field_name: str = "region_code") -> None:
    if not code or len(code) not in CODE_LENGTHS or not code.isdigit():
        raise ValidationFailed([FieldError(field_name, _("Choose an area"))])
    if not jurisdiction.covers(actor, code):
        raise NotFound(code)


def _sees_area(actor: Any, code: str) -> bool:
    """Inside the actor's jurisdiction, or an area above it (a village sees its township's
    wartime switch and the zone drawn across it)."""
    return jurisdiction.covers(actor, code) or any(
        c.startswith(code) for c in jurisdiction.user_codes(actor)
    )


# --- peacetime / wartime ------------------------------------------------------------------


def mode_of(region_code: str, *, at: dt.datetime | None = None) -> tuple[str, ModeSwitch | None]:
    """The mode of an area: the latest switch of the nearest area (itself or above) that
    has one. No switch anywhere is peacetime."""
    codes = [*ancestors(region_code), region_code]
    switches = ModeSwitch.objects.filter(region_code__in=codes)
    if at is not None:
        switches = switches.filter(at__lte=at)
    latest: dict[str, ModeSwitch] = {}
    for switch in switches.order_by("region_code", "-at", "-id"):
        latest.setdefault(switch.region_code, switch)
    for code in reversed(codes):
        if code in latest:
            return latest[code].mode, latest[code]
    return Mode.PEACETIME, None


def modes_under(
    actor: Any, region_codes: Iterable[str]
) -> dict[str, tuple[str, ModeSwitch | None]]:
    return {code: mode_of(code) for code in region_codes}


@dataclass
class SwitchResult:
    switch: ModeSwitch
    created: bool
    notified: int


def switch_mode(*, actor: Any, region_code: str, mode: str, reason: str) -> SwitchResult:
    """Switch an area to wartime (or back). Idempotent: switching to the mode an area is
    already in returns the switch that put it there and notifies nobody again.

    Wartime activates the area's roster (staff posts, held rooms, vehicles and supplies) and
    sends every user of the area a notice they must confirm within the hour; the
    confirmations are the "reported for duty" board.
    """
    require(actor, Action.EMERGENCY_COMMAND)
    _check_region(actor, region_code)
    if mode not in Mode.values:
        raise ValidationFailed([FieldError("mode", _("Choose peacetime or wartime"))])
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", _("Give the reason for the switch"))])
    with transaction.atomic():
        # One switch at a time per area: lock the region row.
        list(Region.objects.select_for_update().filter(code=region_code))
        current, switch = mode_of(region_code)
        if current == mode and (switch is not None or mode == Mode.PEACETIME):
            if switch is None:
                raise ValidationFailed([FieldError("mode", _("The area is already in peacetime"))])
            return SwitchResult(switch, False, 0)
        switch = ModeSwitch.objects.create(
            region_code=region_code, mode=mode, reason=reason[:500], by=actor, by_name=_name(actor)
        )
        now = switch.at
        posts = DutyPost.objects.filter(jurisdiction.prefix_q("region_code", [region_code]))
        posts.update(active_since=now if mode == Mode.WARTIME else None)
        audit.record(
            user=actor,
            kind="write",
            object_type="emergency.mode",
            object_id=switch.pk,
            channel="web",
            detail=f"{region_code} → {mode}",
        )
    area = Region.objects.filter(code=region_code).values_list("name", flat=True).first() or ""
    if mode == Mode.WARTIME:
        draft = notices.NoticeDraft(
            title=_("%(area)s switches to wartime: report for duty") % {"area": area},
            body=_(
                "%(area)s is now in wartime mode (%(reason)s). Report to your wartime post "
                "and confirm this notice once you are there."
            )
            % {"area": area, "reason": reason},
            region_codes=(region_code,),
            level="urgent",
            requires_confirmation=True,
            confirm_within_minutes=REPORT_WITHIN_MINUTES,
            link=f"/emergency/mode/{switch.pk}/",
        )
    else:
        draft = notices.NoticeDraft(
            title=_("%(area)s returns to peacetime") % {"area": area},
            body=_("%(area)s is back in peacetime mode: %(reason)s")
            % {"area": area, "reason": reason},
            region_codes=(region_code,),
            link=f"/emergency/mode/{switch.pk}/",
        )
    notice = notices.publish(draft=draft, sender=None, source=f"emergency.mode:{switch.pk}")
    ModeSwitch.objects.filter(pk=switch.pk).update(notice=notice)
    switch.notice = notice
    return SwitchResult(switch, True, notice.receipts.count())


@dataclass
class ReportingBoard:
    switch: ModeSwitch
    total: int
    reported: int
    missing: list[NoticeReceipt]
    posts: list[DutyPost]


def reporting_board(*, actor: Any, switch_id: int) -> ReportingBoard:
    """Who has reported for duty after a wartime switch (confirmed the notice)."""
    require(actor, Action.EMERGENCY_VIEW)
    switch = ModeSwitch.objects.filter(pk=switch_id).select_related("notice").first()
    if switch is None or not _sees_area(actor, switch.region_code):
        raise NotFound(switch_id)
    receipts = NoticeReceipt.objects.none()
    if switch.notice_id:
        receipts = jurisdiction.scope(
            NoticeReceipt.objects.filter(notice_id=switch.notice_id).select_related("user"),
            actor,
        )
    total = receipts.count()
    reported = receipts.filter(confirmed_at__isnull=False).count()
    missing = list(receipts.filter(confirmed_at__isnull=True).order_by("region_code")[:200])
    posts = list(
        jurisdiction.scope(
            DutyPost.objects.filter(jurisdiction.prefix_q("region_code", [switch.region_code])),
            actor,
        ).select_related("user")[:500]
    )
    return ReportingBoard(switch, total, reported, missing, posts)


# --- zones ---------------------------------------------------------------------------------


@dataclass
class ZoneDraft:
    name: str
    kind: str
    region_codes: list[str]
    legal_basis: str
    approved_by: str
    household_ids: list[int] = field(default_factory=list)
    movement: str = ""
    test_every_days: int | None = None
    delivery: str | None = None
    publicity: str = ""


def _validate_zone(actor: Any, draft: ZoneDraft) -> tuple[list[str], list[int]]:
    errors: list[FieldError] = []
    if not draft.name.strip():
        errors.append(FieldError("name", _("Give the zone a name")))
    if draft.kind not in ZoneKind.values:
        errors.append(FieldError("kind", _("Choose sealed, controlled or prevention")))
    if not draft.legal_basis.strip():
        errors.append(
            FieldError("legal_basis", _("Record the legal basis (e.g. the headquarters' order)"))
        )
    if not draft.approved_by.strip():
        errors.append(FieldError("approved_by", _("Record who approved the zone")))
    if draft.movement and draft.movement not in Movement.values:
        errors.append(FieldError("movement", _("Choose a movement rule")))
    if draft.test_every_days is not None and not 1 <= draft.test_every_days <= 14:
        errors.append(FieldError("test_every_days", _("Between 1 and 14 days")))
    codes = sorted({c.strip() for c in draft.region_codes if c and c.strip()})
    bad = [c for c in codes if not c.isdigit() or len(c) not in CODE_LENGTHS]
    if bad:
        errors.append(FieldError("region_codes", _("Choose regions from the list")))
    household_ids = sorted(set(draft.household_ids))
    if not codes and not household_ids:
        errors.append(FieldError("region_codes", _("Pick at least one grid, village or household")))
    if errors:
        raise ValidationFailed(errors)
    for code in codes:
        if not jurisdiction.covers(actor, code):
            raise NotFound(code)
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    if len(known) != len(codes):
        raise ValidationFailed([FieldError("region_codes", _("Choose regions from the list"))])
    if household_ids:
        found = jurisdiction.scope(Household.objects.filter(pk__in=household_ids), actor)
        if found.count() != len(household_ids):
            raise NotFound(household_ids[0])
    return codes, household_ids


def _zone_area(codes: list[str], household_ids: list[int]) -> str:
    """The smallest region containing every member: the zone's area for jurisdiction."""
    all_codes = list(codes) + list(
        Household.objects.filter(pk__in=household_ids).values_list("region_code", flat=True)
    )
    prefix = all_codes[0]
    for code in all_codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[: max(n for n in CODE_LENGTHS if n < len(prefix))]
    return prefix


def _write_areas(zone: Zone, codes: list[str], household_ids: list[int]) -> None:
    ZoneArea.objects.filter(zone=zone).delete()
    ZoneArea.objects.bulk_create(
        [ZoneArea(zone=zone, region_code=c) for c in codes]
        + [
            ZoneArea(zone=zone, region_code=rc, household_id=h)
            for h, rc in Household.objects.filter(pk__in=household_ids).values_list(
                "pk", "region_code"
            )
        ]
    )


def _change(zone: Zone, what: str, actor: Any, codes: list[str], household_ids: list[int]) -> None:
    ZoneChange.objects.create(
        zone=zone,
        version=zone.version,
        by_name=_name(actor),
        what=what,
        region_codes=codes,
        household_ids=household_ids,
        rules={
            "kind": zone.kind,
            "movement": zone.movement,
            "test_every_days": zone.test_every_days,
            "delivery": zone.delivery,
        },
        legal_basis=zone.legal_basis,
        approved_by=zone.approved_by,
    )


def declare_zone(*, actor: Any, draft: ZoneDraft, run_now: bool = False) -> Zone:
    """Declare a zone and queue the measures for its people (a background task with
    progress; ``run_now`` applies them in this process, for the CLI and the demo)."""
    require(actor, Action.EMERGENCY_COMMAND)
    codes, household_ids = _validate_zone(actor, draft)
    rules = DEFAULT_RULES[draft.kind]
    with transaction.atomic():
        zone = Zone.objects.create(
            name=draft.name.strip()[:100],
            kind=draft.kind,
            region_code=_zone_area(codes, household_ids),
            movement=draft.movement or rules["movement"],
            test_every_days=draft.test_every_days or rules["test_every_days"],
            delivery=draft.delivery if draft.delivery is not None else rules["delivery"],
            publicity=draft.publicity,
            legal_basis=draft.legal_basis.strip()[:300],
            approved_by=draft.approved_by.strip()[:100],
            created_by=actor,
        )
        _write_areas(zone, codes, household_ids)
        _change(zone, "declared", actor, codes, household_ids)
        audit.record(
            user=actor, kind="write", object_type="emergency.zone", object_id=zone.pk, channel="web"
        )
    _schedule_measures(zone, actor, run_now=run_now)
    return zone


def change_zone(
    *, actor: Any, zone_id: int, version: int, draft: ZoneDraft, run_now: bool = False
) -> Zone:
    """A new version of a zone (regions, households or rules), with its basis and approval."""
    require(actor, Action.EMERGENCY_COMMAND)
    codes, household_ids = _validate_zone(actor, draft)
    with transaction.atomic():
        zone = _zone_for_update(actor, zone_id)
        if zone.version != version:
            raise VersionConflict(zone.version)
        if zone.status != Zone.Status.ACTIVE:
            raise ValidationFailed([FieldError("status", _("The zone has been lifted"))])
        zone.name = draft.name.strip()[:100]
        zone.kind = draft.kind
        zone.movement = draft.movement or zone.movement
        zone.test_every_days = draft.test_every_days or zone.test_every_days
        if draft.delivery is not None:
            zone.delivery = draft.delivery
        zone.legal_basis = draft.legal_basis.strip()[:300]
        zone.approved_by = draft.approved_by.strip()[:100]
        zone.region_code = _zone_area(codes, household_ids)
        zone.version += 1
        zone.save()
        _write_areas(zone, codes, household_ids)
        _change(zone, "changed", actor, codes, household_ids)
    _schedule_measures(zone, actor, run_now=run_now)
    return zone


def lift_zone(
    *, actor: Any, zone_id: int, version: int, legal_basis: str, approved_by: str
) -> Zone:
    """Lift a zone: its people fall back to the next zone that covers them, or to none."""
    require(actor, Action.EMERGENCY_COMMAND)
    errors = []
    if not legal_basis.strip():
        errors.append(
            FieldError("legal_basis", _("Record the legal basis (e.g. the headquarters' order)"))
        )
    if not approved_by.strip():
        errors.append(FieldError("approved_by", _("Record who approved the zone")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        zone = _zone_for_update(actor, zone_id)
        if zone.version != version:
            raise VersionConflict(zone.version)
        if zone.status == Zone.Status.LIFTED:
            return zone
        zone.status = Zone.Status.LIFTED
        zone.lifted_at = timezone.now()
        zone.version += 1
        zone.legal_basis = legal_basis.strip()[:300]
        zone.approved_by = approved_by.strip()[:100]
        zone.save()
        codes = list(
            zone.areas.filter(household__isnull=True).values_list("region_code", flat=True)
        )
        households = list(
            zone.areas.filter(household__isnull=False).values_list("household_id", flat=True)
        )
        _change(zone, "lifted", actor, codes, [h for h in households if h is not None])
    apply_measures(zone.pk)
    return zone


def _zone_for_update(actor: Any, zone_id: int) -> Zone:
    zone = Zone.objects.select_for_update().filter(pk=zone_id).first()
    if zone is None or not jurisdiction.covers(actor, zone.region_code):
        raise NotFound(zone_id)
    return zone


def _schedule_measures(zone: Zone, actor: Any, *, run_now: bool) -> None:
    if run_now:
        apply_measures(zone.pk)
        return
    from . import tasks

    tasks.enqueue_measures(zone, actor)


def active_shapes() -> list[ZoneShape]:
    """Every zone in force, as membership needs it."""
    codes: dict[int, set[str]] = {}
    households: dict[int, set[int]] = {}
    kinds = dict(Zone.objects.filter(status=Zone.Status.ACTIVE).values_list("pk", "kind"))
    for zone_id, code, household_id in ZoneArea.objects.filter(zone_id__in=kinds).values_list(
        "zone_id", "region_code", "household_id"
    ):
        if household_id is None:
            codes.setdefault(zone_id, set()).add(code)
        else:
            households.setdefault(zone_id, set()).add(household_id)
    return [
        ZoneShape(
            id=pk,
            kind=kind,
            region_codes=frozenset(codes.get(pk, ())),
            household_ids=frozenset(households.get(pk, ())),
        )
        for pk, kind in kinds.items()
    ]


def apply_measures(
    zone_id: int, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Give every person the zone touches (now or in any earlier version) the measures of
    the strictest zone covering them. Idempotent.

    One streaming read of the people under the zone's regions (the region-code index), one
    of those who held this zone's measures before, then deletes and inserts in batches of
    5,000, each batch its own transaction so progress is visible and a failure keeps the
    batches already written (the task can simply be run again)."""
    zone = Zone.objects.get(pk=zone_id)
    versions = list(
        ZoneChange.objects.filter(zone=zone).values_list("region_codes", "household_ids")
    )
    all_codes = sorted({c for codes, _h in versions for c in codes})
    household_ids = sorted({h for _c, households in versions for h in households})
    affected: dict[int, tuple[str, int | None]] = {}
    fields = ("pk", "region_code", "household_id")
    if all_codes:
        under = Person.objects.filter(jurisdiction.prefix_q("region_code", all_codes))
        for pk, region_code, household_id in under.values_list(*fields).iterator(chunk_size=BATCH):
            affected[pk] = (region_code, household_id)
    if household_ids:
        for pk, region_code, household_id in Person.objects.filter(
            household_id__in=household_ids
        ).values_list(*fields):
            affected[pk] = (region_code, household_id)
    before = set(ZoneMeasure.objects.filter(zone=zone).values_list("person_id", flat=True))
    missing = before - affected.keys()
    for chunk in _chunks(sorted(missing), BATCH):
        for pk, region_code, household_id in Person.objects.filter(pk__in=chunk).values_list(
            *fields
        ):
            affected[pk] = (region_code, household_id)
    index = ZoneIndex(active_shapes())
    zones = {z.pk: z for z in Zone.objects.filter(status=Zone.Status.ACTIVE)}
    ids = sorted(affected)
    total, done, placed = len(ids), 0, 0
    now = timezone.now()
    for chunk in _chunks(ids, BATCH):
        rows = []
        for pk in chunk:
            region_code, household_id = affected[pk]
            shape = index.effective(region_code, household_id)
            if shape is None:
                continue
            effective = zones[shape.id]
            rows.append(
                ZoneMeasure(
                    person_id=pk,
                    zone_id=effective.pk,
                    kind=effective.kind,
                    movement=effective.movement,
                    test_every_days=effective.test_every_days,
                    region_code=region_code,
                    since=now,
                )
            )
        with transaction.atomic():
            ZoneMeasure.objects.filter(person_id__in=chunk).delete()
            _insert_measures(rows)
        done += len(chunk)
        placed += len(rows)
        if progress is not None:
            progress(done, total)
    return {"people": total, "under_measures": placed}


def _insert_measures(rows: list[ZoneMeasure]) -> None:
    """Insert measures: COPY on PostgreSQL (several times faster than a parameterised
    multi-row INSERT for a 50,000-person zone), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        ZoneMeasure.objects.bulk_create(rows, batch_size=BATCH)
        return
    table = ZoneMeasure._meta.db_table
    columns = "person_id, zone_id, kind, movement, test_every_days, region_code, since"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for m in rows:
                copy.write_row(
                    (
                        m.person_id,
                        m.zone_id,
                        m.kind,
                        m.movement,
                        m.test_every_days,
                        m.region_code,
                        m.since,
                    )
                )


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def zones_for(actor: Any, *, active_only: bool = True) -> Any:
    require(actor, Action.EMERGENCY_VIEW)
    codes = jurisdiction.user_codes(actor)
    queryset = Zone.objects.all()
    if active_only:
        queryset = queryset.filter(status=Zone.Status.ACTIVE)
    if "" in codes:
        return queryset
    # A zone is shown to everyone inside it and everyone above it.
    return queryset.filter(
        jurisdiction.prefix_q("region_code", codes)
        | jurisdiction.inside_or_above_q("region_code", codes)
    )


def zone_for(actor: Any, zone_id: int) -> Zone:
    zone = zones_for(actor, active_only=False).filter(pk=zone_id).first()
    if zone is None:
        raise NotFound(zone_id)
    return zone


# --- plans and drills ------------------------------------------------------------------------


def plans_due(prefix: str, today: dt.date) -> list[Plan]:
    """Plans never reviewed or past their review date, under ``prefix``."""
    out = []
    for plan in Plan.objects.filter(jurisdiction.prefix_q("region_code", [prefix])):
        if (
            plan.reviewed_on is None
            or plan.reviewed_on + dt.timedelta(days=plan.review_every_days) < today
        ):
            out.append(plan)
    return out


@dataclass
class StepDraft:
    name: str
    target_minutes: int
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


def record_drill(
    *,
    actor: Any,
    plan_id: int,
    title: str,
    squads: str,
    unannounced: bool,
    held_at: dt.datetime,
    steps: list[StepDraft],
    lessons: str = "",
) -> Drill:
    require(actor, Action.EMERGENCY_PLAN)
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None or not jurisdiction.covers(actor, plan.region_code):
        raise NotFound(plan_id)
    errors = []
    if not title.strip():
        errors.append(FieldError("title", _("Give the drill a title")))
    if not squads.strip():
        errors.append(FieldError("squads", _("Name the squads taking part")))
    for i, step in enumerate(steps, start=1):
        if step.started_at and step.finished_at and step.finished_at < step.started_at:
            errors.append(FieldError(f"steps[{i}]", _("A step cannot end before it starts")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        drill = Drill.objects.create(
            plan=plan,
            region_code=plan.region_code,
            title=title.strip()[:200],
            squads=squads.strip()[:300],
            unannounced=unannounced,
            held_at=held_at,
            lessons=lessons,
        )
        DrillStep.objects.bulk_create(
            [
                DrillStep(
                    drill=drill,
                    order=i,
                    name=s.name[:200],
                    target_minutes=s.target_minutes,
                    started_at=s.started_at,
                    finished_at=s.finished_at,
                )
                for i, s in enumerate(steps, start=1)
            ]
        )
    return drill


def drill_timings(drill: Drill) -> dict[str, Any]:
    """Minutes each step took against its target, the total and the steps over target."""
    steps = list(drill.steps.all())
    taken = [s.minutes_taken for s in steps]
    over = [s for s in steps if s.minutes_taken is not None and s.minutes_taken > s.target_minutes]
    return {
        "steps": [(s, s.minutes_taken) for s in steps],
        "total_minutes": sum(t for t in taken if t is not None),
        "target_minutes": sum(s.target_minutes for s in steps),
        "over_target": over,
        "unfinished": [s for s in steps if s.minutes_taken is None],
    }


# --- capacity and staffing -------------------------------------------------------------------


@dataclass
class Gap:
    what: str
    have: int
    need: int

    @property
    def short(self) -> int:
        return max(0, self.need - self.have)


def capacity_gaps(actor: Any, region_code: str) -> list[Gap]:
    """Capacity against the standards: ambulances per 50,000 residents, teams' quota vs in
    post, clinics and triage points not "四到位"."""
    require(actor, Action.EMERGENCY_VIEW)
    _check_region(actor, region_code)
    under = jurisdiction.prefix_q("region_code", [region_code])
    residents = Person.objects.filter(under).count()
    capacity = list(Capacity.objects.filter(under))
    ambulances = sum(
        c.in_post
        for c in capacity
        if c.kind in (Capacity.Kind.AMBULANCE, Capacity.Kind.NEGATIVE_PRESSURE)
    )
    gaps = [
        Gap(
            _("Ambulances (one per %(n)s residents)") % {"n": f"{PEOPLE_PER_AMBULANCE:,}"},
            ambulances,
            -(-residents // PEOPLE_PER_AMBULANCE),
        )
    ]
    for c in capacity:
        if c.quota and c.in_post < c.quota:
            gaps.append(Gap(f"{c.get_kind_display()}：{c.name}", c.in_post, c.quota))
        if (
            c.kind in (Capacity.Kind.FEVER_CLINIC, Capacity.Kind.TRIAGE_POINT)
            and not c.four_in_place
        ):
            gaps.append(Gap(_("%(name)s: not all four in place") % {"name": c.name}, 0, 1))
    return gaps


def staffing_gaps(actor: Any, *, max_rows: int = 200) -> list[dict[str, Any]]:
    """Villages where one person holds many roles: the number of front-line roles the
    village needs (cadre, grid worker, doctor, checkpoint) against the people who hold them,
    with volunteers and sent-down cadres who could backfill."""
    from fangkong.core.models import User
    from fangkong.core.roles import Role

    require(actor, Action.EMERGENCY_VIEW)
    needed = [Role.VILLAGE_CADRE, Role.GRID_WORKER, Role.VILLAGE_DOCTOR, Role.CHECKPOINT_STAFF]
    villages = jurisdiction.scope(Region.objects.filter(level="village"), actor, field="code")
    staff: dict[str, dict[str, set[int]]] = {}
    users = User.objects.filter(is_active=True, role__in=needed).prefetch_related("regions")
    for user in users:
        for region in user.regions.all():
            village = region.code[:12]
            if len(village) == 12:
                staff.setdefault(village, {}).setdefault(user.role, set()).add(user.pk)
    backfill: dict[str, list[Volunteer]] = {}
    for v in jurisdiction.scope(
        Volunteer.objects.exclude(status=Volunteer.Status.RELEASED), actor
    ).order_by("status", "-signed_up_at"):
        backfill.setdefault(v.region_code[:12], []).append(v)
    rows = []
    for village in villages.order_by("code")[:2000]:
        held = staff.get(village.code, {})
        people = set().union(*held.values()) if held else set()
        roles_missing = [r for r in needed if r not in held]
        if len(people) <= 1 or roles_missing:
            rows.append(
                {
                    "village": village,
                    "people": len(people),
                    "roles_missing": [Role(r).label for r in roles_missing],
                    "backfill": backfill.get(village.code, [])[:3],
                }
            )
        if len(rows) >= max_rows:
            break
    return rows


# --- volunteers --------------------------------------------------------------------------------

# Sign-ups from one client (address and browser) per hour before the form asks them to wait:
# the public form has no captcha, so this keeps one device from flooding the list.
SIGNUPS_PER_HOUR = 5


class RateLimited(Exception):
    """Too many sign-ups from one client in the last hour."""


def client_key(request: Any) -> str:
    """What identifies a client of the public form (hashed before it is stored)."""
    return f"{audit.client_ip(request) or ''}|{request.META.get('HTTP_USER_AGENT', '')[:200]}"


def sign_up_volunteer(
    *,
    name: str,
    phone: str,
    region_code: str,
    skills: str,
    availability: str,
    client: str,
) -> Volunteer:
    """A volunteer signs up online (no login). The same phone signing up twice updates the
    first sign-up instead of adding a second; the client digest lets the view rate-limit."""
    errors = []
    name = name.strip()
    if not name or len(name) > 64:
        errors.append(FieldError("name", _("Give your full name")))
    normalized = ""
    try:
        normalized = normalize_phone(phone or "")
    except PhoneError as exc:
        errors.append(FieldError("phone", exc.message))
    region = Region.objects.filter(code=region_code, level__in=["village", "grid"]).first()
    if region is None:
        errors.append(FieldError("region_code", _("Choose your village or community")))
    if errors:
        raise ValidationFailed(errors)
    digest = hashlib.sha256(client.encode()).hexdigest()
    recent = Volunteer.objects.filter(
        client_digest=digest, signed_up_at__gte=timezone.now() - dt.timedelta(hours=1)
    ).count()
    if recent >= SIGNUPS_PER_HOUR:
        raise RateLimited(digest)
    existing = Volunteer.objects.filter(phone=normalized, kind=Volunteer.Kind.VOLUNTEER).first()
    if existing is not None:
        existing.name, existing.skills, existing.availability = (
            name,
            skills[:200],
            availability[:100],
        )
        existing.region_code = region_code
        existing.save()
        return existing
    return Volunteer.objects.create(
        name=name,
        phone=normalized,
        region_code=region_code,
        skills=skills.strip()[:200],
        availability=availability.strip()[:100],
        client_digest=digest,
    )


def assign_volunteer(*, actor: Any, volunteer_id: int, version: int, post: str) -> Volunteer:
    require(actor, Action.EMERGENCY_STAFF)
    if not post.strip():
        raise ValidationFailed([FieldError("post", _("Name the post"))])
    with transaction.atomic():
        volunteer = (
            jurisdiction.scope(Volunteer.objects.select_for_update(), actor)
            .filter(pk=volunteer_id)
            .first()
        )
        if volunteer is None:
            raise NotFound(volunteer_id)
        if volunteer.version != version:
            raise VersionConflict(volunteer.version)
        volunteer.post = post.strip()[:100]
        volunteer.status = Volunteer.Status.ASSIGNED
        volunteer.version += 1
        volunteer.save()
    return volunteer


def township_codes(actor: Any) -> list[str]:
    return list(
        jurisdiction.scope(Region.objects.filter(level="township"), actor, field="code")
        .order_by("code")
        .values_list("code", flat=True)
    )
