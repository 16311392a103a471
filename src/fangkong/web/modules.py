"""The modules of Fangkong shown in the navigation (DESIGN.md), and which exist yet.

A module that is not built yet has no URL of its own: it links to an honest
"not yet available" page, never to fake data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Module:
    slug: str
    title: str
    url_name: str | None  # None: not yet available
    description: str


MODULES = (
    Module(
        "regions",
        _("Regions and grids"),
        "web:regions",
        _("The tree of county, townships, villages and groups, with head counts"),
    ),
    Module(
        "people",
        _("Person registry"),
        "web:persons",
        _("Register, search and edit households and persons"),
    ),
    Module(
        "households",
        _("Households"),
        "web:households",
        _("Households by grid and joint-defence units"),
    ),
    Module(
        "tasks",
        _("Background tasks"),
        "web:tasks",
        _("Progress of imports and other long jobs"),
    ),
    Module(
        "screening",
        _("Screening and ledgers"),
        "screening:home",
        _("Returnee lists from several sources, reconciliation, risk areas, control policies"),
    ),
    Module(
        "quarantine",
        _("Isolation"),
        "quarantine:board",
        _("Isolation orders, sites and rooms, temperature twice a day, release"),
    ),
    Module(
        "tracing",
        _("Contact tracing"),
        "tracing:home",
        _("Cases, gatherings, close contacts and theirs, chains, cross-region notices"),
    ),
    Module(
        "testing",
        _("Nucleic-acid testing"),
        "testing:home",
        _("Testing rounds, sampling points, pooled tubes, results, recalls and coverage"),
    ),
    Module(
        "checkpoints",
        _("Checkpoints"),
        None,
        _("Checkpoints, passages, duty rosters, night inspections"),
    ),
    Module(
        "supplies",
        _("Supplies"),
        None,
        _("Stock of 18 categories of supplies, allocations, days-left warnings"),
    ),
    Module(
        "tipoffs",
        _("Tip-offs"),
        None,
        _("Public tip-offs, verification, rewards and penalties"),
    ),
    Module(
        "supervision",
        _("Supervision"),
        None,
        _("Inspections, findings, rectification deadlines, discipline"),
    ),
    Module(
        "emergency",
        _("Emergency response"),
        None,
        _("Sealed zones, plans and drills, teams, wartime mode, notices"),
    ),
    Module(
        "reports",
        _("Reports"),
        None,
        _("Daily roll-ups, self-inspection, Word reports"),
    ),
)

MODULES_BY_SLUG = {m.slug: m for m in MODULES}
