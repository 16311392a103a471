"""Writes and rules of nucleic-acid testing: rounds, exemptions, schedules, points, tubes,
samples, lab results and what follows from them (recalls, recall tasks, suspected cases).

Every function checks the role (:func:`fangkong.core.roles.can`) and the jurisdiction
(:mod:`fangkong.core.jurisdiction`) itself, so the API, the pages and the commands cannot
differ on who may do what. Samples always go through :mod:`.ingest`, one path for the phone
page and the devices.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, idnumbers, jurisdiction, signals
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.models import AuditEvent, Region, User
from fangkong.core.roles import Action, Role, can
from fangkong.people.models import Person, PersonCategory

from . import selectors
from .ingest import IngestReport, ScanRow, bulk_ingest_samples, new_device_sample_id
from .models import (
    Campaign,
    CampaignStatus,
    DueTest,
    Exemption,
    ExemptionReason,
    Recall,
    RecallTask,
    RegistrationCode,
    Sample,
    SamplingPoint,
    SuspectedCase,
    TestResult,
    TestSchedule,
    Tube,
    UnmatchedResult,
)

log = logging.getLogger(__name__)

LEVEL_LENGTHS = (15, 12, 9, 6, 4, 2)
CAPACITIES = (1, 10, 20)
REGISTRATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud safely


def require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action)


def _covering_code(codes: Sequence[str]) -> str:
    """The longest region code (of a real level length) that is a prefix of every code."""
    common = codes[0]
    for code in codes[1:]:
        while not code.startswith(common):
            common = common[:-1]
    for length in LEVEL_LENGTHS:
        if len(common) >= length:
            return common[:length]
    return ""


# -- rounds ----------------------------------------------------------------------------------


def create_campaign(
    *,
    user: Any,
    name: str,
    region_codes: Sequence[str],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    categories: Sequence[str] = (),
    pool_size: int = 10,
    note: str = "",
) -> Campaign:
    """Plan a round: every target region must exist and lie inside the planner's jurisdiction."""
    require(user, Action.TESTING_PLAN)
    errors = []
    codes = sorted(set(region_codes))
    if not name.strip():
        errors.append(FieldError("name", _("Give the round a name")))
    if not codes:
        errors.append(FieldError("region_codes", _("Choose at least one region")))
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    for code in codes:
        if code not in known or not jurisdiction.covers(user, code):
            errors.append(
                FieldError(
                    "region_codes",
                    _("Region %(code)s does not exist or is outside your jurisdiction")
                    % {"code": code},
                )
            )
    bad = [c for c in categories if c not in PersonCategory.values]
    if bad:
        errors.append(FieldError("categories", _("Unknown category: %(c)s") % {"c": bad[0]}))
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", _("The round must end after it starts")))
    if pool_size not in CAPACITIES:
        errors.append(FieldError("pool_size", _("A tube takes 1, 10 or 20 samples")))
    if errors:
        raise ValidationFailed(errors)
    campaign = Campaign.objects.create(
        name=name.strip(),
        region_code=_covering_code(codes),
        region_codes=codes,
        categories=sorted(set(categories)),
        starts_at=starts_at,
        ends_at=ends_at,
        pool_size=pool_size,
        note=note,
        created_by=user,
    )
    audit.record(
        user=user,
        kind=AuditEvent.Kind.CREATE,
        object_type="testing.campaign",
        object_id=campaign.pk,
        detail=campaign.name,
    )
    return campaign


def set_campaign_status(*, user: Any, campaign_id: int, status: str) -> Campaign:
    """Open, run or close a round; a closed round takes no more samples."""
    require(user, Action.TESTING_PLAN)
    campaign = selectors.get_campaign(user, campaign_id)
    if not all(jurisdiction.covers(user, c) for c in campaign.region_codes):
        raise PermissionDenied(Action.TESTING_PLAN)
    if status not in CampaignStatus.values:
        raise ValidationFailed([FieldError("status", _("Unknown status"))])
    campaign.status = status
    campaign.save(update_fields=["status"])
    return campaign


def _person_in_scope(user: Any, person_id: int) -> Person:
    person = jurisdiction.scope(Person.objects.all(), user).filter(pk=person_id).first()
    if person is None:
        raise NotFound(person_id)
    return person


def exempt_person(
    *, user: Any, campaign_id: int, person_id: int, reason: str, note: str = ""
) -> Exemption:
    """Excuse a person of the round with a reason; a second call changes the reason."""
    require(user, Action.TESTING_PLAN)
    campaign = selectors.get_campaign(user, campaign_id)
    person = _person_in_scope(user, person_id)
    if reason not in ExemptionReason.values:
        raise ValidationFailed([FieldError("reason", _("Choose a reason"))])
    if reason == ExemptionReason.OTHER and not note.strip():
        raise ValidationFailed([FieldError("note", _("Say why when the reason is 'other'"))])
    if not selectors.is_target(campaign, person):
        raise ValidationFailed(
            [FieldError("person_id", _("This person is not in the round's target population"))]
        )
    exemption, _created = Exemption.objects.update_or_create(
        campaign=campaign,
        person=person,
        defaults={
            "region_code": person.region_code,
            "reason": reason,
            "note": note.strip(),
            "created_by": user,
        },
    )
    return exemption


def remove_exemption(*, user: Any, campaign_id: int, person_id: int) -> None:
    require(user, Action.TESTING_PLAN)
    campaign = selectors.get_campaign(user, campaign_id)
    person = _person_in_scope(user, person_id)
    deleted, _rows = Exemption.objects.filter(campaign=campaign, person=person).delete()
    if not deleted:
        raise NotFound(person_id)


# -- schedules (fed by isolation and policies) --------------------------------------------


def schedule_tests(
    *, person: Person, due_dates: Iterable[dt.date], origin: str, origin_ref: str = ""
) -> TestSchedule:
    """Record the days a person is due a test for ``origin`` (called by other modules).

    With an ``origin_ref`` (``"quarantine.order:12"``) a second call replaces the schedule
    of that origin, so an extended isolation order simply schedules again.
    """
    days = sorted(set(due_dates))
    if not days:
        raise ValidationFailed([FieldError("due_dates", _("Give at least one due date"))])
    with transaction.atomic():
        if origin_ref:
            TestSchedule.objects.filter(person=person, origin_ref=origin_ref).delete()
        schedule = TestSchedule.objects.create(
            person=person,
            region_code=person.region_code,
            origin=origin[:200],
            origin_ref=origin_ref[:100],
        )
        DueTest.objects.bulk_create(
            DueTest(schedule=schedule, person=person, region_code=person.region_code, due_on=d)
            for d in days
        )
    return schedule


def create_schedule(
    *, user: Any, person_id: int, due_dates: Sequence[dt.date], origin: str
) -> TestSchedule:
    """A planner schedules tests for a person of their jurisdiction (e.g. days 1, 4, 7)."""
    require(user, Action.TESTING_PLAN)
    person = _person_in_scope(user, person_id)
    if not origin.strip():
        raise ValidationFailed([FieldError("origin", _("Say why the tests are due"))])
    return schedule_tests(person=person, due_dates=due_dates, origin=origin.strip())


# -- sampling points -------------------------------------------------------------------------


def create_point(
    *,
    user: Any,
    name: str,
    location: str,
    region_code: str,
    opens_at: dt.time,
    closes_at: dt.time,
    lanes: int,
    throughput_per_lane_hour: int,
    staff_ids: Sequence[int] = (),
) -> SamplingPoint:
    """A sampling point serving a region inside the planner's jurisdiction."""
    require(user, Action.TESTING_PLAN)
    errors = []
    region = Region.objects.filter(code=region_code).first()
    if region is None or not jurisdiction.covers(user, region_code):
        errors.append(
            FieldError(
                "region_code", _("The region does not exist or is outside your jurisdiction")
            )
        )
    if closes_at <= opens_at:
        errors.append(FieldError("closes_at", _("The point must close after it opens")))
    if not 1 <= lanes <= 100:
        errors.append(FieldError("lanes", _("A point has 1 to 100 lanes")))
    if not 1 <= throughput_per_lane_hour <= 1000:
        errors.append(
            FieldError("throughput_per_lane_hour", _("A lane takes 1 to 1,000 samples an hour"))
        )
    staff = (
        list(selectors.eligible_staff(region.code).filter(pk__in=staff_ids))
        if region is not None
        else []
    )
    if len(staff) != len(set(staff_ids)):
        errors.append(FieldError("staff_ids", _staff_rule()))
    if errors:
        raise ValidationFailed(errors)
    point = SamplingPoint.objects.create(
        name=name.strip(),
        location=location.strip(),
        region=region,
        region_code=region.code,
        opens_at=opens_at,
        closes_at=closes_at,
        lanes=lanes,
        throughput_per_lane_hour=throughput_per_lane_hour,
    )
    point.staff.set(staff)
    return point


def update_point(
    *,
    user: Any,
    point_id: int,
    lanes: int | None = None,
    opens_at: dt.time | None = None,
    closes_at: dt.time | None = None,
    throughput_per_lane_hour: int | None = None,
) -> SamplingPoint:
    """Add lanes or change hours after the planner said the round would not finish."""
    require(user, Action.TESTING_PLAN)
    point = selectors.get_point(user, point_id)
    if lanes is not None:
        point.lanes = lanes
    if opens_at is not None:
        point.opens_at = opens_at
    if closes_at is not None:
        point.closes_at = closes_at
    if throughput_per_lane_hour is not None:
        point.throughput_per_lane_hour = throughput_per_lane_hour
    if point.closes_at <= point.opens_at:
        raise ValidationFailed([FieldError("closes_at", _("The point must close after it opens"))])
    if not 1 <= point.lanes <= 100:
        raise ValidationFailed([FieldError("lanes", _("A point has 1 to 100 lanes"))])
    if not 1 <= point.throughput_per_lane_hour <= 1000:
        raise ValidationFailed(
            [FieldError("throughput_per_lane_hour", _("A lane takes 1 to 1,000 samples an hour"))]
        )
    point.version += 1
    point.save()
    return point


def _staff_rule() -> str:
    return _("Staff must be active testing staff working in or over the point's region")


MAX_STAFF = 100


@transaction.atomic
def set_point_staff(
    *,
    user: Any,
    point_id: int,
    staff_ids: Sequence[int],
    expected_version: int,
    channel: str = "web",
    request: Any = None,
) -> SamplingPoint:
    """Replace the sampling staff (采样人员) of a point, guarded by the version the planner read.

    Only a planner whose jurisdiction covers the point's region staffs it (a village cadre
    sees the township's point but does not staff it); each member must be active testing
    staff whose jurisdiction covers the point's region or lies inside it, that is, staff who
    can see the point and record samples there. The change is audited with who was added
    and who was removed.
    """
    require(user, Action.TESTING_PLAN)
    point = selectors.get_point(user, point_id)
    if not jurisdiction.covers(user, point.region_code):
        raise PermissionDenied(Action.TESTING_PLAN)
    if point.version != expected_version:
        raise VersionConflict(current_version=point.version)
    wanted = set(staff_ids)
    if len(wanted) > MAX_STAFF:
        raise ValidationFailed(
            [FieldError("staff_ids", _("At most %(n)d staff a point") % {"n": MAX_STAFF})]
        )
    staff = list(selectors.eligible_staff(point.region_code).filter(pk__in=wanted))
    if len(staff) != len(wanted):
        raise ValidationFailed([FieldError("staff_ids", _staff_rule())])
    before = {u.pk: u.username for u in point.staff.all()}
    # The conditional UPDATE is the guard: of two planners who read the same version, one
    # wins and the other gets a conflict, on SQLite as on PostgreSQL.
    updated = SamplingPoint.objects.filter(pk=point.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        current = SamplingPoint.objects.filter(pk=point.pk).values_list("version", flat=True)
        raise VersionConflict(current_version=current.first() or 0)
    point.staff.set(staff)
    point.refresh_from_db()
    added = sorted(u.username for u in staff if u.pk not in before)
    removed = sorted(name for pk, name in before.items() if pk not in wanted)
    audit.record(
        user=user,
        kind=AuditEvent.Kind.UPDATE,
        object_type="testing.point",
        object_id=point.pk,
        fields=["staff"],
        channel=channel,
        request=request,
        detail=f"+{','.join(added) or '-'} -{','.join(removed) or '-'}",
    )
    return point


# -- tubes and samples -----------------------------------------------------------------------


@dataclass
class TubeReport:
    opened: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def open_tubes(*, user: Any, campaign_id: int, tubes: Sequence[dict[str, Any]]) -> TubeReport:
    """Record "tube opened" messages: barcode, capacity, point and time.

    A tube already created by its samples (the scans overtook the open message) takes the
    point and time; its capacity may change only if its samples still fit.
    """
    require(user, Action.TESTING_SAMPLE)
    campaign = selectors.get_campaign(user, campaign_id)
    report = TubeReport()
    points = set(
        selectors.points(user)
        .filter(pk__in={t.get("point_id") for t in tubes} - {None})
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        for index, item in enumerate(tubes):
            barcode, capacity = item["barcode"], item["capacity"]
            point_id, opened_at = item.get("point_id"), item.get("opened_at") or timezone.now()
            if point_id is not None and point_id not in points:
                report.rejected.append(
                    {"index": index, "barcode": barcode, "message": _("Unknown sampling point")}
                )
                continue
            Tube.objects.bulk_create(
                [
                    Tube(
                        campaign=campaign,
                        barcode=barcode,
                        capacity=capacity,
                        point_id=point_id,
                        opened_at=opened_at,
                    )
                ],
                ignore_conflicts=True,
            )
            tube = Tube.objects.select_for_update().get(campaign=campaign, barcode=barcode)
            if tube.opened_at == opened_at and tube.capacity == capacity:
                report.opened += 1
                continue
            if tube.opened_at is not None and tube.capacity != capacity:
                report.rejected.append(
                    {
                        "index": index,
                        "barcode": barcode,
                        "message": _("The tube was opened with a different capacity"),
                    }
                )
                continue
            if tube.sample_count > capacity:
                report.rejected.append(
                    {
                        "index": index,
                        "barcode": barcode,
                        "message": _("The tube already holds more samples than this capacity"),
                    }
                )
                continue
            tube.capacity = capacity
            tube.point_id = point_id or tube.point_id
            tube.opened_at = tube.opened_at or opened_at
            tube.save(update_fields=["capacity", "point", "opened_at"])
            report.updated += 1
    return report


def ingest_samples(
    *, user: Any, campaign_id: int, rows: list[ScanRow], with_ids: bool = False
) -> IngestReport:
    """A device's batch of scans (see :mod:`.ingest` for the rules); ``with_ids`` also
    names the sample each accepted scan became (a phone's queue shows it)."""
    require(user, Action.TESTING_SAMPLE)
    campaign = selectors.get_campaign(user, campaign_id)
    return bulk_ingest_samples(user=user, campaign=campaign, rows=rows, with_ids=with_ids)


@dataclass(frozen=True)
class ScanOutcome:
    sample: Sample
    tube: Tube


def person_key(text: str) -> dict[str, str]:
    """A scanned or typed code as an ID number or a self-generated registration code."""
    text = text.strip().upper()
    if text.startswith("FK") and len(text) == 10:
        return {"registration_code": text}
    try:
        return {"id_number": idnumbers.normalize(text)}
    except Exception:
        return {"id_number": text}


def phone_scan_row(
    *,
    person: str,
    tube: str,
    capacity: int,
    sampled_at: dt.datetime,
    device_sample_id: str,
    point_id: int | None = None,
    retest: bool = False,
) -> ScanRow:
    """A scan typed or scanned on the sampler's phone as the row :mod:`.ingest` takes,
    after the phone's own checks: the tube type, the tube's barcode, a person's code."""
    if capacity not in CAPACITIES:
        raise ValidationFailed([FieldError("capacity", _("A tube takes 1, 10 or 20 samples"))])
    tube = tube.strip().upper()
    if not tube or len(tube) > 32 or not tube.isascii() or not tube.replace("-", "").isalnum():
        raise ValidationFailed([FieldError("tube", _("Scan the tube's barcode"))])
    if not person.strip():
        raise ValidationFailed([FieldError("person", _("Scan the ID card or registration code"))])
    return ScanRow(
        device_sample_id=device_sample_id,
        tube=tube,
        sampled_at=sampled_at,
        capacity=capacity,
        point_id=point_id,
        retest=retest,
        **person_key(person),
    )


def record_scan(
    *,
    user: Any,
    campaign_id: int,
    person: str,
    tube: str,
    capacity: int,
    point_id: int | None = None,
    retest: bool = False,
) -> ScanOutcome:
    """The phone page's one scan: the same rules as a device batch, one row long."""
    require(user, Action.TESTING_SAMPLE)
    campaign = selectors.get_campaign(user, campaign_id)
    row = phone_scan_row(
        person=person,
        tube=tube,
        capacity=capacity,
        sampled_at=timezone.now(),
        device_sample_id=new_device_sample_id(),
        point_id=point_id,
        retest=retest,
    )
    report = bulk_ingest_samples(user=user, campaign=campaign, rows=[row], with_ids=True)
    if report.rejected:
        problem = report.rejected[0]
        raise ValidationFailed([FieldError(rejected_field(problem["code"]), problem["message"])])
    sample = Sample.objects.select_related("tube").get(device_sample_id=row.device_sample_id)
    return ScanOutcome(sample=sample, tube=sample.tube)


def rejected_field(code: str) -> str:
    """The field of the phone's form a rejected scan's code is about."""
    return "tube" if code.startswith(("tube", "capacity")) else "person"


def issue_registration_code(*, id_number: str, name: str) -> RegistrationCode:
    """A person's own code for the queue, for a registered person whose name matches.

    The same answer for "no such number" and "name does not match", so the page cannot be
    used to test which ID numbers are registered.
    """
    try:
        number = idnumbers.normalize(id_number)
    except Exception:
        number = ""
    person = Person.objects.filter(id_number=number, name=name.strip()).first() if number else None
    if person is None:
        raise ValidationFailed(
            [FieldError("id_number", _("No registered person with this ID number and name"))]
        )
    existing = RegistrationCode.objects.filter(person=person).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        code = "FK" + "".join(secrets.choice(REGISTRATION_ALPHABET) for _ in range(8))
        try:
            with transaction.atomic():
                return RegistrationCode.objects.create(code=code, person=person)
        except IntegrityError:
            continue
    raise ValidationFailed([FieldError("id_number", _("Try again in a moment"))])


# -- results ---------------------------------------------------------------------------------


@dataclass
class ResultReport:
    """What a batch of lab results did; unknown tubes are listed, never dropped."""

    applied: int = 0
    unchanged: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    recalls: int = 0
    recalled_persons: int = 0
    suspected_cases: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "unknown": self.unknown,
            "errors": self.errors,
            "recalls": self.recalls,
            "recalled_persons": self.recalled_persons,
            "suspected_cases": self.suspected_cases,
        }


def record_results(
    *,
    user: Any,
    campaign_id: int,
    results: Sequence[tuple[str, str, int | None]],
    source: str,
    errors: Sequence[dict[str, Any]] = (),
) -> ResultReport:
    """Apply the lab's results (barcode, result, row) to the round's tubes.

    A tube takes one result; the same result again is ``unchanged``, a different one is a
    conflict for the lab to resolve (not overwritten). Barcodes the round does not know are
    stored as :class:`UnmatchedResult` and reported. Then the consequences, in the same
    transaction: recalls for positive or invalid pooled tubes and invalid single tubes,
    suspected cases for positive single tubes.
    """
    require(user, Action.TESTING_RESULT)
    campaign = selectors.get_campaign(user, campaign_id)
    report = ResultReport(errors=list(errors))
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A thousand tubes among millions of samples: probe the indexes rather than scan
            # the tables. While a round streams in, the sample table's statistics lag far
            # behind it (analysed when it held a few thousand rows, the planner takes every
            # tube for thousands of samples and hashes the whole table: 7.7 s for this
            # request at 5,000,000 samples), so scans are ruled out outright here. The same
            # inflated estimates priced each statement high enough for JIT compilation,
            # 0.17 s a statement for a plan that runs in 10 ms: off for this transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL random_page_cost = 1.1")
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL jit = off")
        tubes: dict[str, Tube] = {}
        barcodes = sorted({b for b, _, _ in results})
        for start in range(0, len(barcodes), 900):
            tubes.update(
                (t.barcode, t)
                for t in Tube.objects.select_for_update().filter(
                    campaign=campaign, barcode__in=barcodes[start : start + 900]
                )
            )
        resulted: list[Tube] = []
        unknown: list[UnmatchedResult] = []
        for barcode, result, row in results:
            tube = tubes.get(barcode)
            if tube is None:
                report.unknown.append({"barcode": barcode, "result": result, "row": row})
                unknown.append(
                    UnmatchedResult(
                        campaign=campaign,
                        barcode=barcode,
                        result=result,
                        source=source[:200],
                        row=row,
                    )
                )
            elif tube.result is None:
                tube.result, tube.resulted_at, tube.result_source = result, now, source[:200]
                resulted.append(tube)
                report.applied += 1
            elif tube.result == result:
                report.unchanged += 1
            else:
                report.conflicts.append(
                    {
                        "barcode": barcode,
                        "row": row,
                        "result": result,
                        "stored": tube.result,
                        "message": _("The tube already has a different result; ask the lab"),
                    }
                )
        _store_results(resulted, now, source[:200])
        UnmatchedResult.objects.bulk_create(unknown)
        _consequences(campaign, resulted, report, by_user=user)
        audit.record(
            user=user,
            kind=AuditEvent.Kind.IMPORT,
            object_type="testing.results",
            object_id=campaign.pk,
            detail=f"{source[:120]}: {report.applied} applied, {len(report.unknown)} unknown",
        )
    return report


def _store_results(tubes: list[Tube], now: dt.datetime, source: str) -> None:
    """One UPDATE per result value (at most three), not one per tube."""
    by_result: dict[str, list[int]] = defaultdict(list)
    for tube in tubes:
        by_result[tube.result].append(tube.pk)
    for result, ids in by_result.items():
        for start in range(0, len(ids), 5000):
            Tube.objects.filter(pk__in=ids[start : start + 5000]).update(
                result=result, resulted_at=now, result_source=source
            )


def apply_waiting_results(
    *, campaign: Campaign, barcodes: Iterable[str], by_user: Any = None
) -> ResultReport:
    """Results that arrived before their tube: apply those whose tube now exists."""
    report = ResultReport()
    waiting = list(
        UnmatchedResult.objects.filter(
            campaign=campaign, applied_at__isnull=True, barcode__in=list(barcodes)[:10_000]
        ).order_by("pk")
    )
    if not waiting:
        return report
    tubes = {
        t.barcode: t
        for t in Tube.objects.select_for_update().filter(
            campaign=campaign, barcode__in=[w.barcode for w in waiting], result__isnull=True
        )
    }
    now = timezone.now()
    resulted = []
    for w in waiting:
        tube = tubes.pop(w.barcode, None)
        if tube is not None:
            tube.result, tube.resulted_at, tube.result_source = w.result, now, w.source
            resulted.append(tube)
            w.applied_at = now
    for tube in resulted:
        Tube.objects.filter(pk=tube.pk).update(
            result=tube.result, resulted_at=now, result_source=tube.result_source
        )
    UnmatchedResult.objects.bulk_update([w for w in waiting if w.applied_at], ["applied_at"])
    report.applied = len(resulted)
    _consequences(campaign, resulted, report, by_user=by_user)
    return report


def _tally_results(campaign: Campaign, tube_ids: list[int]) -> None:
    """Add the round samples of newly resulted tubes to the coverage tallies, by region."""
    if not tube_ids:
        return
    insert = """INSERT INTO testing_coveragecount (campaign_id, region_code, tested, resulted)
                SELECT %s, region_code, 0, count(*) FROM ({samples}) s
                GROUP BY region_code ORDER BY region_code
                ON CONFLICT (campaign_id, region_code) DO UPDATE
                SET resulted = testing_coveragecount.resulted + excluded.resulted"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Tube by tube through the tube index (LATERAL … OFFSET 0 cannot become a join
            # that the planner would answer by hashing the sample table).
            cursor.execute(
                insert.format(
                    samples=_SAMPLES_OF_TUBES.format(columns="region_code", where="attempt = 0")
                ),
                [campaign.pk, tube_ids],
            )
            return
        for start in range(0, len(tube_ids), 900):
            chunk = tube_ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                insert.format(
                    samples=(
                        f"SELECT region_code FROM testing_sample WHERE tube_id IN ({marks})"
                        " AND attempt = 0"
                    )
                ),
                [campaign.pk, *chunk],
            )


# PostgreSQL: the samples of the tubes in an array parameter, each tube probed by index.
_SAMPLES_OF_TUBES = """SELECT s.* FROM unnest(%s::bigint[]) AS t(id) CROSS JOIN LATERAL (
    SELECT {columns} FROM testing_sample WHERE tube_id = t.id AND {where} OFFSET 0) s"""


def _announce_results(tubes: list[Tube]) -> None:
    """Tell other modules (isolation) each person's result, lazily, only if one listens.

    A pooled negative is a negative for everyone in the pool; a pooled positive is not yet
    anyone's result (the recall retests them singly), so only single tubes report positives.
    """
    if not signals.test_results_known.has_listeners():
        return
    conclusive = [
        t.pk
        for t in tubes
        if t.result == TestResult.NEGATIVE or (t.result == TestResult.POSITIVE and not t.pooled)
    ]
    if not conclusive:
        return
    rows = (
        Sample.objects.filter(tube_id__in=conclusive)
        .values_list("person_id", "sampled_at", "tube__result")
        .iterator(chunk_size=5000)
    )
    signals.test_results_known.send(
        sender=Tube,
        results=((pid, timezone.localdate(at), result) for pid, at, result in rows),
    )


def receive_tests_required(
    sender: Any, person: Person, due_dates: Any, origin: str, origin_ref: str = "", **kwargs: Any
) -> None:
    """Other modules (an isolation order) require tests: they appear as due tests here."""
    schedule_tests(person=person, due_dates=due_dates, origin=origin, origin_ref=origin_ref)


def _consequences(
    campaign: Campaign, tubes: list[Tube], report: ResultReport, *, by_user: Any = None
) -> None:
    _tally_results(campaign, [t.pk for t in tubes])
    recall_tubes = [
        t
        for t in tubes
        if t.result == TestResult.INVALID or (t.result == TestResult.POSITIVE and t.pooled)
    ]
    positive_singles = [t for t in tubes if t.result == TestResult.POSITIVE and not t.pooled]
    if recall_tubes:
        recalls = Recall.objects.bulk_create(
            Recall(campaign=campaign, tube=t, reason=t.result) for t in recall_tubes
        )
        report.recalls = len(recalls)
        report.recalled_persons = _recall_entries(campaign, [t.pk for t in recall_tubes])
        _recall_tasks(campaign, [r.pk for r in recalls])
    _announce_results(tubes)
    if positive_singles:
        samples = Sample.objects.filter(tube__in=positive_singles).only(
            "pk", "person_id", "region_code", "tube_id"
        )
        cases = SuspectedCase.objects.bulk_create(
            SuspectedCase(
                campaign=campaign,
                person_id=s.person_id,
                region_code=s.region_code,
                tube_id=s.tube_id,
                sample=s,
            )
            for s in samples
        )
        report.suspected_cases = len(cases)
        _announce_suspected_cases(campaign, [t.pk for t in positive_singles], by_user)


def _announce_suspected_cases(campaign: Campaign, tube_ids: list[int], by_user: Any) -> None:
    """Offer new suspected cases to the module that opens cases (tracing), which answers with
    the record it opened for each; those are marked handed over.

    Announced in a savepoint: a receiver that fails leaves the cases new (still listed here
    for the investigator) and is logged; it never leaves the lab's results unapplied.
    """
    if not signals.suspected_case_found.has_listeners():
        return
    cases = list(
        SuspectedCase.objects.filter(tube_id__in=tube_ids, status=SuspectedCase.Status.NEW)
        .select_related("tube", "sample")
        .order_by("pk")
    )
    found = [
        signals.SuspectedCaseFound(
            ref=f"testing.suspected_case:{c.pk}",
            suspected_case_id=c.pk,
            person_id=c.person_id,
            region_code=c.region_code,
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
            tube_barcode=c.tube.barcode,
            sampled_at=c.sample.sampled_at,
            resulted_at=c.tube.resulted_at or timezone.now(),
        )
        for c in cases
    ]
    if not found:
        return
    try:
        with transaction.atomic():
            responses = signals.suspected_case_found.send(
                sender=SuspectedCase, cases=found, by_user=by_user
            )
    except Exception:
        log.exception("suspected cases %s were not handed over", [c.pk for c in cases])
        return
    for _receiver, taken in responses:
        for item in taken or ():
            hand_over_case(suspected_case_id=item.suspected_case_id, ref=item.ref, url=item.url)


def _recall_entries(campaign: Campaign, tube_ids: list[int]) -> int:
    """Everyone in the recalled tubes, in one INSERT … SELECT (per chunk of tubes on SQLite)."""
    insert = """INSERT INTO testing_recallentry (recall_id, campaign_id, person_id, region_code)
                SELECT r.id, s.campaign_id, s.person_id, s.region_code
                FROM testing_recall r {join}"""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                insert.format(
                    join="""CROSS JOIN LATERAL (
                SELECT campaign_id, person_id, region_code FROM testing_sample
                WHERE tube_id = r.tube_id OFFSET 0) s WHERE r.tube_id = ANY(%s::bigint[])"""
                ),
                [tube_ids],
            )
            return cursor.rowcount
        total = 0
        for start in range(0, len(tube_ids), 900):
            chunk = tube_ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                insert.format(
                    join=(
                        "JOIN testing_sample s ON s.tube_id = r.tube_id"
                        f" WHERE r.tube_id IN ({marks})"
                    )
                ),
                chunk,
            )
            total += cursor.rowcount
    return total


def _recall_tasks(campaign: Campaign, recall_ids: list[int]) -> None:
    """One open task per grid and grid worker covering it (unassigned where there is none)."""
    from .models import RecallEntry

    entries = RecallEntry.objects.filter(recall_id__in=recall_ids)
    by_grid: dict[str, int] = defaultdict(int)
    for code in entries.values_list("region_code", flat=True).iterator(chunk_size=5000):
        by_grid[code] += 1
    if not by_grid:
        return
    # Every active grid worker's codes in one query (a county has hundreds of them).
    workers_by_code: dict[str, list[int]] = defaultdict(list)
    for user_id, code in User.regions.through.objects.filter(
        user__role=Role.GRID_WORKER, user__is_active=True
    ).values_list("user_id", "region_id"):
        workers_by_code[code].append(user_id)
    existing = {
        (t.region_code, t.assignee_id): t
        for t in RecallTask.objects.filter(
            campaign=campaign, status=RecallTask.Status.OPEN, region_code__in=list(by_grid)
        )
    }
    new, changed = [], []
    for grid, count in by_grid.items():
        assignees = sorted(
            {
                pk
                for n in (2, 4, 6, 9, 12, 15)
                if n <= len(grid)
                for pk in workers_by_code.get(grid[:n], ())
            }
        )
        for assignee in assignees or [None]:
            task = existing.get((grid, assignee))
            if task is None:
                new.append(
                    RecallTask(
                        campaign=campaign, region_code=grid, assignee_id=assignee, persons=count
                    )
                )
            else:
                task.persons += count
                changed.append(task)
    RecallTask.objects.bulk_create(new)
    RecallTask.objects.bulk_update(changed, ["persons"])


def complete_recall_task(*, user: Any, task_id: int) -> RecallTask:
    """A grid worker (or a cadre of the area) marks a recall task done."""
    require(user, Action.TESTING_LISTS)
    if not can(user, Action.TESTING_PLAN) and user.role != Role.GRID_WORKER:
        raise PermissionDenied(Action.TESTING_LISTS)
    task = selectors.recall_tasks(user).filter(pk=task_id).first()
    if task is None:
        raise NotFound(task_id)
    task.status, task.done_at = RecallTask.Status.DONE, timezone.now()
    task.save(update_fields=["status", "done_at"])
    return task


def hand_over_case(*, suspected_case_id: int, ref: str, url: str = "") -> bool:
    """Mark a suspected case handed over to the record ``ref`` of another module (tracing),
    found at ``url``; the first hand-over stands. True when this call marked it."""
    marked = SuspectedCase.objects.filter(
        pk=suspected_case_id, status=SuspectedCase.Status.NEW
    ).update(
        status=SuspectedCase.Status.HANDED_OVER,
        handed_over_at=timezone.now(),
        handed_over_ref=ref[:100],
        handed_over_url=url[:200],
    )
    return marked > 0
