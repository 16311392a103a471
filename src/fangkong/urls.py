"""URL map: health check, JSON API under /api/v1/, the web UI, the Django admin.

The admin is mounted only when ``FANGKONG_ADMIN_ENABLED`` is on (the demo turns it on).
"""

from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import URLPattern, include, path

from .api import api


def _grouped(patterns: list) -> list:
    """The API's routes nested by their first path segment (``checkpoints/``, ``persons/``...).

    django-ninja hands over one flat list (250 routes); Django tries them in order, so a
    passage posted to ``checkpoints/posts/<id>/passages`` was matched against ~150 patterns
    first (~65 µs a request; ~40 µs nested, issue 19). Nested, a request tries ~20 heads and then
    its module's routes. Names, views and the namespace are unchanged (an include without an
    app name adds none); routes with different literal heads cannot match the same path, and
    each module's routes keep their order."""
    flat: list = []
    groups: dict[str, list] = {}
    for pattern in patterns:
        head, slash, rest = str(pattern.pattern).partition("/")
        if isinstance(pattern, URLPattern) and slash and rest and "<" not in head:
            groups.setdefault(head, []).append(
                path(rest, pattern.callback, kwargs=pattern.default_args, name=pattern.name)
            )
        else:
            flat.append(pattern)
    return flat + [path(f"{head}/", include(routes)) for head, routes in groups.items()]


_api_patterns, _api_app, _api_namespace = api.urls


def healthz(request):
    """Liveness and database reachability for load balancers and the demo script."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", (_grouped(_api_patterns), _api_app, _api_namespace)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("quarantine/", include("fangkong.quarantine.urls")),
    path("testing/", include("fangkong.testing.urls")),
    path("screening/", include("fangkong.screening.urls")),
    path("tracing/", include("fangkong.tracing.urls")),
    path("checkpoints/", include("fangkong.checkpoints.urls")),
    path("supplies/", include("fangkong.supplies.urls")),
    path("tipoffs/", include("fangkong.tipoffs.urls")),
    path("supervision/", include("fangkong.supervision.urls")),
    path("places/", include("fangkong.places.urls")),
    path("emergency/", include("fangkong.emergency.urls")),
    path("reports/", include("fangkong.reports.urls")),
    path("", include("fangkong.web.urls")),
]

if settings.FANGKONG_ADMIN_ENABLED:
    urlpatterns.insert(3, path("admin/", admin.site.urls))
