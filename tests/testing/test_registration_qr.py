"""The self-registration code as a QR symbol: drawn on the server as inline SVG from exactly
the code's text, a full QR symbol (scanners at the points do not read Micro QR)."""

from __future__ import annotations

import re

import segno
from django.test import Client

from fangkong.testing import qrcodes
from fangkong.testing.models import RegistrationCode
from tests.conftest import GRID_A1

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """(row, column) of every dark module drawn by segno's path of horizontal runs."""
    path = re.search(r'class="qrline"[^>]*\bd="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(y), int(x) + i) for i in range(int(float(a))))
            x += float(a)
    return dark


def modules_of(code: str) -> set[tuple[int, int]]:
    symbol = segno.make_qr(code, error="m", boost_error=False)
    return {
        (r, c)
        for r, row in enumerate(symbol.matrix_iter(border=4))
        for c, is_dark in enumerate(row)
        if is_dark
    }


def test_the_registration_page_shows_the_code_as_a_qr_svg(make_person, county):
    person = make_person(GRID_A1, "李娜")
    page = Client().post("/testing/register/", {"id_number": person.id_number, "name": "李娜"})
    body = page.content.decode()
    code = RegistrationCode.objects.get(person=person).code
    svgs = SVG.findall(body)
    assert page.status_code == 200 and code in body and len(svgs) == 1
    svg = svgs[0]
    # The very symbol of the code's text, module by module, not of anything else.
    assert dark_modules(svg) == modules_of(code)
    assert dark_modules(svg) != modules_of(code[:-1] + ("2" if code[-1] != "2" else "3"))
    assert svg == qrcodes.registration_qr_svg(code, title=f"登记码 {code} 的二维码")
    # Served from the page itself: no image request, no external asset.
    assert "<img" not in svg and "http" not in svg.replace('xmlns="http', "")


def test_the_qr_is_a_full_symbol_even_for_a_short_code():
    symbol = qrcodes.registration_qr("FK23456789")
    assert not symbol.is_micro and symbol.version == 1 and symbol.error == "M"
    # segno.make alone would pick a Micro QR for ten characters.
    assert segno.make("FK23456789").is_micro


def test_the_same_code_comes_back_with_the_same_qr(make_person, county):
    person = make_person(GRID_A1, "李娜")
    form = {"id_number": person.id_number, "name": "李娜"}
    first = SVG.findall(Client().post("/testing/register/", form).content.decode())
    again = SVG.findall(Client().post("/testing/register/", form).content.decode())
    assert first == again and RegistrationCode.objects.count() == 1


def test_no_qr_without_a_matching_person(make_person, county):
    person = make_person(GRID_A1, "李娜")
    for form in (
        {"id_number": person.id_number, "name": "王五"},
        {"id_number": "230231198503140000", "name": "李娜"},
    ):
        body = Client().post("/testing/register/", form).content.decode()
        # The code's own element, not the letters "FK": a random CSRF token may hold those.
        assert 'class="t-qr"' not in body and "t-tube-count" not in body
    assert 'class="t-qr"' not in Client().get("/testing/register/").content.decode()
