"""The UI kit every module's pages import: page shell helpers, form fields that pick regions
and persons by name, a local date-time input, pagination.

Domain apps import this module, never ``fangkong.web.views``. Its rule: a cadre never types
an internal id or a 12-digit region code. A region is picked from a drop-down of the user's
own villages and groups when they are few, else by typing a name or its pinyin; a person by
name, pinyin, ID number or phone, inside the user's jurisdiction. Codes and ids are still
what the form submits (hidden), and what files and the API accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import jurisdiction
from .errors import ValidationFailed
from .models import Region
from .regions import CODE_LENGTHS, LEVEL_BY_LENGTH, region_label, region_labels

# A user whose area holds at most this many pickable regions gets a drop-down.
DROPDOWN_LIMIT = 120


# --- page shell --------------------------------------------------------------------------


def partial_or_page(
    request: HttpRequest, page: str, partial: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The whole page, or only the part htmx asked for (one URL, two answers: Vary on it)."""
    template = partial if getattr(request, "htmx", False) else page
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@dataclass
class PageOf:
    """One page of a list, with the numbers a pager shows ("第 2/7 页，共 312 条")."""

    items: list[Any]
    number: int
    pages: int
    count: int
    query: str  # the request's other parameters, to append to page links

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(
    request: HttpRequest, items: QuerySet[Any] | Sequence[Any], *, per_page: int = 50
) -> PageOf:
    """The requested page (``?page=N``) of a list, counted once; a bad number is page 1."""
    paginator = Paginator(items, per_page)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        page = paginator.page(1 if not paginator.count else paginator.num_pages)
    others = request.GET.copy()
    others.pop("page", None)
    return PageOf(
        items=list(page.object_list),
        number=page.number,
        pages=paginator.num_pages,
        count=paginator.count,
        query=others.urlencode(),
    )


def apply_errors(
    form: forms.Form, exc: ValidationFailed, aliases: dict[str, str] | None = None
) -> None:
    """Attach each FieldError of a service's ``exc`` to its form field (``aliases`` maps a
    service field name to the form's), or to the form as a whole."""
    aliases = aliases or {}
    for error in exc.errors:
        name = aliases.get(error.field, error.field)
        shown = name in form.fields and not form.fields[name].widget.is_hidden
        form.add_error(name if shown else None, error.message)
    if not exc.errors:
        form.add_error(None, exc.detail)


# --- date and time -----------------------------------------------------------------------


class DateTimeLocalInput(forms.DateTimeInput):
    """``<input type="datetime-local">`` that is actually prefilled: the browser accepts only
    ``2026-12-02T21:43`` in local time, not Django's localised ``2026/12/02 21:43``."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return value.strftime("%Y-%m-%dT%H:%M")
        return super().format_value(value)  # type: ignore[no-any-return]


class DateTimeLocalField(forms.DateTimeField):
    """A date-time field for ``datetime-local`` inputs (local time, minutes)."""

    widget = DateTimeLocalInput
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


# --- region picker -----------------------------------------------------------------------

LEVEL_NAMES = {"county": 6, "township": 9, "village": 12, "grid": 15}


class RegionPickerWidget(forms.Widget):
    """A drop-down of the user's regions by name, or a name/pinyin search for larger areas."""

    template_name = "components/region_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices: list[tuple[str, str, str]] | None = None  # (code, label, group)
        self.levels: tuple[str, ...] = ("village", "grid")

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        code = value or ""
        groups: dict[str, list[tuple[str, str]]] = {}
        if self.choices is not None:
            for choice_code, label, group in self.choices:
                groups.setdefault(group, []).append((choice_code, label))
        context["picker"] = {
            "code": code,
            "label": region_label(code) if code else "",
            "groups": groups,
            "dropdown": self.choices is not None,
            "levels": ",".join(self.levels),
            "search_url": reverse("web:pick_regions"),
            "placeholder": _("Type a name or its pinyin, e.g. 富强 or fuqiang"),
        }
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


class RegionPickerField(forms.CharField):
    """A region chosen by name; the form receives its code.

    ``levels`` are the levels that may be picked; the choice must lie inside the user's
    jurisdiction (or, with ``allow_above``, be one of the regions above it: a county-wide
    rule seen by a village). Bind the user with :class:`ActorForm` or :func:`bind_actor`.
    """

    widget = RegionPickerWidget

    def __init__(
        self,
        *,
        levels: Iterable[str] = ("village", "grid"),
        allow_above: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_length", 15)
        super().__init__(**kwargs)
        self.levels = tuple(levels)
        self.allow_above = allow_above
        self.actor: Any = None
        self.widget.levels = self.levels

    def bind(self, actor: Any) -> None:
        self.actor = actor
        self.widget.levels = self.levels
        self.widget.choices = dropdown_regions(actor, self.levels)

    def clean(self, value: Any) -> str:
        code = super().clean(value) or ""
        code = code.strip()
        if not code:
            return ""
        lengths = {LEVEL_NAMES[level] for level in self.levels}
        if not code.isdigit() or len(code) not in lengths:
            raise forms.ValidationError(_("Choose a region from the list"))
        inside = self.actor is None or jurisdiction.covers(self.actor, code)
        above = self.allow_above and any(
            c.startswith(code) for c in jurisdiction.user_codes(self.actor)
        )
        if not (inside or above) or not Region.objects.filter(code=code).exists():
            raise forms.ValidationError(_("Choose a region inside your area"))
        return code


def pickable_regions(actor: Any, levels: Iterable[str]) -> QuerySet[Region]:
    """Regions at ``levels`` inside the actor's jurisdiction."""
    lengths = sorted(LEVEL_NAMES[level] for level in levels)
    queryset = jurisdiction.scope(Region.objects.all(), actor, field="code")
    return queryset.filter(level__in=[LEVEL_BY_LENGTH[n] for n in lengths])


def dropdown_regions(actor: Any, levels: Iterable[str]) -> list[tuple[str, str, str]] | None:
    """(code, label, group label) of the actor's regions when few enough for a drop-down,
    grouped by village (or township); None when a search box serves better."""
    wanted = tuple(levels)
    queryset = pickable_regions(actor, wanted)
    codes = list(queryset.order_by("code").values_list("code", flat=True)[: DROPDOWN_LIMIT + 1])
    if len(codes) > DROPDOWN_LIMIT or not codes:
        return None
    labels = region_labels(
        set(codes) | {c[:12] for c in codes if len(c) > 12} | {c[:9] for c in codes},
        with_township=False,
    )
    out = []
    for code in codes:
        group_code = code[:12] if len(code) > 12 else code[:9]
        out.append((code, labels.get(code, code), labels.get(group_code, "")))
    return out


def search_regions(
    actor: Any, q: str, levels: Iterable[str], *, limit: int = 20
) -> list[dict[str, str]]:
    """Regions of ``levels`` inside the actor's jurisdiction matching a name, its pinyin or
    initials (``fuqiang``, ``fq``) or a code prefix; labelled with their township."""
    from . import names

    text = q.strip()
    queryset = pickable_regions(actor, levels)
    if not text:
        rows = list(queryset.order_by("code").values_list("code", "name")[:limit])
    elif text.isdigit():
        rows = list(
            queryset.filter(jurisdiction.prefix_q("code", [text]))
            .order_by("code")
            .values_list("code", "name")[:limit]
        )
    elif names.looks_like_pinyin(text):
        key = text.lower().replace(" ", "")
        rows = []
        for code, name in queryset.order_by("code").values_list("code", "name").iterator(2000):
            pinyin, initials = names.keys(name)
            if pinyin.startswith(key) or initials.startswith(key) or key in pinyin:
                rows.append((code, name))
                if len(rows) >= limit:
                    break
    else:
        rows = list(
            queryset.filter(name__contains=text)
            .order_by("code")
            .values_list("code", "name")[:limit]
        )
    labels = region_labels([code for code, _ in rows])
    return [{"code": code, "label": labels.get(code, name)} for code, name in rows]


# --- person picker -----------------------------------------------------------------------


class PersonPickerWidget(forms.Widget):
    """A search box for a person (name, pinyin, ID number, phone) that submits the id."""

    template_name = "components/person_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.label_for_value: dict[str, str] = {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["picker"] = {
            "value": value or "",
            "label": self.label_for_value.get(str(value or ""), ""),
            "search_url": reverse("web:pick_persons"),
            "placeholder": _("Name, pinyin, ID number or phone"),
        }
        return context


class PersonPickerField(forms.IntegerField):
    """A person chosen by search; the form receives the person's id, checked to be inside
    the user's jurisdiction. Pass ``initial`` as the id to prefill it with a label."""

    widget = PersonPickerWidget
    default_error_messages = {
        "invalid": gettext_lazy("Choose a person from the search results"),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)
        self.actor: Any = None

    def bind(self, actor: Any, initial: Any = None) -> None:
        self.actor = actor
        if initial and str(initial).isdigit():
            widget: Any = self.widget
            widget.label_for_value = {str(initial): person_label(actor, int(initial))}

    def clean(self, value: Any) -> int | None:
        number = super().clean(value)
        if number is None:
            return None
        if self.actor is not None and not person_label(self.actor, number):
            raise forms.ValidationError(_("Choose a person inside your area"))
        return int(number)


# The person registry (``people``) tells the kit how to name persons; core imports no
# domain app, so the registry registers itself here from its AppConfig.ready.
_person_labeler: Callable[[Any, list[int]], dict[int, str]] | None = None


def register_person_labeler(labeler: Callable[[Any, list[int]], dict[int, str]]) -> None:
    """``labeler(actor, ids)`` → ``{id: "张伟 · 1985 · 富强村第1组"}`` for the persons the actor
    may see (others are left out: outside the jurisdiction, or no such person)."""
    global _person_labeler
    _person_labeler = labeler


def person_labels(actor: Any, person_ids: Iterable[int]) -> dict[int, str]:
    """Labels of the persons the actor may see, in one query."""
    if _person_labeler is None:
        raise RuntimeError("the person registry has not registered its labeler")
    wanted = sorted({int(i) for i in person_ids})
    return _person_labeler(actor, wanted) if wanted else {}


def person_label(actor: Any, person_id: int) -> str:
    """A person's label for the actor ("" when the actor may not see them)."""
    return person_labels(actor, [person_id]).get(int(person_id), "")


# --- binding the actor -------------------------------------------------------------------


def bind_actor(form: forms.BaseForm, actor: Any) -> None:
    """Give every picker of ``form`` the acting user (scope, drop-down, labels)."""
    for name, field in form.fields.items():
        if isinstance(field, PersonPickerField):
            field.bind(actor, form.initial.get(name) or form.data.get(form.add_prefix(name)))
        elif isinstance(field, RegionPickerField):
            field.bind(actor)


class ActorForm(forms.Form):
    """A form whose pickers know the acting user: ``MyForm(request.POST or None, actor=user)``."""

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        bind_actor(self, actor)


# Levels by code length, for labels ("村", "组") in templates.
LEVEL_OF_LENGTH = {n: LEVEL_BY_LENGTH[n] for n in CODE_LENGTHS}
