"""API of the person registry: households and persons.

Handlers only translate HTTP to the selectors and services, which hold every rule:
jurisdiction (404 outside it, indistinguishable from absent), the role matrix (403), masking
(every person shown goes through ``present_persons``, which audits unmasked reads), versions
(``If-Match`` or a ``version`` field; stale → 409) and idempotent creates
(``Idempotency-Key``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpResponse
from ninja import Field, Header, Query, Router, Schema, Status
from ninja import Path as PathParam
from pydantic import StringConstraints

from fangkong.core import idempotency
from fangkong.core.errors import PermissionDenied
from fangkong.core.http import etag, expected_version
from fangkong.core.roles import Action, can
from fangkong.core.schemas import (
    ERRORS,
    MAX_BIGINT,
    Cursor,
    ErrorOut,
    NoNul,
    ObjectId,
    QueryId,
    RegionCode,
    StrictDate,
    Version,
    not_sent,
)

from . import selectors, services
from .models import Household, PersonCategory, Sex, Source

router = Router(tags=["people"])

Name = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=64)]
IdNumberText = Annotated[str, NoNul, StringConstraints(max_length=32)]
PhoneText = Annotated[str, NoNul, StringConstraints(max_length=32)]
Address = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=200)]
Reason = Annotated[str, NoNul, StringConstraints(max_length=200)]
SearchText = Annotated[str, NoNul, StringConstraints(max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        max_length=idempotency.MAX_KEY_LENGTH,
        description="重试同一提交时带上同一个键（如UUID），不会重复登记",
    ),
]
PathId = Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]

WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
PATCH_ERRORS = {**WRITE_ERRORS, 428: ErrorOut}


def _channel(request: Any) -> str:
    return getattr(request, "fangkong_channel", "api")


# ---- schemas ---------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str
    name_pinyin: str
    id_number: str = Field(..., description="完整或脱敏（2302**********1234），按角色")
    phone: str = Field(..., description="完整或脱敏（139****5678），按角色")
    sex: str
    birth_date: str | None = Field(
        ...,
        description="出生日期（1985-03-14）；身份证号脱敏时只给年份（1985）",
        pattern=r"^\d{4}(-\d{2}-\d{2})?$",
    )
    region_code: str
    household_id: int | None
    category: str
    source: str
    source_file: str
    source_row: int | None
    version: int
    updated_at: dt.datetime


class PersonPageOut(Schema):
    items: list[PersonOut]
    next_cursor: str | None
    count: int | None = Field(None, description="仅在 with_count=true 时给出")


class PersonQuery(Schema):
    q: SearchText = Field("", description="姓名、拼音前缀（zhangw）、首字母（zw）、身份证号或电话")
    region_code: RegionCode | None = Field(None, description="该区划代码及其下级")
    category: PersonCategory | None = None
    sex: Sex | None = None
    source: Source | None = None
    household_id: QueryId | None = None
    cursor: Cursor = ""
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)
    with_count: bool = False


class PersonIn(Schema):
    name: Name
    id_number: IdNumberText | None = None
    phone: PhoneText | None = None
    sex: Sex | None = None
    birth_date: StrictDate | None = None
    region_code: RegionCode | None = Field(None, description="居住村（社区）或组（网格）")
    household_id: ObjectId | None = None
    category: PersonCategory | None = None
    source: Source = Source.MANUAL


class PersonPatch(Schema):
    name: Name = not_sent()
    id_number: IdNumberText | None = None
    phone: PhoneText | None = None
    sex: Sex | None = None
    birth_date: StrictDate | None = None
    region_code: RegionCode | None = None
    household_id: ObjectId | None = None
    category: PersonCategory | None = None
    version: Version | None = Field(None, description="读取时的版本；也可用 If-Match 头")
    reason: Reason = Field("", description="修改原因，记入修改记录")


class ChangeOut(Schema):
    version: int
    at: dt.datetime
    by: str
    channel: str
    source: str
    reason: str
    changes: dict[str, list[Any]] = Field(..., description="字段 → [旧值, 新值]，敏感值按角色脱敏")


class HistoryOut(Schema):
    items: list[ChangeOut]


class HouseholdOut(Schema):
    id: int
    address: str
    region_code: str
    head_id: int | None
    head_name: str
    unit_id: int | None
    version: int
    updated_at: dt.datetime


class HouseholdDetailOut(HouseholdOut):
    region_name: str
    members: list[PersonOut]


class HouseholdPageOut(Schema):
    items: list[HouseholdOut]
    next_cursor: str | None


class HouseholdQuery(Schema):
    region_code: RegionCode | None = None
    q: SearchText = Field("", description="住址包含")
    cursor: Cursor = ""
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)


class HouseholdIn(Schema):
    address: Address
    region_code: RegionCode
    head_id: ObjectId | None = None


class HouseholdPatch(Schema):
    address: Address = not_sent()
    region_code: RegionCode = not_sent()
    head_id: ObjectId | None = None
    version: Version | None = Field(None, description="读取时的版本；也可用 If-Match 头")


# ---- helpers ---------------------------------------------------------------------------


def _require(request: Any, action: Action) -> None:
    """The role question comes first: a role without ``action`` gets 403 for any id and any
    body, so the answer never depends on whether the object exists or the body is complete.
    """
    if not can(request.auth, action):
        raise PermissionDenied(action)


def _present(request: Any, persons: list) -> list[dict[str, Any]]:
    return selectors.present_persons(
        request.auth, persons, channel=_channel(request), request=request
    )


def _idempotent_create(
    request: Any,
    response: HttpResponse,
    *,
    key: str | None,
    endpoint: str,
    payload: Schema,
    perform: Callable[[], tuple[int, dict[str, Any]]],
    represent: Callable[[dict[str, Any]], dict[str, Any]],
) -> Status:
    """Run a create once per idempotency key; a replay shows the record as it is now."""
    outcome = idempotency.run(
        user=request.auth,
        key=key,
        endpoint=endpoint,
        payload=payload.model_dump(mode="json", exclude_unset=True),
        perform=perform,
        represent=represent,
    )
    body = outcome.body
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    response["ETag"] = etag(body["version"])
    response["Location"] = f"{request.path.rstrip('/')}/{body['id']}"
    return Status(outcome.status, body)


def _household(household: Household) -> dict[str, Any]:
    return {
        "id": household.pk,
        "address": household.address,
        "region_code": household.region_code,
        "head_id": household.head_id,
        "head_name": household.head.name if household.head is not None else "",
        "unit_id": household.unit_id,
        "version": household.version,
        "updated_at": household.updated_at,
    }


def _household_detail(request: Any, household: Household) -> dict[str, Any]:
    members = selectors.list_persons(
        request.auth,
        selectors.PersonFilters(household_id=household.pk),
        limit=selectors.MAX_PAGE,
    ).items
    return {
        **_household(household),
        "region_name": household.region.name,
        "members": _present(request, members),
    }


# ---- persons ---------------------------------------------------------------------------


@router.get(
    "/persons",
    response={200: PersonPageOut, **ERRORS},
    summary="人员列表与搜索（游标分页）",
)
def list_persons(request, filters: Query[PersonQuery]):
    page = selectors.list_persons(
        request.auth,
        selectors.PersonFilters(
            q=filters.q,
            region_code=filters.region_code or "",
            category=filters.category or "",
            sex=filters.sex or "",
            source=filters.source or "",
            household_id=filters.household_id,
        ),
        cursor=filters.cursor,
        limit=filters.limit,
        with_count=filters.with_count,
        channel=_channel(request),
        request=request,
    )
    # Built without validation: present_person gives exactly PersonOut's fields and types
    # (tests/people/test_api_fast_paths.py holds it to the validated rendering), and ninja
    # dumps a model of the response type as it is. Validating 50 rows through ninja's
    # attribute getter cost ~2 ms of every search (issue 19).
    return PersonPageOut.model_construct(
        items=[PersonOut.model_construct(**row) for row in _present(request, page.items)],
        next_cursor=page.next_cursor,
        count=page.count,
    )


@router.post("/persons", response={201: PersonOut, **WRITE_ERRORS}, summary="登记人员")
def create_person(
    request, response: HttpResponse, payload: PersonIn, idempotency_key: IdempotencyKey = None
):
    data = payload.model_dump(exclude_unset=True, exclude={"source"})

    def perform() -> tuple[int, dict[str, Any]]:
        person = services.create_person(
            user=request.auth,
            data=data,
            source=payload.source,
            channel=_channel(request),
            request=request,
        )
        return 201, _present(request, [person])[0]

    return _idempotent_create(
        request,
        response,
        key=idempotency_key,
        endpoint="POST /persons",
        payload=payload,
        perform=perform,
        represent=lambda stored: _present(
            request, [selectors.get_person(request.auth, stored["id"])]
        )[0],
    )


@router.get("/persons/{person_id}", response={200: PersonOut, **ERRORS}, summary="人员详情")
def get_person(request, response: HttpResponse, person_id: PathId):
    person = selectors.get_person(request.auth, person_id)
    response["ETag"] = etag(person.version)
    return _present(request, [person])[0]


@router.patch(
    "/persons/{person_id}",
    response={200: PersonOut, **PATCH_ERRORS},
    summary="修改人员（需 If-Match 或 version）",
)
def update_person(request, response: HttpResponse, person_id: PathId, payload: PersonPatch):
    _require(request, Action.PERSON_EDIT)
    version = expected_version(request, payload.version)
    person = services.update_person(
        user=request.auth,
        person_id=person_id,
        expected_version=version,
        data=payload.model_dump(exclude_unset=True, exclude={"version", "reason"}),
        channel=_channel(request),
        reason=payload.reason,
        request=request,
    )
    response["ETag"] = etag(person.version)
    return _present(request, [person])[0]


@router.get(
    "/persons/{person_id}/history",
    response={200: HistoryOut, **ERRORS},
    summary="人员修改记录（新到旧）",
)
def person_history(request, person_id: PathId):
    _require(request, Action.HISTORY_VIEW)
    person = selectors.get_person(request.auth, person_id)
    changes = selectors.person_history(request.auth, person)
    items = selectors.present_history(
        request.auth, person, changes, channel=_channel(request), request=request
    )
    return {"items": items}


# ---- households ------------------------------------------------------------------------


@router.get(
    "/households",
    response={200: HouseholdPageOut, **ERRORS},
    summary="户列表（按区划、住址筛选，游标分页）",
)
def list_households(request, filters: Query[HouseholdQuery]):
    page = selectors.list_households(
        request.auth,
        region_code=filters.region_code or "",
        q=filters.q,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_household(h) for h in page.items], "next_cursor": page.next_cursor}


@router.post("/households", response={201: HouseholdDetailOut, **WRITE_ERRORS}, summary="新增户")
def create_household(
    request, response: HttpResponse, payload: HouseholdIn, idempotency_key: IdempotencyKey = None
):
    def perform() -> tuple[int, dict[str, Any]]:
        household = services.create_household(
            user=request.auth,
            data=payload.model_dump(exclude_unset=True),
            channel=_channel(request),
            request=request,
        )
        household = selectors.get_household(request.auth, household.pk)
        return 201, _household_detail(request, household)

    return _idempotent_create(
        request,
        response,
        key=idempotency_key,
        endpoint="POST /households",
        payload=payload,
        perform=perform,
        represent=lambda stored: _household_detail(
            request, selectors.get_household(request.auth, stored["id"])
        ),
    )


@router.get(
    "/households/{household_id}",
    response={200: HouseholdDetailOut, **ERRORS},
    summary="户详情（含成员，敏感信息按角色脱敏）",
)
def get_household(request, response: HttpResponse, household_id: PathId):
    household = selectors.get_household(request.auth, household_id)
    response["ETag"] = etag(household.version)
    return _household_detail(request, household)


@router.patch(
    "/households/{household_id}",
    response={200: HouseholdDetailOut, **PATCH_ERRORS},
    summary="修改户（需 If-Match 或 version）",
)
def update_household(
    request, response: HttpResponse, household_id: PathId, payload: HouseholdPatch
):
    _require(request, Action.HOUSEHOLD_EDIT)
    version = expected_version(request, payload.version)
    services.update_household(
        user=request.auth,
        household_id=household_id,
        expected_version=version,
        data=payload.model_dump(exclude_unset=True, exclude={"version"}),
        channel=_channel(request),
        request=request,
    )
    household = selectors.get_household(request.auth, household_id)
    response["ETag"] = etag(household.version)
    return _household_detail(request, household)
