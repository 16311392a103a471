"""The rules of isolation: ordering, checks, alerts and escalation, rooms, release.

- An order needs a rule (a policy version or a manual reason) and a period; one active order
  per person; household members isolated together each get their own order.
- A reading outside 34.0–43.0 °C is refused; ≥ 37.3 °C, any listed symptom, or "not at home"
  raises an alert. A check window that closes without a reading raises one missed-check
  alert, exactly once (a unique constraint on order and slot).
- Unhandled alerts escalate to the village, then to the township, after configured delays.
- Release needs the period over and every required test negative, or an authorised override
  with a reason; a positive test is never released. Release creates the configured next stage.
- A room holds one household (or one person) up to its capacity; booking is a conditional
  update of the room row, so concurrent requests cannot double-book it.

Numbers come from settings with the defaults of REQUIREMENTS.md §4 (twice a day, 37.3 °C).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, jurisdiction, signals
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.models import AuditEvent, User
from fangkong.core.roles import Action, can
from fangkong.people.models import Person

from .models import (
    KIND_RANK,
    Alert,
    AlertKind,
    AlertLevel,
    AlertOutcome,
    CheckMethod,
    CheckSchedule,
    CheckWindow,
    CostBearer,
    HealthCheck,
    IsolationKind,
    IsolationOrder,
    IsolationSite,
    OrderEvent,
    OrderStatus,
    RequiredTest,
    Room,
    SelfReportLink,
    SupplyCategory,
    SupplyRequest,
    Symptom,
    TestResult,
    WastePickup,
)
from .selectors import get_alert, get_order, get_site, require, sites_visible_to

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")
HOSPITAL = "hospital"


def fever_threshold() -> Decimal:
    return Decimal(str(getattr(settings, "QUARANTINE_FEVER_CELSIUS", "37.3")))


def escalation_delays() -> tuple[timedelta, timedelta]:
    """Minutes after raising that an unhandled alert goes to the village, then the township."""
    village = int(getattr(settings, "QUARANTINE_ESCALATE_VILLAGE_MINUTES", 60))
    township = int(getattr(settings, "QUARANTINE_ESCALATE_TOWNSHIP_MINUTES", 180))
    return timedelta(minutes=village), timedelta(minutes=township)


DEFAULT_WINDOWS = ((time(6, 0), time(12, 0)), (time(14, 0), time(20, 0)))


def default_schedule() -> CheckSchedule:
    """Twice a day (001 「每天测体温2次」): a morning and an afternoon window, local time."""
    schedule, created = CheckSchedule.objects.get_or_create(name="twice-daily")
    if created or not schedule.windows.exists():
        for opens, closes in DEFAULT_WINDOWS:
            CheckWindow.objects.get_or_create(schedule=schedule, opens_at=opens, closes_at=closes)
    return schedule


def schedule_for(windows: list[tuple[time, time]]) -> CheckSchedule:
    """The schedule with exactly these windows, created once and shared by every order."""
    if not windows:
        return default_schedule()
    ordered = sorted(windows)
    errors = []
    for i, (opens, closes) in enumerate(ordered):
        if closes <= opens:
            errors.append(FieldError(f"check_windows.{i}", _("A window must close after it opens")))
        if i and opens < ordered[i - 1][1]:
            errors.append(FieldError(f"check_windows.{i}", _("Check windows must not overlap")))
    if errors:
        raise ValidationFailed(errors)
    name = " ".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in ordered)
    if ordered == sorted(DEFAULT_WINDOWS):
        return default_schedule()
    with transaction.atomic():
        schedule, created = CheckSchedule.objects.get_or_create(name=name)
        if created:
            CheckWindow.objects.bulk_create(
                CheckWindow(schedule=schedule, opens_at=o, closes_at=c) for o, c in ordered
            )
    return schedule


def _announce_required_tests(order: IsolationOrder) -> None:
    """Tell the testing module (if installed) the days this order needs a test."""
    days = sorted(order.tests.values_list("day", flat=True))
    if not days:
        return
    first_day = timezone.localdate(order.starts_at)
    signals.tests_required.send(
        sender=IsolationOrder,
        person=order.person,
        due_dates=[first_day + timedelta(days=d) for d in days],
        origin=_("Isolation order %(id)s") % {"id": order.pk},
        origin_ref=f"quarantine.order:{order.pk}",
    )


def receive_test_results(sender: Any, results: Any, **kwargs: Any) -> None:
    """Apply results from the testing module to the required tests of active orders."""
    active = set(
        IsolationOrder.objects.filter(status=OrderStatus.ACTIVE).values_list("person_id", flat=True)
    )
    if not active:
        return
    for person_id, sampled_on, result in results:
        if person_id in active:
            apply_test_result(person_id=person_id, sampled_on=sampled_on, result=result)


def _event(order: IsolationOrder, user: Any, action: str, detail: str = "") -> None:
    OrderEvent.objects.create(order=order, by=user, action=action, detail=detail[:300])


def _locked(user: Any, order_id: int, version: int, action: Action) -> IsolationOrder:
    """The order locked for writing (PostgreSQL row lock; SQLite serialises writers)."""
    get_order(user, order_id, action)
    order = (
        IsolationOrder.objects.select_for_update(of=("self",))
        .select_related("person", "person__household")
        .get(pk=order_id)
    )
    if order.version != version:
        raise VersionConflict(current_version=order.version)
    return order


def _require_active(order: IsolationOrder) -> None:
    if order.status != OrderStatus.ACTIVE:
        raise ValidationFailed(
            [FieldError("status", _("This isolation has already ended"))],
        )


def _bump(order: IsolationOrder, **values: Any) -> None:
    for name, value in values.items():
        setattr(order, name, value)
    order.version += 1
    order.save()


def _party(person: Person) -> str:
    """The booking key of a room: a household shares a room, others do not."""
    return f"h{person.household_id}" if person.household_id else f"p{person.pk}"


def _vacate(order: IsolationOrder) -> None:
    if order.room_id is None:
        return
    Room.objects.filter(pk=order.room_id, occupants__gt=0).update(
        party=Case(When(occupants=1, then=None), default=F("party")),
        occupants=F("occupants") - 1,
    )


# Orders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderInput:
    """What an isolation order is made of; the API and the web form both fill this in."""

    person_id: int
    kind: str
    starts_at: datetime
    days: int | None = None
    ends_at: datetime | None = None
    policy_version: str = ""
    manual_reason: str = ""
    address: str = ""
    required_test_days: tuple[int, ...] = ()
    responsible_ids: tuple[int, ...] = ()
    household_member_ids: tuple[int, ...] = ()
    agreement_signed_on: date | None = None
    cost_bearer: str = ""
    next_kind: str = ""
    next_days: int | None = None
    check_windows: tuple[tuple[time, time], ...] = ()
    # The module and record that asked for it through fangkong.core.isolation.
    source: str = ""


def _clean_order(data: OrderInput, user: Any) -> tuple[datetime, list[FieldError]]:
    errors: list[FieldError] = []
    if data.kind not in IsolationKind.values:
        errors.append(FieldError("kind", _("Choose home, centralised isolation or monitoring")))
    if not data.policy_version.strip() and not data.manual_reason.strip():
        errors.append(
            FieldError("manual_reason", _("Give the policy version or a reason for this order"))
        )
    now = timezone.now()
    if not now - timedelta(days=60) <= data.starts_at <= now + timedelta(days=30):
        # Also keeps date arithmetic away from the ends of the calendar.
        raise ValidationFailed(
            [FieldError("starts_at", _("The start must lie within 60 days back and 30 ahead"))]
        )
    ends_at = data.ends_at
    if ends_at is None and data.days:
        ends_at = data.starts_at + timedelta(days=data.days)
    if ends_at is None:
        errors.append(FieldError("days", _("Give the number of days or the planned end")))
    elif ends_at <= data.starts_at:
        errors.append(FieldError("ends_at", _("The planned end must be after the start")))
    elif ends_at - data.starts_at > timedelta(days=60):
        errors.append(FieldError("ends_at", _("An isolation period is at most 60 days")))
    if data.kind == IsolationKind.CENTRALISED and data.cost_bearer not in CostBearer.values:
        errors.append(
            FieldError("cost_bearer", _("Say who bears the cost of centralised isolation"))
        )
    if data.cost_bearer and data.cost_bearer not in CostBearer.values:
        errors.append(FieldError("cost_bearer", _("Unknown cost bearer")))
    if data.next_kind and data.next_kind not in IsolationKind.values:
        errors.append(FieldError("next_kind", _("Unknown kind of isolation")))
    if bool(data.next_kind) != bool(data.next_days):
        errors.append(FieldError("next_days", _("Give both the next stage and its days")))
    if len(set(data.required_test_days)) != len(data.required_test_days) or any(
        d < 0 or d > 60 for d in data.required_test_days
    ):
        errors.append(
            FieldError("required_test_days", _("Test days are distinct days from 0 to 60"))
        )
    return ends_at or data.starts_at, errors


@transaction.atomic
def order_isolation(*, user: Any, data: OrderInput, channel: str = "web") -> IsolationOrder:
    """Place a person (and the household members sharing it) under isolation.

    The rule is kept with the order (policy version, or a manual reason); each household
    member gets an order of their own linked to this one, so each is checked twice a day.
    """
    require(user, Action.QUARANTINE_MANAGE)
    ends_at, errors = _clean_order(data, user)
    people = {
        p.pk: p
        for p in jurisdiction.scope(Person.objects.all(), user).filter(
            pk__in=[data.person_id, *data.household_member_ids]
        )
    }
    if data.person_id not in people:
        raise NotFound(data.person_id)
    person = people[data.person_id]
    members = []
    for i, member_id in enumerate(data.household_member_ids):
        member = people.get(member_id)
        if member is None or member_id == person.pk:
            errors.append(FieldError(f"household_member_ids.{i}", _("Not a person you can see")))
        elif member.household_id is None or member.household_id != person.household_id:
            errors.append(
                FieldError(f"household_member_ids.{i}", _("Not a member of the same household"))
            )
        else:
            members.append(member)
    responsible = (
        list(
            jurisdiction.scope(
                User.objects.filter(pk__in=data.responsible_ids, is_active=True),
                user,
                field="regions__code",
            ).distinct()
        )
        if data.responsible_ids
        else []
    )
    if len(responsible) != len(set(data.responsible_ids)):
        errors.append(
            FieldError("responsible_ids", _("Responsible persons must work in this area"))
        )
    busy = set(
        IsolationOrder.objects.filter(
            person_id__in=[person.pk, *[m.pk for m in members]], status=OrderStatus.ACTIVE
        ).values_list("person__name", flat=True)
    )
    if busy:
        errors.append(
            FieldError(
                "person_id",
                _("Already in isolation: %(names)s; extend or transfer that order instead")
                % {"names": "、".join(sorted(busy))},
            )
        )
    if errors:
        raise ValidationFailed(errors)
    schedule = schedule_for(list(data.check_windows))
    lead: IsolationOrder | None = None
    for who in [person, *members]:
        order = IsolationOrder(
            person=who,
            region_code=who.region_code,
            kind=data.kind,
            starts_at=data.starts_at,
            ends_at=ends_at,
            policy_version=data.policy_version.strip(),
            manual_reason=data.manual_reason.strip(),
            address=data.address or (who.household.address if who.household else ""),
            lead=lead,
            schedule=schedule,
            agreement_signed_on=data.agreement_signed_on,
            cost_bearer=data.cost_bearer,
            next_kind=data.next_kind,
            next_days=data.next_days,
            created_by=user,
            source=data.source[:80] if lead is None else "",
        )
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError:
            raise ValidationFailed(
                [FieldError("person_id", _("%(name)s is already in isolation") % {"name": who})]
            ) from None
        order.responsible.set(responsible)
        RequiredTest.objects.bulk_create(
            RequiredTest(order=order, day=day) for day in sorted(data.required_test_days)
        )
        _announce_required_tests(order)
        _event(order, user, "created", order.policy_version or order.manual_reason)
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="isolation_order",
            object_id=order.pk,
            channel=channel,
        )
        lead = lead or order
    assert lead is not None
    return lead


@transaction.atomic
def extend_order(
    *, user: Any, order_id: int, version: int, ends_at: datetime, reason: str
) -> IsolationOrder:
    """Move the planned end later (never earlier: ending early is its own step, with reason)."""
    order = _locked(user, order_id, version, Action.QUARANTINE_MANAGE)
    _require_active(order)
    errors = []
    if ends_at <= order.ends_at:
        errors.append(FieldError("ends_at", _("The new end must be later than the planned end")))
    if ends_at - order.starts_at > timedelta(days=60):
        errors.append(FieldError("ends_at", _("An isolation period is at most 60 days")))
    if not reason.strip():
        errors.append(FieldError("reason", _("Give the reason for the extension")))
    if errors:
        raise ValidationFailed(errors)
    detail = (
        f"{timezone.localtime(order.ends_at):%Y-%m-%d %H:%M} → "
        f"{timezone.localtime(ends_at):%Y-%m-%d %H:%M} {reason.strip()}"
    )
    _bump(order, ends_at=ends_at)
    _event(order, user, "extended", detail)
    return order


@transaction.atomic
def transfer_order(
    *,
    user: Any,
    order_id: int,
    version: int,
    to: str,
    reason: str,
    hospital: str = "",
    cost_bearer: str = "",
    now: datetime | None = None,
) -> IsolationOrder:
    """Move a person up the ladder: monitoring → home → centralised → hospital.

    Into home or centralised isolation a new order continues the period (same planned end,
    same required tests and their results); into hospital the order closes, naming it.
    Returns the new order, or the closed one for a hospital transfer.
    """
    order = _locked(user, order_id, version, Action.QUARANTINE_MANAGE)
    _require_active(order)
    now = now or timezone.now()
    errors = []
    if not reason.strip():
        errors.append(FieldError("reason", _("Give the reason for the transfer")))
    if to == HOSPITAL:
        if not hospital.strip():
            errors.append(FieldError("hospital", _("Name the hospital")))
    elif (
        to not in IsolationKind.values
        or KIND_RANK[IsolationKind(to)] <= KIND_RANK[IsolationKind(order.kind)]
    ):
        errors.append(
            FieldError("to", _("A transfer goes from monitoring to home, centralised or hospital"))
        )
    elif to == IsolationKind.CENTRALISED and cost_bearer not in CostBearer.values:
        errors.append(
            FieldError("cost_bearer", _("Say who bears the cost of centralised isolation"))
        )
    if errors:
        raise ValidationFailed(errors)
    _vacate(order)
    _bump(
        order,
        status=OrderStatus.TRANSFERRED,
        closed_at=now,
        closed_by=user,
        close_reason=reason.strip(),
        transferred_to=hospital.strip() if to == HOSPITAL else to,
    )
    _event(order, user, "transferred", f"{to} {hospital} {reason}".strip())
    if to == HOSPITAL:
        return order
    new = IsolationOrder.objects.create(
        person=order.person,
        region_code=order.region_code,
        kind=to,
        starts_at=now,
        ends_at=max(order.ends_at, now + timedelta(hours=1)),
        policy_version=order.policy_version,
        manual_reason=order.manual_reason,
        address="" if to == IsolationKind.CENTRALISED else order.address,
        previous=order,
        schedule=order.schedule,
        agreement_signed_on=order.agreement_signed_on,
        cost_bearer=cost_bearer or order.cost_bearer,
        next_kind=order.next_kind,
        next_days=order.next_days,
        created_by=user,
    )
    new.responsible.set(order.responsible.all())
    RequiredTest.objects.bulk_create(
        RequiredTest(
            order=new,
            day=t.day,
            result=t.result,
            sampled_on=t.sampled_on,
            recorded_at=t.recorded_at,
            recorded_by_id=t.recorded_by_id,
        )
        for t in order.tests.all()
    )
    _event(new, user, "created", _("Transferred from order %(id)s") % {"id": order.pk})
    return new


@transaction.atomic
def end_order_early(
    *, user: Any, order_id: int, version: int, reason: str, now: datetime | None = None
) -> IsolationOrder:
    """End an order before its period (wrong person, moved away, died...): a reason is kept."""
    order = _locked(user, order_id, version, Action.QUARANTINE_MANAGE)
    _require_active(order)
    if not reason.strip():
        raise ValidationFailed([FieldError("reason", _("Give the reason for ending early"))])
    _vacate(order)
    _bump(
        order,
        status=OrderStatus.ENDED_EARLY,
        closed_at=now or timezone.now(),
        closed_by=user,
        close_reason=reason.strip(),
    )
    _event(order, user, "ended_early", reason)
    return order


def release_blockers(order: IsolationOrder, now: datetime) -> list[FieldError]:
    """Why the order may not be released by the rules at ``now`` (empty: it may)."""
    blockers = []
    if now < order.ends_at:
        blockers.append(
            FieldError(
                "ends_at",
                _("The isolation period ends on %(end)s")
                % {"end": f"{timezone.localtime(order.ends_at):%Y-%m-%d %H:%M}"},
            )
        )
    for test in order.tests.all():
        if test.result != TestResult.NEGATIVE:
            blockers.append(
                FieldError(
                    f"tests.{test.day}",
                    _("The test of day %(day)s is %(result)s, not negative")
                    % {"day": test.day, "result": test.get_result_display()},
                )
            )
    return blockers


@transaction.atomic
def release_order(
    *,
    user: Any,
    order_id: int,
    version: int,
    override_reason: str = "",
    now: datetime | None = None,
) -> tuple[IsolationOrder, IsolationOrder | None]:
    """Release (解除隔离) by the rules, or by an authorised override with a reason.

    A positive test is never released, override or not: that person is a case for the fever
    clinic. The next stage (e.g. 7 days home isolation after 14 centralised) starts now.
    """
    order = _locked(user, order_id, version, Action.QUARANTINE_MANAGE)
    _require_active(order)
    now = now or timezone.now()
    if order.tests.filter(result=TestResult.POSITIVE).exists():
        raise ValidationFailed(
            [FieldError("tests", _("A required test is positive: transfer, do not release"))]
        )
    blockers = release_blockers(order, now)
    override_reason = override_reason.strip()
    if blockers and not override_reason:
        raise ValidationFailed(blockers, detail=_("This isolation cannot be released yet"))
    if blockers and not can(user, Action.QUARANTINE_OVERRIDE):
        raise PermissionDenied(Action.QUARANTINE_OVERRIDE)
    _vacate(order)
    _bump(
        order,
        status=OrderStatus.RELEASED,
        closed_at=now,
        closed_by=user,
        override_reason=override_reason if blockers else "",
    )
    _event(order, user, "released", override_reason if blockers else "")
    next_order = None
    if order.next_kind and order.next_days:
        household = order.person.household
        next_order = IsolationOrder.objects.create(
            person=order.person,
            region_code=order.region_code,
            kind=order.next_kind,
            starts_at=now,
            ends_at=now + timedelta(days=order.next_days),
            policy_version=order.policy_version,
            manual_reason=order.manual_reason,
            address=household.address if household else "",
            previous=order,
            schedule=order.schedule,
            created_by=user,
        )
        next_order.responsible.set(order.responsible.all())
        _event(
            next_order,
            user,
            "created",
            _("Next stage after release of order %(id)s") % {"id": order.pk},
        )
    return order, next_order


@transaction.atomic
def record_test_result(
    *, user: Any, order_id: int, day: int, result: str, sampled_on: date
) -> RequiredTest:
    """Record the result of a required test (the testing module will call this too)."""
    order = get_order(user, order_id, Action.QUARANTINE_TEST)
    test = RequiredTest.objects.select_for_update().filter(order=order, day=day).first()
    if test is None:
        raise ValidationFailed([FieldError("day", _("This isolation requires no test that day"))])
    errors = []
    if result not in (TestResult.NEGATIVE, TestResult.POSITIVE):
        errors.append(FieldError("result", _("The result is negative or positive")))
    if sampled_on > timezone.localdate():
        errors.append(FieldError("sampled_on", _("The sampling date is in the future")))
    if errors:
        raise ValidationFailed(errors)
    test.result = result
    test.sampled_on = sampled_on
    test.recorded_at = timezone.now()
    test.recorded_by = user
    test.save()
    _event(order, user, "test", f"{day} {result}")
    return test


@transaction.atomic
def apply_test_result(
    *, person_id: int, sampled_on: date, result: str, recorded_by: Any = None
) -> RequiredTest | None:
    """Feed a nucleic-acid result from the testing module into the person's active order.

    This is the hand-over point between the modules: the testing module calls it when a
    result is known, without a user (its own rules decided who may record results). The
    sampling day, counted from the order's start (day 0), fills the pending required test
    of that day, else the earliest pending one before it (a late test still counts). A
    positive result with no required test to fill is kept as an extra one, so that the
    order cannot be released by the rules. Returns the test filled, or None when the
    person has no active order or the negative result was not required.
    """
    if result not in (TestResult.NEGATIVE, TestResult.POSITIVE):
        raise ValidationFailed([FieldError("result", _("The result is negative or positive"))])
    order = IsolationOrder.objects.filter(person_id=person_id, status=OrderStatus.ACTIVE).first()
    if order is None:
        return None
    day = (sampled_on - timezone.localdate(order.starts_at)).days
    pending = order.tests.select_for_update().filter(result=TestResult.PENDING)
    test = pending.filter(day=day).first() or pending.filter(day__lte=day).order_by("day").first()
    if test is None:
        if result != TestResult.POSITIVE or day < 0:
            return None
        test, _created = RequiredTest.objects.get_or_create(order=order, day=day)
    test.result = result
    test.sampled_on = sampled_on
    test.recorded_at = timezone.now()
    test.recorded_by = recorded_by
    test.save()
    _event(order, recorded_by, "test", f"{test.day} {result}")
    return test


@transaction.atomic
def record_agreement(
    *, user: Any, order_id: int, version: int, signed_on: date | None, scan: Any = None
) -> IsolationOrder:
    """Record the signed home-isolation agreement (居家隔离协议): a date, a scan, or both."""
    order = _locked(user, order_id, version, Action.QUARANTINE_MANAGE)
    if signed_on is None and scan is None:
        raise ValidationFailed(
            [FieldError("agreement_signed_on", _("Give the date signed or upload the scan"))]
        )
    if signed_on and signed_on > timezone.localdate():
        raise ValidationFailed(
            [FieldError("agreement_signed_on", _("The signing date is in the future"))]
        )
    if scan is not None:
        extension = scan.name.rsplit(".", 1)[-1].lower() if "." in scan.name else ""
        if extension not in SCAN_EXTENSIONS or scan.size > SCAN_MAX_BYTES:
            raise ValidationFailed(
                [FieldError("scan", _("Upload a PDF, JPEG or PNG of at most 10 MB"))]
            )
        # The stored name is ours, never the uploaded one (which may hold anything).
        order.agreement_scan.save(f"order-{order.pk}.{extension}", scan, save=False)
    _bump(order, agreement_signed_on=signed_on or order.agreement_signed_on)
    _event(order, user, "agreement")
    return order


SCAN_EXTENSIONS = frozenset({"pdf", "jpg", "jpeg", "png"})
SCAN_MAX_BYTES = 10 * 1024 * 1024


# Personal self-report links ---------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_self_report_link(*, user: Any, order_id: int) -> str:
    """A new personal link token for the isolated person; earlier links stop working.

    The token (32 random bytes) is returned once; only its hash is stored.
    """
    order = get_order(user, order_id, Action.QUARANTINE_CHECK)
    _require_active(order)
    SelfReportLink.objects.filter(order=order, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token = secrets.token_urlsafe(32)
    SelfReportLink.objects.create(order=order, token_hash=_token_hash(token), created_by=user)
    _event(order, user, "link_issued")
    return token


@transaction.atomic
def revoke_self_report_links(*, user: Any, order_id: int) -> int:
    order = get_order(user, order_id, Action.QUARANTINE_CHECK)
    count = SelfReportLink.objects.filter(order=order, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _event(order, user, "link_revoked")
    return count


def order_for_token(token: str) -> IsolationOrder:
    """The one active order a personal link opens; 404 for anything else."""
    if not (20 <= len(token) <= 64) or not all(c.isalnum() or c in "-_" for c in token):
        raise NotFound("link")
    link = (
        SelfReportLink.objects.select_related("order", "order__person", "order__schedule")
        .filter(
            token_hash=_token_hash(token),
            revoked_at__isnull=True,
            order__status=OrderStatus.ACTIVE,
        )
        .first()
    )
    if link is None:
        raise NotFound("link")
    return link.order


# Readings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One reading as submitted (API row, form, one tap, or self-report)."""

    order_id: int
    taken_at: datetime | None = None
    temperature: Decimal | None = None
    normal: bool = False
    symptoms: tuple[str, ...] = ()
    at_home: bool = True
    method: str = CheckMethod.DOOR
    note: str = ""
    client_id: str | None = None


def _windows_by_schedule(schedule_ids: Iterable[int]) -> dict[int, list[CheckWindow]]:
    windows: dict[int, list[CheckWindow]] = {}
    for window in CheckWindow.objects.filter(schedule_id__in=set(schedule_ids)).order_by(
        "opens_at"
    ):
        windows.setdefault(window.schedule_id, []).append(window)
    return windows


def slot_of(windows: list[CheckWindow], taken_at: datetime) -> datetime | None:
    """The opening instant of the window ``taken_at`` falls in (local time), if any."""
    local = timezone.localtime(taken_at)
    for window in windows:
        if window.opens_at <= local.time() < window.closes_at:
            return timezone.make_aware(datetime.combine(local.date(), window.opens_at))
    return None


def validate_reading(reading: Reading, now: datetime, prefix: str = "") -> list[FieldError]:
    """The plausibility rules for one reading (no database access)."""
    errors = []
    taken_at = reading.taken_at or now
    if taken_at > now + timedelta(minutes=5):
        errors.append(
            FieldError(f"{prefix}taken_at", _("The time of the reading is in the future"))
        )
    if taken_at < now - timedelta(days=2):
        errors.append(
            FieldError(f"{prefix}taken_at", _("Readings older than two days cannot be entered"))
        )
    t = reading.temperature
    if t is not None and not (TEMPERATURE_MIN <= t <= TEMPERATURE_MAX):
        errors.append(
            FieldError(
                f"{prefix}temperature",
                _("%(t)s °C is not a plausible body temperature (34.0–43.0 °C); measure again")
                % {"t": t},
            )
        )
    unknown = [s for s in reading.symptoms if s not in SYMPTOM_VALUES]
    if unknown or len(set(reading.symptoms)) != len(reading.symptoms):
        errors.append(FieldError(f"{prefix}symptoms", _("Unknown or repeated symptom")))
    if reading.at_home:
        if t is None and not reading.normal:
            errors.append(
                FieldError(f"{prefix}temperature", _("Enter the temperature or mark it normal"))
            )
        if reading.normal and (reading.symptoms or (t is not None and t >= fever_threshold())):
            errors.append(
                FieldError(f"{prefix}normal", _("A reading with fever or symptoms is not normal"))
            )
    elif t is not None or reading.symptoms:
        errors.append(
            FieldError(f"{prefix}at_home", _("A person not found at home has no reading"))
        )
    if reading.method not in CheckMethod.values:
        errors.append(FieldError(f"{prefix}method", _("Unknown method")))
    return errors


SYMPTOM_VALUES = frozenset(Symptom.values)


def alert_kinds(check: HealthCheck) -> list[str]:
    """Which alerts a stored reading raises."""
    kinds: list[str] = []
    if not check.at_home:
        kinds.append(AlertKind.ABSENT)
    if check.temperature is not None and check.temperature >= fever_threshold():
        kinds.append(AlertKind.FEVER)
    if check.symptoms:
        kinds.append(AlertKind.SYMPTOM)
    return kinds


def _is_clear(check: HealthCheck) -> bool:
    return check.at_home and not alert_kinds(check)


def _close_missed(order_ids: Iterable[int], now: datetime) -> None:
    """A normal reading after a missed check closes that alert: the person was checked."""
    Alert.objects.filter(
        order_id__in=list(order_ids), kind=AlertKind.MISSED, handled_at__isnull=True
    ).update(handled_at=now, outcome=AlertOutcome.CHECKED_LATE)


def _store(
    order: IsolationOrder, reading: Reading, user: Any, windows: list[CheckWindow], now: datetime
) -> tuple[HealthCheck, list[Alert]]:
    taken_at = reading.taken_at or now
    if taken_at < order.starts_at - timedelta(hours=1):
        raise ValidationFailed(
            [FieldError("taken_at", _("The reading is from before the isolation started"))]
        )
    check = HealthCheck(
        order=order,
        taken_at=taken_at,
        slot=slot_of(windows, taken_at),
        temperature=reading.temperature,
        reported_normal=reading.normal and reading.temperature is None,
        symptoms=list(reading.symptoms),
        at_home=reading.at_home,
        method=reading.method,
        note=reading.note[:200],
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
        client_id=reading.client_id or None,
        recorded_at=now,
    )
    try:
        with transaction.atomic():
            check.save()
    except IntegrityError:
        # The same client reading sent again: the first one stands.
        existing = HealthCheck.objects.get(order=order, client_id=reading.client_id)
        return existing, list(existing.alerts.all())
    alerts = _raise_alerts(order, check, now)
    if _is_clear(check):
        _close_missed([order.pk], now)
    return check, alerts


def _raise_alerts(order: IsolationOrder, check: HealthCheck, now: datetime) -> list[Alert]:
    """The alerts a reading raises, merged into the order's open alerts of the same kind:
    a second fever reading before anyone handled the first fever alert is the same alert
    (one call for the doctor to make), not another one."""
    kinds = alert_kinds(check)
    if not kinds:
        return []
    open_alerts = {
        a.kind: a
        for a in Alert.objects.filter(order=order, kind__in=kinds, handled_at__isnull=True)
    }
    return [
        open_alerts.get(kind)
        or Alert.objects.create(
            order=order, region_code=order.region_code, kind=kind, reading=check, raised_at=now
        )
        for kind in kinds
    ]


# A personal link takes one reading per check window; outside the windows, one per this.
SELF_REPORT_INTERVAL = timedelta(minutes=30)
# Supply requests through a personal link: at most this many waiting, and per day.
SELF_SUPPLY_OPEN_MAX = 3
SELF_SUPPLY_DAILY_MAX = 10


def _lock_order(order: IsolationOrder) -> None:
    """Serialise writes through one personal link (a burst of taps, a script)."""
    IsolationOrder.objects.select_for_update().filter(pk=order.pk).values_list("pk").first()


@transaction.atomic
def record_check(
    *, user: Any, reading: Reading, now: datetime | None = None
) -> tuple[HealthCheck, list[Alert]]:
    """Record one reading by a doctor or grid worker; returns it and the alerts it raised."""
    now = now or timezone.now()
    order = get_order(user, reading.order_id, Action.QUARANTINE_CHECK)
    _require_active(order)
    errors = validate_reading(reading, now)
    if errors:
        raise ValidationFailed(errors)
    windows = _windows_by_schedule([order.schedule_id]).get(order.schedule_id, [])
    return _store(order, reading, user, windows, now)


@transaction.atomic
def record_self_report(
    *, token: str, reading: Reading, now: datetime | None = None
) -> tuple[HealthCheck, list[Alert]]:
    """A reading sent by the isolated person through their personal link: one per check
    window (one per ``SELF_REPORT_INTERVAL`` outside the windows); a retry with the same
    client id returns the first. Writes through one link are serialised."""
    now = now or timezone.now()
    order = order_for_token(token)
    reading = Reading(
        order_id=order.pk,
        taken_at=now,
        temperature=reading.temperature,
        symptoms=reading.symptoms,
        method=CheckMethod.SELF,
        note=reading.note,
        client_id=reading.client_id,
    )
    errors = validate_reading(reading, now)
    if errors:
        raise ValidationFailed(errors)
    _lock_order(order)
    if reading.client_id:
        retried = HealthCheck.objects.filter(order=order, client_id=reading.client_id).first()
        if retried is not None:  # the same reading sent again: the first one stands
            return retried, list(retried.alerts.all())
    windows = _windows_by_schedule([order.schedule_id]).get(order.schedule_id, [])
    slot = slot_of(windows, now)
    own = HealthCheck.objects.filter(order=order, method=CheckMethod.SELF)
    if slot is not None:
        taken = own.filter(slot=slot).exists()
    else:
        taken = own.filter(taken_at__gt=now - SELF_REPORT_INTERVAL).exists()
    if taken:
        raise ValidationFailed(
            [
                FieldError(
                    "reading",
                    _(
                        "Your reading for this check time is already recorded. If you feel "
                        "unwell, call your village doctor."
                    ),
                )
            ]
        )
    return _store(order, reading, None, windows, now)


@dataclass
class BulkOutcome:
    stored: int
    duplicates: int
    alerts: int


MAX_BATCH = 500


@transaction.atomic
def bulk_record_readings(
    *, user: Any, readings: list[Reading], now: datetime | None = None
) -> BulkOutcome:
    """Store a batch of readings from a device or a phone syncing after a round.

    Every row needs a ``client_id``: a row whose (order, client id) is already stored is a
    retry and is counted as a duplicate, not stored twice — also when two copies of the batch
    race (the insert skips conflicts and alerts are unique per reading). All rows are
    validated first and the batch is stored whole or not at all, errors named by row.
    Orders outside the user's jurisdiction make the whole batch 404, like a single read.
    """
    require(user, Action.QUARANTINE_CHECK)
    now = now or timezone.now()
    if len(readings) > MAX_BATCH:
        raise ValidationFailed(
            [FieldError("readings", _("At most %(n)d readings per batch") % {"n": MAX_BATCH})]
        )
    order_ids = {r.order_id for r in readings}
    orders = {
        o.pk: o
        for o in jurisdiction.scope(IsolationOrder.objects.filter(pk__in=order_ids), user).only(
            "id", "status", "starts_at", "schedule_id", "region_code"
        )
    }
    missing = order_ids - orders.keys()
    if missing:
        raise NotFound(min(missing))
    errors: list[FieldError] = []
    for i, reading in enumerate(readings):
        prefix = f"readings.{i}."
        errors += validate_reading(reading, now, prefix)
        if not reading.client_id:
            errors.append(FieldError(f"{prefix}client_id", _("Each reading needs a client id")))
        order = orders[reading.order_id]
        if order.status != OrderStatus.ACTIVE:
            errors.append(FieldError(f"{prefix}order_id", _("This isolation has already ended")))
        elif (reading.taken_at or now) < order.starts_at - timedelta(hours=1):
            errors.append(
                FieldError(
                    f"{prefix}taken_at", _("The reading is from before the isolation started")
                )
            )
    if errors:
        raise ValidationFailed(errors)
    windows = _windows_by_schedule(o.schedule_id for o in orders.values())
    fresh: dict[tuple[int, str | None], HealthCheck] = {}
    for r in readings:
        key = (r.order_id, r.client_id)
        if key in fresh:
            continue  # the same reading twice in one batch
        order = orders[r.order_id]
        taken_at = r.taken_at or now
        fresh[key] = HealthCheck(
            order_id=r.order_id,
            taken_at=taken_at,
            slot=slot_of(windows.get(order.schedule_id, []), taken_at),
            temperature=r.temperature,
            reported_normal=r.normal and r.temperature is None,
            symptoms=list(r.symptoms),
            at_home=r.at_home,
            method=r.method,
            note=r.note[:200],
            recorded_by=user,
            client_id=r.client_id,
            recorded_at=now,
        )
    inserted = _insert_new_readings(list(fresh.values()))
    alerts: list[Alert] = []
    for key, pk in inserted.items():
        check = fresh[key]
        order = orders[key[0]]
        alerts += [
            Alert(
                order_id=order.pk,
                region_code=order.region_code,
                kind=kind,
                reading_id=pk,
                raised_at=now,
            )
            for kind in alert_kinds(check)
        ]
    if alerts:
        Alert.objects.bulk_create(alerts)
    clear = {key[0] for key in inserted if _is_clear(fresh[key])}
    if clear:
        _close_missed(clear, now)
    return BulkOutcome(
        stored=len(inserted), duplicates=len(readings) - len(inserted), alerts=len(alerts)
    )


_READING_COLUMNS = (
    "order_id",
    "taken_at",
    "slot",
    "temperature",
    "reported_normal",
    "symptoms",
    "at_home",
    "method",
    "note",
    "recorded_by_id",
    "client_id",
    "recorded_at",
)


def _insert_new_readings(checks: list[HealthCheck]) -> dict[tuple[int, str | None], int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: one statement that stores the readings not
    seen before and says which they were, so a retried or racing batch neither stores a
    reading twice nor raises its alerts twice (SQLite ≥ 3.35 and PostgreSQL alike)."""
    if not checks:
        return {}
    by_column = {f.column: f for f in HealthCheck._meta.concrete_fields}
    fields = [by_column[c] for c in _READING_COLUMNS]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for check in checks:
        params += [f.get_db_prep_save(getattr(check, f.attname), connection) for f in fields]
    sql = (
        f"INSERT INTO {HealthCheck._meta.db_table} ({', '.join(_READING_COLUMNS)}) "
        f"VALUES {', '.join([row] * len(checks))} "
        f"ON CONFLICT DO NOTHING RETURNING id, order_id, client_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(order_id, client_id): pk for pk, order_id, client_id in cursor.fetchall()}


# Alerts and escalation --------------------------------------------------------------------


def candidate_slots(now: datetime, lookback: timedelta) -> list[tuple[int, datetime, datetime]]:
    """(schedule id, opens, closes) of every window that closed in (now - lookback, now]."""
    out = []
    today = timezone.localdate(now)
    days = [today - timedelta(days=n) for n in range(lookback.days + 2)]
    for window in CheckWindow.objects.all():
        for day in days:
            opens = timezone.make_aware(datetime.combine(day, window.opens_at))
            closes = timezone.make_aware(datetime.combine(day, window.closes_at))
            if now - lookback < closes <= now:
                out.append((window.schedule_id, opens, closes))
    return out


_MISSED_SQL = """
INSERT INTO {alert} (order_id, region_code, kind, slot, raised_at, level, outcome, outcome_note)
SELECT o.id, o.region_code, %s, %s, %s, 0, '', ''
FROM {order} o
WHERE o.status = %s AND o.schedule_id = %s AND o.starts_at <= %s AND o.created_at < %s
  AND NOT EXISTS (SELECT 1 FROM {check} c WHERE c.order_id = o.id AND c.slot = %s)
  AND NOT EXISTS (
    SELECT 1 FROM {alert} a WHERE a.order_id = o.id AND a.kind = %s AND a.slot = %s
  )
ON CONFLICT DO NOTHING
"""


@transaction.atomic
def find_missed_checks(
    *, now: datetime | None = None, lookback: timedelta = timedelta(hours=24)
) -> int:
    """Raise one missed-check alert per active order and closed window without a reading.

    One INSERT … SELECT per closed window (a handful per run), each over all active orders
    of that schedule at once: an anti-join against the readings of that slot. An order
    counts for a slot when it started before the window opened, was ordered before the window
    closed (an order made today with its start set back to a contact's last exposure has
    missed nothing before it existed), and is still active — also past its planned end,
    since a person waiting for release (tests pending) is still
    isolated and still checked. The partial unique index on (order, slot) makes a second
    run — or two runs at once — insert nothing more. Returns the number of alerts raised.
    """
    now = now or timezone.now()
    ops = connection.ops
    sql = _MISSED_SQL.format(
        alert=Alert._meta.db_table,
        order=IsolationOrder._meta.db_table,
        check=HealthCheck._meta.db_table,
    )
    raised = 0
    with connection.cursor() as cursor:
        for schedule_id, opens, closes in candidate_slots(now, lookback):
            slot = ops.adapt_datetimefield_value(opens)
            cursor.execute(
                sql,
                [
                    AlertKind.MISSED.value,
                    slot,
                    ops.adapt_datetimefield_value(now),
                    OrderStatus.ACTIVE.value,
                    schedule_id,
                    slot,
                    ops.adapt_datetimefield_value(closes),
                    slot,
                    AlertKind.MISSED.value,
                    slot,
                ],
            )
            raised += max(cursor.rowcount, 0)
    return raised


@transaction.atomic
def escalate_alerts(*, now: datetime | None = None) -> tuple[int, int]:
    """Escalate unhandled alerts: to the village after one delay, the township after another.

    Two set-based UPDATEs; an alert is escalated once per level (the level only rises).
    Returns how many went to the village and to the township.
    """
    now = now or timezone.now()
    to_village, to_township = escalation_delays()
    village = Alert.objects.filter(
        handled_at__isnull=True, level=AlertLevel.RESPONSIBLE, raised_at__lte=now - to_village
    ).update(level=AlertLevel.VILLAGE, escalated_at=now)
    township = Alert.objects.filter(
        handled_at__isnull=True, level=AlertLevel.VILLAGE, raised_at__lte=now - to_township
    ).update(level=AlertLevel.TOWNSHIP, escalated_at=now)
    return village, township


def run_monitoring(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the monitor: missed checks first, then escalation."""
    now = now or timezone.now()
    missed = find_missed_checks(now=now)
    village, township = escalate_alerts(now=now)
    return {"missed": missed, "to_village": village, "to_township": township}


@transaction.atomic
def handle_alert(
    *, user: Any, alert_id: int, outcome: str, note: str = "", at: datetime | None = None
) -> Alert:
    """Close an alert with its outcome (e.g. transferred to the fever clinic, at what time)."""
    alert = get_alert(user, alert_id, Action.QUARANTINE_CHECK)
    errors = []
    if alert.handled_at is not None:
        errors.append(FieldError("outcome", _("This alert has already been handled")))
    if outcome not in AlertOutcome.values:
        errors.append(FieldError("outcome", _("Choose an outcome")))
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5) or at < alert.raised_at - timedelta(days=1):
        errors.append(FieldError("at", _("The time of the outcome is not plausible")))
    if outcome in (AlertOutcome.FEVER_CLINIC, AlertOutcome.HOSPITAL, AlertOutcome.OTHER) and (
        not note.strip()
    ):
        errors.append(FieldError("note", _("Say where the person was taken, or what was done")))
    if errors:
        raise ValidationFailed(errors)
    alert.outcome = outcome
    alert.outcome_note = note.strip()
    alert.handled_at = at
    alert.handled_by = user
    alert.save()
    return alert


# Sites and rooms --------------------------------------------------------------------------


@transaction.atomic
def create_site(
    *, user: Any, name: str, region_code: str, address: str = "", phone: str = ""
) -> IsolationSite:
    """A county- or township-level isolation site inside the user's jurisdiction."""
    require(user, Action.QUARANTINE_SITES)
    errors = []
    if not name.strip():
        errors.append(FieldError("name", _("Name the site")))
    if len(region_code) not in (6, 9) or not region_code.isdigit():
        errors.append(FieldError("region_code", _("A site belongs to a county or a township")))
    elif not jurisdiction.covers(user, region_code):
        errors.append(FieldError("region_code", _("This region is outside your jurisdiction")))
    if errors:
        raise ValidationFailed(errors)
    return IsolationSite.objects.create(
        name=name.strip(), region_code=region_code, address=address, phone=phone
    )


@transaction.atomic
def add_rooms(*, user: Any, site_id: int, numbers: list[str], capacity: int) -> list[Room]:
    """Add rooms to a site; a number already used at the site is refused."""
    site = get_site(user, site_id, manage=True)
    errors = []
    if not numbers or any(not n.strip() for n in numbers):
        errors.append(FieldError("numbers", _("Give the room numbers")))
    if not 1 <= capacity <= 20:
        errors.append(FieldError("capacity", _("A room has 1 to 20 beds")))
    taken = set(site.rooms.filter(number__in=numbers).values_list("number", flat=True))
    if taken or len(set(numbers)) != len(numbers):
        errors.append(
            FieldError(
                "numbers",
                _("Room numbers already used: %(n)s")
                % {"n": ", ".join(sorted(taken)) or ", ".join(numbers)},
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return Room.objects.bulk_create(
        Room(site=site, number=n.strip(), capacity=capacity) for n in numbers
    )


@transaction.atomic
def assign_room(*, user: Any, order_id: int, version: int, room_id: int) -> IsolationOrder:
    """Put a person in centralised isolation into a room; families share, others do not.

    The booking is one conditional UPDATE of the room row — "if it is empty or holds this
    household, and has a free bed, add one" — preceded on PostgreSQL by a row lock. Two
    concurrent requests for the last bed: one updates the row, the other finds the condition
    false and is refused. SQLite runs write transactions one at a time, with the same result.
    """
    require(user, Action.QUARANTINE_SITES)
    order = _locked(user, order_id, version, Action.QUARANTINE_MANAGE)
    _require_active(order)
    if order.kind != IsolationKind.CENTRALISED:
        raise ValidationFailed(
            [FieldError("room_id", _("Only centralised isolation is assigned a room"))]
        )
    # Any site serving the user's area: a township fills the county's sites too.
    room_q = Room.objects.filter(pk=room_id, site__in=sites_visible_to(user))
    if connection.vendor == "postgresql":
        room_q = room_q.select_for_update(of=("self",))
    room = room_q.select_related("site").first()
    if room is None:
        raise NotFound(room_id)
    if order.room_id == room.pk:
        return order
    party = _party(order.person)
    booked = Room.objects.filter(
        Q(party__isnull=True) | Q(party=party), pk=room.pk, occupants__lt=F("capacity")
    ).update(occupants=F("occupants") + 1, party=party)
    if not booked:
        raise ValidationFailed(
            [
                FieldError(
                    "room_id",
                    _("Room %(room)s is full or taken by another household")
                    % {"room": room.number},
                )
            ]
        )
    _vacate(order)
    _bump(order, room=room, address=f"{room.site.name} {room.number}"[:200])
    _event(order, user, "room", str(room))
    return order


# Supplies and waste -----------------------------------------------------------------------


def _clean_supply(category: str, items: str) -> None:
    errors = []
    if category not in SupplyCategory.values:
        errors.append(
            FieldError("category", _("Choose food, medicine, daily necessities or other"))
        )
    if not items.strip():
        errors.append(FieldError("items", _("Say what is needed")))
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def request_supplies(*, user: Any, order_id: int, category: str, items: str) -> SupplyRequest:
    """A supply request taken by a cadre or grid worker for an isolated household."""
    order = get_order(user, order_id, Action.QUARANTINE_SUPPORT)
    _require_active(order)
    _clean_supply(category, items)
    return SupplyRequest.objects.create(
        order=order, region_code=order.region_code, category=category, items=items.strip()
    )


@transaction.atomic
def request_supplies_by_link(*, token: str, category: str, items: str) -> SupplyRequest:
    """A supply request sent by the isolated person through their personal link: at most
    ``SELF_SUPPLY_OPEN_MAX`` waiting and ``SELF_SUPPLY_DAILY_MAX`` in a day, so a link cannot
    flood the grid worker's list."""
    order = order_for_token(token)
    _clean_supply(category, items)
    _lock_order(order)
    by_link = SupplyRequest.objects.filter(order=order, requested_via_link=True)
    waiting = by_link.filter(delivered_at__isnull=True).count()
    today = by_link.filter(requested_at__gte=timezone.now() - timedelta(days=1)).count()
    if waiting >= SELF_SUPPLY_OPEN_MAX:
        message = _(
            "You have %(n)d requests still waiting for delivery; add to them by calling "
            "your grid worker."
        ) % {"n": waiting}
        raise ValidationFailed([FieldError("items", message)])
    if today >= SELF_SUPPLY_DAILY_MAX:
        message = _("You have sent %(n)d requests today; for more, call your grid worker.") % {
            "n": today
        }
        raise ValidationFailed([FieldError("items", message)])
    return SupplyRequest.objects.create(
        order=order,
        region_code=order.region_code,
        category=category,
        items=items.strip(),
        requested_via_link=True,
    )


@transaction.atomic
def deliver_supplies(*, user: Any, request_id: int, note: str = "") -> SupplyRequest:
    require(user, Action.QUARANTINE_SUPPORT)
    request = (
        jurisdiction.scope(SupplyRequest.objects.select_for_update(), user)
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound(request_id)
    if request.delivered_at is not None:
        raise ValidationFailed([FieldError("request", _("Already delivered"))])
    request.delivered_at = timezone.now()
    request.delivered_by = user
    request.delivery_note = note.strip()[:200]
    request.save()
    return request


@transaction.atomic
def record_waste_pickup(
    *,
    user: Any,
    bags: int,
    order_id: int | None = None,
    site_id: int | None = None,
    picked_at: datetime | None = None,
    note: str = "",
) -> WastePickup:
    """Log medical waste (医疗废弃物) collected from an isolated household or a site."""
    require(user, Action.QUARANTINE_SUPPORT)
    if (order_id is None) == (site_id is None):
        raise ValidationFailed(
            [FieldError("order_id", _("Give either the isolation order or the site"))]
        )
    if not 1 <= bags <= 1000:
        raise ValidationFailed([FieldError("bags", _("Between 1 and 1000 bags"))])
    picked_at = picked_at or timezone.now()
    if picked_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed([FieldError("picked_at", _("The pickup time is in the future"))])
    if order_id is not None:
        order = get_order(user, order_id, Action.QUARANTINE_SUPPORT)
        return WastePickup.objects.create(
            order=order,
            region_code=order.region_code,
            picked_at=picked_at,
            bags=bags,
            note=note.strip()[:200],
            recorded_by=user,
        )
    site = jurisdiction.scope(IsolationSite.objects.all(), user).filter(pk=site_id or 0).first()
    if site is None:
        raise NotFound(site_id)
    return WastePickup.objects.create(
        site=site,
        region_code=site.region_code,
        picked_at=picked_at,
        bags=bags,
        note=note.strip()[:200],
        recorded_by=user,
    )
