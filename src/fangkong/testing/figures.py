"""Daily figures and self-inspection rules of nucleic-acid testing, registered with core
for the command boards, daily reports and self-inspection (issue 13)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import figures, inspection
from fangkong.core.jurisdiction import prefix_q
from fangkong.core.roles import Action
from fangkong.people.models import Person

from .models import Campaign, CampaignStatus, Exemption, RecallEntry, Sample


def _current_round(at: dt.datetime) -> Campaign | None:
    """The round under way at the moment (the latest started, not yet closed by then)."""
    return (
        Campaign.objects.exclude(status=CampaignStatus.PLANNED)
        .filter(starts_at__lte=at)
        .order_by("-starts_at", "-id")
        .first()
    )


def round_sampled(query: figures.FigureQuery) -> dict[str, int]:
    """People sampled in the current round by the moment (first samples, not retests)."""
    campaign = _current_round(query.at)
    if campaign is None:
        return {}
    rows = Sample.objects.filter(campaign=campaign, attempt=0, sampled_at__lte=query.at)
    return figures.count_by_region(rows, query)


def round_targets(query: figures.FigureQuery) -> dict[str, int]:
    """People the current round should test: its target residents less the exempted."""
    campaign = _current_round(query.at)
    if campaign is None or not campaign.region_codes:
        return {}
    people = Person.objects.filter(prefix_q("region_code", campaign.region_codes))
    if campaign.categories:
        people = people.filter(category__in=campaign.categories)
    counts = figures.count_by_region(people, query)
    exempt = figures.count_by_region(Exemption.objects.filter(campaign=campaign), query)
    return {code: n - exempt.get(code, 0) for code, n in counts.items()}


def _home(code: str) -> str:
    return reverse("testing:home")


UNTESTED = "testing.untested_after_round"
RECALL = "testing.recall_not_retested_24h"


def untested_after_round(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """Target persons of a round that has ended, neither sampled nor exempted."""
    ended = Campaign.objects.exclude(status=CampaignStatus.PLANNED).filter(
        ends_at__lte=query.now, ends_at__gte=query.now - dt.timedelta(days=7)
    )
    for campaign in ended:
        people = Person.objects.filter(prefix_q("region_code", campaign.region_codes or [""]))
        if query.prefix:
            people = people.filter(prefix_q("region_code", [query.prefix]))
        if campaign.categories:
            people = people.filter(category__in=campaign.categories)
        sampled = Sample.objects.filter(campaign=campaign, attempt=0).values("person_id")
        exempt = Exemption.objects.filter(campaign=campaign).values("person_id")
        rows = (
            people.exclude(pk__in=sampled).exclude(pk__in=exempt).only("pk", "name", "region_code")
        )
        url = reverse("testing:untested", args=[campaign.pk])
        for person in rows.iterator(chunk_size=5000):
            yield inspection.Finding(
                rule=UNTESTED,
                ref=f"testing.untested:{campaign.pk}:{person.pk}",
                region_code=person.region_code,
                what=_("%(name)s在已结束的“%(round)s”中未检测")
                % {"name": person.name, "round": campaign.name},
                since=campaign.ends_at,
                url=url,
                person_id=person.pk,
            )


def recall_not_retested(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    rows = RecallEntry.objects.filter(
        retest__isnull=True, recall__created_at__lt=query.now - dt.timedelta(hours=24)
    )
    if query.prefix:
        rows = rows.filter(prefix_q("region_code", [query.prefix]))
    for entry in rows.select_related("person", "recall").iterator(chunk_size=2000):
        yield inspection.Finding(
            rule=RECALL,
            ref=f"testing.recall_entry:{entry.pk}",
            region_code=entry.region_code,
            what=_("召回人员%(name)s超过24小时未复检") % {"name": entry.person.name},
            since=entry.recall.created_at + dt.timedelta(hours=24),
            url=reverse("testing:recalls", args=[entry.campaign_id]),
            person_id=entry.person_id,
        )


def register() -> None:
    lazy = gettext_lazy
    people = lazy("人")
    for key, label, compute, kind, order, better in (
        ("testing.round_targets", lazy("本轮应检人数"), round_targets, figures.STOCK, 30, False),
        ("testing.round_sampled", lazy("本轮已采样"), round_sampled, figures.STOCK, 31, True),
    ):
        figures.register(
            figures.Figure(
                key=key,
                label=label,
                module="testing",
                compute=compute,
                kind=kind,
                unit=people,
                order=order,
                list_url=_home,
                permission=Action.TESTING_VIEW,
                higher_is_better=better,
            )
        )
    risk = inspection.Aspect.RISK
    inspection.register(
        inspection.Rule(
            key=UNTESTED,
            label=lazy("轮次结束后仍未检测"),
            module="testing",
            aspect=risk,
            run=untested_after_round,
            deadline_hours=24,
            order=30,
        )
    )
    inspection.register(
        inspection.Rule(
            key=RECALL,
            label=lazy("召回人员24小时未复检"),
            module="testing",
            aspect=risk,
            run=recall_not_retested,
            deadline_hours=12,
            order=31,
        )
    )
