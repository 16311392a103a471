"""A flood of tip-offs from one address is refused before the rest of the stack runs.

The public form needs no login, so a script can post it hundreds of times a second. Once an
address has hit its hourly limit (:func:`.services.is_blocked`, a cache lookup), its next
POSTs are answered here with a fixed 429 page: no session, no CSRF check, no body parsing,
no query. Security and CSP headers are still added by the middleware outside this one; the
database count in :mod:`.services` stays the authority for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from . import services

REFUSED_PAGE = (
    '<!doctype html><html lang="zh-Hans"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>提交过于频繁</title><h1>提交过于频繁</h1>"
    "<p>该网络提交举报过于频繁，请一小时后再试，或拨打举报电话。</p>"
    '<p><a href="/tipoffs/status/">用回执码查询处理进度</a></p></html>'
)


@cache
def _form_path() -> str:
    return reverse("tipoffs:report")


class RefuseFloodedSenders:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if (
            request.method == "POST"
            and request.path_info == _form_path()
            and services.is_blocked(services.client_key(request.META.get("REMOTE_ADDR")))
        ):
            return HttpResponse(REFUSED_PAGE, status=429, headers={"Retry-After": "3600"})
        return self.get_response(request)
