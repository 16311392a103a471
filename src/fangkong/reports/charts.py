"""Charts drawn on the server as SVG (no script, no CDN): a 14-day trend line per figure
and a bar chart by township or village."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def trend(
    values: Sequence[int], *, width: int = 140, height: int = 36, label: str = ""
) -> SafeString:
    """A small line of the last days' values, the last point marked."""
    if not values:
        return mark_safe("")
    top = max(max(values), 1)
    step = width / max(len(values) - 1, 1)
    points = [
        (round(i * step, 1), round(height - 3 - (v / top) * (height - 6), 1))
        for i, v in enumerate(values)
    ]
    path = " ".join(f"{x},{y}" for x, y in points)
    lx, ly = points[-1]
    return mark_safe(
        f'<svg class="chart chart-trend" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{path}"/>'
        f'<circle cx="{lx}" cy="{ly}" r="2.5" fill="currentColor"/></svg>'
    )


def bars(rows: Sequence[tuple[str, int]], *, label: str = "", width: int = 560) -> SafeString:
    """Horizontal bars, one per region, with the value written at the end."""
    if not rows:
        return mark_safe("")
    bar_h, gap, name_w = 18, 6, 130
    top = max(max(v for _, v in rows), 1)
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg class="chart chart-bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
    ]
    room = width - name_w - 60
    for i, (name, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = round(room * value / top, 1)
        parts.append(
            f'<text x="{name_w - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{escape(name[:10])}</text>"
            f'<rect x="{name_w}" y="{y}" width="{w}" height="{bar_h}" fill="#c0392b" rx="2"/>'
            f'<text x="{name_w + w + 4}" y="{y + 13}" font-size="12">{value:,}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
