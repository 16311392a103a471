"""Daily figures and self-inspection rules of contact tracing, registered with core for
the command boards, daily reports and self-inspection (issue 13).
Contacts by level, unreached contacts and the unreached rule live in :mod:`.extensions`
(one key per concept)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core import figures, inspection
from fangkong.core.jurisdiction import prefix_q
from fangkong.core.roles import Action

from .models import Case, CaseStatus, Classification, ContactLink, Level


def cases(query: figures.FigureQuery) -> dict[str, int]:
    """Confirmed cases and asymptomatic infections recorded by the moment."""
    rows = Case.objects.filter(
        status__in=[CaseStatus.CONFIRMED, CaseStatus.ASYMPTOMATIC], created_at__lte=query.at
    )
    return figures.count_by_region(rows, query)


SECONDARY_UNSCREENED = "tracing.secondary_unscreened"


def _scoped(queryset, query: inspection.RuleQuery):
    return queryset.filter(prefix_q("region_code", [query.prefix])) if query.prefix else queryset


def secondary_unscreened(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A close contact classified over 24 h ago whose own contacts (the secondary contacts)
    were never looked for: no contact link names them as the source."""
    links = ContactLink.objects.filter(source_id=OuterRef("person_id"))
    rows = (
        _scoped(
            Classification.objects.filter(
                level=Level.CLOSE,
                ended_at__isnull=True,
                classified_at__lt=query.now - dt.timedelta(hours=24),
            ),
            query,
        )
        .filter(~Exists(links))
        .select_related("person")
    )
    for row in rows.iterator(chunk_size=2000):
        yield inspection.Finding(
            rule=SECONDARY_UNSCREENED,
            ref=f"tracing.classification:{row.pk}",
            region_code=row.region_code,
            what=_("密切接触者%(name)s的次密接尚未排查") % {"name": row.person.name},
            since=row.classified_at + dt.timedelta(hours=24),
            url=reverse("tracing:home"),
            person_id=row.person_id,
        )


def register() -> None:
    lazy = gettext_lazy
    people = lazy("人")
    figures.register(
        figures.Figure(
            key="tracing.cases",
            label=lazy("确诊及无症状感染者"),
            module="tracing",
            compute=cases,
            unit=people,
            order=40,
            list_url=figures.list_page("tracing:home"),
            permission=Action.TRACING_VIEW,
        )
    )
    risk = inspection.Aspect.RISK
    inspection.register(
        inspection.Rule(
            key=SECONDARY_UNSCREENED,
            label=lazy("密接的次密接未排查"),
            module="tracing",
            aspect=risk,
            run=secondary_unscreened,
            deadline_hours=12,
            order=21,
        )
    )
