"""The rules of a passage, as plain functions over data (no database here).

- Health code: the colour's verdict comes from the :class:`~.models.CodeRule` table (seeded
  红码禁止、黄码受限、绿码通行); no code is treated as red.
- A temperature of 37.3 °C or more, an itinerary not checked, or an arrival from a current
  risk area restricts at least; a missing mask is a reason to note, not to refuse.
- Pass cards: N outings a week, the week running Monday 00:00 to Monday 00:00 Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
FEVER = Decimal("37.3")
DEFAULT_CODE_RULES = {"green": "pass", "yellow": "restrict", "red": "refuse", "none": "refuse"}
_SEVERITY = {"pass": 0, "restrict": 1, "refuse": 2}


@dataclass(frozen=True)
class Check:
    """What the post saw of one person."""

    code_colour: str
    temperature: Decimal | None = None
    itinerary_ok: bool = True
    mask: bool = True
    risk_area: str = ""  # the risk area the person comes from, "" when none
    card_outings_left: int | None = None  # None: no pass card involved


@dataclass(frozen=True)
class Ruling:
    verdict: str
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def refused(self) -> bool:
        return self.verdict == "refuse"


def _worse(a: str, b: str) -> str:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def rule(check: Check, code_rules: Mapping[str, str] | None = None) -> Ruling:
    """The verdict for one person at the post, with the reasons in Chinese."""
    rules = {**DEFAULT_CODE_RULES, **(code_rules or {})}
    colour = check.code_colour if check.code_colour in rules else "none"
    verdict = rules[colour]
    reasons: list[str] = []
    names = {"green": "绿码", "yellow": "黄码", "red": "红码", "none": "无健康码"}
    if verdict != "pass":
        reasons.append(
            f"{names.get(colour, colour)}：{'禁止通行' if verdict == 'refuse' else '受限通行'}"
        )
    if check.temperature is not None and check.temperature >= FEVER:
        verdict = _worse(verdict, "restrict")
        reasons.append(f"体温 {check.temperature}℃ ≥ 37.3℃")
    if not check.itinerary_ok:
        verdict = _worse(verdict, "restrict")
        reasons.append("行程卡未核验")
    if check.risk_area:
        verdict = _worse(verdict, "restrict")
        reasons.append(f"来自风险地区：{check.risk_area}")
    if check.card_outings_left is not None and check.card_outings_left <= 0:
        verdict = _worse(verdict, "refuse")
        reasons.append("出入证本周外出次数已用完")
    if not check.mask:
        reasons.append("未戴口罩：现场发放并佩戴")
    return Ruling(verdict, tuple(reasons))


def default_outcome(ruling: Ruling) -> str:
    """The outcome the post records unless the staff choose another."""
    if ruling.verdict == "refuse":
        return "turned_back"
    if any(r.startswith("体温") for r in ruling.reasons):
        return "referred"
    return "passed"


def week_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to next Monday 00:00 (Asia/Shanghai) of the week holding ``moment``."""
    local = moment.astimezone(SHANGHAI)
    monday = (local - dt.timedelta(days=local.weekday())).date()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=7)


def outings_left(limit: int, outings_at: Iterable[dt.datetime], moment: dt.datetime) -> int:
    """Outings a card still has in the week of ``moment``, given the times of its outings."""
    start, end = week_bounds(moment)
    used = sum(1 for at in outings_at if start <= at < end)
    return max(limit - used, 0)


def matches_risk_area(origin: str, areas: Iterable[tuple[str, str]]) -> str:
    """The first risk area (code, place) the typed origin names, "" when none.

    A place matches when its name appears in the origin or the origin in it (both at least
    two characters), or the origin is a region code inside the area's code."""
    text = (origin or "").strip()
    if len(text) < 2:
        return ""
    for code, place in areas:
        if code and text.isdigit() and text.startswith(code):
            return place
        if place and len(place) >= 2 and (place in text or text in place):
            return place
    return ""
