"""Actions other modules offer on a person's page (e.g. "order isolation").

The web shell must not import the domain modules, yet a cadre looking at a person should
reach the next step from there. Each module registers its actions in ``AppConfig.ready``;
the person page shows those the user's role allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from .roles import can


@dataclass(frozen=True)
class PersonAction:
    label: Any  # a lazy translation
    url_name: str
    action: str  # the permission needed (core.roles.Action)
    query_param: str = "person"

    def url(self, person_id: int) -> str:
        return f"{reverse(self.url_name)}?{urlencode({self.query_param: person_id})}"


_ACTIONS: list[PersonAction] = []


def register(action: PersonAction) -> None:
    if action not in _ACTIONS:
        _ACTIONS.append(action)


def for_person(user: Any, person_id: int) -> list[dict[str, str]]:
    """The registered actions ``user`` may take, with their links for this person."""
    return [
        {"label": str(a.label), "url": a.url(person_id)} for a in _ACTIONS if can(user, a.action)
    ]
