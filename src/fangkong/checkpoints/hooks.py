"""What the checkpoints module plugs into core: figures, self-inspection rules, timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.urls import reverse
from django.utils import timezone

from fangkong.core import figures, inspection, timeline
from fangkong.core.personal import redact

from .models import Assignment, Inspection, Passage, Post, Roster

UNSTAFFED = "checkpoints.unstaffed_at_night"
NOT_INSPECTED = "checkpoints.not_inspected"
MISSED_CHECK_IN = "checkpoints.missed_check_in"


def passages_today(query: figures.FigureQuery) -> dict[str, int]:
    rows = Passage.objects.filter(at__gte=query.day_start, at__lte=query.at)
    return figures.count_by_region(rows, query)


def refused_today(query: figures.FigureQuery) -> dict[str, int]:
    rows = Passage.objects.filter(at__gte=query.day_start, at__lte=query.at, verdict="refuse")
    return figures.count_by_region(rows, query)


def night_inspections(query: figures.FigureQuery) -> dict[str, int]:
    """Visits of the night that ended this morning (22:00 yesterday to 06:00) and tonight's."""
    start = query.day_start - dt.timedelta(hours=2)
    rows = Inspection.objects.filter(at__gte=start, at__lte=query.at)
    rows = rows.filter(at__hour__in=[22, 23, 0, 1, 2, 3, 4, 5])
    return figures.count_by_region(rows, query)


def _posts(prefix: str) -> Any:
    rows = Post.objects.filter(active=True)
    return rows.filter(region_code__startswith=prefix) if prefix else rows


def unstaffed_at_night(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A post with fewer than 2 people on last night's (or tonight's) 00:00–08:00 shift of a
    published roster, where a roster covers the night at all."""
    local = timezone.localtime(query.now)
    night_day = local.date() if local.hour < 22 else local.date() + dt.timedelta(days=1)
    covered = set(
        Roster.objects.filter(status=Roster.Status.PUBLISHED, starts_on__lte=night_day).values_list(
            "township_code", "starts_on", "days"
        )
    )
    townships = {t for t, s, d in covered if s + dt.timedelta(days=d) > night_day}
    counts: dict[int, int] = {}
    for post_id in Assignment.objects.filter(
        roster__status=Roster.Status.PUBLISHED, day=night_day, shift=0
    ).values_list("post_id", flat=True):
        counts[post_id] = counts.get(post_id, 0) + 1
    since = timezone.make_aware(dt.datetime.combine(night_day, dt.time.min))
    for p in _posts(query.prefix):
        if p.region_code[:9] not in townships or counts.get(p.pk, 0) >= 2:
            continue
        yield inspection.Finding(
            rule=UNSTAFFED,
            ref=f"checkpoints.post:{p.pk}:{night_day.isoformat()}",
            region_code=p.region_code,
            what=f"{p.name} {night_day:%m月%d日}夜班只排了 {counts.get(p.pk, 0)} 人（至少 2 人）",
            since=since,
            url=reverse("checkpoints:post_detail", args=[p.pk]),
        )


def not_inspected(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A post nobody inspected during the last night (22:00–06:00), once that night is over."""
    local = timezone.localtime(query.now)
    end_day = local.date() if local.hour >= 6 else local.date() - dt.timedelta(days=1)
    end = timezone.make_aware(dt.datetime.combine(end_day, dt.time(6)))
    start = end - dt.timedelta(hours=8)
    seen = set(
        Inspection.objects.filter(at__gte=start, at__lt=end).values_list("post_id", flat=True)
    )
    for p in _posts(query.prefix):
        if p.pk in seen or p.created_at > start:
            continue
        yield inspection.Finding(
            rule=NOT_INSPECTED,
            ref=f"checkpoints.night:{p.pk}:{end_day.isoformat()}",
            region_code=p.region_code,
            what=f"{p.name} {start:%m月%d日}夜间未被督查",
            since=end,
            url=reverse("checkpoints:inspection_new") + f"?post={p.pk}",
        )


def missed_check_in(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A shift of a published roster begun 30 minutes ago or more without the check-in."""
    rows = Assignment.objects.filter(
        roster__status=Roster.Status.PUBLISHED,
        checked_in_at__isnull=True,
        starts_at__lte=query.now - dt.timedelta(minutes=30),
        starts_at__gte=query.now - dt.timedelta(hours=24),
    ).select_related("post", "staff")
    if query.prefix:
        rows = rows.filter(region_code__startswith=query.prefix)
    for a in rows.iterator(chunk_size=2000):
        yield inspection.Finding(
            rule=MISSED_CHECK_IN,
            ref=f"checkpoints.assignment:{a.pk}",
            region_code=a.region_code,
            what=(
                f"{a.staff.name} 未在 {a.post.name} "
                f"{timezone.localtime(a.starts_at):%m月%d日 %H:%M} 的班次签到"
            ),
            since=a.starts_at + dt.timedelta(minutes=30),
            url=reverse("checkpoints:roster", args=[a.roster_id]),
            responsible=a.staff.name,
        )


def person_entries(actor: Any, person_id: int) -> list[timeline.TimelineEntry]:
    rows = Passage.objects.filter(person_id=person_id).select_related("post").order_by("-at")[:50]
    out = []
    for p in rows:
        detail = redact(p.reasons, actor, [p.id_number, p.phone])
        out.append(
            timeline.TimelineEntry(
                at=p.at,
                module="checkpoints",
                kind="卡点通行",
                title=f"{p.post.name} {p.get_direction_display()} · {p.get_outcome_display()}",
                detail=detail,
                url=reverse("checkpoints:post_detail", args=[p.post_id]),
                tone="alert" if p.verdict != "pass" else "",
            )
        )
    return out
