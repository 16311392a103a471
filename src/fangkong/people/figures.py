"""Daily figures of the registry (residents), registered with core for the command boards
(the denominator of testing coverage; issue 13)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy

from fangkong.core import figures
from fangkong.core.roles import Action

from .models import Person


def residents(query: figures.FigureQuery) -> dict[str, int]:
    return figures.count_by_region(Person.objects.filter(created_at__lte=query.at), query)


def register() -> None:
    figures.register(
        figures.Figure(
            key="people.residents",
            label=gettext_lazy("登记居民"),
            module="人",
            compute=residents,
            unit=gettext_lazy("人"),
            order=5,
            list_url=lambda code: reverse("web:persons") + f"?region={code}",
            permission=Action.PERSON_VIEW,
            higher_is_better=True,
        )
    )
