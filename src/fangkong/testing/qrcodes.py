"""QR codes of self-registration codes, drawn on the server as inline SVG.

A person's phone shows the code as a QR symbol that the sampler's scanner reads like an ID
card. Always a full QR symbol, never a Micro QR (which segno picks for short texts and which
the handheld scanners at the points do not read), with the standard quiet zone, dark on
light whatever the page's colours, and no external asset: the page works offline.
"""

from __future__ import annotations

import segno

# 6 px a module: a version-1 symbol of a 10-character code is about 170 px with its border,
# readable from a phone held at arm's length.
SCALE = 6


def registration_qr(code: str) -> segno.QRCode:
    """The QR symbol of exactly ``code`` (error correction M, the scanners' default)."""
    return segno.make_qr(code, error="m", boost_error=False)


def registration_qr_svg(code: str, *, title: str = "") -> str:
    """The symbol of ``code`` as an ``<svg>`` element to put inline in a page."""
    return registration_qr(code).svg_inline(
        scale=SCALE, dark="#000", light="#fff", title=title or None, svgclass="t-qr"
    )
