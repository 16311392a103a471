"""Reads of screening data, every one scoped by jurisdiction and checked against the role.

Risk areas and policies are rules, not personal data: readable by any role with the view
action. Stays and decisions are personal data: filtered to the user's regions, a person
outside them is "not found". Persons are shown with ID number and phone masked unless the
role may see them, and unmasked reads are written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from fangkong.core import audit, jurisdiction
from fangkong.core.errors import NotFound
from fangkong.core.masking import present, visible_fields
from fangkong.core.roles import Action
from fangkong.people.models import Person

from .evaluation import latest_run
from .models import ControlPolicy, EvaluationRun, Measure, RiskArea, ScreeningDecision, Stay
from .services import require


def risk_areas(
    user: Any, *, level: str | None = None, active_on: dt.date | None = None
) -> QuerySet[RiskArea]:
    require(user, Action.SCREENING_VIEW)
    qs = RiskArea.objects.all()
    if level:
        qs = qs.filter(level=level)
    if active_on:
        qs = qs.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=active_on), valid_from__lte=active_on
        )
    return qs


def risk_area(user: Any, area_id: int) -> RiskArea:
    """One risk area. Risk areas are national data: not scoped by jurisdiction."""
    found = risk_areas(user).filter(pk=area_id).first()
    if found is None:
        raise NotFound(area_id)
    return found


def current_policy(user: Any, region_code: str) -> ControlPolicy | None:
    """The newest version of a region's policy the user may read (None: none yet)."""
    return policies(user).filter(region_code=region_code).order_by("-version").first()


def policies(user: Any) -> QuerySet[ControlPolicy]:
    """Policy versions of the regions the user works in and of the regions above them."""
    require(user, Action.SCREENING_VIEW)
    codes = jurisdiction.user_codes(user)
    if not codes:
        return ControlPolicy.objects.none()
    above = {c[:n] for c in codes for n in (2, 4, 6, 9, 12) if len(c) >= n}
    return (
        jurisdiction.scope(ControlPolicy.objects.all(), user)
        | ControlPolicy.objects.filter(region_code__in=above)
    ).prefetch_related("rules")


def policy(user: Any, policy_id: int) -> ControlPolicy:
    found = policies(user).filter(pk=policy_id).first()
    if found is None:
        raise NotFound(policy_id)
    return found


def person(user: Any, person_id: int) -> Person:
    found = jurisdiction.scope(Person.objects.all(), user).filter(pk=person_id).first()
    if found is None:
        raise NotFound(person_id)
    return found


def stays_of(user: Any, person_id: int) -> QuerySet[Stay]:
    require(user, Action.SCREENING_VIEW)
    return person(user, person_id).stays.order_by("-arrived")


def current_runs(user: Any) -> list[int]:
    """The latest finished run of each county the user works in (policies are per county)."""
    counties = {c[:6] for c in jurisdiction.user_codes(user) if len(c) >= 6}
    counties |= set(
        jurisdiction.scope(EvaluationRun.objects.all(), user)
        .values_list("region_code", flat=True)
        .distinct()
    )
    runs = []
    for county in sorted(counties):
        run = latest_run(county)
        if run is not None:
            runs.append(run.pk)
    return runs


def decisions(
    user: Any, *, measure: str | None = None, region_code: str | None = None
) -> QuerySet[ScreeningDecision]:
    """Current decisions of the user's regions, newest exposure first."""
    require(user, Action.SCREENING_VIEW)
    qs = jurisdiction.scope(ScreeningDecision.objects.filter(run_id__in=current_runs(user)), user)
    if measure:
        qs = qs.filter(measure=measure)
    if region_code:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [region_code]))
    return qs.select_related("person", "policy").order_by("-start_date", "id")


def history(user: Any, person_id: int) -> QuerySet[ScreeningDecision]:
    require(user, Action.SCREENING_VIEW)
    return person(user, person_id).decisions.select_related("policy").order_by("-decided_at", "-id")


def due(user: Any, *, on: dt.date) -> list[dict[str, Any]]:
    """The due list: current measures still running on ``on``, with the next test day."""
    rows = []
    qs = decisions(user).exclude(measure=Measure.NONE).filter(end_date__gte=on)
    for d in qs:
        next_test = None
        for day in d.test_days:
            when = d.start_date + dt.timedelta(days=day - 1)
            if when >= on:
                next_test = when
                break
        rows.append({"decision": d, "next_test": next_test})
    return rows


def present_person(
    user: Any, person: Person, *, channel: str, request: Any = None, audited: bool = True
) -> dict[str, Any]:
    """Name, ID number and phone of a person as the user may see them."""
    visible = visible_fields(user)
    if audited and visible and (person.id_number or person.phone):
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=[person.pk],
            fields=visible,
            channel=channel,
            request=request,
        )
    return {
        "id": person.pk,
        "name": person.name,
        "region_code": person.region_code,
        "id_number": present("id_number", person.id_number, visible),
        "phone": present("phone", person.phone, visible),
    }


def audit_person_reads(
    user: Any, person_ids: list[int], *, channel: str, request: Any = None
) -> None:
    """Write one audit entry for the unmasked fields a page shows of these persons."""
    visible = visible_fields(user)
    if visible and person_ids:
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=person_ids,
            fields=visible,
            channel=channel,
            request=request,
        )


def present_decisions(
    user: Any, items: list[ScreeningDecision], *, channel: str, request: Any = None
) -> list[dict[str, Any]]:
    """Decisions with their persons masked by role; unmasked reads audited in one insert."""
    visible = visible_fields(user)
    current = set(current_runs(user))
    if visible and items:
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=[d.person_id for d in items],
            fields=visible,
            channel=channel,
            request=request,
        )
    out = []
    for d in items:
        out.append(
            {
                "id": d.pk,
                "person": present_person(user, d.person, channel=channel, audited=False),
                "policy_id": d.policy_id,
                "policy_version": d.policy.version,
                "level": d.level,
                "measure": d.measure,
                "days": d.days,
                "home_days": d.home_days,
                "test_days": d.test_days,
                "start_date": d.start_date,
                "end_date": d.end_date,
                "reason": d.reason,
                "current": d.run_id in current,
                "decided_at": d.decided_at,
            }
        )
    return out
