"""API of the core: tokens and the region tree."""

from __future__ import annotations

from ninja import Field, Router, Schema, Status

from . import login
from .models import ApiToken

router = Router(tags=["auth"])


class TokenRequest(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)


class TokenResponse(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in_hours: int


class ErrorOut(Schema):
    detail: str
    errors: list[dict] = []


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenResponse, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="用户名和密码换取访问令牌",
)
def issue_token(request, payload: TokenRequest):
    from django.conf import settings

    result = login.attempt_login(
        request=request, username=payload.username, password=payload.password, channel="api"
    )
    if result.throttled:
        return Status(429, {"detail": result.error, "errors": []})
    if result.user is None:
        return Status(401, {"detail": result.error, "errors": []})
    return {
        "token": ApiToken.issue(result.user),
        "expires_in_hours": settings.API_TOKEN_TTL_HOURS,
    }
