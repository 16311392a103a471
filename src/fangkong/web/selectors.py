"""Reads the web pages need beyond the domain selectors: region tree nodes, tasks, names.

Every read here is bounded by the user's jurisdiction through :mod:`fangkong.core.jurisdiction`
or the domain selectors; counts come from :mod:`fangkong.core.region_counts`, which asks
each domain app once per request (one grouped query per kind of record), never per node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from fangkong.core import jurisdiction, region_counts
from fangkong.core.errors import NotFound, PermissionDenied
from fangkong.core.models import Region, RegionLevel, TaskRecord
from fangkong.core.regions import region_names
from fangkong.core.roles import Action, can
from fangkong.people import selectors as people


@dataclass(frozen=True)
class RegionNode:
    """One region as the tree browser shows it, with counts inside the user's jurisdiction."""

    code: str
    name: str
    level: str
    level_label: str
    generated: bool
    children: int
    households: int | None  # None: the role may not see households
    persons: int | None  # None: the role may not see persons


def _nodes(user: Any, regions: list[Region], prefix: str) -> list[RegionNode]:
    if not regions:
        return []
    codes = [r.code for r in regions]
    child_counts = dict(
        Region.objects.filter(parent_id__in=codes)
        .order_by()
        .values_list("parent_id")
        .annotate(n=Count("code"))
    )
    totals = region_counts.totals(user, prefix)
    nodes = []
    for region in regions:
        counts = totals.for_region(region.code)
        nodes.append(
            RegionNode(
                code=region.code,
                name=region.name,
                level=region.level,
                level_label=RegionLevel(region.level).label,
                generated=region.generated,
                children=child_counts.get(region.code, 0),
                households=counts.get("households"),
                persons=counts.get("persons"),
            )
        )
    return nodes


def root_regions(user: Any) -> list[RegionNode]:
    """The regions the user holds (the tops of their jurisdiction), with counts."""
    if not can(user, Action.REGION_VIEW):
        raise PermissionDenied(Action.REGION_VIEW)
    codes = jurisdiction.collapse(jurisdiction.user_codes(user))
    if "" in codes:
        regions = list(Region.objects.filter(parent__isnull=True).order_by("code"))
    else:
        regions = list(Region.objects.filter(code__in=codes).order_by("code"))
    # Roots may sit in different subtrees: count each under its own code, or under all.
    prefix = "" if len(regions) != 1 else regions[0].code
    return _nodes(user, regions, prefix)


def child_regions(user: Any, code: str) -> tuple[Region, list[RegionNode]]:
    """A region inside the jurisdiction and its children with counts (NotFound outside)."""
    if not can(user, Action.REGION_VIEW):
        raise PermissionDenied(Action.REGION_VIEW)
    if not jurisdiction.covers(user, code):
        raise NotFound(code)
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound(code)
    children = list(Region.objects.filter(parent_id=code).order_by("code"))
    return region, _nodes(user, children, code)


def jurisdiction_summary(user: Any) -> dict[str, int | None]:
    """Counts of regions, households and persons inside the user's jurisdiction."""
    regions = jurisdiction.scope(Region.objects.all(), user, field="code").count()
    households = (
        people.households_visible_to(user).count() if can(user, Action.HOUSEHOLD_VIEW) else None
    )
    persons = people.persons_visible_to(user).count() if can(user, Action.PERSON_VIEW) else None
    return {"regions": regions, "households": households, "persons": persons}


def region_path(user: Any, code: str) -> list[dict[str, Any]]:
    """The chain of regions from the county down to ``code``, for breadcrumbs.

    Ancestors above the user's jurisdiction are named but not linked (they would be 404s).
    """
    lengths = [n for n in (6, 9, 12, 15) if n <= len(code)]
    chain = dict(
        Region.objects.filter(code__in=[code[:n] for n in lengths]).values_list("code", "name")
    )
    return [
        {"code": code[:n], "name": chain[code[:n]], "link": jurisdiction.covers(user, code[:n])}
        for n in lengths
        if code[:n] in chain
    ]


def residence_choices(user: Any) -> list[tuple[str, str]]:
    """Villages and grids inside the user's jurisdiction, as (code, label) for a form select."""
    regions = list(
        jurisdiction.scope(
            Region.objects.filter(level__in=(RegionLevel.VILLAGE, RegionLevel.GRID)),
            user,
            field="code",
        )
        .order_by("code")
        .only("code", "name", "level")
    )
    parents = region_names({r.code[:9] for r in regions} | {r.code[:12] for r in regions})
    choices = []
    for region in regions:
        parent = region.code[:9] if region.level == RegionLevel.VILLAGE else region.code[:12]
        label = f"{parents.get(parent, '')} {region.name}".strip()
        choices.append((region.code, label))
    return choices


def tasks_visible_to(user: Any) -> QuerySet[TaskRecord]:
    """Background tasks the user may follow: their own, or every task for a supervisor."""
    if can(user, Action.TASK_VIEW_ALL):
        return TaskRecord.objects.all()
    if not getattr(user, "is_authenticated", False):
        return TaskRecord.objects.none()
    return TaskRecord.objects.filter(created_by=user)


def get_task(user: Any, task_id: int) -> TaskRecord:
    task = tasks_visible_to(user).filter(pk=task_id).first()
    if task is None:
        raise NotFound(task_id)
    return task
