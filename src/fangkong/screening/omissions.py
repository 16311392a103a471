"""Omissions and penalties (漏报与处罚): a returnee found by another channel — police,
tip-off, checkpoint — and not reported by the responsible village within the county's
deadline is an omission of that village.

Rules:

- The county sets one :class:`PenaltyRule`: an amount per omission found before the
  cut-off date and a (higher) amount from it on, and the days a village has to report.
- An omission is judged on linked list entries (:mod:`.reconciliation`): the earliest entry
  of another channel for a person gives the day found; the village's earliest report of the
  same person, if any, must come no later than that day plus the deadline.
- The evidence names the channel, the day and the late (or missing) village report; each
  person counts once per village, so re-running finds nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, jurisdiction
from fangkong.core.errors import FieldError, NotFound, ValidationFailed
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action
from fangkong.people.models import Source

from .models import Omission, PenaltyRule, SourceRecord
from .services import require

OTHER_CHANNELS = (Source.POLICE, Source.TIP_OFF, Source.CHECKPOINT)
CHANNEL_WORDS = {
    Source.POLICE: "公安推送",
    Source.TIP_OFF: "群众举报",
    Source.CHECKPOINT: "卡点登记",
}


def set_rule(
    *,
    user: Any,
    region_code: str,
    amount_before: int,
    amount_after: int,
    cutoff: dt.date,
    deadline_days: int,
    channel: str = "api",
) -> PenaltyRule:
    """Set the county's penalty rule (county headquarters only)."""
    require(user, Action.SCREENING_RULES)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    errors = []
    if len(region_code) != 6:
        errors.append(FieldError("region_code", _("A penalty rule is set for a county")))
    if not 0 < amount_before <= 1_000_000 or not 0 < amount_after <= 1_000_000:
        errors.append(FieldError("amount_before", _("An amount is 1 to 1,000,000 yuan")))
    if not 0 <= deadline_days <= 30:
        errors.append(FieldError("deadline_days", _("The deadline is 0 to 30 days")))
    if errors:
        raise ValidationFailed(errors)
    rule, _created = PenaltyRule.objects.update_or_create(
        region_code=region_code,
        defaults={
            "amount_before": amount_before,
            "amount_after": amount_after,
            "cutoff": cutoff,
            "deadline_days": deadline_days,
            "updated_by": user,
            "updated_at": timezone.now(),
        },
    )
    audit.record(
        user=user,
        kind=AuditEvent.Kind.UPDATE,
        object_type="penalty_rule",
        object_id=rule.pk,
        channel=channel,
        detail=f"{amount_before}/{amount_after} {cutoff}",
    )
    return rule


def find(*, user: Any, region_code: str, channel: str = "api") -> int:
    """Record the omissions of the county ``region_code``; returns how many are new."""
    require(user, Action.SCREENING_RULES)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    rule = PenaltyRule.objects.filter(region_code=region_code[:6]).first()
    if rule is None:
        raise ValidationFailed(
            [FieldError("region_code", _("The county has not set a penalty rule"))]
        )
    records = SourceRecord.objects.filter(
        jurisdiction.prefix_q("region_code", [region_code]), person__isnull=False
    ).values_list("person_id", "region_code", "source", "reported_on")
    found: dict[tuple[int, str], tuple[dt.date, str]] = {}
    reported: dict[tuple[int, str], dt.date] = {}
    for person_id, code, source, day in records.iterator(chunk_size=5000):
        key = (person_id, code[:12])
        if source == Source.VILLAGE:
            if key not in reported or day < reported[key]:
                reported[key] = day
        elif source in OTHER_CHANNELS and (key not in found or day < found[key][0]):
            found[key] = (day, source)
    existing = set(
        Omission.objects.filter(jurisdiction.prefix_q("region_code", [region_code])).values_list(
            "person_id", "region_code"
        )
    )
    new = []
    for (person_id, village), (day, source) in found.items():
        deadline = day + dt.timedelta(days=rule.deadline_days)
        late = reported.get((person_id, village))
        if (late is not None and late <= deadline) or (person_id, village) in existing:
            continue
        if late is None:
            evidence = f"{CHANNEL_WORDS[source]}于{day:%Y-%m-%d}发现，村未上报"
        else:
            evidence = (
                f"{CHANNEL_WORDS[source]}于{day:%Y-%m-%d}发现，村至{late:%Y-%m-%d}才上报"
                f"（时限{rule.deadline_days}天）"
            )
        amount = rule.amount_before if day < rule.cutoff else rule.amount_after
        new.append(
            Omission(
                person_id=person_id,
                region_code=village,
                found_by=source,
                found_on=day,
                reported_on=late,
                amount=amount,
                evidence=evidence,
            )
        )
    with transaction.atomic():
        Omission.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="omission",
            channel=channel,
            detail=f"{region_code} {len(new)} 起漏报",
        )
    return len(new)


def ledger(user: Any, *, region_code: str | None = None) -> list[dict[str, Any]]:
    """The omission ledger per village: count and total penalty, then the entries."""
    require(user, Action.SCREENING_VIEW)
    qs = jurisdiction.scope(Omission.objects.select_related("person"), user)
    if region_code:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [region_code]))
    totals = {
        row["region_code"]: row
        for row in qs.values("region_code").annotate(count=Count("id"), total=Sum("amount"))
    }
    entries: dict[str, list[Omission]] = defaultdict(list)
    for o in qs.order_by("region_code", "found_on", "id")[:5000]:
        entries[o.region_code].append(o)
    return [
        {
            "region_code": code,
            "count": totals[code]["count"],
            "total": totals[code]["total"],
            "entries": entries[code],
        }
        for code in sorted(totals)
    ]
