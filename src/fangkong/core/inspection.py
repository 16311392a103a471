"""Self-inspection rules (排查起底): the extension point for automatic checks of the work.

A module registers, in its ``AppConfig.ready``, rules that look at its own data and return
:class:`Finding` s — "isolated person without a check in 24 h", "contact not reached in
24 h" — each with where (region), what, since when and a stable reference. The reports
module runs every rule on the worker's clock and on demand, names who is responsible
(from the 包片/包村 assignments) and turns findings into the problems list; it never reads
another module's tables.

Rules must be read-only and bounded by the query's prefix; each finding's ``ref`` is stable
across runs ("quarantine.order:12"), so a finding that persists stays one problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Aspect(models.TextChoices):
    """The nine aspects the seeds audit against (对照9个方面)."""

    THINKING = "thinking", _("Understanding (思想认识)")
    LEADERSHIP = "leadership", _("Organisation and leadership (组织领导)")
    SYSTEM = "system", _("Working system (推进体系)")
    RISK = "risk", _("Risk control (风险管控)")
    PUBLICITY = "publicity", _("Publicity (宣传引导)")
    DISCIPLINE = "discipline", _("Discipline and conduct (纪律作风)")
    EMERGENCY = "emergency", _("Emergency readiness (应急准备)")
    SUPERVISION = "supervision", _("Supervision and inspection (监督检查)")
    SUPPLIES = "supplies", _("Supplies (物资保障)")


@dataclass(frozen=True)
class RuleQuery:
    """Inspect under ``prefix`` (``""``: everything) at moment ``now``."""

    prefix: str
    now: dt.datetime


@dataclass(frozen=True)
class Finding:
    """One thing found wrong.

    ``ref`` identifies the thing (stable across runs); ``region_code`` where it is (the
    deepest code known: a person's grid, a checkpoint's village); ``since`` when it became
    wrong; ``url`` the page to fix it; ``responsible`` a name when the module knows one
    better than the area assignments (e.g. the doctor of the round).
    """

    rule: str
    ref: str
    region_code: str
    what: str
    since: dt.datetime
    url: str = ""
    responsible: str = ""
    person_id: int | None = None


@dataclass(frozen=True)
class Rule:
    """A registered check. ``run(query)`` yields the findings under the query's prefix."""

    key: str
    label: Any
    module: str
    aspect: str
    run: Callable[[RuleQuery], Iterable[Finding]]
    description: Any = ""
    # How long the reporter has to fix a finding before it escalates one level.
    deadline_hours: int = 24
    order: int = 100


_RULES: dict[str, Rule] = {}


def register(rule: Rule) -> None:
    """Register (or replace) a rule under its unique key."""
    if rule.aspect not in Aspect.values:
        raise ValueError(f"rule {rule.key}: unknown aspect {rule.aspect!r}")
    _RULES[rule.key] = rule


def rules() -> list[Rule]:
    return sorted(_RULES.values(), key=lambda r: (r.order, r.key))


def get(key: str) -> Rule:
    return _RULES[key]


def run(key: str, query: RuleQuery) -> list[Finding]:
    """The findings of one rule, checked to lie under the query's prefix."""
    rule = _RULES[key]
    found = []
    for finding in rule.run(query):
        if finding.rule != key:
            raise ValueError(f"rule {key} returned a finding of {finding.rule}")
        if query.prefix and not finding.region_code.startswith(query.prefix):
            continue
        found.append(finding)
    return found
