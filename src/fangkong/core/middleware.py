"""The edge check of text: unsafe characters are refused before any view or handler runs.

A NUL byte in a URL (``/regions/%00/``) or a lone surrogate in JSON used to travel all the
way to PostgreSQL and come back as a 500. Here the path, the query, form fields and JSON
bodies are read once for the characters :mod:`fangkong.core.text` forbids; the request is
refused with 400 (422 for a JSON value, like any other invalid field), naming the field.
The parsed JSON is kept on the request for the API's parser, so the body is parsed once.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from . import text

API_PREFIX = "/api/"
PARSED_JSON = "_fangkong_json"


def _unsafe_in_json(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        char = text.unsafe_character(value)
        if char is not None:
            yield path or "body", char
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            char = text.unsafe_character(str(key))
            if char is not None:
                yield where, char
            yield from _unsafe_in_json(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unsafe_in_json(item, f"{path}.{index}" if path else str(index))


@functools.cache
def _bulk_paths() -> tuple[re.Pattern[str], ...]:
    """Paths of the operations marked with core.http.bulk_body().

    Read from the API's routers, not from its OpenAPI document: building that document takes
    about a second of Python, and it was built by the first JSON POST of every server
    process, in each of its threads at once, holding the GIL: a multi-second stall of every
    request at each start or respawn of a worker (issue 19's first load step).
    tests/testing/test_bulk_body_cap.py holds these paths to the document's."""
    from fangkong.api import api

    root = api.get_root_path({}).rstrip("/")
    patterns = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            if any((op.openapi_extra or {}).get("x-fangkong-bulk") for op in view.operations):
                full = re.sub(r"/+", "/", f"{root}/{prefix}/{path}").rstrip("/")
                parts = re.split(r"\{[^}]+\}", full)
                patterns.append(re.compile("^" + "[^/]+".join(map(re.escape, parts)) + "/?$"))
    return tuple(patterns)


def _read_bulk_body(request: HttpRequest) -> None:
    """Read the body of a bulk endpoint under its own cap instead of Django's 2.5 MB.

    This is what ``HttpRequest.body`` does, with FANGKONG_BULK_MAX_BYTES as the limit.
    """
    if hasattr(request, "_body") or not any(p.match(request.path) for p in _bulk_paths()):
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length > settings.FANGKONG_BULK_MAX_BYTES:
        raise RequestDataTooBig("Request body exceeded FANGKONG_BULK_MAX_BYTES.")  # 400
    if length <= 0:
        return
    request._body = request.read()
    request._stream = io.BytesIO(request._body)


class RejectUnsafeText:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self._problem(request)
        if problem is not None:
            status, field, char = problem
            return self._refuse(request, status, field, char)
        return self.get_response(request)

    def _problem(self, request: HttpRequest) -> tuple[int, str, str] | None:
        char = text.unsafe_character(request.path)
        if char is not None:
            return 400, "path", char
        # In the API a bad query value is a 422 naming it, as the schema would answer.
        query_status = 422 if request.path.startswith(API_PREFIX) else 400
        for name, values in request.GET.lists():
            for value in [name, *values]:
                char = text.unsafe_character(value)
                if char is not None:
                    return query_status, name, char
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            content_type = request.content_type or ""
            if content_type == "application/json" and request.path.startswith(API_PREFIX):
                return self._json_problem(request)
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                for name, values in request.POST.lists():
                    for value in [name, *values]:
                        char = text.unsafe_character(value)
                        if char is not None:
                            return 400, name, char
        return None

    def _json_problem(self, request: HttpRequest) -> tuple[int, str, str] | None:
        _read_bulk_body(request)
        if not request.body:
            return None
        try:
            data = json.loads(request.body)
        except ValueError:
            return None  # not JSON: the API's parser answers 400 for it
        setattr(request, PARSED_JSON, data)
        for field, char in _unsafe_in_json(data):
            return 422, field, char
        return None

    def _refuse(self, request: HttpRequest, status: int, field: str, char: str) -> HttpResponse:
        message = text.unsafe_message(char)
        if request.path.startswith(API_PREFIX):
            return JsonResponse(
                {
                    "detail": _("The request is malformed"),
                    "errors": [{"field": field, "message": message}],
                },
                status=status,
                json_dumps_params={"ensure_ascii": False},
            )
        return HttpResponseBadRequest(
            f"{_('The request is malformed')}: {field!a} {message}",
            content_type="text/plain; charset=utf-8",
        )
