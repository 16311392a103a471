"""Reads of contact tracing, always scoped by jurisdiction.

A person's details are shown in full only inside the reader's jurisdiction (and then
masked by role like everywhere else); a person of another region appears as a masked name,
so a chain that crosses a county line stays readable without leaking the other side's
people. The same rule drives both sides of a cross-region notice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Value
from django.utils import timezone

from fangkong.core import jurisdiction
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.masking import present, visible_fields
from fangkong.core.models import Region, User
from fangkong.core.regions import region_labels
from fangkong.core.roles import Action, Role, can
from fangkong.people.models import Person

from . import chains as chain_rules
from . import graph
from .models import (
    INFECTIOUS,
    Attendance,
    Case,
    CaseStatus,
    Classification,
    ExposureEvent,
    InvestigationTeam,
    Notice,
    TaskStatus,
    TracingTask,
)

MAX_PAGE = 200


def require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action)


def mask_name(name: str) -> str:
    """张伟 → 张*, 欧阳娜娜 → 欧***: enough to recognise a case in a call, not to identify."""
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


def cases_visible_to(user: Any) -> QuerySet[Case]:
    return jurisdiction.scope(Case.objects.all(), user)


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    region_code: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _filtered(user: Any, filters: CaseFilters) -> QuerySet[Case]:
    queryset = cases_visible_to(user)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.region_code:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [filters.region_code]))
    day = Q(confirmation_date__isnull=False)
    if filters.date_from:
        queryset = queryset.filter(
            (day & Q(confirmation_date__gte=filters.date_from))
            | (~day & Q(report_date__gte=filters.date_from))
        )
    if filters.date_to:
        queryset = queryset.filter(
            (day & Q(confirmation_date__lte=filters.date_to))
            | (~day & Q(report_date__lte=filters.date_to))
        )
    return queryset


def list_cases(user: Any, filters: CaseFilters, *, limit: int = 50, offset: int = 0) -> list[Case]:
    require(user, Action.TRACING_VIEW)
    return list(
        _filtered(user, filters)
        .select_related("person", "investigator", "team")
        .prefetch_related("referrals")
        .order_by("-id")[offset : offset + min(limit, MAX_PAGE)]
    )


def my_open_cases(user: Any, *, limit: int = 50) -> list[Case]:
    """The cases the user investigates that are not excluded, newest first: the
    investigator's work at the top of their home page."""
    require(user, Action.TRACING_VIEW)
    return list(
        cases_visible_to(user)
        .filter(investigator_id=getattr(user, "pk", None))
        .exclude(status=CaseStatus.EXCLUDED)
        .select_related("person")
        .order_by("-id")[:limit]
    )


def get_case(user: Any, case_id: int) -> Case:
    require(user, Action.TRACING_VIEW)
    case = (
        cases_visible_to(user)
        .select_related("person", "investigator", "team", "infected_by")
        .prefetch_related("referrals")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(case_id)
    return case


def present_case(user: Any, case: Case) -> dict[str, Any]:
    parent = case.infected_by
    return {
        "id": case.pk,
        "external_id": case.external_id,
        "person_id": case.person_id,
        "name": case.display_name,
        "region_code": case.region_code,
        "status": case.status,
        "onset_date": case.onset_date,
        "report_date": case.report_date,
        "confirmation_date": case.confirmation_date,
        "window_start": case.window_start,
        "found_via": case.found_via,
        "hospital": case.hospital,
        "infected_by_id": parent.pk
        if parent and jurisdiction.covers(user, parent.region_code)
        else None,
        "exposure_type": case.exposure_type,
        "investigator": str(case.investigator) if case.investigator else "",
        "team": str(case.team) if case.team else "",
        "version": case.version,
        "referrals": [
            {
                "campaign_name": r.campaign_name,
                "tube_barcode": r.tube_barcode,
                "sampled_at": r.sampled_at,
                "resulted_at": r.resulted_at,
            }
            for r in case.referrals.all()
        ],
    }


# ---- contacts of a case -----------------------------------------------------------------


def contacts_of_case(user: Any, case: Case) -> list[dict[str, Any]]:
    """Every close and secondary contact reached from ``case``, with who must reach them.

    Computed live from the graph (so the list is right even before the stored
    classification catches up); persons outside the reader's jurisdiction are listed
    masked, with their region, because someone there must reach them.
    """
    require(user, Action.TRACING_VIEW)
    reached = graph.contacts_of_cases([case.pk]) if case.status in INFECTIOUS else []
    if not reached:
        return []
    ids = [r.person_id for r in reached] + [r.via_person_id for r in reached]
    persons = Person.objects.in_bulk(ids)
    tasks = {
        t.person_id: t
        for t in TracingTask.objects.filter(person_id__in=[r.person_id for r in reached])
        .exclude(status=TaskStatus.CANCELLED)
        .select_related("assignee")
        .order_by("created_at")
    }
    classifications = {
        c.person_id: c
        for c in Classification.objects.filter(
            person_id__in=[r.person_id for r in reached], ended_at__isnull=True
        )
    }
    visible = visible_fields(user)
    labels = region_labels({p.region_code for p in persons.values()})
    rows = []
    for r in sorted(reached, key=lambda r: (r.level != "close", r.person_id)):
        person = persons.get(r.person_id)
        via = persons.get(r.via_person_id)
        if person is None:
            continue
        inside = jurisdiction.covers(user, person.region_code)
        task = tasks.get(r.person_id)
        classification = classifications.get(r.person_id)
        rows.append(
            {
                "person_id": person.pk if inside else None,
                "name": person.name if inside else mask_name(person.name),
                "phone": present("phone", person.phone, visible) if inside else "",
                "region_code": person.region_code,
                "level": r.level,
                "via": (
                    via.name
                    if via and jurisdiction.covers(user, via.region_code)
                    else mask_name(via.name if via else "")
                ),
                "exposure_date": r.exposure_date,
                "measure": services_measure(r.level),
                "isolation_order_id": classification.isolation_order_id
                if classification and inside
                else None,
                "isolation": isolation_link(classification) if inside else {},
                "region": labels.get(person.region_code, ""),
                "task_id": task.pk if task and inside else None,
                "task_status": task.status if task else "",
                "assignee": str(task.assignee) if task and task.assignee else "",
            }
        )
    return rows


def region_named(text: str) -> str:
    """The code of the most specific region of the system whose name the text contains
    ("富强镇红星村" → 红星村's code), or "" when none does: a contact living elsewhere is
    named by place, never by a code typed."""
    text = (text or "").strip()[:100]
    if len(text) < 2:
        return ""
    rows = list(
        Region.objects.annotate(_text=Value(text))
        .filter(_text__contains=F("name"))
        .exclude(name="")
        .values_list("code", "name")[:50]
    )
    rows = [(code, name) for code, name in rows if len(name) >= 2]
    if not rows:
        return ""
    return max(rows, key=lambda r: (len(r[0]), len(r[1])))[0]


def services_measure(level: str) -> str:
    from . import services

    return services._measure(level)


def isolation_link(classification: Classification | None) -> dict[str, Any]:
    """The isolation of a classified contact: the order made (link) or, when none yet, the
    order form prefilled with what the policy requires (start at the last exposure, tests)."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.http import urlencode

    from fangkong.core import isolation

    from . import services

    if classification is None:
        return {}
    request = services.isolation_request(classification)
    placed = isolation.orders_for([request.source]).get(request.source)
    if placed is not None:
        return {"url": placed.url, "room": placed.room, "ordered": True}
    try:
        form = reverse("quarantine:order_create")
    except NoReverseMatch:
        return {}
    query = {
        "person": request.person_id,
        "kind": request.kind,
        "days": request.days,
        "start": timezone.localtime(request.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "tests": ",".join(str(d) for d in request.required_test_days),
        "reason": request.reason,
    }
    return {"url": f"{form}?{urlencode(query)}", "ordered": False}


def unreached(user: Any) -> list[dict[str, Any]]:
    """Open tracing tasks by village (or the reader's own code when finer), with the age of
    the oldest: the list a township secretary reads every morning."""
    require(user, Action.TRACING_VIEW)
    tasks = jurisdiction.scope(TracingTask.objects.filter(status=TaskStatus.OPEN), user)
    groups: dict[str, dict[str, Any]] = {}
    for code, level, count, oldest in tasks.values_list("region_code", "level").annotate(
        n=Count("id"), oldest=Min("created_at")
    ):
        key = code[:12]
        group = groups.setdefault(
            key, {"region_code": key, "close": 0, "secondary": 0, "oldest": oldest}
        )
        group[level] += count
        group["oldest"] = min(group["oldest"], oldest)
    names = dict(Region.objects.filter(code__in=list(groups)).values_list("code", "name"))
    now = timezone.now()
    out = []
    for key in sorted(groups):
        group = groups[key]
        group["region_name"] = names.get(key, key)
        group["oldest_age_hours"] = int((now - group["oldest"]).total_seconds() // 3600)
        out.append(group)
    return sorted(out, key=lambda g: -g["oldest_age_hours"])


def open_tasks(user: Any, *, limit: int = 100) -> list[dict[str, Any]]:
    """Open tracing tasks in the reader's jurisdiction, oldest first."""
    require(user, Action.TRACING_VIEW)
    tasks = list(
        jurisdiction.scope(TracingTask.objects.filter(status=TaskStatus.OPEN), user)
        .select_related("person", "assignee")
        .order_by("created_at")[: min(limit, MAX_PAGE)]
    )
    visible = visible_fields(user)
    return [
        {
            "id": t.pk,
            "person_id": t.person_id,
            "name": t.person.name,
            "phone": present("phone", t.person.phone, visible),
            "region_code": t.region_code,
            "level": t.level,
            "assignee": str(t.assignee) if t.assignee else "",
            "created_at": t.created_at,
        }
        for t in tasks
    ]


# ---- notices ----------------------------------------------------------------------------


def present_notice(user: Any, notice: Notice) -> dict[str, Any]:
    """A notice as ``user`` may see it: the receiver sees the contact, the sender the case."""
    receiver = bool(notice.to_region_code) and jurisdiction.covers(user, notice.to_region_code)
    sender = jurisdiction.covers(user, notice.from_region_code)
    visible = visible_fields(user)
    case = notice.case
    return {
        "id": notice.pk,
        "direction": "in" if receiver else "out",
        "status": notice.status,
        "from_region_code": notice.from_region_code,
        "to_region_code": notice.to_region_code,
        "destination": notice.destination,
        "case_name": case.display_name if sender else mask_name(case.display_name),
        "case_id": case.pk if sender else None,
        "subject_name": notice.subject_name if receiver else mask_name(notice.subject_name),
        "subject_phone": present("phone", notice.subject_phone, visible)
        if receiver
        else present("phone", notice.subject_phone, frozenset()),
        "subject_id_number": present("id_number", notice.subject_id_number, visible)
        if receiver
        else present("id_number", notice.subject_id_number, frozenset()),
        "subject_person_id": notice.subject_person_id if receiver else None,
        "exposure_type": notice.exposure_type,
        "last_exposure_date": notice.last_exposure_date,
        "result": notice.result,
        "sent_at": notice.sent_at,
        "received_at": notice.received_at,
        "accepted_at": notice.accepted_at,
        "result_at": notice.result_at,
    }


def notices(user: Any, *, box: str) -> list[dict[str, Any]]:
    """The inbox (notices to the user's regions) or outbox (from them)."""
    require(user, Action.TRACING_VIEW)
    field = "to_region_code" if box == "in" else "from_region_code"
    queryset = jurisdiction.scope(
        Notice.objects.select_related("case", "case__person"), user, field=field
    )
    if box == "in":
        queryset = queryset.exclude(to_region_code="")
    return [present_notice(user, n) for n in queryset.order_by("-sent_at")[:MAX_PAGE]]


def get_notice(user: Any, notice_id: int) -> Notice:
    require(user, Action.TRACING_VIEW)
    notice = (
        Notice.objects.select_related("case", "case__person")
        .filter(
            Q(pk=notice_id)
            & (
                Q(
                    pk__in=jurisdiction.scope(Notice.objects.all(), user, field="to_region_code")
                    .exclude(to_region_code="")
                    .values("pk")
                )
                | Q(
                    pk__in=jurisdiction.scope(
                        Notice.objects.all(), user, field="from_region_code"
                    ).values("pk")
                )
            )
        )
        .first()
    )
    if notice is None:
        raise NotFound(notice_id)
    return notice


# ---- chains -----------------------------------------------------------------------------


def chain_graph(user: Any, filters: CaseFilters, *, with_contacts: bool = True) -> dict[str, Any]:
    """Nodes and edges of the chains among the visible cases, with generations and clusters,
    and (optionally) each infectious case's classified contacts. Links to a case outside
    the reader's jurisdiction are cut and the case marked as infected from outside."""
    require(user, Action.TRACING_VIEW)
    cases = list(_filtered(user, filters).select_related("person")[:5000])
    ids = {c.pk for c in cases}
    built = chain_rules.build(
        ids, [(c.pk, c.infected_by_id) for c in cases if c.infected_by_id in ids]
    )
    onset = {c.pk: c.onset_date for c in cases}
    nodes = []
    edges = []
    for c in cases:
        nodes.append(
            {
                "id": f"c{c.pk}",
                "case_id": c.pk,
                "kind": "case",
                "label": c.display_name,
                "status": c.status,
                "generation": built.generation.get(c.pk, 1),
                "cluster": built.cluster_of.get(c.pk, c.pk),
                "region_code": c.region_code,
                "onset_date": c.onset_date,
                "external_id": c.external_id,
                "source": c.pk not in built.parent,
                "from_outside": c.infected_by_id is not None and c.infected_by_id not in ids,
            }
        )
    for child, parent in built.parent.items():
        edges.append({"source": f"c{parent}", "target": f"c{child}", "kind": "infection"})
    if with_contacts:
        infectious = {c.person_id: c for c in cases if c.person_id and c.status in INFECTIOUS}
        reached = graph.contacts_of_cases([c.pk for c in infectious.values()])[:5000]
        persons = Person.objects.in_bulk([r.person_id for r in reached])
        case_person = {c.person_id: c.pk for c in cases if c.person_id}
        contact_ids = {r.person_id for r in reached}
        for r in reached:
            person = persons.get(r.person_id)
            if person is None or r.person_id in case_person:
                continue
            inside = jurisdiction.covers(user, person.region_code)
            nodes.append(
                {
                    "id": f"p{r.person_id}",
                    "kind": r.level,
                    "label": person.name if inside else mask_name(person.name),
                    "region_code": person.region_code,
                }
            )
            source = (
                f"c{case_person[r.via_person_id]}"
                if r.via_person_id in case_person
                else f"p{r.via_person_id}"
                if r.via_person_id in contact_ids
                else None
            )
            if source:
                edges.append({"source": source, "target": f"p{r.person_id}", "kind": r.level})
    summaries = chain_rules.summarise(built, onset)
    return {
        "nodes": nodes,
        "edges": edges,
        "clusters": [_summary(s) for s in summaries if s.size > 1],
    }


def _summary(s: chain_rules.ClusterSummary) -> dict[str, Any]:
    return {
        "source_case_id": s.source,
        "size": s.size,
        "generations": s.generations,
        "serial_interval_mean": s.serial_interval_mean,
        "serial_interval_median": s.serial_interval_median,
        "serial_intervals": s.serial_intervals,
    }


def event_attack_rates(user: Any) -> list[dict[str, Any]]:
    """Secondary attack rate per exposure event among its attendees (see chains)."""
    require(user, Action.TRACING_VIEW)
    events = list(
        jurisdiction.scope(ExposureEvent.objects.all(), user).order_by("-starts_on")[:MAX_PAGE]
    )
    attendees: dict[int, list[int]] = defaultdict(list)
    for event_id, person_id in Attendance.objects.filter(event__in=events).values_list(
        "event_id", "person_id"
    ):
        attendees[event_id].append(person_id)
    onset = {}
    for person_id, onset_date, confirmation in Case.objects.filter(
        person_id__in={p for ps in attendees.values() for p in ps},
        status__in=[CaseStatus.CONFIRMED, CaseStatus.ASYMPTOMATIC],
    ).values_list("person_id", "onset_date", "confirmation_date"):
        onset[person_id] = onset_date or confirmation
    out = []
    for event in events:
        secondary, exposed, rate = chain_rules.secondary_attack_rate(
            attendees[event.pk], onset, event.starts_on
        )
        out.append(
            {
                "event_id": event.pk,
                "title": event.title,
                "kind": event.kind,
                "starts_on": event.starts_on,
                "attendees": len(attendees[event.pk]),
                "exposed": exposed,
                "secondary_cases": secondary,
                "attack_rate": rate,
            }
        )
    return out


# ---- teams and workload -----------------------------------------------------------------


def workload(user: Any) -> list[dict[str, Any]]:
    """Open cases per investigator working in the reader's jurisdiction, busiest first."""
    require(user, Action.TRACING_VIEW)
    investigators = jurisdiction.scope(
        User.objects.filter(role=Role.INVESTIGATOR, is_active=True), user, field="regions__code"
    ).distinct()
    rows = investigators.annotate(
        open_cases=Count(
            "tracing_cases",
            filter=Q(tracing_cases__status__in=[CaseStatus.SUSPECTED, *INFECTIOUS]),
            distinct=True,
        ),
    ).order_by("-open_cases", "id")
    return [
        {
            "user_id": u.pk,
            "name": str(u),
            "open_cases": u.open_cases,
            "teams": [t.name for t in u.tracing_teams.all()],
        }
        for u in rows.prefetch_related("tracing_teams")[:MAX_PAGE]
    ]


def teams(user: Any) -> list[InvestigationTeam]:
    require(user, Action.TRACING_VIEW)
    return list(
        jurisdiction.scope(InvestigationTeam.objects.prefetch_related("members"), user)[:MAX_PAGE]
    )
