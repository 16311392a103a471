"""The JSON API: one NinjaAPI under /api/v1/, each app's router mounted once.

Authentication is a bearer token (``POST /api/v1/auth/token``) or the browser session.
Service exceptions become DESIGN.md's error shape here, in one place:
``{"detail": ..., "errors": [{"field": ..., "message": ...}]}``.
"""

from __future__ import annotations

import json

from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from fangkong.core import audit
from fangkong.core.api_auth import BearerOrSession
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.http import RequestRejected
from fangkong.core.middleware import PARSED_JSON
from fangkong.core.models import AuditEvent


class _Parser(Parser):
    """JSON bodies as parsed once by the edge check (core.middleware), else parsed here."""

    def parse_body(self, request):
        if hasattr(request, PARSED_JSON):
            return getattr(request, PARSED_JSON)
        return super().parse_body(request)


class _LocalSwagger(Swagger):
    """Swagger UI from the vendored swagger-ui-dist (static/vendor/swagger-ui), no CDN."""

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings),
            "api": api,
            "add_csrf": True,  # the docs page calls the API with the browser session
        }
        return render(request, "api/swagger.html", context)


api = NinjaAPI(
    title="Fangkong API",
    version="1",
    description="防控系统接口：区划、户、人员。所有人员数据按用户管辖区域过滤。",
    auth=BearerOrSession(),
    urls_namespace="api",
    parser=_Parser(),
    docs=_LocalSwagger(),
)


def _error(request, status: int, detail: str, errors: list[dict] | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(ValidationFailed)
def on_validation_failed(request, exc: ValidationFailed):
    return _error(request, 400, exc.detail, [e.as_dict() for e in exc.errors])


def _audit_denial(request, reason: str) -> None:
    """One DENIED audit event per request, as the web UI writes for its 404 and 403 pages.

    A run of 404s on records outside the jurisdiction is what probing another village looks
    like; a role reaching for an action it lacks is worth an inspector's look.
    """
    if getattr(request, "_fangkong_denial_audited", False):
        return
    request._fangkong_denial_audited = True
    audit.record(
        user=getattr(request, "auth", None) or request.user,
        kind=AuditEvent.Kind.DENIED,
        channel=getattr(request, "fangkong_channel", "api"),
        request=request,
        detail=f"{request.method} {request.path[:200]} {reason}",
    )


@api.exception_handler(NotFound)
def on_not_found(request, exc: NotFound):
    _audit_denial(request, "not found or outside the jurisdiction")
    return _error(request, 404, _("The record does not exist or is outside your jurisdiction"))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc: PermissionDenied):
    action = str(exc.args[0]) if exc.args else ""
    _audit_denial(request, action)
    return _error(request, 403, _("Your role does not allow this action"))


@api.exception_handler(VersionConflict)
def on_conflict(request, exc: VersionConflict):
    response = _error(
        request,
        409,
        exc.detail,
        [
            {
                "field": "version",
                "message": _("The current version is %(version)s")
                % {"version": exc.current_version},
            }
        ],
    )
    response["ETag"] = f'"{exc.current_version}"'
    return response


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors = []
    for err in exc.errors:
        location = [
            str(p)
            for p in err.get("loc", ())
            if p not in ("body", "query", "path", "header", "cookie")
        ]
        field = ".".join(location[1:] if location and location[0] == "payload" else location)
        errors.append({"field": field or "body", "message": err.get("msg", "invalid")})
    return _error(request, 422, _("The request is malformed"), errors)


@api.exception_handler(RequestRejected)
def on_request_rejected(request, exc: RequestRejected):
    return _error(request, exc.status, exc.detail, [{"field": exc.field, "message": exc.message}])


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc: AuthenticationError):
    return _error(request, 401, _("Log in or send a valid access token"))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc.message))


def _mount_routers() -> None:
    from fangkong.core.api import router as core_router
    from fangkong.people.api import router as people_router

    api.add_router("", core_router)

    from fangkong.core.api_notices import router as notices_router

    api.add_router("/notices", notices_router)
    api.add_router("", people_router)

    from fangkong.quarantine.api import router as quarantine_router

    api.add_router("/quarantine", quarantine_router)

    from fangkong.testing.api import router as testing_router

    api.add_router("/testing", testing_router)

    from fangkong.tracing.api import router as tracing_router

    api.add_router("/tracing", tracing_router)

    from fangkong.screening.api import router as screening_router

    api.add_router("/screening", screening_router)

    from fangkong.checkpoints.api import router as checkpoints_router

    api.add_router("/checkpoints", checkpoints_router)

    from fangkong.supplies.api import router as supplies_router

    api.add_router("/supplies", supplies_router)

    from fangkong.tipoffs.api import router as tipoffs_router

    api.add_router("/tipoffs", tipoffs_router)

    from fangkong.supervision.api import router as supervision_router

    api.add_router("/supervision", supervision_router)

    from fangkong.places.api import router as places_router

    api.add_router("/places", places_router)

    from fangkong.emergency.api import router as emergency_router

    api.add_router("/emergency", emergency_router)

    from fangkong.reports.api import router as reports_router

    api.add_router("/reports", reports_router)


_mount_routers()
