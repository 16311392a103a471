"""The shell's own entries in the navigation, and honest placeholders for modules not built.

Domain apps register their entries in their own ``AppConfig.ready``
(:mod:`fangkong.core.modules`); the shell registers its pages here, and a placeholder for
each module of DESIGN.md that no app has registered yet — it links to a "not yet
available" page, never to fake data.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.core import modules
from fangkong.core.roles import Action

SHELL = (
    modules.Module(
        "regions",
        _("Regions and grids"),
        "web:regions",
        _("The tree of county, townships, villages and groups, with head counts"),
        action=Action.REGION_VIEW,
        order=10,
    ),
    modules.Module(
        "people",
        _("Person registry"),
        "web:persons",
        _("Register, search and edit households and persons"),
        action=Action.PERSON_VIEW,
        order=20,
    ),
    modules.Module(
        "households",
        _("Households"),
        "web:households",
        _("Households by grid and joint-defence units"),
        action=Action.HOUSEHOLD_VIEW,
        order=21,
    ),
    modules.Module(
        "notices",
        _("Notices"),
        "web:notices",
        _("Notices pushed to you, with read receipts"),
        order=90,
    ),
    modules.Module(
        "tasks",
        _("Background tasks"),
        "web:tasks",
        _("Progress of imports and other long jobs"),
        order=95,
    ),
)

# (slug, title, description, navigation order) of the modules still to be built.
PLANNED = (
    (
        "checkpoints",
        _("Checkpoints"),
        _("Checkpoints, passages, duty rosters, night inspections"),
        60,
    ),
    (
        "supplies",
        _("Supplies"),
        _("Stock of 18 categories of supplies, allocations, days-left warnings"),
        65,
    ),
    ("tipoffs", _("Tip-offs"), _("Public tip-offs, verification, rewards and penalties"), 70),
    (
        "supervision",
        _("Supervision"),
        _("Inspections, findings, rectification deadlines, discipline"),
        72,
    ),
    (
        "places",
        _("Places and units"),
        _("Venues, markets, gatherings, enterprises, schools, cold chain, pharmacies"),
        75,
    ),
    (
        "emergency",
        _("Emergency response"),
        _("Sealed zones, plans and drills, teams, wartime mode"),
        80,
    ),
    ("reports", _("Reports"), _("Daily roll-ups, self-inspection, Word reports"), 5),
)


def register() -> None:
    for module in SHELL:
        modules.register(module)
    registered = {m.slug for m in modules.modules()}
    for slug, title, description, order in PLANNED:
        if slug not in registered:
            modules.register(
                modules.Module(slug, title, "web:module", description, order=order, planned=True)
            )
