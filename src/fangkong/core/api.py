"""API of the core: access tokens, the caller's own profile, and the region tree.

Regions are public to every role with ``region.view``; the person and household counts shown
with them are computed inside the caller's jurisdiction only (see ``core.region_counts``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja import Path as PathParam
from pydantic import StringConstraints

from . import devices, login, selectors, tokens
from .errors import FieldError, ValidationFailed
from .models import ApiToken, Region
from .permissions import signed_in
from .schemas import ERRORS, MAX_BIGINT, Cursor, ErrorOut, NoNul, RegionCode

router = Router(tags=["core"])

Username = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=150)]
Password = Annotated[str, NoNul, StringConstraints(min_length=1, max_length=256)]
LevelName = Literal["province", "city", "county", "township", "village", "grid"]


class TokenRequest(Schema):
    username: Username
    password: Password


class TokenResponse(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in_hours: int


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenResponse, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="用户名和密码换取访问令牌",
    tags=["auth"],
)
def issue_token(request, response: HttpResponse, payload: TokenRequest):
    result = login.attempt_login(
        request=request, username=payload.username, password=payload.password, channel="api"
    )
    if result.throttled:
        response["Retry-After"] = str(result.retry_after)
        return Status(429, {"detail": result.error, "errors": []})
    if result.user is None:
        return Status(401, {"detail": result.error, "errors": []})
    return {
        "token": ApiToken.issue(result.user, client=tokens.client_label(request)),
        "expires_in_hours": settings.API_TOKEN_TTL_HOURS,
    }


@router.post(
    "/auth/token/renew",
    response={200: TokenResponse, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut},
    summary="以仍有效的令牌换取新令牌（旧令牌立即失效）",
    tags=["auth"],
)
@signed_in
def renew_token(request):
    current = getattr(request, "auth_token", None)
    if current is None:
        raise ValidationFailed(
            [FieldError("Authorization", _("Renew with the bearer token itself"))]
        )
    return {
        "token": tokens.renew(token=current, client=tokens.client_label(request)),
        "expires_in_hours": settings.API_TOKEN_TTL_HOURS,
    }


class ApiTokenOut(Schema):
    id: int
    username: str
    client: str
    created_at: dt.datetime
    expires_at: dt.datetime
    first_issued_at: dt.datetime
    last_used_at: dt.datetime | None
    current: bool = Field(..., description="本次请求所用的令牌")


class ApiTokenQuery(Schema):
    username: Username | None = Field(None, description="管理员可查看他人的令牌；省略时为本人")


@router.get(
    "/auth/tokens",
    response={200: list[ApiTokenOut], **ERRORS},
    summary="有效的访问令牌（本人；管理员可查看所有人）",
    tags=["auth"],
)
@signed_in
def list_tokens(request, filters: Query[ApiTokenQuery]):
    current = getattr(getattr(request, "auth_token", None), "pk", None)
    rows = tokens.tokens_of(user=request.auth, username=filters.username or "")[:500]
    return [
        {
            "id": t.pk,
            "username": t.user.username,
            "client": t.client,
            "created_at": t.created_at,
            "expires_at": t.expires_at,
            "first_issued_at": t.first_issued_at,
            "last_used_at": t.last_used_at,
            "current": t.pk == current,
        }
        for t in rows
    ]


@router.delete(
    "/auth/tokens/{token_id}",
    response={204: None, **ERRORS},
    summary="吊销一个访问令牌（本人的；管理员可吊销任何人的）",
    tags=["auth"],
)
@signed_in
def revoke_token(request, token_id: Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]):
    tokens.revoke(user=request.auth, token_id=token_id, channel="api", request=request)
    return Status(204, None)


class DeviceOut(Schema):
    id: int
    username: str
    user_display: str
    label: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    revoked: bool
    revoked_at: dt.datetime | None


def _device_out(d) -> dict:
    return {
        "id": d.pk,
        "username": d.user.username,
        "user_display": d.user.display_name or d.user.username,
        "label": d.label,
        "first_seen": d.first_seen,
        "last_seen": d.last_seen,
        "revoked": d.revoked,
        "revoked_at": d.revoked_at,
    }


@router.get(
    "/devices",
    response={200: list[DeviceOut], **ERRORS},
    summary="外勤设备（本人的；乡村干部可见辖区内人员的）",
    tags=["auth"],
)
@signed_in
def list_devices(request):
    return [_device_out(d) for d in devices.visible_to(request.auth)[:500]]


@router.post(
    "/devices/{device_id}/revoke",
    response={200: DeviceOut, **ERRORS},
    summary="停用一台丢失或更换的手机（其会话立即失效）",
    tags=["auth"],
)
@signed_in
def revoke_device(request, device_id: Annotated[int, PathParam(ge=1, le=MAX_BIGINT)]):
    device = devices.revoke(actor=request.auth, device_id=device_id, channel="api", request=request)
    return _device_out(device)


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    statistical_code: str
    generated: bool


class RegionCounted(RegionOut):
    """A region with what the caller may count under it (``null``: role may not see those)."""

    persons: int | None = None
    households: int | None = None


class RegionDetailOut(RegionCounted):
    parent: RegionOut | None
    ancestors: list[RegionOut]
    children: list[RegionCounted]


class RegionNodeOut(RegionCounted):
    children: list[RegionNodeOut] = []


RegionNodeOut.model_rebuild()


class RegionPageOut(Schema):
    items: list[RegionOut]
    next_cursor: str | None
    count: int | None


class RegionQuery(Schema):
    level: LevelName | None = None
    under: RegionCode | None = Field(None, description="只列出该代码及其下级（代码前缀）")
    q: Annotated[str, NoNul, StringConstraints(max_length=64)] = Field("", description="名称包含")
    cursor: Cursor = ""
    limit: int = Field(100, ge=1, le=selectors.MAX_PAGE)
    with_count: bool = False


class TreeQuery(Schema):
    root: RegionCode | None = Field(None, description="根区划代码；省略时为本人管辖区域")
    depth: int = Field(1, ge=0, le=selectors.MAX_TREE_DEPTH, description="向下展开的级数")


def _region(region: Region) -> dict:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent_code": region.parent_id,
        "statistical_code": region.statistical_code,
        "generated": region.generated,
    }


def _counted(node: selectors.RegionNode) -> dict:
    return {**_region(node.region), **node.counts}


def _tree(node: selectors.RegionNode) -> dict:
    return {**_counted(node), "children": [_tree(child) for child in node.children]}


@router.get(
    "/regions",
    response={200: RegionPageOut, **ERRORS},
    summary="区划列表（按级别、上级代码、名称筛选，游标分页）",
    tags=["regions"],
)
def list_regions(request, filters: Query[RegionQuery]):
    page = selectors.list_regions(
        request.auth,
        level=filters.level or "",
        under=filters.under or "",
        q=filters.q,
        cursor=filters.cursor,
        limit=filters.limit,
        with_count=filters.with_count,
    )
    return {
        "items": [_region(r) for r in page.items],
        "next_cursor": page.next_cursor,
        "count": page.count,
    }


@router.get(
    "/regions/tree",
    response={200: list[RegionNodeOut], **ERRORS},
    summary="区划树（含本人管辖范围内的人数、户数）",
    tags=["regions"],
)
def region_tree(request, filters: Query[TreeQuery]):
    roots = selectors.region_tree(request.auth, root=filters.root or "", depth=filters.depth)
    return [_tree(node) for node in roots]


@router.get(
    "/regions/{code}",
    response={200: RegionDetailOut, **ERRORS},
    summary="区划详情：上级、下级及本人管辖范围内的人数、户数",
    tags=["regions"],
)
def get_region(request, code: RegionCode):
    detail = selectors.get_region(request.auth, code)
    return {
        **_counted(detail.node),
        "parent": _region(detail.parent) if detail.parent else None,
        "ancestors": [_region(r) for r in detail.ancestors],
        "children": [_counted(child) for child in detail.node.children],
    }


class MeRegionOut(Schema):
    code: str
    name: str
    level: str


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    regions: list[MeRegionOut]
    actions: list[str]
    unmasked_fields: list[str] = Field(..., description="本人可查看完整值的敏感字段")


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="当前用户", tags=["auth"])
def me(request):
    return selectors.describe_user(request.auth)
