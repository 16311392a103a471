"""API authentication: a bearer token, or the logged-in browser session (with CSRF)."""

from __future__ import annotations

from ninja.security import APIKeyCookie, HttpBearer

from . import devices, tokens


class BearerOrSession(HttpBearer):
    """``Authorization: Bearer TOKEN`` first; else the session cookie of the web UI."""

    def __init__(self) -> None:
        super().__init__()
        self._session = _SessionAuth()

    def __call__(self, request):
        if request.headers.get("Authorization"):
            return super().__call__(request)
        return self._session(request)

    def authenticate(self, request, token: str):
        token_row = tokens.bearer(token)
        if token_row is None:
            return None
        key = devices.key_of(request)
        if key and devices.seen(request, token_row.user, key).revoked:
            devices.refuse(request, token_row.user, key, "api")
            return None
        tokens.touch(token_row)
        request.auth_token = token_row
        request.user = token_row.user
        request.fangkong_channel = "api"
        return token_row.user


class _SessionAuth(APIKeyCookie):
    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            request.fangkong_channel = "web"
            return user
        return None
