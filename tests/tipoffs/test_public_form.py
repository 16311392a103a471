"""The public form's abuse limits: rate per address and device, form stamp and trap, photo
size and type (SVG with script, a polyglot), EXIF GPS stripped; nothing stored on refusal."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from fangkong.core.errors import ValidationFailed
from fangkong.core.photos import PhotoRefused, clean_photo
from fangkong.tipoffs import services
from fangkong.tipoffs.models import TipOff, TipPhoto
from tests.conftest import VILLAGE_A

from .conftest import jpeg

pytestmark = pytest.mark.django_db


def _gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (45.0, 30.0, 0.0), 3: "E", 4: (126.0, 5.0, 0.0)}
    exif[0x8825] = gps
    return exif.tobytes()


def test_exif_gps_is_stripped():
    raw = jpeg(exif=_gps_exif())
    assert b"PhoneMaker" in raw
    clean = clean_photo(raw)
    assert b"PhoneMaker" not in clean.data and b"Exif" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as image:
        assert not image.getexif()
        assert image.format == "JPEG"


def test_svg_with_script_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(PhotoRefused):
        clean_photo(svg)


def test_polyglot_keeps_no_trailing_payload():
    # A JPEG with an HTML/JS payload appended (a classic JPEG+HTML polyglot).
    payload = b"<html><script>alert(document.cookie)</script></html>"
    clean = clean_photo(jpeg() + payload)
    assert payload not in clean.data and b"<script" not in clean.data


def test_gif_and_text_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(PhotoRefused):
        clean_photo(out.getvalue())
    with pytest.raises(PhotoRefused):
        clean_photo(b"just text, not an image")


def test_oversized_photo_is_refused(submit):
    big = b"\xff\xd8" + b"0" * (8 * 1024 * 1024 + 10)
    with pytest.raises(ValidationFailed) as info:
        submit(photos=[big])
    assert info.value.errors[0].field == "photos"
    assert "8 MB" in info.value.errors[0].message
    assert not TipOff.objects.exists()


def test_more_than_three_photos_refused_and_nothing_stored(submit):
    with pytest.raises(ValidationFailed):
        submit(photos=[jpeg()] * 4)
    assert not TipOff.objects.exists() and not TipPhoto.objects.exists()


def test_photo_stored_reencoded(submit):
    tip = submit(photos=[jpeg(size=(3000, 2000), exif=_gps_exif())])
    photo = tip.photos.get()
    assert max(photo.width, photo.height) == 1600
    assert b"PhoneMaker" not in bytes(photo.image)


def test_rate_limit_per_address(submit):
    for _ in range(services.CLIENT_LIMIT[0]):
        submit(address="203.0.113.9")
    with pytest.raises(ValidationFailed) as info:
        submit(address="203.0.113.9")
    assert info.value.errors[0].field == "rate"
    assert TipOff.objects.count() == services.CLIENT_LIMIT[0]
    submit(address="203.0.113.10")  # another address is not held back


def test_ipv6_addresses_of_one_network_share_the_limit(submit):
    for n in range(services.CLIENT_LIMIT[0]):
        submit(address=f"2001:db8:1:2::{n + 1}")
    with pytest.raises(ValidationFailed):
        submit(address="2001:db8:1:2::ffff")


def test_rate_limit_per_device(submit):
    for n in range(services.DEVICE_LIMIT[0]):
        submit(device="samephone0000001", address=f"198.51.100.{n + 1}")
    with pytest.raises(ValidationFailed) as info:
        submit(device="samephone0000001", address="198.51.100.200")
    assert "手机" in info.value.errors[0].message or "phone" in info.value.errors[0].message


def test_stamp_too_fast_and_trap_refused(db):
    data = services.TipInput(kind="other", region_code=VILLAGE_A, text="x")
    with pytest.raises(ValidationFailed):
        services.submit_public_tip(
            data=data, address="1.2.3.4", device_token="", form_stamp=services.form_token()
        )
    with pytest.raises(ValidationFailed):
        services.submit_public_tip(
            data=data, address="1.2.3.4", device_token="", form_stamp="forged", trap=""
        )
    with pytest.raises(ValidationFailed):
        services.submit_public_tip(
            data=data, address="1.2.3.4", device_token="", form_stamp="x", trap="http://spam"
        )
    assert not TipOff.objects.exists()


def test_unknown_village_refused(submit):
    with pytest.raises(ValidationFailed) as info:
        submit(village="230231999999")
    assert info.value.errors[0].field == "region_code"


def test_public_page_without_login_in_chinese(county):
    client = Client()
    response = client.get(reverse("tipoffs:report") + f"?v={VILLAGE_A}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "疫情防控举报" in body and f'value="{VILLAGE_A}" selected' in body


def test_public_page_refusal_is_clear_and_chinese(county, monkeypatch):
    monkeypatch.setattr(services, "FORM_MIN_SECONDS", 0)
    client = Client(REMOTE_ADDR="192.0.2.1")
    client.get(reverse("tipoffs:report"))
    stamp = services.form_token()
    svg = io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    svg.name = "x.svg"
    response = client.post(
        reverse("tipoffs:report"),
        {
            "kind": "gathering",
            "region_code": VILLAGE_A,
            "text": "聚餐",
            "stamp": stamp,
            "photos": [svg],
        },
    )
    assert response.status_code == 400
    assert "只接受" in response.content.decode()
    assert not TipOff.objects.exists()


def test_public_submission_gives_receipt_and_status(county, monkeypatch):
    monkeypatch.setattr(services, "FORM_MIN_SECONDS", 0)
    client = Client(REMOTE_ADDR="192.0.2.2")
    stamp = services.form_token()
    photo = io.BytesIO(jpeg())
    photo.name = "p.jpg"
    response = client.post(
        reverse("tipoffs:report"),
        {
            "kind": "gathering",
            "region_code": VILLAGE_A,
            "text": "有人聚餐",
            "stamp": stamp,
            "photos": [photo],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tip = TipOff.objects.get()
    assert tip.photos.count() == 1 and tip.client_key and tip.device_key
    page = client.get(reverse("tipoffs:status") + f"?code={tip.receipt_code}")
    assert "待核实" in page.content.decode()


def test_flooding_address_is_refused_before_the_form_is_read(county, monkeypatch, submit):
    monkeypatch.setattr(services, "FORM_MIN_SECONDS", 0)
    for _ in range(services.CLIENT_LIMIT[0]):
        submit(address="192.0.2.77")
    client = Client(REMOTE_ADDR="192.0.2.77")
    post = {"kind": "other", "region_code": VILLAGE_A, "text": "x", "stamp": services.form_token()}
    first = client.post(reverse("tipoffs:report"), post)
    assert first.status_code == 429 and "频繁" in first.content.decode()
    # Now blocked: answered from the cache, without a query.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = client.post(reverse("tipoffs:report"), post)
    assert again.status_code == 429 and "频繁" in again.content.decode()
    assert not [q for q in queries.captured_queries if "tipoffs" in q["sql"]]
    assert TipOff.objects.count() == services.CLIENT_LIMIT[0]
