"""Rows for templates: presented (masked) records with their labels filled in.

Templates never receive a Person: they get the dicts of
:func:`fangkong.people.selectors.present_persons` (sensitive fields masked per role, unmasked
reads audited), with choice values turned into the labels of the active language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from fangkong.people import selectors as people
from fangkong.people.models import Household, Person, PersonCategory, Sex, Source

from .selectors import region_names

_CHOICES = {"sex": Sex, "category": PersonCategory, "source": Source}
CHANNELS = {
    "web": _("web page"),
    "api": _("API"),
    "cli": _("command line"),
    "task": _("background task"),
    "import": _("file import"),
}


def _label(field: str, value: Any) -> Any:
    choices = _CHOICES.get(field)
    if choices is None or value in (None, ""):
        return value
    try:
        return choices(value).label
    except ValueError:
        return value


def person_rows(user: Any, persons: list[Person], *, request: Any = None) -> list[dict]:
    """Persons as the user may see them, with labels and region names."""
    rows = people.present_persons(user, persons, channel="web", request=request)
    labels = residence_labels(row["region_code"] for row in rows)
    for row in rows:
        row["sex_label"] = _label("sex", row["sex"])
        row["category_label"] = _label("category", row["category"])
        row["source_label"] = _label("source", row["source"])
        row["region_name"] = labels.get(row["region_code"], "")
    return rows


def residence_labels(codes: Iterable[str]) -> dict[str, str]:
    """Region code → a name that is clear county-wide: a grid with its village in front.

    Every village has a 第一组; "拜泉村第一组" says which one (one query for the page).
    """
    wanted = set(codes)
    names = region_names(wanted | {c[:12] for c in wanted if len(c) > 12})
    labels = {}
    for code in wanted:
        name = names.get(code, "")
        village = names.get(code[:12], "") if len(code) > 12 else ""
        labels[code] = name if not village or name.startswith(village) else village + name
    return labels


def field_label(field: str) -> str:
    name = "household" if field == "household_id" else field
    try:
        return str(Person._meta.get_field(name).verbose_name)
    except Exception:  # a field recorded by an older version of the registry
        return field


def history_rows(entries: list[dict]) -> list[dict]:
    """History entries (already masked by ``present_history``) with readable labels."""
    out = []
    for entry in entries:
        changes = [
            {
                "field": field,
                "label": field_label(field),
                "old": _label(field, old),
                "new": _label(field, new),
            }
            for field, (old, new) in entry["changes"].items()
        ]
        out.append(
            {
                **entry,
                "source_label": _label("source", entry["source"]),
                "channel_label": CHANNELS.get(entry["channel"], entry["channel"]),
                "rows": changes,
            }
        )
    return out


def household_rows(user: Any, households: list[Household]) -> list[dict]:
    """Households of one page with region name, head and the number of members."""
    ids = [h.pk for h in households]
    members = dict(
        people.persons_visible_to(user)
        .filter(household_id__in=ids)
        .order_by()
        .values_list("household_id")
        .annotate(n=Count("id"))
    )
    names = residence_labels(h.region_code for h in households)
    return [
        {
            "id": h.pk,
            "address": h.address,
            "region_code": h.region_code,
            "region_name": names.get(h.region_code, ""),
            "head": h.head.name if h.head else "",
            "members": members.get(h.pk, 0),
            "version": h.version,
        }
        for h in households
    ]


def task_result_rows(result: Any) -> list[tuple[str, Any]]:
    """A task's result as (key, value) pairs: figures and short texts as they are, lists
    (such as rows rejected by an import) as their length; the detail lives in the task's
    own report, not on this page."""
    if not isinstance(result, dict):
        return []
    rows: list[tuple[str, Any]] = []
    for key, value in result.items():
        if isinstance(value, (list, tuple, dict)):
            rows.append((str(key), len(value)))
        elif isinstance(value, str) and len(value) > 200:
            rows.append((str(key), value[:200] + "…"))
        else:
            rows.append((str(key), value))
    return rows
