"""Reads of the person registry, always through the user's jurisdiction.

Search understands what a cadre types: an ID number (exact), digits (phone prefix), Latin
letters (pinyin prefix ``zhangw`` or initials ``zw``), or Chinese characters (name prefix).
Results are paged by keyset (a cursor), so page 500 costs what page 1 costs, and each search
path is an index range scan in the order it returns rows.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from fangkong.core import audit, idnumbers, jurisdiction, names, phones
from fangkong.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.masking import mask_value, present, present_birth_date, visible_fields
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action, can

from .models import Household, Person, PersonChange

MAX_PAGE = 200
_ID_LIKE = re.compile(r"\d{15}|\d{17}[\dXx]")
_VOWELS = set("aeiouv")


@dataclass(frozen=True)
class PersonFilters:
    q: str = ""
    region_code: str = ""
    category: str = ""
    sex: str = ""
    source: str = ""
    household_id: int | None = None


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    count: int | None = None


def _require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise PermissionDenied(action)


def next_string(prefix: str) -> str:
    """The smallest string above every string starting with ``prefix`` (code-point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _prefix_range(field: str, prefix: str) -> Q:
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": next_string(prefix)})


def search_plan(q: str) -> tuple[Q, tuple[str, ...]]:
    """The condition and the ordering for a search string (ordering ends with ``id``)."""
    text = q.strip()
    if not text:
        return Q(), ("id",)
    compact = idnumbers.normalize(text)
    if _ID_LIKE.fullmatch(compact):
        try:
            number = idnumbers.parse(compact).number
        except idnumbers.IdNumberError:
            number = compact.upper()
        return Q(id_number=number), ("id",)
    digits = re.sub(r"[\s-]", "", text)
    if digits.isdigit():
        if len(digits) == 11:
            try:
                return Q(phone=phones.normalize(digits)), ("id",)
            except phones.PhoneError:
                pass
        return _prefix_range("phone", digits), ("phone", "id")
    if names.looks_like_pinyin(text):
        key = text.lower().replace(" ", "")
        if set(key) & _VOWELS:
            return _prefix_range("name_pinyin", key), ("name_pinyin", "id")
        return _prefix_range("name_initials", key), ("name_initials", "id")
    cleaned = names.clean(text)
    return _prefix_range("name", cleaned), ("name", "id")


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode()


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed([FieldError("cursor", _("Invalid page cursor"))]) from None
    if not isinstance(values, list) or len(values) != width or not _cursor_values_ok(values):
        raise ValidationFailed([FieldError("cursor", _("Invalid page cursor"))])
    return values


def _cursor_values_ok(values: list[Any]) -> bool:
    """Every ordering ends with ``id``: leading values are short text, the last an id.

    A forged cursor must be a 400, not a database error (a string compared with an integer
    column, a NUL byte, or an id beyond 64 bits all fail inside PostgreSQL).
    """
    *keys, last = values
    return (
        all(isinstance(v, str) and len(v) <= 200 and "\x00" not in v for v in keys)
        and type(last) is int
        and 0 <= last < 2**63
    )


def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
    """Keyset condition: rows strictly after ``values`` in ``ordering`` (all ascending)."""
    condition = Q()
    for i in range(len(ordering) - 1, -1, -1):
        strictly = Q(**{f"{ordering[i]}__gt": values[i]})
        condition = (
            strictly
            if i == len(ordering) - 1
            else strictly | (Q(**{ordering[i]: values[i]}) & condition)
        )
    return condition


def keyset_page(
    queryset: QuerySet, ordering: tuple[str, ...], *, cursor: str = "", limit: int = 50
) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` in ``ordering`` after ``cursor``, and the next cursor."""
    limit = max(1, min(limit, MAX_PAGE))
    if cursor:
        queryset = queryset.filter(_after(ordering, decode_cursor(cursor, len(ordering))))
    rows = list(queryset.order_by(*ordering)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, f) for f in ordering])
    return rows, next_cursor


def persons_visible_to(user: Any) -> QuerySet[Person]:
    """Every person inside the user's jurisdiction (nothing if the role may not view people)."""
    if not can(user, Action.PERSON_VIEW):
        return Person.objects.none()
    return jurisdiction.scope(Person.objects.all(), user)


def households_visible_to(user: Any) -> QuerySet[Household]:
    if not can(user, Action.HOUSEHOLD_VIEW):
        return Household.objects.none()
    return jurisdiction.scope(Household.objects.all(), user)


def filter_persons(user: Any, filters: PersonFilters) -> tuple[QuerySet[Person], tuple[str, ...]]:
    """The scoped, filtered queryset and its ordering (shared by lists, exports and counts)."""
    _require(user, Action.PERSON_VIEW)
    condition, ordering = search_plan(filters.q)
    queryset = persons_visible_to(user).filter(condition)
    if filters.region_code:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [filters.region_code]))
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.sex:
        queryset = queryset.filter(sex=filters.sex)
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.household_id is not None:
        queryset = queryset.filter(household_id=filters.household_id)
    return queryset, ordering


def list_persons(
    user: Any,
    filters: PersonFilters,
    *,
    cursor: str = "",
    limit: int = 50,
    with_count: bool = False,
    channel: str = "",
    request: Any = None,
) -> Page:
    """A page of persons matching ``filters`` inside the user's jurisdiction.

    A search by a whole ID number or phone that the role may only see masked confirms the
    number all the same (a hit says "this is theirs"): it is audited like a read.
    """
    queryset, ordering = filter_persons(user, filters)
    rows, next_cursor = keyset_page(queryset, ordering, cursor=cursor, limit=limit)
    count = queryset.count() if with_count else None
    if not cursor:
        _audit_masked_search(user, filters.q, found=len(rows), channel=channel, request=request)
    return Page(items=rows, next_cursor=next_cursor, count=count)


def full_number_searched(q: str) -> str | None:
    """``id_number`` or ``phone`` when ``q`` is a whole one of those, else None."""
    compact = idnumbers.normalize(q.strip())
    if _ID_LIKE.fullmatch(compact):
        return "id_number"
    digits = re.sub(r"[\s-]", "", q.strip())
    if digits.isdigit() and len(digits) == 11:
        try:
            phones.normalize(digits)
        except phones.PhoneError:
            return None
        return "phone"
    return None


def _audit_masked_search(user: Any, q: str, *, found: int, channel: str, request: Any) -> None:
    field = full_number_searched(q) if q else None
    if field is None or field in visible_fields(user):
        return
    audit.record(
        user=user,
        kind=AuditEvent.Kind.MASKED_SEARCH,
        object_type="person",
        fields=[field],
        channel=channel,
        request=request,
        detail=f"{field}={mask_value(field, q.strip())} found={found}",
    )


def get_person(user: Any, person_id: int) -> Person:
    """One person, or NotFound when absent *or* outside the jurisdiction (indistinguishable)."""
    _require(user, Action.PERSON_VIEW)
    person = persons_visible_to(user).select_related("household").filter(pk=person_id).first()
    if person is None:
        raise NotFound(person_id)
    return person


def person_history(user: Any, person: Person) -> list[PersonChange]:
    _require(user, Action.HISTORY_VIEW)
    return list(person.changes.order_by("-version"))


def list_households(
    user: Any, *, region_code: str = "", q: str = "", cursor: str = "", limit: int = 50
) -> Page:
    _require(user, Action.HOUSEHOLD_VIEW)
    queryset = households_visible_to(user).select_related("head")
    ordering: tuple[str, ...] = ("id",)
    if region_code:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [region_code]))
    if q.strip():
        queryset = queryset.filter(address__contains=q.strip())
    rows, next_cursor = keyset_page(queryset, ordering, cursor=cursor, limit=limit)
    return Page(items=rows, next_cursor=next_cursor)


def get_household(user: Any, household_id: int) -> Household:
    _require(user, Action.HOUSEHOLD_VIEW)
    household = (
        households_visible_to(user).select_related("head", "region").filter(pk=household_id).first()
    )
    if household is None:
        raise NotFound(household_id)
    return household


def present_person(person: Person, visible: frozenset[str]) -> dict[str, Any]:
    """A person as a plain dict with sensitive fields masked per ``visible``; the birth date
    is cut to the year wherever the ID number is masked."""
    return {
        "id": person.pk,
        "name": person.name,
        "name_pinyin": person.name_pinyin,
        "id_number": present("id_number", person.id_number, visible),
        "phone": present("phone", person.phone, visible),
        "sex": person.sex,
        "birth_date": present_birth_date(person.birth_date, visible),
        "region_code": person.region_code,
        "household_id": person.household_id,
        "category": person.category,
        "source": person.source,
        "source_file": person.source_file,
        "source_row": person.source_row,
        "version": person.version,
        "updated_at": person.updated_at,
    }


def present_persons(
    user: Any, persons: list[Person], *, channel: str, request: Any = None
) -> list[dict[str, Any]]:
    """Present persons for ``user`` and audit every unmasked sensitive value shown."""
    visible = visible_fields(user)
    shown = [present_person(p, visible) for p in persons]
    audited = [p.pk for p in persons if any(getattr(p, f) for f in visible)]
    if audited:
        fields = [f for f in visible if any(getattr(p, f) for p in persons)]
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=audited,
            fields=fields,
            channel=channel,
            request=request,
        )
    return shown


def present_change(change: PersonChange, visible: frozenset[str]) -> dict[str, Any]:
    """A history entry with sensitive old/new values masked per ``visible`` (birth dates to
    the year where the ID number is masked)."""
    changes = {}
    for field, (old, new) in change.changes.items():
        if field in ("id_number", "phone"):
            old, new = present(field, old, visible), present(field, new, visible)
        elif field == "birth_date":
            old, new = present_birth_date(old, visible), present_birth_date(new, visible)
        changes[field] = [old, new]
    return {
        "version": change.version,
        "at": change.at,
        "by": change.by_username,
        "channel": change.channel,
        "source": change.source,
        "reason": change.reason,
        "changes": changes,
    }


def present_history(
    user: Any, person: Person, changes: list[PersonChange], *, channel: str, request: Any = None
) -> list[dict[str, Any]]:
    """Present a person's history for ``user``, auditing it if unmasked values are shown.

    Old and new ID numbers and phones in the history are as sensitive as the current ones:
    showing them whole is a read like any other and leaves the same audit record.
    """
    visible = visible_fields(user)
    shown = [present_change(c, visible) for c in changes]
    fields = sorted(f for f in visible if any(any(c.changes.get(f) or ()) for c in changes))
    if fields:
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=[person.pk],
            fields=fields,
            channel=channel,
            request=request,
        )
    return shown


def count_persons_by_region(user: Any, prefix: str) -> dict[str, int] | None:
    """Persons the user may see under ``prefix``, by residence code (None: may not view)."""
    if not can(user, Action.PERSON_VIEW):
        return None
    return _count_by_region(persons_visible_to(user), prefix)


def count_households_by_region(user: Any, prefix: str) -> dict[str, int] | None:
    """Households the user may see under ``prefix``, by region code (None: may not view)."""
    if not can(user, Action.HOUSEHOLD_VIEW):
        return None
    return _count_by_region(households_visible_to(user), prefix)


def _count_by_region(queryset: QuerySet, prefix: str) -> dict[str, int]:
    if prefix:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [prefix]))
    rows = queryset.order_by().values_list("region_code").annotate(n=Count("id"))
    return dict(rows)


def person_labels(user: Any, person_ids: list[int]) -> dict[int, str]:
    """ "张伟 · 1985 · 富强村第1组" for each person the user may see (one query for the
    persons, one for the region names). The birth year only: a label is shown to every role."""
    from fangkong.core.regions import region_labels

    rows = list(
        persons_visible_to(user)
        .filter(pk__in=person_ids)
        .values_list("pk", "name", "birth_date", "region_code")
    )
    places = region_labels({code for *_, code in rows}, with_township=False)
    return {
        pk: " · ".join(
            str(part) for part in (name, birth.year if birth else "", places.get(code, "")) if part
        )
        for pk, name, birth, code in rows
    }
