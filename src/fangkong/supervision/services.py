"""Writes and rules of supervision: plan and carry out inspections, findings and their
rectification, discipline cases, commendations.

Rules kept here:
- an inspection's checklist is the list of its kind of place (checklists.py), copied when
  it is planned so later edits of the list do not rewrite past inspections;
- a failed item becomes exactly one rectification with a deadline (``RECTIFY_WITHIN_DAYS``
  unless the inspector gives another) and, when the problems list exists, one problem;
  a failed item cannot be turned into a pass afterwards — the rectification is the way out;
- the owner (village or township) reports the rectification; only the inspecting side
  verifies and closes it, or sends it back;
- a discipline case is decided once, by a role that may decide, and names who decided.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import jurisdiction, problems, regions
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.models import Region
from fangkong.core.permissions import require
from fangkong.core.photos import PhotoRefused, clean_photo
from fangkong.core.roles import Action

from .checklists import CHECKLISTS
from .models import (
    ChecklistItem,
    Commendation,
    Decision,
    DisciplineCase,
    Inspection,
    InspectionStatus,
    ItemResult,
    Offence,
    PlaceKind,
    Rectification,
    RectificationStatus,
    Team,
    VideoCheck,
)

RECTIFY_WITHIN_DAYS = 3


# --- reads (scoped) ---------------------------------------------------------------------


def inspections_in_scope(actor: Any) -> QuerySet[Inspection]:
    require(actor, Action.SUPERVISION_VIEW)
    return jurisdiction.scope(Inspection.objects.all(), actor)


def rectifications_in_scope(actor: Any) -> QuerySet[Rectification]:
    require(actor, Action.SUPERVISION_VIEW)
    return jurisdiction.scope(Rectification.objects.select_related("item__inspection"), actor)


def cases_in_scope(actor: Any) -> QuerySet[DisciplineCase]:
    require(actor, Action.SUPERVISION_VIEW)
    return jurisdiction.scope(DisciplineCase.objects.select_related("offence"), actor)


def get_inspection(actor: Any, inspection_id: int) -> Inspection:
    found = inspections_in_scope(actor).filter(pk=inspection_id).first()
    if found is None:
        raise NotFound(inspection_id)
    return found


def get_rectification(actor: Any, rectification_id: int) -> Rectification:
    found = rectifications_in_scope(actor).filter(pk=rectification_id).first()
    if found is None:
        raise NotFound(rectification_id)
    return found


# --- inspections ------------------------------------------------------------------------


def _check_region(actor: Any, code: str, errors: list[FieldError]) -> None:
    if not (regions.is_code(code) and Region.objects.filter(code=code).exists()):
        errors.append(FieldError("region_code", _("Choose the place's village or township.")))
    elif not jurisdiction.covers(actor, code):
        errors.append(FieldError("region_code", _("The place is outside your area.")))


def plan_inspection(
    *,
    actor: Any,
    region_code: str,
    place_kind: str,
    place_name: str,
    planned_for: dt.date,
    unannounced: bool = True,
    team_id: int | None = None,
    now: dt.datetime | None = None,
) -> Inspection:
    """An inspection of one place on a day, with the checklist of its kind of place."""
    require(actor, Action.SUPERVISION_INSPECT)
    now = now or timezone.now()
    errors: list[FieldError] = []
    _check_region(actor, region_code, errors)
    if place_kind not in PlaceKind.values:
        errors.append(FieldError("place_kind", _("Choose the kind of place.")))
    if not place_name.strip() or len(place_name) > 80:
        errors.append(FieldError("place_name", _("Name the place (at most 80 characters).")))
    team = None
    if team_id:
        team = jurisdiction.scope(Team.objects.all(), actor).filter(pk=team_id).first()
        if team is None:
            errors.append(FieldError("team", _("The team is outside your area.")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        inspection = Inspection.objects.create(
            team=team,
            region_code=region_code,
            place_kind=place_kind,
            place_name=place_name.strip(),
            unannounced=unannounced,
            planned_for=planned_for,
            created_at=now,
            created_by=actor,
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(inspection=inspection, position=n, aspect=aspect, text=text)
            for n, (aspect, text) in enumerate(CHECKLISTS[place_kind], start=1)
        )
    return inspection


def record_item(
    *,
    actor: Any,
    item_id: int,
    result: str,
    note: str = "",
    photo: bytes | None = None,
    deadline: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ChecklistItem:
    """Mark one checklist line pass or fail (with a photo). A fail opens its rectification."""
    require(actor, Action.SUPERVISION_INSPECT)
    now = now or timezone.now()
    errors: list[FieldError] = []
    if result not in (ItemResult.PASS, ItemResult.FAIL):
        errors.append(FieldError("result", _("Choose pass or fail.")))
    if len(note) > 500:
        errors.append(FieldError("note", _("At most 500 characters.")))
    if result == ItemResult.FAIL and not note.strip():
        errors.append(FieldError("note", _("Say what was wrong.")))
    image = None
    if photo:
        try:
            image = clean_photo(photo).data
        except PhotoRefused as exc:
            errors.append(FieldError("photo", str(exc)))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        item = (
            ChecklistItem.objects.select_for_update()
            .filter(inspection__in=inspections_in_scope(actor), pk=item_id)
            .select_related("inspection")
            .first()
        )
        if item is None:
            raise NotFound(item_id)
        if item.result == ItemResult.FAIL and result != ItemResult.FAIL:
            raise ValidationFailed(
                [
                    FieldError(
                        "result", _("A failed item is cleared by its rectification, not changed.")
                    )
                ]
            )
        inspection = item.inspection
        item.result = result
        item.note = note.strip()
        if image is not None:
            item.photo = image
        item.checked_at = now
        item.save()
        if inspection.status == InspectionStatus.PLANNED and inspection.started_at is None:
            inspection.started_at = now
            inspection.inspector = actor
            inspection.save(update_fields=["started_at", "inspector"])
        if result == ItemResult.FAIL:
            _open_rectification(
                item, actor, deadline or now + dt.timedelta(days=RECTIFY_WITHIN_DAYS), now
            )
    return item


def _open_rectification(
    item: ChecklistItem, actor: Any, deadline: dt.datetime, now: dt.datetime
) -> Rectification:
    inspection = item.inspection
    rectification, created = Rectification.objects.get_or_create(
        item=item,
        defaults={
            "region_code": inspection.region_code,
            "aspect": item.aspect,
            "title": f"{inspection.place_name}：{item.text}"[:200],
            "deadline": deadline,
            "created_at": now,
        },
    )
    if created and problems.available():
        ref = problems.raise_problem(
            problems.ProblemDraft(
                source=rectification.source,
                region_code=inspection.region_code,
                aspect=item.aspect,
                title=rectification.title,
                detail=item.note,
                deadline=deadline,
                raised_by=actor,
                url=reverse("supervision:rectification", args=[rectification.pk]),
            )
        )
        rectification.problem_id = ref.id
        rectification.save(update_fields=["problem_id"])
    return rectification


def finish_inspection(
    *, actor: Any, inspection_id: int, note: str = "", version: int, now: dt.datetime | None = None
) -> Inspection:
    """Close the visit once every line is checked."""
    require(actor, Action.SUPERVISION_INSPECT)
    now = now or timezone.now()
    with transaction.atomic():
        inspection = (
            inspections_in_scope(actor).select_for_update().filter(pk=inspection_id).first()
        )
        if inspection is None:
            raise NotFound(inspection_id)
        if inspection.version != version:
            raise VersionConflict(inspection.version)
        left = inspection.items.filter(result=ItemResult.UNCHECKED).count()
        if left:
            raise ValidationFailed(
                [FieldError("items", _("%(n)s items are not checked yet.") % {"n": left})]
            )
        inspection.status = InspectionStatus.DONE
        inspection.finished_at = now
        inspection.note = note.strip()[:2000]
        inspection.inspector = inspection.inspector or actor
        inspection.version += 1
        inspection.save()
    return inspection


# --- rectification ----------------------------------------------------------------------


def report_rectification(
    *, actor: Any, rectification_id: int, report: str, version: int, now: dt.datetime | None = None
) -> Rectification:
    """The owner says what was done; the team verifies it next."""
    require(actor, Action.SUPERVISION_RECTIFY)
    now = now or timezone.now()
    if not report.strip() or len(report) > 2000:
        raise ValidationFailed(
            [FieldError("report", _("Say what was done (at most 2000 characters)."))]
        )
    with transaction.atomic():
        found = (
            rectifications_in_scope(actor).select_for_update().filter(pk=rectification_id).first()
        )
        if found is None:
            raise NotFound(rectification_id)
        if found.version != version:
            raise VersionConflict(found.version)
        if found.status == RectificationStatus.CLOSED:
            raise ValidationFailed(
                [FieldError("status", _("This rectification is already closed."))]
            )
        found.status = RectificationStatus.REPORTED
        found.report = report.strip()
        found.reported_at = now
        found.reported_by = actor
        found.version += 1
        found.save()
    return found


def verify_rectification(
    *,
    actor: Any,
    rectification_id: int,
    accepted: bool,
    version: int,
    note: str = "",
    now: dt.datetime | None = None,
) -> Rectification:
    """The team checks the rectification: accepted closes it, refused sends it back open."""
    require(actor, Action.SUPERVISION_INSPECT)
    now = now or timezone.now()
    with transaction.atomic():
        found = (
            rectifications_in_scope(actor).select_for_update().filter(pk=rectification_id).first()
        )
        if found is None:
            raise NotFound(rectification_id)
        if found.version != version:
            raise VersionConflict(found.version)
        if found.status != RectificationStatus.REPORTED:
            raise ValidationFailed(
                [FieldError("status", _("Only a reported rectification can be verified."))]
            )
        if accepted:
            found.status = RectificationStatus.CLOSED
            found.closed_at = now
            found.closed_by = actor
        else:
            found.status = RectificationStatus.OPEN
            found.reported_at = None  # the clock of the deadline runs again
            found.report = f"{found.report}\n【退回】{note.strip()[:300]}"[:2000]
        found.version += 1
        found.save()
    return found


def on_problem_closed(
    sender: Any = None, *, source: str, closed_at: dt.datetime, closed_by: Any = None, **kwargs: Any
) -> None:
    """The problems list closed the problem a failed item raised: close the rectification."""
    if not source.startswith("supervision.item:"):
        return
    item_id = source.split(":", 1)[1]
    if not item_id.isdigit():
        return
    Rectification.objects.filter(item_id=int(item_id)).exclude(
        status=RectificationStatus.CLOSED
    ).update(status=RectificationStatus.CLOSED, closed_at=closed_at, closed_by=closed_by)


# --- discipline -------------------------------------------------------------------------


def open_case(
    *,
    actor: Any,
    region_code: str,
    person_name: str,
    offence_id: int,
    evidence: str,
    post: str = "",
    inspection_id: int | None = None,
    now: dt.datetime | None = None,
) -> DisciplineCase:
    require(actor, Action.SUPERVISION_DISCIPLINE)
    errors: list[FieldError] = []
    _check_region(actor, region_code, errors)
    if not person_name.strip() or len(person_name) > 32:
        errors.append(FieldError("person_name", _("Name the person (at most 32 characters).")))
    offence = Offence.objects.filter(pk=offence_id, active=True).first()
    if offence is None:
        errors.append(FieldError("offence", _("Choose an offence from the list.")))
    if not evidence.strip() or len(evidence) > 2000:
        errors.append(FieldError("evidence", _("Describe the evidence (at most 2000 characters).")))
    inspection = None
    if inspection_id:
        inspection = inspections_in_scope(actor).filter(pk=inspection_id).first()
    if errors:
        raise ValidationFailed(errors)
    return DisciplineCase.objects.create(
        region_code=region_code,
        person_name=person_name.strip(),
        post=post.strip()[:64],
        offence=offence,
        evidence=evidence.strip(),
        inspection=inspection,
        opened_by=actor,
        opened_at=now or timezone.now(),
    )


def decide_case(
    *,
    actor: Any,
    case_id: int,
    decision: str,
    note: str = "",
    version: int,
    now: dt.datetime | None = None,
) -> DisciplineCase:
    require(actor, Action.SUPERVISION_DISCIPLINE)
    if decision not in Decision.values or decision == Decision.PENDING:
        raise ValidationFailed([FieldError("decision", _("Choose a decision."))])
    with transaction.atomic():
        case = cases_in_scope(actor).select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(case_id)
        if case.version != version:
            raise VersionConflict(case.version)
        if case.decision != Decision.PENDING:
            raise ValidationFailed(
                [FieldError("decision", _("This case has already been decided."))]
            )
        case.decision = decision
        case.decision_note = note.strip()[:500]
        case.decided_by = actor
        case.decided_at = now or timezone.now()
        case.version += 1
        case.save()
    return case


def commend(
    *, actor: Any, region_code: str, name: str, reason: str, now: dt.datetime | None = None
) -> Commendation:
    require(actor, Action.SUPERVISION_DISCIPLINE)
    errors: list[FieldError] = []
    _check_region(actor, region_code, errors)
    if not name.strip() or len(name) > 64:
        errors.append(FieldError("name", _("Name the unit or person.")))
    if not reason.strip() or len(reason) > 500:
        errors.append(FieldError("reason", _("Give the reason (at most 500 characters).")))
    if errors:
        raise ValidationFailed(errors)
    return Commendation.objects.create(
        region_code=region_code,
        name=name.strip(),
        reason=reason.strip(),
        given_at=now or timezone.now(),
        given_by=actor,
    )


STANDARD_QUESTIONS = (
    "本村今日新增返乡人员几人？",
    "居家隔离人员现在有几人，今天体温测了几次？",
    "本村卡点今晚谁值班？",
    "最新的中高风险地区有哪些？",
    "发现发热人员怎么处置？",
)


def record_video_check(
    *,
    actor: Any,
    region_code: str,
    person_name: str,
    called_at: dt.datetime,
    answers: list[tuple[str, bool]],
    post: str = "",
    note: str = "",
) -> VideoCheck:
    """A video spot-check: who was called, when, each question and whether the answer was
    right. A wrong answer is a finding for the bulletin, not a case by itself."""
    require(actor, Action.SUPERVISION_INSPECT)
    errors: list[FieldError] = []
    _check_region(actor, region_code, errors)
    if not person_name.strip() or len(person_name) > 32:
        errors.append(FieldError("person_name", _("Name the person (at most 32 characters).")))
    asked = [(q.strip()[:200], bool(right)) for q, right in answers if q.strip()]
    if not 1 <= len(asked) <= 20:
        errors.append(FieldError("answers", _("Ask between 1 and 20 questions.")))
    if called_at > timezone.now() + dt.timedelta(minutes=10):
        errors.append(FieldError("called_at", _("The call cannot be in the future.")))
    if errors:
        raise ValidationFailed(errors)
    return VideoCheck.objects.create(
        region_code=region_code,
        person_name=person_name.strip(),
        post=post.strip()[:64],
        called_at=called_at,
        answers=[{"question": q, "right": r} for q, r in asked],
        note=note.strip()[:500],
        checked_by=actor,
    )
