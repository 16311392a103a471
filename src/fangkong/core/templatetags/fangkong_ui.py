"""Template helpers of the UI kit: numbers as a headquarters writes them (50,000), signed
changes, region names instead of codes, and the board card."""

from __future__ import annotations

from typing import Any

from django import template

from fangkong.core.regions import region_label

register = template.Library()


@register.filter
def thousands(value: Any) -> str:
    """``50000`` → ``50,000``; ``0.981`` stays as written; anything else unchanged."""
    if isinstance(value, bool) or value is None or value == "":
        return "" if value in (None, "") else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
    return str(value)


@register.filter
def signed(value: Any) -> str:
    """A change with its sign: ``+12``, ``−3`` (a real minus sign), ``±0``."""
    if value in (None, ""):
        return ""
    number = int(value)
    if number > 0:
        return f"+{number:,}"
    if number < 0:
        return f"−{-number:,}"
    return "±0"


@register.filter
def region_name(code: Any) -> str:
    """A region's name with its township, for a code a page must not show raw."""
    return region_label(str(code)) if code else ""


@register.inclusion_tag("components/board_card.html")
def board_card(
    label: Any, value: Any, delta: Any = None, url: str = "", unit: Any = "", tone: str = ""
) -> dict[str, Any]:
    return {"label": label, "value": value, "delta": delta, "url": url, "unit": unit, "tone": tone}
