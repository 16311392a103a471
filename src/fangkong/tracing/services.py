"""Writes and rules of contact tracing.

Every write checks the role (:func:`fangkong.core.roles.can`) first and the jurisdiction
second (records outside it are :class:`NotFound`, like absent ones). Whenever the set of
infectious cases or the contact graph changes, :func:`reclassify` recomputes who is a close
or secondary contact in one set-based pass (:mod:`fangkong.tracing.graph`), so a contact of
a contact can never be forgotten: each newly classified person gets a tracing task for the
grid worker of their grid (or the case's investigator) and the isolation the policy requires.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, isolation, jurisdiction, signals
from fangkong.core.batching import chunks
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.models import AuditEvent, Region, User
from fangkong.core.roles import Action, Role, can
from fangkong.people.models import Person

from . import graph
from .graph import Reached
from .models import (
    INFECTIOUS,
    Attendance,
    Case,
    CaseStatus,
    Certainty,
    Classification,
    ContactLink,
    EventKind,
    ExposureEvent,
    ExposureType,
    FoundVia,
    InvestigationTeam,
    Level,
    Notice,
    NoticeStatus,
    TaskStatus,
    TestingReferral,
    TimelineEntry,
    TracingTask,
)

log = logging.getLogger(__name__)


def lookback_days() -> int:
    """Contacts count from this many days before onset (or, without symptoms, before the
    confirmation or report): the national guidance's look-back, a setting."""
    return int(settings.FANGKONG_TRACING_LOOKBACK_DAYS)


def measure_for(level: str) -> tuple[str, int]:
    """The measure a contact level requires (kind of isolation, days), from settings: rules
    are data, so a deployment overrides them in settings rather than in code."""
    kind, days = settings.FANGKONG_TRACING_MEASURES[level]
    return kind, int(days)


def require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action)


def window_start(case: Case) -> dt.date | None:
    """First day contacts count: onset (else confirmation, else report) minus the look-back."""
    anchor = case.onset_date or case.confirmation_date or case.report_date
    return anchor - dt.timedelta(days=lookback_days()) if anchor else None


def _person_in_scope(user: Any, person_id: int, name: str = "person_id") -> Person:
    person = jurisdiction.scope(Person.objects.all(), user).filter(pk=person_id).first()
    if person is None:
        raise NotFound(name)
    return person


def _case_in_scope(user: Any, case_id: int, *, lock: bool = False) -> Case:
    queryset = jurisdiction.scope(Case.objects.all(), user)
    if lock:
        queryset = queryset.select_for_update()
    case = queryset.filter(pk=case_id).first()
    if case is None:
        raise NotFound(case_id)
    return case


# ---- cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseInput:
    status: str
    person_id: int | None = None
    name: str = ""
    region_code: str = ""
    external_id: str = ""
    onset_date: dt.date | None = None
    report_date: dt.date | None = None
    confirmation_date: dt.date | None = None
    found_via: str = FoundVia.OTHER
    hospital: str = ""
    infected_by_id: int | None = None
    exposure_type: str = ""
    investigator_id: int | None = None
    team_id: int | None = None
    investigation_summary: str = ""


def _check_dates(data: Any) -> list[FieldError]:
    errors = []
    today = timezone.localdate()
    for name in ("onset_date", "report_date", "confirmation_date"):
        value = getattr(data, name)
        if value is not None and not dt.date(2019, 1, 1) <= value <= today:
            errors.append(FieldError(name, _("The date must lie between 2019 and today")))
    if data.onset_date and data.confirmation_date and data.confirmation_date < data.onset_date:
        errors.append(
            FieldError("confirmation_date", _("Confirmation cannot come before the onset"))
        )
    return errors


def _creates_cycle(case_id: int | None, parent: Case) -> bool:
    """True when ``parent`` descends (through infected_by) from ``case_id``."""
    seen: set[int] = set()
    node: Case | None = parent
    while node is not None and node.pk not in seen:
        if node.pk == case_id:
            return True
        seen.add(node.pk)
        node = node.infected_by
    return False


def least_busy_investigator(region_code: str) -> User | None:
    """The on-call investigator with the fewest open cases whose jurisdiction covers the region.

    New cases go to members of on-call teams first (regular teams before the reserve pool);
    ties go to the longest-idle by id, so assignment is deterministic.
    """
    candidates = (
        User.objects.filter(role=Role.INVESTIGATOR, is_active=True)
        .filter(Q(tracing_teams__on_call=True) | Q(tracing_teams__isnull=True))
        .annotate(
            open_cases=Count(
                "tracing_cases",
                filter=Q(tracing_cases__status__in=[CaseStatus.SUSPECTED, *INFECTIOUS]),
                distinct=True,
            )
        )
        .order_by("open_cases", "id")
        .prefetch_related("regions", "tracing_teams")
    )
    ranked = []
    for user in candidates:
        if not any(region_code.startswith(code) for code in user.region_codes):
            continue
        teams = list(user.tracing_teams.all())
        reserve_only = bool(teams) and all(t.is_reserve for t in teams)
        ranked.append((reserve_only, user.open_cases, user.pk, user))
    return min(ranked, key=lambda r: r[:3])[3] if ranked else None


@transaction.atomic
def record_case(*, user: Any, data: CaseInput, channel: str = "web") -> Case:
    """Record a case (病例) and, if infectious, classify its contacts at once.

    A case is about a person of the registry inside the user's jurisdiction, or — when the
    person is not registered — a name and a region code inside it. Without an investigator
    named, the case goes to the least busy on-call investigator covering its region.
    """
    require(user, Action.TRACING_INVESTIGATE)
    errors = _check_dates(data)
    if data.status not in CaseStatus.values:
        errors.append(FieldError("status", _("Unknown case status")))
    if data.found_via not in FoundVia.values:
        errors.append(FieldError("found_via", _("Unknown way of finding the case")))
    person = None
    region_code = data.region_code
    if data.person_id is not None:
        person = _person_in_scope(user, data.person_id)
        region_code = person.region_code
    elif not data.name.strip():
        errors.append(FieldError("name", _("Name the person or choose them from the registry")))
    if not region_code or not jurisdiction.covers(user, region_code):
        errors.append(FieldError("region_code", _("The region must lie in your jurisdiction")))
    elif not Region.objects.filter(code=region_code).exists():
        errors.append(FieldError("region_code", _("Unknown region code")))
    parent = None
    if data.infected_by_id is not None:
        parent = jurisdiction.scope(Case.objects.all(), user).filter(pk=data.infected_by_id).first()
        if parent is None:
            errors.append(FieldError("infected_by_id", _("Not a case you can see")))
    investigator = None
    if data.investigator_id is not None:
        investigator = User.objects.filter(
            pk=data.investigator_id, role=Role.INVESTIGATOR, is_active=True
        ).first()
        if investigator is None or not any(
            region_code.startswith(c) for c in investigator.region_codes
        ):
            errors.append(FieldError("investigator_id", _("Not an investigator of this region")))
    team = None
    if data.team_id is not None:
        team = (
            jurisdiction.scope(InvestigationTeam.objects.all(), user)
            .filter(pk=data.team_id)
            .first()
        )
        if team is None:
            errors.append(FieldError("team_id", _("Not a team you can see")))
    if errors:
        raise ValidationFailed(errors)
    case = Case(
        person=person,
        name=person.name if person else data.name.strip(),
        region_code=region_code,
        external_id=data.external_id.strip(),
        status=data.status,
        onset_date=data.onset_date,
        report_date=data.report_date or timezone.localdate(),
        confirmation_date=data.confirmation_date,
        found_via=data.found_via,
        hospital=data.hospital.strip(),
        infected_by=parent,
        exposure_type=data.exposure_type.strip(),
        investigator=investigator or least_busy_investigator(region_code),
        team=team,
        investigation_summary=data.investigation_summary,
        created_by=user,
    )
    case.window_start = window_start(case)
    case.save()
    audit.record(
        user=user,
        kind=AuditEvent.Kind.CREATE,
        object_type="case",
        object_id=case.pk,
        channel=channel,
    )
    if case.status in INFECTIOUS and case.person_id is not None:
        classify_around(person_ids={case.person_id}, by_user=user, channel=channel)
    return case


# ---- suspected cases handed over by the testing module ---------------------------------


OPEN_STATUSES = (CaseStatus.SUSPECTED, *INFECTIOUS)


def receive_suspected_cases(
    sender: Any, cases: list[signals.SuspectedCaseFound], by_user: Any = None, **kwargs: Any
) -> list[signals.SuspectedCaseTaken]:
    """Receiver of :data:`fangkong.core.signals.suspected_case_found` (connected in
    ``TracingConfig.ready``): open or link a case for each, and answer where it is."""
    return [take_suspected_case(found=found, by_user=by_user) for found in cases]


def take_suspected_case(
    *, found: signals.SuspectedCaseFound, by_user: Any = None
) -> signals.SuspectedCaseTaken:
    """Open the case (疑似病例) of a suspected case from a positive single tube, or link the
    person's open case to it, recording where it came from (round, tube, result time).

    No role is checked: the laboratory's result is the authority, and the case must reach an
    investigator whoever imported the file. It goes to the least busy on-call investigator
    covering the person's region, like any case recorded without one. Keyed on the testing
    module's reference, unique in :class:`TestingReferral`: the same suspected case never
    opens two records, whether it is announced twice or by two imports at once.
    """
    try:
        with transaction.atomic():
            referral = _refer(found, by_user)
    except IntegrityError:
        # A concurrent announcement of the same suspected case won; ours was rolled back.
        referral = TestingReferral.objects.get(source_ref=found.ref)
    return signals.SuspectedCaseTaken(
        suspected_case_id=found.suspected_case_id,
        ref=f"tracing.case:{referral.case_id}",
        url=reverse("tracing:case_detail", args=[referral.case_id]),
    )


def _refer(found: signals.SuspectedCaseFound, by_user: Any) -> TestingReferral:
    existing = TestingReferral.objects.filter(source_ref=found.ref).first()
    if existing is not None:
        return existing
    user = by_user if getattr(by_user, "is_authenticated", False) else None
    person = Person.objects.filter(pk=found.person_id).first()
    region_code = person.region_code if person is not None else found.region_code
    case = (
        Case.objects.filter(person_id=found.person_id, status__in=OPEN_STATUSES)
        .order_by("-id")
        .first()
    )
    if case is None:
        case = Case(
            person=person,
            name=person.name if person is not None else "",
            region_code=region_code,
            status=CaseStatus.SUSPECTED,
            report_date=timezone.localdate(found.resulted_at),
            found_via=FoundVia.TESTING_ROUND,
            investigator=least_busy_investigator(region_code),
            created_by=user,
        )
        case.window_start = window_start(case)
        case.save()
        kind = AuditEvent.Kind.CREATE
    else:
        kind = AuditEvent.Kind.UPDATE
    referral = TestingReferral.objects.create(
        case=case,
        source_ref=found.ref[:100],
        region_code=region_code,
        campaign_name=found.campaign_name[:100],
        tube_barcode=found.tube_barcode[:32],
        sampled_at=found.sampled_at,
        resulted_at=found.resulted_at,
    )
    audit.record(
        user=user,
        kind=kind,
        object_type="case",
        object_id=case.pk,
        fields=["referrals"],
        channel="task",
        detail=f"{found.ref}: {found.campaign_name[:100]} {found.tube_barcode}",
    )
    return referral


@transaction.atomic
def change_case_status(
    *,
    user: Any,
    case_id: int,
    version: int,
    status: str,
    confirmation_date: dt.date | None = None,
    channel: str = "web",
) -> Case:
    """Confirm, exclude or otherwise re-state a case, then reclassify the whole graph.

    Excluding a case withdraws every classification that rested on it alone (their open
    tasks are cancelled); confirming one classifies its contacts and theirs.
    """
    require(user, Action.TRACING_INVESTIGATE)
    case = _case_in_scope(user, case_id, lock=True)
    if case.version != version:
        raise VersionConflict(case.version)
    if status not in CaseStatus.values:
        raise ValidationFailed([FieldError("status", _("Unknown case status"))])
    if status in INFECTIOUS and case.confirmation_date is None:
        case.confirmation_date = confirmation_date or timezone.localdate()
    errors = _check_dates(case)
    if errors:
        raise ValidationFailed(errors)
    was_infectious, was_window = case.status in INFECTIOUS, case.window_start
    case.status = status
    case.window_start = window_start(case)
    case.version += 1
    case.updated_at = timezone.now()
    case.save()
    audit.record(
        user=user,
        kind=AuditEvent.Kind.UPDATE,
        object_type="case",
        object_id=case.pk,
        fields=["status"],
        channel=channel,
        detail=status,
    )
    if case.person_id is None:
        return case
    if status in INFECTIOUS and not was_infectious:
        # Only adds contacts: the neighbourhood is enough (see classify_around).
        classify_around(person_ids={case.person_id}, by_user=user, channel=channel)
    elif was_infectious and (status not in INFECTIOUS or case.window_start != was_window):
        # May take classifications away: recompute everyone it can affect.
        reclassify_around(person_ids={case.person_id}, by_user=user, channel=channel)
    return case


@transaction.atomic
def add_timeline_entry(
    *,
    user: Any,
    case_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
    place: str,
    activity: str = "",
    people: str = "",
) -> TimelineEntry:
    """Add one stop of the case's trajectory to the investigation record."""
    require(user, Action.TRACING_INVESTIGATE)
    case = _case_in_scope(user, case_id)
    if ends_at is not None and ends_at < starts_at:
        raise ValidationFailed([FieldError("ends_at", _("The end must not precede the start"))])
    if not place.strip():
        raise ValidationFailed([FieldError("place", _("Say where"))])
    return TimelineEntry.objects.create(
        case=case,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        activity=activity.strip(),
        people=people.strip(),
    )


# ---- exposure events --------------------------------------------------------------------


@dataclass(frozen=True)
class EventInput:
    kind: str
    title: str
    place: str
    region_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    organiser_id: int | None = None
    organiser_name: str = ""
    reported: bool = False
    attendees: tuple[tuple[int, str], ...] = ()  # (person id, certainty)


@transaction.atomic
def record_event(*, user: Any, data: EventInput, channel: str = "web") -> ExposureEvent:
    """Record an exposure event or a reported gathering, with who was there.

    The same record serves both: a wedding reported by the village and a dinner found by
    the investigation; if an infectious case was there, the others become contacts.
    """
    require(user, Action.TRACING_INVESTIGATE)
    errors = []
    if data.kind not in EventKind.values:
        errors.append(FieldError("kind", _("Unknown kind of event")))
    if data.ends_at < data.starts_at:
        errors.append(FieldError("ends_at", _("The end must not precede the start")))
    if not jurisdiction.covers(user, data.region_code):
        errors.append(FieldError("region_code", _("The region must lie in your jurisdiction")))
    organiser = None
    if data.organiser_id is not None:
        organiser = (
            jurisdiction.scope(Person.objects.all(), user).filter(pk=data.organiser_id).first()
        )
        if organiser is None:
            errors.append(FieldError("organiser_id", _("Not a person you can see")))
    if errors:
        raise ValidationFailed(errors)
    event = ExposureEvent.objects.create(
        kind=data.kind,
        title=data.title.strip(),
        place=data.place.strip(),
        region_code=data.region_code,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        starts_on=timezone.localtime(data.starts_at).date(),
        organiser=organiser,
        organiser_name=organiser.name if organiser else data.organiser_name.strip(),
        reported=data.reported,
        created_by=user,
    )
    audit.record(
        user=user,
        kind=AuditEvent.Kind.CREATE,
        object_type="exposure_event",
        object_id=event.pk,
        channel=channel,
    )
    if data.attendees:
        add_attendees(user=user, event_id=event.pk, attendees=data.attendees, channel=channel)
    return event


def _event_in_scope(user: Any, event_id: int) -> ExposureEvent:
    event = jurisdiction.scope(ExposureEvent.objects.all(), user).filter(pk=event_id).first()
    if event is None:
        raise NotFound(event_id)
    return event


@transaction.atomic
def add_attendees(
    *, user: Any, event_id: int, attendees: tuple[tuple[int, str], ...], channel: str = "web"
) -> int:
    """Add persons present at an event (confirmed or probable) and reclassify.

    Probable attendees are contacts too: missing one is the failure this module exists to
    prevent; the certainty tells the grid worker how to phrase the call.
    """
    require(user, Action.TRACING_INVESTIGATE)
    event = _event_in_scope(user, event_id)
    ids = [pid for pid, _c in attendees]
    visible = set(
        jurisdiction.scope(Person.objects.filter(pk__in=ids), user).values_list("pk", flat=True)
    )
    errors = [
        FieldError(f"attendees.{i}", _("Not a person you can see"))
        for i, (pid, _c) in enumerate(attendees)
        if pid not in visible
    ] + [
        FieldError(f"attendees.{i}.certainty", _("Certainty is confirmed or probable"))
        for i, (_p, certainty) in enumerate(attendees)
        if certainty not in Certainty.values
    ]
    if errors:
        raise ValidationFailed(errors)
    existing = set(
        Attendance.objects.filter(event=event, person_id__in=ids).values_list(
            "person_id", flat=True
        )
    )
    new = [
        Attendance(event=event, person_id=pid, certainty=certainty)
        for pid, certainty in dict(attendees).items()
        if pid not in existing
    ]
    Attendance.objects.bulk_create(new)
    if new:
        present = set(Attendance.objects.filter(event=event).values_list("person_id", flat=True))
        classify_around(person_ids=present, by_user=user, channel=channel)
    return len(new)


# ---- contacts and notices ---------------------------------------------------------------


@dataclass(frozen=True)
class ElsewhereContact:
    """A contact who is not a person the investigator can see: they live elsewhere."""

    name: str
    phone: str = ""
    id_number: str = ""
    region_code: str = ""  # a region of the system, or empty when outside it
    destination: str = ""  # free text when outside the system


@dataclass
class ContactOutcome:
    link: ContactLink | None = None
    notice: Notice | None = None


@transaction.atomic
def record_contact(
    *,
    user: Any,
    case_id: int,
    exposure_type: str,
    contact_person_id: int | None = None,
    from_person_id: int | None = None,
    elsewhere: ElsewhereContact | None = None,
    last_exposure_date: dt.date | None = None,
    event_id: int | None = None,
    channel: str = "web",
) -> ContactOutcome:
    """Record a contact found while investigating ``case_id``.

    ``from_person_id`` names whom the contact met when it was not the case itself (a close
    contact's own contact, found during the same investigation). A contact inside the
    user's jurisdiction becomes a link at once; one living elsewhere becomes a notice
    (协查函) to that region — inside the system it lands in the region's inbox and the link
    is made when they accept it; outside it, the result is recorded by hand.
    """
    require(user, Action.TRACING_INVESTIGATE)
    case = _case_in_scope(user, case_id)
    errors = []
    if exposure_type not in ExposureType.values:
        errors.append(FieldError("exposure_type", _("Unknown exposure type")))
    if last_exposure_date and last_exposure_date > timezone.localdate():
        errors.append(FieldError("last_exposure_date", _("The date cannot be in the future")))
    if (contact_person_id is None) == (elsewhere is None):
        errors.append(
            FieldError(
                "contact_person_id", _("Choose the person, or describe one living elsewhere")
            )
        )
    event = _event_in_scope(user, event_id) if event_id is not None else None
    if errors:
        raise ValidationFailed(errors)
    source = (
        _person_in_scope(user, from_person_id, "from_person_id")
        if from_person_id is not None
        else case.person
    )
    if source is None:
        raise ValidationFailed(
            [FieldError("case_id", _("Link the case to a registered person first"))]
        )
    if elsewhere is not None:
        return ContactOutcome(
            notice=_send_notice(
                user=user,
                case=case,
                contact=elsewhere,
                exposure_type=exposure_type,
                last_exposure_date=last_exposure_date,
                channel=channel,
            )
        )
    contact = _person_in_scope(user, contact_person_id, "contact_person_id")
    if contact.pk == source.pk:
        raise ValidationFailed(
            [FieldError("contact_person_id", _("A person is not their own contact"))]
        )
    link = ContactLink.objects.create(
        source=source,
        contact=contact,
        event=event,
        exposure_type=exposure_type,
        last_exposure_date=last_exposure_date,
        region_code=contact.region_code,
        investigator=user if getattr(user, "is_authenticated", False) else None,
    )
    classify_around(person_ids={source.pk, contact.pk}, by_user=user, channel=channel)
    return ContactOutcome(link=link)


def _send_notice(
    *,
    user: Any,
    case: Case,
    contact: ElsewhereContact,
    exposure_type: str,
    last_exposure_date: dt.date | None,
    channel: str,
) -> Notice:
    errors = []
    if not contact.name.strip():
        errors.append(FieldError("elsewhere.name", _("Give the contact's name")))
    if contact.region_code:
        if not Region.objects.filter(code=contact.region_code).exists():
            errors.append(FieldError("elsewhere.region_code", _("Unknown region code")))
        elif jurisdiction.covers(user, contact.region_code):
            errors.append(
                FieldError(
                    "elsewhere.region_code",
                    _("This region is yours: register the person and choose them instead"),
                )
            )
    elif not contact.destination.strip():
        errors.append(FieldError("elsewhere.destination", _("Say where the contact lives")))
    if errors:
        raise ValidationFailed(errors)
    notice = Notice.objects.create(
        case=case,
        from_region_code=case.region_code,
        to_region_code=contact.region_code,
        destination=contact.destination.strip(),
        subject_name=contact.name.strip(),
        subject_phone=contact.phone.strip(),
        subject_id_number=contact.id_number.strip(),
        exposure_type=exposure_type,
        last_exposure_date=last_exposure_date,
        sent_by=user,
    )
    audit.record(
        user=user,
        kind=AuditEvent.Kind.CREATE,
        object_type="tracing_notice",
        object_id=notice.pk,
        channel=channel,
    )
    return notice


def _incoming(user: Any, notice_id: int) -> Notice:
    notice = (
        jurisdiction.scope(Notice.objects.select_for_update(), user, field="to_region_code")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        raise NotFound(notice_id)
    return notice


@transaction.atomic
def mark_notice_received(*, user: Any, notice_id: int) -> Notice:
    """The receiving region has opened the notice; the sender sees 'received'."""
    require(user, Action.TRACING_NOTICES)
    notice = _incoming(user, notice_id)
    if notice.status == NoticeStatus.SENT:
        notice.status = NoticeStatus.RECEIVED
        notice.received_at = timezone.now()
        notice.save(update_fields=["status", "received_at"])
    return notice


@transaction.atomic
def accept_notice(*, user: Any, notice_id: int, person_id: int, channel: str = "web") -> Notice:
    """The receiving region names the person in its registry; the contact link is made.

    From then on the person is classified like any other contact, in the receiver's
    jurisdiction, with a tracing task for the receiver's grid worker.
    """
    require(user, Action.TRACING_NOTICES)
    notice = _incoming(user, notice_id)
    if notice.status in (NoticeStatus.ACCEPTED, NoticeStatus.RESULT):
        raise ValidationFailed([FieldError("status", _("The notice was already accepted"))])
    person = _person_in_scope(user, person_id)
    source = notice.case.person
    if source is not None:
        ContactLink.objects.create(
            source=source,
            contact=person,
            exposure_type=notice.exposure_type,
            last_exposure_date=notice.last_exposure_date,
            region_code=person.region_code,
            investigator=notice.sent_by,
        )
    notice.subject_person = person
    notice.status = NoticeStatus.ACCEPTED
    notice.received_at = notice.received_at or timezone.now()
    notice.accepted_at = timezone.now()
    notice.save()
    if source is not None:
        classify_around(person_ids={source.pk, person.pk}, by_user=user, channel=channel)
    return notice


@transaction.atomic
def record_notice_result(*, user: Any, notice_id: int, result: str) -> Notice:
    """Record the outcome of a notice, which flows back to the sender.

    Inside the system the receiving region writes it; for a region outside the system the
    sender records what the other side answered (by phone or letter).
    """
    require(user, Action.TRACING_NOTICES)
    if not result.strip():
        raise ValidationFailed([FieldError("result", _("Describe the result"))])
    notice = (
        jurisdiction.scope(Notice.objects.select_for_update(), user, field="to_region_code")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        notice = (
            jurisdiction.scope(Notice.objects.select_for_update(), user, field="from_region_code")
            .filter(pk=notice_id, to_region_code="")
            .first()
        )
    if notice is None:
        raise NotFound(notice_id)
    notice.result = result.strip()
    notice.status = NoticeStatus.RESULT
    notice.result_at = timezone.now()
    notice.received_at = notice.received_at or notice.result_at
    notice.save()
    return notice


# ---- classification ---------------------------------------------------------------------


@dataclass
class ReclassifyOutcome:
    new: list[int] = field(default_factory=list)
    upgraded: list[int] = field(default_factory=list)
    downgraded: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)


def _grid_workers() -> list[tuple[str, int]]:
    """(region code, user id) of every active grid worker, longest codes first."""
    rows = User.objects.filter(role=Role.GRID_WORKER, is_active=True).values_list(
        "regions__code", "pk"
    )
    return sorted(((c, u) for c, u in rows if c), key=lambda r: (-len(r[0]), r[1]))


def _assignee(region_code: str, workers: list[tuple[str, int]], fallback: int | None):
    for code, user_id in workers:
        if region_code.startswith(code):
            return user_id
    return fallback


def required_test_days(level: str) -> tuple[int, ...]:
    """The days of isolation (day 1 = the first) on which the policy requires a nucleic-acid
    test before a contact of this level is released; a setting, like the measure."""
    days = getattr(settings, "FANGKONG_TRACING_TEST_DAYS", DEFAULT_TEST_DAYS).get(level, ())
    return tuple(int(d) for d in days)


# Close contacts: 14 days with 3 tests (REQUIREMENTS §4, 「14天集中隔离、3次核酸检测」);
# contacts of contacts: 7 days at home, tested on the first and the last day.
DEFAULT_TEST_DAYS = {"close": (1, 7, 14), "secondary": (1, 7)}


def isolation_start(exposure_date: dt.date | None) -> dt.datetime:
    """Isolation counts from the last exposure (its local midnight), not from the moment the
    contact is found; without a known exposure, from now."""
    if exposure_date is None:
        return timezone.now().replace(second=0, microsecond=0)
    start = timezone.make_aware(dt.datetime.combine(exposure_date, dt.time.min))
    return min(start, timezone.now())


def isolation_request(classification: Classification) -> isolation.IsolationRequest:
    """What the policy requires for a classified contact, as a request to the isolation
    module: kind and days of the level, start at the last exposure, the required tests."""
    kind, days = measure_for(classification.level)
    reason = _("Contact tracing: %(level)s") % {"level": Level(classification.level).label}
    if classification.exposure_date:
        reason += _(", last exposure %(day)s") % {"day": classification.exposure_date}
    return isolation.IsolationRequest(
        person_id=classification.person_id,
        kind=kind,
        starts_at=isolation_start(classification.exposure_date),
        days=days,
        source=f"tracing.classification:{classification.pk}",
        reason=str(reason),
        required_test_days=required_test_days(classification.level),
    )


def _hand_over_isolation(user: Any, classification: Classification, channel: str) -> None:
    """Order, through :mod:`fangkong.core.isolation`, the isolation the policy requires when
    an isolation module is installed and the user may order isolation; otherwise the
    required measure stays on record for the cadres who may (it is shown on the contact
    list)."""
    if not isolation.available() or not can(user, "quarantine.manage"):
        return
    try:
        with transaction.atomic():
            placed = isolation.order(
                isolation_request(classification), by_user=user, channel=channel
            )
    except (ValidationFailed, NotFound, PermissionDenied) as exc:
        log.info("isolation not ordered for person %s: %s", classification.person_id, exc)
        return
    classification.isolation_order_id = placed.order_id
    classification.save(update_fields=["isolation_order_id"])


MEASURE_NAMES = {"centralised": "集中隔离", "home": "居家隔离", "monitoring": "健康监测"}


def _measure(level: str) -> str:
    """The measure in words, in Chinese whatever the language of the request or the worker:
    "集中隔离14天，第1、7、14天核酸"."""
    kind, days = measure_for(level)
    text = f"{MEASURE_NAMES.get(kind, kind)}{days}天"
    tests = required_test_days(level)
    if tests:
        text += "，第" + "、".join(str(d) for d in tests) + "天核酸"
    return text


@transaction.atomic
def reclassify(*, by_user: Any = None, channel: str = "task") -> ReclassifyOutcome:
    """Recompute every close and secondary contact from the graph and apply the difference.

    New and upgraded (secondary → close) persons get a tracing task and their measure;
    downgraded ones keep their open task with the new level; persons no longer reached by
    any infectious case end their classification and their open tasks are cancelled.
    Used when something can take a classification away (a case excluded, a window moved).
    """
    computed = {r.person_id: r for r in graph.contacts_of_all()}
    current = {
        c.person_id: c
        for c in Classification.objects.filter(ended_at__isnull=True).only(
            "id", "person_id", "level"
        )
    }
    ended = [pid for pid in current if pid not in computed]
    return _apply(computed, current, ended, by_user=by_user, channel=channel)


def _neighbours(person_ids: set[int]) -> set[int]:
    """Persons linked to any of ``person_ids``, directly or by attending the same event."""
    found: set[int] = set()
    for chunk in chunks(sorted(person_ids)):
        found.update(
            ContactLink.objects.filter(source_id__in=chunk).values_list("contact_id", flat=True)
        )
        found.update(
            ContactLink.objects.filter(contact_id__in=chunk).values_list("source_id", flat=True)
        )
        events = Attendance.objects.filter(person_id__in=chunk).values("event_id")
        found.update(
            Attendance.objects.filter(event_id__in=events).values_list("person_id", flat=True)
        )
    return found


def _infectious_cases(person_ids: set[int]) -> tuple[set[int], set[int]]:
    """(case ids, person ids) of the infectious cases among ``person_ids``."""
    cases: set[int] = set()
    persons: set[int] = set()
    for chunk in chunks(sorted(person_ids)):
        for pk, person_id in Case.objects.filter(
            person_id__in=chunk, status__in=INFECTIOUS
        ).values_list("pk", "person_id"):
            cases.add(pk)
            persons.add(person_id)
    return cases, persons


def _active(person_ids: set[int]) -> dict[int, Classification]:
    found: dict[int, Classification] = {}
    for chunk in chunks(sorted(person_ids)):
        for c in Classification.objects.filter(ended_at__isnull=True, person_id__in=chunk).only(
            "id", "person_id", "level"
        ):
            found[c.person_id] = c
    return found


@transaction.atomic
def reclassify_around(
    *, person_ids: set[int], by_user: Any = None, channel: str = "task"
) -> ReclassifyOutcome:
    """Recompute, exactly, everyone whose classification may change when a case of
    ``person_ids`` stops being infectious (excluded) or its window moves.

    Only persons within two hops of the case can change; each of them depends only on the
    seeds within two hops of them — so on the seeds within four hops of the case. Those
    seeds' contacts, restricted to the two-hop candidates, replace the candidates' stored
    classification (up, down or ended). The cost follows the neighbourhood, not the graph.
    """
    ring = set(person_ids)
    candidates = set(ring)
    for _hop in range(2):
        ring = _neighbours(ring) - candidates
        candidates |= ring
    reach = set(candidates)
    for _hop in range(2):
        ring = _neighbours(ring) - reach
        reach |= ring
    seed_cases, _seed_persons = _infectious_cases(reach)
    computed = {
        r.person_id: r for r in graph.contacts_of_cases(seed_cases) if r.person_id in candidates
    }
    current = _active(candidates)
    ended = [pid for pid in current if pid not in computed]
    return _apply(computed, current, ended, by_user=by_user, channel=channel)


@transaction.atomic
def classify_around(
    *, person_ids: set[int], by_user: Any = None, channel: str = "task"
) -> ReclassifyOutcome:
    """Apply what a new case, link or attendance around ``person_ids`` adds to the graph.

    Adding a seed or an edge can only add or upgrade classifications, never remove one, and
    every new two-hop path through the change starts at a seed within one hop of it. So the
    contacts of those seeds, merged upwards into the stored classification, give exactly
    what a full :func:`reclassify` would — at the cost of the neighbourhood, not the graph.
    A person who has just become an infectious case stops being anyone's contact.
    """
    near = set(person_ids) | _neighbours(set(person_ids))
    seed_cases, seed_persons = _infectious_cases(near)
    computed = {r.person_id: r for r in graph.contacts_of_cases(seed_cases)}
    current = _active(set(computed) | seed_persons)
    for pid, existing in current.items():
        reached = computed.get(pid)
        if reached is not None and existing.level == Level.CLOSE:
            computed[pid] = Reached(pid, Level.CLOSE, reached.via_person_id, reached.exposure_date)
    ended = [pid for pid in current if pid in seed_persons]
    return _apply(computed, current, ended, by_user=by_user, channel=channel)


def _apply(
    computed: dict[int, Reached],
    current: dict[int, Classification],
    ended: list[int],
    *,
    by_user: Any,
    channel: str,
) -> ReclassifyOutcome:
    outcome = ReclassifyOutcome()
    now = timezone.now()
    for pid in ended:
        computed.pop(pid, None)
    if ended:
        Classification.objects.filter(person_id__in=ended, ended_at__isnull=True).update(
            ended_at=now
        )
        TracingTask.objects.filter(person_id__in=ended, status=TaskStatus.OPEN).update(
            status=TaskStatus.CANCELLED, note=_("No longer a contact of an infectious case")
        )
        outcome.ended = ended
    fresh: list[Classification] = []
    regions = dict(
        Person.objects.filter(
            pk__in=[
                p
                for p, r in computed.items()
                if current.get(p) is None or current[p].level != r.level
            ]
        ).values_list("pk", "region_code")
    )
    for pid, reached in computed.items():
        existing = current.get(pid)
        if existing is not None and existing.level == reached.level:
            continue
        if existing is not None:
            target = outcome.upgraded if reached.level == Level.CLOSE else outcome.downgraded
            target.append(pid)
            Classification.objects.filter(pk=existing.pk).update(
                level=reached.level,
                via_person_id=reached.via_person_id,
                exposure_date=reached.exposure_date,
                measure=_measure(reached.level),
            )
            if reached.level == Level.SECONDARY:
                # An upgrade gets a new task below; a downgrade keeps the one it has.
                TracingTask.objects.filter(person_id=pid, status=TaskStatus.OPEN).update(
                    level=reached.level
                )
            continue
        outcome.new.append(pid)
        fresh.append(
            Classification(
                person_id=pid,
                region_code=regions[pid],
                level=reached.level,
                via_person_id=reached.via_person_id,
                exposure_date=reached.exposure_date,
                measure=_measure(reached.level),
                classified_at=now,
            )
        )
    if fresh:
        # A person classified before, ended, and classified again reuses their row.
        Classification.objects.filter(
            person_id__in=[c.person_id for c in fresh], ended_at__isnull=False
        ).delete()
        Classification.objects.bulk_create(fresh)
    tasked = outcome.new + outcome.upgraded
    if tasked:
        _create_tasks(tasked, computed, regions, now)
        if by_user is not None:
            for classification in Classification.objects.filter(person_id__in=tasked):
                _hand_over_isolation(by_user, classification, channel)
    return outcome


def _create_tasks(person_ids: list[int], computed: dict, regions: dict, now) -> None:
    workers = _grid_workers()
    investigators = dict(
        Case.objects.filter(person_id__in={computed[p].via_person_id for p in person_ids})
        .exclude(investigator=None)
        .values_list("person_id", "investigator_id")
    )
    TracingTask.objects.filter(person_id__in=person_ids, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED, note=_("Replaced by a task for a closer contact")
    )
    TracingTask.objects.bulk_create(
        TracingTask(
            person_id=pid,
            region_code=regions[pid],
            level=computed[pid].level,
            assignee_id=_assignee(
                regions[pid], workers, investigators.get(computed[pid].via_person_id)
            ),
            created_at=now,
        )
        for pid in person_ids
    )


@transaction.atomic
def mark_reached(*, user: Any, task_id: int, note: str = "") -> TracingTask:
    """The contact was reached and told their measure; the task closes."""
    require(user, Action.TRACING_REACH)
    task = (
        jurisdiction.scope(TracingTask.objects.select_for_update(), user).filter(pk=task_id).first()
    )
    if task is None:
        raise NotFound(task_id)
    if task.status != TaskStatus.OPEN:
        raise ValidationFailed([FieldError("status", _("The task is not open"))])
    task.status = TaskStatus.REACHED
    task.reached_at = timezone.now()
    task.reached_by = user
    task.note = note.strip()
    task.save()
    return task


@transaction.atomic
def order_required_isolation(*, user: Any, channel: str = "web", case_id: int | None = None) -> int:
    """Order, for every current contact in the user's jurisdiction that has none yet, the
    isolation their classification requires; returns how many orders were made.

    Investigators classify but may not order isolation; the cadre who may (township or
    village) runs this from the contact list, so the hand-over is one click, not a retyping.
    """
    require(user, Action.TRACING_VIEW)
    if not can(user, "quarantine.manage"):
        raise PermissionDenied("quarantine.manage")
    pending = jurisdiction.scope(
        Classification.objects.filter(ended_at__isnull=True, isolation_order_id__isnull=True),
        user,
    )
    if case_id is not None:
        case = _case_in_scope(user, case_id)
        reached = graph.contacts_of_cases([case.pk]) if case.status in INFECTIOUS else []
        pending = pending.filter(person_id__in=[r.person_id for r in reached])
    made = 0
    for classification in pending:
        _hand_over_isolation(user, classification, channel)
        made += classification.isolation_order_id is not None
    return made


# ---- teams ------------------------------------------------------------------------------


@transaction.atomic
def create_team(
    *,
    user: Any,
    name: str,
    region_code: str,
    is_reserve: bool = False,
    on_call: bool = True,
    skills: str = "",
    member_ids: tuple[int, ...] = (),
) -> InvestigationTeam:
    """Form an investigation team or a reserve-pool team of investigators of the region."""
    require(user, Action.TRACING_MANAGE)
    errors = []
    if not name.strip():
        errors.append(FieldError("name", _("Give the team a name")))
    if (
        not jurisdiction.covers(user, region_code)
        or not Region.objects.filter(code=region_code).exists()
    ):
        errors.append(FieldError("region_code", _("The region must lie in your jurisdiction")))
    members = list(
        jurisdiction.scope(
            User.objects.filter(pk__in=member_ids, role=Role.INVESTIGATOR, is_active=True),
            user,
            field="regions__code",
        ).distinct()
    )
    if len(members) != len(set(member_ids)):
        errors.append(FieldError("member_ids", _("Members must be investigators of your area")))
    if errors:
        raise ValidationFailed(errors)
    team = InvestigationTeam.objects.create(
        name=name.strip(),
        region_id=region_code,
        is_reserve=is_reserve,
        on_call=on_call,
        skills=skills.strip(),
    )
    team.members.set(members)
    return team


@transaction.atomic
def assign_case(*, user: Any, case_id: int, investigator_id: int) -> Case:
    """Give a case to an investigator whose jurisdiction covers it."""
    require(user, Action.TRACING_MANAGE)
    case = _case_in_scope(user, case_id, lock=True)
    investigator = User.objects.filter(
        pk=investigator_id, role=Role.INVESTIGATOR, is_active=True
    ).first()
    if investigator is None or not any(
        case.region_code.startswith(c) for c in investigator.region_codes
    ):
        raise ValidationFailed(
            [FieldError("investigator_id", _("Not an investigator of this region"))]
        )
    case.investigator = investigator
    case.version += 1
    case.updated_at = timezone.now()
    case.save(update_fields=["investigator", "version", "updated_at"])
    return case
