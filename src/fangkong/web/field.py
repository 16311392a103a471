"""The installable field app (issue 20): web app manifest and service worker at the root.

The service worker is served from ``/sw.js`` so that its scope is the whole site; its body is
the static file ``fangkong/sw.js`` with the app shell (vendored CSS/JS, icons) and a version
prepended. The version is a digest of the worker and the shell files, so changing any of
them installs a new worker that drops the old cache (an update is clean, never a mix).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from fangkong.core.permissions import public

# The app shell: everything a field screen needs besides its own HTML.
SHELL = (
    "fangkong/fangkong.css",
    "fangkong/fangkong.js",
    "fangkong/field.js",
    "fangkong/field.css",
    "vendor/htmx/htmx.min.js",
    "quarantine/quarantine.css",
    "checkpoints/checkpoints.css",
    "checkpoints/queue.js",
    "testing/testing.css",
    "testing/field.js",
    "reports/reports.css",
    "reports/field.js",
    "fangkong/icons/field-192.png",
    "fangkong/icons/field-512.png",
)
# Screens kept for offline use once opened online (network first, the cache when offline):
# the doctor's round, the grid worker's visits and a checkpoint's passage log ("*" stands for
# one path segment, here the post's id). Opening the app ("/") offline shows the first of
# them this phone has kept. The sampler's scan screen and the daily form have one fixed
# address each (the round under way, today's report of one's own unit). The last three are
# read offline, not written: the grid worker's recall tasks and a round's list of whom to
# recall (the names to call at the courtyard gate), and a duty roster (who is on at the post
# tonight); marking a recall done or editing a roster needs the network.
OFFLINE_PAGES = (
    "/quarantine/round/",
    "/screening/visits/",
    "/checkpoints/posts/*/log/",
    "/testing/scan/",
    "/reports/daily/own/",
    "/testing/tasks/",
    "/testing/rounds/*/recalls/",
    "/checkpoints/rosters/*/",
)


def _read(path: str) -> bytes:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(path)
    with open(found if isinstance(found, str) else found[0], "rb") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def _worker_cached() -> str:
    return _worker()


def _worker() -> str:
    digest = hashlib.sha256()
    for path in ("fangkong/sw.js", *SHELL):
        digest.update(_read(path))
    config = {
        "version": digest.hexdigest()[:12],
        "shell": [static(p) for p in SHELL],
        "pages": list(OFFLINE_PAGES),
    }
    return f"self.FIELD = {json.dumps(config)};\n" + _read("fangkong/sw.js").decode()


@public("the service worker script holds no data; a browser fetches it before any login")
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    body = _worker() if settings.DEBUG else _worker_cached()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@public("the web app manifest names the app and its icons; no data")
@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "name": "防控 · 外勤",
            "short_name": "防控外勤",
            "description": "基层防控外勤：村医巡查、网格员走访、卡点登记离线可用，联网后自动同步",
            "lang": "zh-Hans",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#f3f5f8",
            "theme_color": "#b42318",
            "icons": [
                {
                    "src": static(f"fangkong/icons/field-{n}.png"),
                    "sizes": f"{n}x{n}",
                    "type": "image/png",
                    "purpose": "any maskable",
                }
                for n in (192, 512)
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
