"""Area assignments of cadres (包片/包村/包组): who answers for which region, and when.

The reports assign township leaders to pieces (包片), cadres to villages (包村) and village
cadres to groups (包组). An assignment is dated; "who is responsible for this grid today" is
the most specific active assignment on the path from the grid up to the county.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .errors import FieldError, ValidationFailed
from .models import AreaAssignment, AreaAssignmentKind, Region, RegionLevel
from .roles import Action, can

# Which level each kind of assignment is made at.
KIND_LEVELS = {
    AreaAssignmentKind.PIECE: {RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE},
    AreaAssignmentKind.VILLAGE: {RegionLevel.VILLAGE},
    AreaAssignmentKind.GROUP: {RegionLevel.GRID},
}


def assign_area(
    *,
    by_user: Any,
    user: Any,
    region_code: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    note: str = "",
) -> AreaAssignment:
    """Make ``user`` responsible for a region from ``starts_on`` (to ``ends_on``).

    The assigning user must manage users or edit the registry inside that region; the
    assigned region must suit the kind (包村 a village, 包组 a group) and the period be valid.
    """
    from .jurisdiction import covers

    errors: list[FieldError] = []
    if not (can(by_user, Action.USER_MANAGE) or can(by_user, Action.HOUSEHOLD_EDIT)):
        errors.append(FieldError("user", "您的角色无权分配包保责任"))
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        errors.append(FieldError("region_code", f"区划代码 {region_code} 不存在"))
    elif not covers(by_user, region_code):
        errors.append(FieldError("region_code", "该区域不在您的管辖范围内"))
    elif kind in KIND_LEVELS and region.level not in KIND_LEVELS[AreaAssignmentKind(kind)]:
        errors.append(FieldError("region_code", "包保类型与区划级别不符"))
    if kind not in AreaAssignmentKind.values:
        errors.append(FieldError("kind", "包保类型无效"))
    if ends_on is not None and ends_on < starts_on:
        errors.append(FieldError("ends_on", "结束日期不能早于开始日期"))
    if errors:
        raise ValidationFailed(errors)
    return AreaAssignment.objects.create(
        user=user, region=region, kind=kind, starts_on=starts_on, ends_on=ends_on, note=note
    )


def responsible_for(region_code: str, *, on: dt.date | None = None) -> list[AreaAssignment]:
    """Active assignments covering a region on a day, most specific (deepest) first."""
    on = on or timezone.localdate()
    ancestors = [region_code[:n] for n in (6, 9, 12, 15) if n <= len(region_code)]
    active = Q(starts_on__lte=on) & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))
    rows = (
        AreaAssignment.objects.filter(active, region_id__in=ancestors)
        .select_related("user", "region")
        .order_by("-region_id", "starts_on")
    )
    return sorted(rows, key=lambda a: -len(a.region_id))
