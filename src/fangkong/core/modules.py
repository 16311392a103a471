"""The modules in the navigation and each role's home page, as registries.

Each app registers its navigation entry (:class:`Module`, with the action a role needs to
open it) and, for the roles whose daily work it holds, a home page (:class:`RoleHome`): the
doctor opens on the round, the grid worker on visits, the county on its board. The shell
shows only the modules the user's role may open and sends ``/`` to the role's home.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from .roles import can


@dataclass(frozen=True)
class Module:
    slug: str
    title: Any
    url_name: str
    description: Any
    # The action needed to open the module; "" means every signed-in user.
    action: str = ""
    order: int = 100
    # A module of DESIGN.md not built yet: its entry leads to a "not yet available" page.
    planned: bool = False

    def url(self) -> str:
        if self.planned:
            return reverse(self.url_name, args=[self.slug])
        return reverse(self.url_name)


@dataclass(frozen=True)
class RoleHome:
    role: str
    url_name: str
    # The lowest priority wins when several modules offer a home for one role.
    priority: int = 100
    action: str = ""


_MODULES: dict[str, Module] = {}
_HOMES: list[RoleHome] = []


def register(module: Module) -> None:
    _MODULES[module.slug] = module


def register_home(home: RoleHome) -> None:
    if home not in _HOMES:
        _HOMES.append(home)


def modules() -> list[Module]:
    return sorted(_MODULES.values(), key=lambda m: (m.order, m.slug))


def visible_to(user: Any) -> list[Module]:
    """The modules ``user`` may open, in navigation order."""
    return [m for m in modules() if not m.action or can(user, m.action)]


def get(slug: str) -> Module | None:
    return _MODULES.get(slug)


def home_url_for(user: Any) -> str | None:
    """The URL of the role's home page, or None (the shell's overview)."""
    candidates = sorted(
        (h for h in _HOMES if h.role == getattr(user, "role", None)),
        key=lambda h: h.priority,
    )
    for home in candidates:
        if home.action and not can(user, home.action):
            continue
        try:
            return reverse(home.url_name)
        except NoReverseMatch:
            continue
    return None
