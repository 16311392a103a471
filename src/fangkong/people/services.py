"""Writes to the person registry, and the rules each write keeps.

- A person's ID number is valid (GB 11643) and unique; birth date and sex follow from it.
- A phone is a valid mainland number, stored in canonical form.
- The residence region and household lie inside the writer's jurisdiction.
- An update names the version it read; a stale version raises :class:`VersionConflict`.
- Every write stores a :class:`PersonChange` with who, when, what, and is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, idnumbers, jurisdiction, names, phones
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.models import AuditEvent, Region, RegionLevel
from fangkong.core.roles import Action, can
from fangkong.core.text import name_problem

from .models import Household, Person, PersonCategory, PersonChange, Sex, Source

PERSON_FIELDS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "phone",
    "household_id",
    "region_code",
    "category",
)


def _require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def clean_person_fields(
    data: dict[str, Any], *, user: Any, existing: Person | None = None
) -> dict[str, Any]:
    """Validate and normalise person fields; raise ValidationFailed naming every bad field.

    ``data`` holds only the fields being set. Derived values (birth date and sex from the ID
    number, pinyin keys from the name, region from the household) are filled in.
    """
    errors: list[FieldError] = []
    out: dict[str, Any] = {}

    if "name" in data:
        name = names.clean(str(data["name"] or ""))
        problem = name_problem(name)
        if problem is not None:
            errors.append(FieldError("name", problem))
        else:
            out["name"] = name
            out["name_pinyin"], out["name_initials"] = names.keys(name)

    id_info = None
    if "id_number" in data:
        raw = (data["id_number"] or "").strip()
        if raw:
            try:
                id_info = idnumbers.parse(raw)
            except idnumbers.IdNumberError as exc:
                errors.append(FieldError("id_number", exc.message))
            else:
                out["id_number"] = id_info.number
        else:
            out["id_number"] = None

    if "phone" in data:
        raw = (data["phone"] or "").strip()
        if raw:
            try:
                out["phone"] = phones.normalize(raw)
            except phones.PhoneError as exc:
                errors.append(FieldError("phone", exc.message))
        else:
            out["phone"] = ""

    if data.get("sex"):
        if data["sex"] not in Sex.values:
            errors.append(FieldError("sex", _("Sex must be M (male) or F (female)")))
        else:
            out["sex"] = data["sex"]
    if data.get("birth_date"):
        born = data["birth_date"]
        if born > timezone.localdate():
            errors.append(FieldError("birth_date", _("Date of birth cannot be after today")))
        else:
            out["birth_date"] = born
    if id_info is not None:
        for field, derived in (("birth_date", id_info.birth_date), ("sex", id_info.sex)):
            given = out.get(field)
            if given and given != derived:
                message = (
                    _("Date of birth does not match the ID number")
                    if field == "birth_date"
                    else _("Sex does not match the ID number")
                )
                errors.append(FieldError(field, message))
            out[field] = derived

    if data.get("category"):
        if data["category"] not in PersonCategory.values:
            errors.append(FieldError("category", _("Invalid category")))
        else:
            out["category"] = data["category"]

    if "household_id" in data:
        household_id = data["household_id"]
        if household_id is None:
            out["household_id"] = None
        else:
            household = (
                jurisdiction.scope(Household.objects.all(), user).filter(pk=household_id).first()
            )
            if household is None:
                errors.append(
                    FieldError(
                        "household_id",
                        _("The household does not exist or is outside your jurisdiction"),
                    )
                )
            else:
                out["household_id"] = household.pk
                if not data.get("region_code"):
                    out["region_code"] = household.region_code

    if data.get("region_code"):
        code = str(data["region_code"])
        region = Region.objects.filter(pk=code).only("level").first()
        if region is None:
            errors.append(
                FieldError("region_code", _("Region code %(code)s does not exist") % {"code": code})
            )
        elif region.level not in (RegionLevel.VILLAGE, RegionLevel.GRID):
            errors.append(
                FieldError(
                    "region_code",
                    _("The residence must be a village (community) or a group (grid)"),
                )
            )
        elif not jurisdiction.covers(user, code):
            errors.append(FieldError("region_code", _("This region is outside your jurisdiction")))
        else:
            out["region_code"] = code
    elif "region_code" in data and existing is None and "household_id" not in out:
        errors.append(FieldError("region_code", _("Residence region code is required")))

    if errors:
        raise ValidationFailed(errors)
    return out


def _duplicate_id_error(id_number: str) -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                "id_number",
                _("ID number %(number)s is already registered")
                % {"number": idnumbers.mask(id_number)},
            )
        ]
    )


@transaction.atomic
def create_person(
    *,
    user: Any,
    data: dict[str, Any],
    source: str = Source.MANUAL,
    channel: str = "web",
    request: Any = None,
) -> Person:
    """Register a person; the first history entry holds every initial value."""
    _require(user, Action.PERSON_CREATE)
    if source not in Source.values:
        raise ValidationFailed([FieldError("source", _("Invalid source"))])
    required = {"name": _("Name is required")}
    missing = [FieldError(f, m) for f, m in required.items() if not data.get(f)]
    if not data.get("region_code") and not data.get("household_id"):
        missing.append(
            FieldError("region_code", _("Give a residence region code or a household, or both"))
        )
    try:
        values = clean_person_fields(data, user=user)
    except ValidationFailed as exc:
        exc.errors = missing + [e for e in exc.errors if e.field not in {m.field for m in missing}]
        raise
    if missing:
        raise ValidationFailed(missing)
    if values.get("id_number") and Person.objects.filter(id_number=values["id_number"]).exists():
        raise _duplicate_id_error(values["id_number"])
    now = timezone.now()
    person = Person(source=source, created_at=now, updated_at=now, **values)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise _duplicate_id_error(values.get("id_number") or "") from None
    initial = {f: [None, _json_value(getattr(person, f))] for f in PERSON_FIELDS}
    PersonChange.objects.create(
        person=person,
        version=1,
        at=now,
        by=user,
        by_username=user.username,
        channel=channel,
        source=source,
        changes=initial,
        reason="新增登记",
    )
    audit.record(
        user=user,
        kind=AuditEvent.Kind.CREATE,
        object_type="person",
        object_id=person.pk,
        fields=[f for f in PERSON_FIELDS if getattr(person, f) not in (None, "")],
        channel=channel,
        request=request,
    )
    return person


@transaction.atomic
def update_person(
    *,
    user: Any,
    person_id: int,
    expected_version: int,
    data: dict[str, Any],
    channel: str = "web",
    reason: str = "",
    request: Any = None,
) -> Person:
    """Change some fields of a person, guarded by the version the writer read.

    The guard is a conditional UPDATE (``WHERE version = expected``), so two writers that
    read the same version cannot both succeed, on SQLite or PostgreSQL.
    """
    _require(user, Action.PERSON_EDIT)
    person = jurisdiction.scope(Person.objects.all(), user).filter(pk=person_id).first()
    if person is None:
        raise NotFound(person_id)
    if person.version != expected_version:
        raise VersionConflict(current_version=person.version)
    values = clean_person_fields(data, user=user, existing=person)
    new_id = values.get("id_number")
    if (
        new_id
        and new_id != person.id_number
        and Person.objects.filter(id_number=new_id).exclude(pk=person.pk).exists()
    ):
        raise _duplicate_id_error(new_id)
    changes = {
        f: [_json_value(getattr(person, f)), _json_value(v)]
        for f, v in values.items()
        if f in PERSON_FIELDS and getattr(person, f) != v
    }
    if not changes:
        return person
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = Person.objects.filter(pk=person.pk, version=expected_version).update(
                **values, updated_at=now, version=F("version") + 1
            )
    except IntegrityError:
        raise _duplicate_id_error(new_id or "") from None
    if updated == 0:
        current = Person.objects.filter(pk=person.pk).values_list("version", flat=True).first()
        raise VersionConflict(current_version=current or 0)
    person.refresh_from_db()
    PersonChange.objects.create(
        person=person,
        version=person.version,
        at=now,
        by=user,
        by_username=user.username,
        channel=channel,
        changes=changes,
        reason=reason[:200],
    )
    audit.record(
        user=user,
        kind=AuditEvent.Kind.UPDATE,
        object_type="person",
        object_id=person.pk,
        fields=changes.keys(),
        channel=channel,
        request=request,
    )
    return person


def _clean_household(data: dict[str, Any], *, user: Any) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if "address" in data:
        address = " ".join(str(data["address"] or "").split())
        if not address:
            errors.append(FieldError("address", _("Address is required")))
        elif len(address) > 200:
            errors.append(FieldError("address", _("Address is too long (at most 200 characters)")))
        else:
            out["address"] = address
    if "region_code" in data:
        code = str(data["region_code"] or "")
        region = Region.objects.filter(pk=code).only("level").first()
        if region is None:
            errors.append(
                FieldError("region_code", _("Region code %(code)s does not exist") % {"code": code})
            )
        elif region.level not in (RegionLevel.VILLAGE, RegionLevel.GRID):
            errors.append(
                FieldError(
                    "region_code",
                    _("A household must belong to a village (community) or a group (grid)"),
                )
            )
        elif not jurisdiction.covers(user, code):
            errors.append(FieldError("region_code", _("This region is outside your jurisdiction")))
        else:
            out["region_id"] = code
    if data.get("head_id") is not None:
        head = jurisdiction.scope(Person.objects.all(), user).filter(pk=data["head_id"]).first()
        if head is None:
            errors.append(
                FieldError(
                    "head_id",
                    _("The head of household does not exist or is outside your jurisdiction"),
                )
            )
        else:
            out["head_id"] = head.pk
    if errors:
        raise ValidationFailed(errors)
    return out


@transaction.atomic
def create_household(
    *, user: Any, data: dict[str, Any], channel: str = "web", request: Any = None
) -> Household:
    """Register a household at an address inside a grid of the user's jurisdiction."""
    _require(user, Action.HOUSEHOLD_EDIT)
    missing = [
        FieldError(f, m)
        for f, m in (
            ("address", _("Address is required")),
            ("region_code", _("Grid is required")),
        )
        if not data.get(f)
    ]
    if missing:
        raise ValidationFailed(missing)
    household = Household(**_clean_household(data, user=user))
    household.save()
    audit.record(
        user=user,
        kind=AuditEvent.Kind.CREATE,
        object_type="household",
        object_id=household.pk,
        channel=channel,
        request=request,
    )
    return household


@transaction.atomic
def update_household(
    *,
    user: Any,
    household_id: int,
    expected_version: int,
    data: dict[str, Any],
    channel: str = "web",
    request: Any = None,
) -> Household:
    """Change a household's address, grid or head, guarded by its version."""
    _require(user, Action.HOUSEHOLD_EDIT)
    household = jurisdiction.scope(Household.objects.all(), user).filter(pk=household_id).first()
    if household is None:
        raise NotFound(household_id)
    if household.version != expected_version:
        raise VersionConflict(current_version=household.version)
    values = _clean_household(data, user=user)
    if "region_id" in values:
        values["region_code"] = values["region_id"]
    updated = Household.objects.filter(pk=household.pk, version=expected_version).update(
        **values, updated_at=timezone.now(), version=F("version") + 1
    )
    if updated == 0:
        raise VersionConflict(current_version=household.version + 1)
    if "region_code" in values:
        # Members move with their household: their scope key follows.
        Person.objects.filter(household_id=household.pk).update(region_code=values["region_code"])
    household.refresh_from_db()
    audit.record(
        user=user,
        kind=AuditEvent.Kind.UPDATE,
        object_type="household",
        object_id=household.pk,
        fields=[k.removesuffix("_id") for k in values],
        channel=channel,
        request=request,
    )
    return household
