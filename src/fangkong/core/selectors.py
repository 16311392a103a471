"""Reads of the region tree and of the current user, for the API and the UI.

Regions are not personal data: anyone whose role has ``region.view`` may read the whole tree.
The counts shown with a region are personal data in aggregate, so they come from
:mod:`fangkong.core.region_counts`, where each app counts only what the user may see.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from . import jurisdiction, region_counts, regions
from .errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from .masking import visible_fields
from .models import LEVEL_BY_LENGTH, Region
from .roles import Action, Role, actions_for, can

MAX_PAGE = 500
MAX_TREE_DEPTH = 4
_LENGTHS = sorted(LEVEL_BY_LENGTH)
_CODE = re.compile(r"\d{2,15}")


@dataclass
class RegionPage:
    items: list[Region]
    next_cursor: str | None
    count: int | None = None


@dataclass
class RegionNode:
    """A region with the user's counts under it and, in a tree, its children."""

    region: Region
    counts: dict[str, int | None]
    children: list[RegionNode] = field(default_factory=list)


def _require_view(user: Any) -> None:
    if not can(user, Action.REGION_VIEW):
        raise PermissionDenied(Action.REGION_VIEW)


def _encode_cursor(code: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([code]).encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != 1
        or not isinstance(values[0], str)
        or not _CODE.fullmatch(values[0])
    ):
        raise ValidationFailed([FieldError("cursor", _("Invalid page cursor"))])
    return values[0]


def list_regions(
    user: Any,
    *,
    level: str = "",
    under: str = "",
    q: str = "",
    cursor: str = "",
    limit: int = 100,
    with_count: bool = False,
) -> RegionPage:
    """A page of regions in code order; ``under`` keeps a code and everything below it."""
    _require_view(user)
    queryset: QuerySet[Region] = Region.objects.all()
    if level:
        queryset = queryset.filter(level=level)
    if under:
        queryset = queryset.filter(jurisdiction.prefix_q("code", [under]))
    if q.strip():
        queryset = queryset.filter(name__contains=q.strip())
    count = queryset.count() if with_count else None
    if cursor:
        queryset = queryset.filter(code__gt=_decode_cursor(cursor))
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(queryset.order_by("code")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1].code)
    return RegionPage(items=rows, next_cursor=next_cursor, count=count)


def ancestor_codes(code: str) -> list[str]:
    """Codes of the regions above ``code``, top first (``230231106`` → 23, 2302, 230231)."""
    return regions.ancestors(code)


@dataclass
class RegionDetail:
    node: RegionNode
    ancestors: list[Region]
    parent: Region | None


def get_region(user: Any, code: str) -> RegionDetail:
    """One region with its ancestors, children, and the user's counts for each."""
    _require_view(user)
    region = Region.objects.filter(pk=code).first()
    if region is None:
        raise NotFound(code)
    ancestors = list(Region.objects.filter(code__in=ancestor_codes(code)).order_by("code"))
    totals = region_counts.totals(user, code)
    children = [
        RegionNode(region=child, counts=totals.for_region(child.code))
        for child in region.children.order_by("code")
    ]
    node = RegionNode(region=region, counts=totals.for_region(code), children=children)
    parent = next((a for a in ancestors if a.code == region.parent_id), None)
    return RegionDetail(node=node, ancestors=ancestors, parent=parent)


def tree_roots(user: Any, root: str = "") -> list[Region]:
    """``root`` if given; else the regions of the user's jurisdiction; else the top level."""
    if root:
        region = Region.objects.filter(pk=root).first()
        if region is None:
            raise NotFound(root)
        return [region]
    codes = [c for c in jurisdiction.user_codes(user) if c]
    queryset = Region.objects.filter(code__in=jurisdiction.collapse(codes)) if codes else None
    if queryset is None or not queryset.exists():
        queryset = Region.objects.filter(parent__isnull=True)
    return list(queryset.order_by("code"))


def region_tree(user: Any, *, root: str = "", depth: int = 1) -> list[RegionNode]:
    """The tree under each root, ``depth`` levels down, with the user's counts at each node.

    One query per root fetches the whole subtree (a code range cut at the deepest level
    wanted); counts come from one grouped query per registered counter.
    """
    _require_view(user)
    depth = max(0, min(depth, MAX_TREE_DEPTH))
    nodes: list[RegionNode] = []
    for region in tree_roots(user, root):
        index = _LENGTHS.index(len(region.code))
        deepest = _LENGTHS[min(index + depth, len(_LENGTHS) - 1)]
        subtree = (
            Region.objects.filter(jurisdiction.prefix_q("code", [region.code]))
            .alias(code_length=Length("code"))
            .filter(Q(code_length__lte=deepest))
            .order_by("code")
        )
        totals = region_counts.totals(user, region.code)
        by_code: dict[str, RegionNode] = {}
        for member in subtree:
            by_code[member.code] = RegionNode(region=member, counts=totals.for_region(member.code))
            parent = by_code.get(member.parent_id or "")
            if parent is not None and member.code != region.code:
                parent.children.append(by_code[member.code])
        nodes.append(by_code[region.code])
    return nodes


@dataclass(frozen=True)
class UserSummary:
    username: str
    display_name: str
    role: str
    role_label: str
    regions: list[Region]
    actions: list[str]
    unmasked_fields: list[str]


def describe_user(user: Any) -> UserSummary:
    """Who the caller is and what they may do: what a client needs to shape its screens."""
    codes = user.region_codes
    try:
        role_label = str(Role(user.role).label)
    except ValueError:
        role_label = ""
    return UserSummary(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=role_label,
        regions=list(Region.objects.filter(code__in=codes).order_by("code")),
        actions=sorted(str(a.value) for a in actions_for(user.role)),
        unmasked_fields=sorted(visible_fields(user)),
    )
