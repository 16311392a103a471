"""The search endpoints behind the kit's pickers (``fangkong.core.ui``): regions by name or
pinyin, persons by name, pinyin, ID number or phone — always inside the user's jurisdiction.

They answer htmx with a list of options; a choice fills the form's hidden code or id.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fangkong.core import errors, ui
from fangkong.core.permissions import requires
from fangkong.core.roles import Action
from fangkong.people import selectors as people

MAX_OPTIONS = 12


def _query(request: HttpRequest) -> str:
    """The picker's search text: the one parameter named ``<field>__search`` (or ``q``)."""
    for name, value in request.GET.items():
        if name == "q" or name.endswith("__search"):
            return value.replace("\x00", "").strip()[:64]
    return ""


@requires(Action.REGION_VIEW)
@require_GET
def pick_regions(request: HttpRequest) -> HttpResponse:
    levels = [
        level
        for level in request.GET.get("levels", "village,grid").split(",")
        if level in ui.LEVEL_NAMES
    ] or ["village", "grid"]
    q = _query(request)
    found = ui.search_regions(request.user, q, levels, limit=MAX_OPTIONS)
    options = [{"value": r["code"], "label": r["label"]} for r in found]
    return render(
        request, "components/picker_options.html", {"options": options, "searched": bool(q)}
    )


@requires(Action.PERSON_VIEW)
@require_GET
def pick_persons(request: HttpRequest) -> HttpResponse:
    q = _query(request)
    options = []
    if q:
        try:
            page = people.list_persons(request.user, people.PersonFilters(q=q), limit=MAX_OPTIONS)
        except errors.ValidationFailed:
            page = None
        if page is not None:
            labels = ui.person_labels(request.user, [p.pk for p in page.items])
            options = [{"value": p.pk, "label": labels.get(p.pk) or p.name} for p in page.items]
    return render(
        request, "components/picker_options.html", {"options": options, "searched": bool(q)}
    )
