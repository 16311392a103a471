"""URL map: health check, JSON API under /api/v1/, the web UI, the Django admin.

The admin is mounted only when ``FANGKONG_ADMIN_ENABLED`` is on (the demo turns it on).
"""

from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path

from .api import api


def healthz(request):
    """Liveness and database reachability for load balancers and the demo script."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
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
