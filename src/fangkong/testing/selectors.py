"""Reads of nucleic-acid testing, every one bounded by the user's jurisdiction.

Rounds and points are visible when their region overlaps the user's (a village cadre sees
the county's round, and within it only the village); lists of persons go through
:func:`fangkong.core.jurisdiction.scope` on the denormalised ``region_code``.

Coverage is computed live and set-based, grouped by the region-code prefix one level down
(or by household inside a grid): from per-region counts the database keeps exact
(:class:`RegistryCount`, :class:`CoverageCount`) for a whole-population round, and by one
``GROUP BY`` over the target persons joined to their round sample, tube and exemption for a
round of some categories or a grid's households. Its definitions, which the property test
checks against a brute-force count (persons counted where they live now):

- **should test**: target persons (in the round's regions and categories) minus those
  exempted and not sampled anyway;
- **tested**: target persons with the round's sample (attempt 0);
- **results back**: tested persons whose tube has a result;
- **untested**: should test minus tested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from fangkong.core import jurisdiction
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.models import LEVEL_BY_LENGTH, Region, User
from fangkong.core.roles import Action, Role, can
from fangkong.core.selectors import ancestor_codes
from fangkong.people.models import Person

from . import planner
from .models import (
    Campaign,
    CampaignStatus,
    DueTest,
    Exemption,
    RecallEntry,
    RecallTask,
    RegistrationCode,
    Sample,
    SamplingPoint,
    SuspectedCase,
    Tube,
    UnmatchedResult,
)

LEVEL_LENGTHS = (2, 4, 6, 9, 12, 15)


def _require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action)


def _ancestors(code: str) -> list[str]:
    """``code`` and the codes of every region above it."""
    return [*ancestor_codes(code), code]


def _overlap_q(user: Any, field: str = "region_code") -> Q:
    """Rows whose region is inside the user's jurisdiction or contains part of it."""
    codes = jurisdiction.user_codes(user)
    if "" in codes:
        return Q()
    above = {a for code in codes for a in _ancestors(code)}
    return jurisdiction.prefix_q(field, codes) | Q(**{f"{field}__in": sorted(above)})


def campaigns(user: Any) -> QuerySet[Campaign]:
    _require(user, Action.TESTING_VIEW)
    if not jurisdiction.user_codes(user):
        return Campaign.objects.none()
    return Campaign.objects.filter(_overlap_q(user))


def current_campaign(user: Any, *, now: dt.datetime | None = None) -> Campaign | None:
    """The round a sampler works on now: a running round whose window holds ``now``, else
    the running or planned round that opens next, else None."""
    from django.utils import timezone

    now = now or timezone.now()
    mine = campaigns(user).exclude(status=CampaignStatus.CLOSED)
    under_way = (
        mine.filter(status=CampaignStatus.RUNNING, starts_at__lte=now, ends_at__gte=now)
        .order_by("-starts_at")
        .first()
    )
    if under_way is not None:
        return under_way
    return mine.filter(ends_at__gte=now).order_by("starts_at").first()


def get_campaign(user: Any, campaign_id: int) -> Campaign:
    campaign = campaigns(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(campaign_id)
    return campaign


def points(user: Any) -> QuerySet[SamplingPoint]:
    _require(user, Action.TESTING_VIEW)
    if not jurisdiction.user_codes(user):
        return SamplingPoint.objects.none()
    return SamplingPoint.objects.filter(_overlap_q(user))


def get_point(user: Any, point_id: int) -> SamplingPoint:
    point = points(user).filter(pk=point_id).first()
    if point is None:
        raise NotFound(point_id)
    return point


def eligible_staff(region_code: str) -> QuerySet[User]:
    """Active testing staff who may staff a point serving ``region_code``: those whose
    jurisdiction covers the region (a county's samplers) or lies inside it (a village's)."""
    where = jurisdiction.prefix_q("regions__code", [region_code]) | Q(
        regions__code__in=_ancestors(region_code)
    )
    return (
        User.objects.filter(role=Role.TESTING_STAFF, is_active=True)
        .filter(where)
        .distinct()
        .order_by("username")
    )


def point_staff(user: Any, point: SamplingPoint) -> list[User]:
    """The point's sampling staff (the point was read through :func:`get_point`)."""
    _require(user, Action.TESTING_VIEW)
    return list(point.staff.order_by("username"))


def staff_candidates(user: Any, point: SamplingPoint) -> list[User]:
    """Whom a planner may put on the point: the eligible staff (see :func:`eligible_staff`)."""
    _require(user, Action.TESTING_PLAN)
    return list(eligible_staff(point.region_code)[:500])


def is_target(campaign: Campaign, person: Person) -> bool:
    in_region = any(person.region_code.startswith(c) for c in campaign.region_codes)
    return in_region and (not campaign.categories or person.category in campaign.categories)


def target_persons(user: Any, campaign: Campaign, region_code: str = "") -> QuerySet[Person]:
    """The round's target persons inside the user's jurisdiction (and ``region_code``)."""
    people = jurisdiction.scope(Person.objects.all(), user).filter(
        jurisdiction.prefix_q("region_code", campaign.region_codes)
    )
    if region_code:
        people = people.filter(jurisdiction.prefix_q("region_code", [region_code]))
    if campaign.categories:
        people = people.filter(category__in=campaign.categories)
    return people


# -- coverage --------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    key: str  # region code, household id, or "" (persons with no household)
    name: str
    target: int
    exempt: int
    tested: int
    resulted: int

    @property
    def should_test(self) -> int:
        return self.target - self.exempt

    @property
    def untested(self) -> int:
        return self.should_test - self.tested

    @property
    def percent(self) -> int:
        return int(self.tested * 100 / self.should_test) if self.should_test else 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "should_test": self.should_test,
            "tested": self.tested,
            "results_back": self.resulted,
            "untested": self.untested,
            "exempt": self.exempt,
            "target": self.target,
        }


@dataclass
class Coverage:
    campaign: Campaign
    region_code: str
    level: str  # "region" or "household": what the rows are
    total: CoverageRow
    rows: list[CoverageRow]


def _child_length(code: str) -> int | None:
    for n in LEVEL_LENGTHS:
        if n > len(code):
            return n
    return None


def coverage(
    user: Any, campaign: Campaign, region_code: str = "", *, by_grid: bool = False
) -> Coverage:
    """Coverage of ``campaign`` under ``region_code`` (default: the user's view of the round),
    one row per child region, or per household inside a grid; ``by_grid`` gives one row per
    grid of the whole area at once (the county's grid-by-grid table)."""
    _require(user, Action.TESTING_VIEW)
    codes = jurisdiction.user_codes(user)
    if not region_code:
        region_code = campaign.region_code
        if not jurisdiction.covers(user, region_code):
            # The round is wider than the user's jurisdiction: start from the user's region.
            mine = [c for c in codes if c.startswith(campaign.region_code)]
            if len(mine) == 1:
                region_code = mine[0]
    child = 15 if by_grid else _child_length(region_code)
    if child is None or len(region_code) >= 15:
        group, level = "p.household_id", "household"
    else:
        group, level = f"substr(p.region_code, 1, {int(child)})", "region"
    where, params = [], []
    for sql, args in (
        jurisdiction.range_sql("p.region_code", tuple(codes)),
        jurisdiction.range_sql("p.region_code", tuple(campaign.region_codes)),
        jurisdiction.range_sql("p.region_code", (region_code,)),
    ):
        where.append(sql)
        params += args
    if campaign.categories:
        where.append("p.category IN (" + ", ".join(["%s"] * len(campaign.categories)) + ")")
        params += list(campaign.categories)
    sql = f"""
        SELECT {group} AS k, COUNT(*) AS target,
            SUM(CASE WHEN s.id IS NULL AND e.id IS NOT NULL THEN 1 ELSE 0 END) AS exempt,
            SUM(CASE WHEN s.id IS NOT NULL THEN 1 ELSE 0 END) AS tested,
            SUM(CASE WHEN t.result IS NOT NULL THEN 1 ELSE 0 END) AS resulted
        FROM people_person p
        LEFT JOIN testing_sample s
            ON s.person_id = p.id AND s.campaign_id = %s AND s.attempt = 0
        LEFT JOIN testing_tube t ON t.id = s.tube_id
        LEFT JOIN testing_exemption e ON e.person_id = p.id AND e.campaign_id = %s
        WHERE {" AND ".join(where)}
        GROUP BY {group}
    """
    if level == "region" and not campaign.categories:
        raw = _coverage_by_parts(
            campaign, int(child), (codes, campaign.region_codes, (region_code,))
        )
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, [campaign.pk, campaign.pk, *params])
            raw = cursor.fetchall()
    keys = [str(k) if k is not None else "" for k, *_ in raw]
    if level == "region":
        # The regions of that level under region_code, by range, not by a list of the keys:
        # building and planning an IN list of a county's 6,400 grids took 0.4 s, more than
        # the counts themselves.
        names = dict(
            Region.objects.filter(
                jurisdiction.prefix_q("code", [region_code]), level=LEVEL_BY_LENGTH[int(child)]
            )
            .order_by()
            .values_list("code", "name")
        )
    else:
        from fangkong.people.models import Household

        names = dict(
            Household.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "address")
        )
        names = {str(k): v for k, v in names.items()}
    rows = [
        CoverageRow(key, names.get(key, key), int(target), int(ex or 0), int(te or 0), int(rs or 0))
        for key, (_k, target, ex, te, rs) in zip(keys, raw, strict=True)
    ]
    rows.sort(key=lambda r: r.key)
    total = CoverageRow(
        region_code,
        Region.objects.filter(code=region_code).values_list("name", flat=True).first() or "",
        sum(r.target for r in rows),
        sum(r.exempt for r in rows),
        sum(r.tested for r in rows),
        sum(r.resulted for r in rows),
    )
    return Coverage(campaign=campaign, region_code=region_code, level=level, total=total, rows=rows)


def _coverage_by_parts(
    campaign: Campaign, length: int, bounds: tuple[Sequence[str], ...]
) -> list[tuple[str, int, int, int, int]]:
    """Coverage of a round without a category filter, as three small aggregations.

    The same figures as the person-by-person join, computed without reading the registry
    or the samples: targets from the persons per region code (:class:`RegistryCount`),
    tested and resulted from the round's tallies per region code (:class:`CoverageCount`),
    exempted-and-not-sampled from the few exemptions. A county of a million persons is a
    few thousand rows of each, so the page stays live while samples stream in, and its cost
    does not grow with the registry.

    Why counts kept by the database rather than a snapshot taken when the round opens (or
    refreshed by a periodic job): "should test" must be right at the moment a cadre reads
    it, also for the persons registered, moved or removed since, or the county would chase
    phantom untested persons or miss new ones. Triggers adjust the counts in the very
    transaction that changes the registry, whatever path writes (the registry services,
    the bulk import's COPY, the admin), so there is no "as of" to explain and no job to
    watch; and a person who moves takes their round tallies along, so tested stays counted
    where the person now lives, as the brute-force definition says.
    """

    def ranges(column: str) -> tuple[str, list[str]]:
        parts, params = [], []
        for codes in bounds:
            sql, args = jurisdiction.range_sql(column, tuple(codes))
            parts.append(sql)
            params += args
        return " AND ".join(parts), params

    counts: dict[str, list[int]] = {}
    # Grouped by the stored code and rolled up here: a county has a few thousand codes.
    queries = [
        (
            "SELECT r.region_code, SUM(r.persons) FROM testing_registrycount r WHERE {w}"
            " GROUP BY 1",
            "r.region_code",
            [],
            0,
        ),
        (
            "SELECT c.region_code, SUM(c.tested), SUM(c.resulted) FROM testing_coveragecount c"
            " WHERE c.campaign_id = %s AND {w} GROUP BY 1",
            "c.region_code",
            [campaign.pk],
            2,
        ),
        (
            "SELECT e.region_code, COUNT(*) FROM testing_exemption e"
            " WHERE e.campaign_id = %s AND {w} AND NOT EXISTS (SELECT 1 FROM testing_sample s"
            " WHERE s.campaign_id = e.campaign_id AND s.person_id = e.person_id"
            " AND s.attempt = 0) GROUP BY 1",
            "e.region_code",
            [campaign.pk],
            1,
        ),
    ]
    with connection.cursor() as cursor:
        for template, column, first, position in queries:
            where, params = ranges(column)
            cursor.execute(template.format(w=where), [*first, *params])
            for code, *values in cursor.fetchall():
                row = counts.setdefault(code[:length], [0, 0, 0, 0])
                for offset, value in enumerate(values):
                    row[position + offset] += int(value)
    # A region whose people all left (or whose round samples moved away with them) keeps
    # its tally rows at zero: it is no row of coverage, as in the person-by-person count.
    return [(key, *values) for key, values in counts.items() if any(values)]


def untested(user: Any, campaign: Campaign, region_code: str = "") -> QuerySet[Person]:
    """Target persons not sampled in the round and not exempted, by grid and household."""
    _require(user, Action.TESTING_LISTS)
    # NOT EXISTS (an anti-join) rather than NOT IN, and the order of the person_region
    # index (grid, then id), so a page is an index walk that stops after the page instead
    # of a sort of the whole county's untested persons.
    sampled = Sample.objects.filter(campaign=campaign, attempt=0, person_id=OuterRef("pk"))
    exempted = Exemption.objects.filter(campaign=campaign, person_id=OuterRef("pk"))
    return (
        target_persons(user, campaign, region_code)
        .filter(~Exists(sampled), ~Exists(exempted))
        .select_related("household")
        .order_by("region_code", "pk")
    )


def exemptions(user: Any, campaign: Campaign) -> QuerySet[Exemption]:
    _require(user, Action.TESTING_LISTS)
    return (
        jurisdiction.scope(Exemption.objects.filter(campaign=campaign), user)
        .select_related("person")
        .order_by("region_code", "person__name")
    )


def recall_entries(user: Any, campaign: Campaign, region_code: str = "") -> QuerySet[RecallEntry]:
    """Everyone recalled in the round, ordered by grid then name, with their tube."""
    _require(user, Action.TESTING_LISTS)
    entries = jurisdiction.scope(RecallEntry.objects.filter(campaign=campaign), user)
    if region_code:
        entries = entries.filter(jurisdiction.prefix_q("region_code", [region_code]))
    return entries.select_related("person__household", "recall__tube").order_by(
        "region_code", "person__name", "pk"
    )


def recall_tasks(user: Any) -> QuerySet[RecallTask]:
    """A grid worker's own tasks; a cadre's the tasks of grids in their jurisdiction."""
    _require(user, Action.TESTING_LISTS)
    tasks = jurisdiction.scope(RecallTask.objects.all(), user)
    if not can(user, Action.TESTING_PLAN) and user.role == Role.GRID_WORKER:
        tasks = tasks.filter(Q(assignee=user) | Q(assignee__isnull=True))
    return tasks.select_related("campaign").order_by("status", "-created_at", "region_code")


def suspected_cases(user: Any) -> QuerySet[SuspectedCase]:
    """Positive single tubes: the tracing module's inbox, inside the user's jurisdiction."""
    _require(user, Action.TESTING_POSITIVES)
    return (
        jurisdiction.scope(SuspectedCase.objects.all(), user)
        .select_related("person", "tube", "campaign")
        .order_by("-created_at")
    )


def unmatched_results(user: Any, campaign: Campaign) -> QuerySet[UnmatchedResult]:
    _require(user, Action.TESTING_VIEW)
    return UnmatchedResult.objects.filter(campaign=campaign, applied_at__isnull=True).order_by(
        "-reported_at", "barcode"
    )


def due_tests(user: Any, day: dt.date) -> list[tuple[DueTest, bool]]:
    """Scheduled tests due on ``day`` in the user's jurisdiction, with "sampled that day"."""
    _require(user, Action.TESTING_LISTS)
    due = list(
        jurisdiction.scope(DueTest.objects.filter(due_on=day), user)
        .select_related("person", "schedule")
        .order_by("region_code", "person__name")[:2000]
    )
    from django.utils import timezone

    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    done = set(
        Sample.objects.filter(
            person_id__in=[d.person_id for d in due],
            sampled_at__gte=start,
            sampled_at__lt=start + dt.timedelta(days=1),
        ).values_list("person_id", flat=True)
    )
    return [(d, d.person_id in done) for d in due]


def tube_for_scan(user: Any, campaign: Campaign, barcode: str) -> Tube | None:
    _require(user, Action.TESTING_VIEW)
    return Tube.objects.filter(campaign=campaign, barcode=barcode).first()


def person_for_scan(
    user: Any, *, id_number: str | None = None, registration_code: str | None = None
) -> Person | None:
    """The person a scanned ID number or registration code names, inside the user's
    jurisdiction (outside it, like an unknown code: None)."""
    _require(user, Action.TESTING_VIEW)
    people = jurisdiction.scope(Person.objects.all(), user)
    if registration_code:
        owners = RegistrationCode.objects.filter(code=registration_code).values("person_id")
        return people.filter(pk__in=owners).first()
    if id_number:
        return people.filter(id_number=id_number).first()
    return None


def latest_sample_of(user: Any, campaign: Campaign, person: Person) -> Sample | None:
    """A person's latest sample of the round (its own, or the last retest), with the tube."""
    _require(user, Action.TESTING_VIEW)
    return (
        jurisdiction.scope(Sample.objects.filter(campaign=campaign, person=person), user)
        .select_related("tube")
        .order_by("-attempt")
        .first()
    )


def samples_in_tube(user: Any, tube: Tube, *, limit: int = 20) -> list[Sample]:
    """The samples in a tube that the user may see, with their persons (first swabbed first)."""
    _require(user, Action.TESTING_VIEW)
    return list(
        jurisdiction.scope(Sample.objects.filter(tube=tube), user)
        .select_related("person")
        .order_by("sampled_at", "pk")[:limit]
    )


def samples_by_id(user: Any, sample_ids: Sequence[int]) -> dict[int, Sample]:
    """Samples by id, with their persons and tubes, inside the user's jurisdiction."""
    _require(user, Action.TESTING_VIEW)
    rows = jurisdiction.scope(Sample.objects.filter(pk__in=list(sample_ids)), user)
    return {s.pk: s for s in rows.select_related("person", "tube")}


# -- planner ---------------------------------------------------------------------------------


@dataclass
class PointPlan:
    point: SamplingPoint
    campaign: Campaign
    should_test: int
    tested: int
    sharing_points: int
    measured_throughput: int | None
    plan: planner.Plan


MIN_SAMPLES_TO_MEASURE = 30


def measured_throughput(point: SamplingPoint, campaign: Campaign) -> int | None:
    """Samples per lane-hour actually taken at the point in this round (None: too few yet)."""
    stamps = Sample.objects.filter(campaign=campaign, point=point).order_by("sampled_at")
    count = stamps.count()
    if count < MIN_SAMPLES_TO_MEASURE:
        return None
    first = stamps.values_list("sampled_at", flat=True).first()
    last = stamps.reverse().values_list("sampled_at", flat=True).first()
    hours = max((last - first).total_seconds() / 3600, 0.25)
    return max(1, round(count / (point.lanes * hours)))


def plan_point(
    user: Any, point: SamplingPoint, campaign: Campaign, profile: str = "uniform"
) -> PointPlan:
    """Plan a point for a round: the people of its region not yet tested, shared evenly with
    the other active points serving the same region, at the measured (or trial) speed."""
    _require(user, Action.TESTING_VIEW)
    cov = coverage(user, campaign, point.region_code)
    sharing = SamplingPoint.objects.filter(region_code=point.region_code, active=True).count()
    remaining = max(cov.total.untested, 0)
    population = -(-remaining // max(sharing, 1))
    measured = measured_throughput(point, campaign)
    from django.utils import timezone

    now = timezone.localtime()
    start = max(
        timezone.localtime(campaign.starts_at), now.replace(minute=0, second=0, microsecond=0)
    )
    end = timezone.localtime(campaign.ends_at)
    result = planner.plan(
        population=population,
        lanes=point.lanes,
        throughput_per_lane_hour=measured or point.throughput_per_lane_hour,
        window_start=min(start, end),
        window_end=end,
        opens_at=point.opens_at,
        closes_at=point.closes_at,
        profile=planner.PROFILES.get(profile, planner.UNIFORM),
    )
    return PointPlan(
        point=point,
        campaign=campaign,
        should_test=cov.total.should_test,
        tested=cov.total.tested,
        sharing_points=sharing,
        measured_throughput=measured,
        plan=result,
    )
